#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/vm/hapkt.py: hand-made HA sync packets for tests/vm/module.sh, sent
# with a raw IPv4 socket so that they can carry the peer's address and port
# (which the peer's own module has bound). Builds packets the module must
# accept (a valid MAC under the pair's key) and a corpus it must drop.
#
#   hapkt.py SRC:PORT DST:PORT KEYFILE EPOCH SEQ KIND
#
# KIND: valid | replay (valid, twice) | unknown-type | over:N (N messages,
# valid MAC) | corpus (every malformed packet below, one each; prints how
# many) | badmac | session (below)
#
# session: a peer that starts over under EPOCH (any value, lower than the
# one the receiver held too), written from docs/protocol.md "Sessions": from
# a UDP socket bound to SRC:PORT (no group may hold it), one packet asking
# for a reply every 20 ms; the receiver's CHALLENGE answered with a
# RESPONSE. Prints "challenged MS" and "accepted MS" (the first reply, ms
# after the first packet); exits 1 if no reply came within 10 s.
import hashlib, socket, struct, sys, time

def ctx4(sa, sp, da, dp):
    m = b"\0" * 10 + b"\xff\xff"
    return m + socket.inet_aton(sa) + struct.pack("!H", sp) + m + socket.inet_aton(da) + struct.pack("!H", dp)

def msg(t, op, opaque, body):
    return struct.pack("!BBHI", t, op, len(body), opaque) + body

def conn(i):
    # kind, length, then 34 bytes: enough for a receiver that only frames
    return bytes([1, 36]) + bytes(34)

def hdr(flags, count, epoch, seq, opaque, magic=0x4844, version=1):
    return struct.pack("!HBBHHIQI", magic, version, flags, count, 0, epoch, seq, opaque)

def mac(key, ctx, data):
    return hashlib.blake2s(ctx + data, key=key, digest_size=16).digest()

def udp4(sa, sp, da, dp, payload):
    ulen = 8 + len(payload)
    udp = struct.pack("!HHHH", sp, dp, ulen, 0) + payload   # checksum 0: none
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(sa), socket.inet_aton(da))
    return ip + udp

def session(sa, sp, da, dp, key, epoch, seq):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((sa, sp))
    u.settimeout(0.02)
    out, back = ctx4(sa, sp, da, dp), ctx4(da, dp, sa, sp)
    t0 = time.monotonic()
    ms = lambda: int((time.monotonic() - t0) * 1000)
    while ms() < 10000:
        body = hdr(0x01, 1, epoch, seq, 7) + msg(1, 1, 1, conn(0))   # reply requested
        u.sendto(body + mac(key, out, body), (da, dp))
        seq += 1
        try:
            data, _ = u.recvfrom(4096)
        except socket.timeout:
            continue
        if len(data) < 40 or mac(key, back, data[:-16]) != data[-16:]:
            continue
        flags = data[3]
        if flags & 0x10 and len(data) == 64 and data[24] == 7:       # challenge
            print("challenged", ms(), flush=True)
            body = hdr(0x10, 1, epoch, seq, 0) + msg(8, 0, 0, data[32:48])
            u.sendto(body + mac(key, out, body), (da, dp))
            seq += 1
        elif flags & 0x04:                                            # a reply
            print("accepted", ms(), flush=True)
            return 0
    print("no reply in 10 s", flush=True)
    return 1

def main():
    (sa, sp), (da, dp) = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in sys.argv[1:3]]
    key = open(sys.argv[3], "rb").read()
    epoch, seq, kind = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    ctx = ctx4(sa, sp, da, dp)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)

    def send(payload):
        s.sendto(udp4(sa, sp, da, dp, payload), (da, 0))

    def packet(msgs, flags=0, count=None, k=key, **kw):
        body = hdr(flags, len(msgs) if count is None else count, epoch, seq, 7, **kw) + b"".join(msgs)
        return body + mac(k, ctx, body)

    one = [msg(1, 1, 1, conn(0))]
    if kind == "valid":
        send(packet(one))
    elif kind == "replay":
        send(packet(one)); send(packet(one))
    elif kind == "unknown-type":
        send(packet([msg(200, 0, 9, b"xyz")]))
    elif kind.startswith("over:"):
        n = int(kind[5:])
        send(packet([msg(1, 1, i + 1, conn(i)) for i in range(n)]))
    elif kind == "badmac":
        send(packet(one, k=bytes(32)))
    elif kind == "session":
        sys.exit(session(sa, sp, da, dp, key, epoch, seq))
    elif kind == "corpus":
        good = packet(one)
        h = hdr(0, 1, epoch, seq, 7)
        corpus = [
            b"",                                   # empty
            b"HD",                                 # truncated header
            good[:23],                             # header cut short
            h + b"\0" * 15,                        # no room for a MAC
            packet(one, magic=0x4845),             # wrong magic
            packet(one, version=2),                # newer version
            packet(one, version=0),                # version 0
            packet(one, count=2),                  # count lies (too many)
            packet(one + one, count=1),            # count lies (bytes left)
            packet([struct.pack("!BBHI", 1, 1, 500, 1) + conn(0)]),  # length past the end
            packet([struct.pack("!BBHI", 1, 1, 0xffff, 1)]),         # huge length
            packet([b"\x01\x01\x00"]),             # message header cut
            good + b"\0" * 1000,                   # trailing junk (oversized)
        ]
        for p in corpus:
            send(p)
        print(len(corpus))
    else:
        sys.exit("unknown kind " + kind)

main()
