#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Traffic for the NAT suites (tests/netns/nat*.sh): many connections at
once, each checking its own bytes, and a server that logs who it saw.

  conns.py serve LOG [--tcp PORT] [--udp PORT] [--udp0 PORT]
      echo server: TCP (every byte back, then FIN), UDP (every datagram
      back). --udp0 echoes with the UDP checksum off (SO_NO_CHECK: a zero
      checksum on the wire). Appends "tcp|udp|udp0 PEERIP PEERPORT" to LOG
      for every connection accepted and every datagram received (flushed
      at once). Prints "listening" when ready.
  conns.py tcp HOST PORT [-n 200] [--size 65536] [--rst | --hold S]
      opens N connections, all of them before any data moves (so N are
      open at the same time), then on each: sends SIZE random bytes of its
      own, half-closes, reads the echo to EOF and compares. --rst resets
      each connection (SO_LINGER 0) instead of waiting for the server's
      FIN. --hold keeps every connection open (established, idle) S
      seconds after its echo came back, then closes it. Prints "tcp N/N
      connected at once", then "tcp N/N ok"; exits 1 if any failed.
  conns.py udp HOST PORT [-n 50] [--count 3] [--nocsum] [--timeout 2]
      N sockets at once, each sends COUNT distinct datagrams and waits for
      each echo (resending a lost one up to 3 times). --nocsum sends with
      a zero UDP checksum. Prints "udp N/N ok"; exits 1 otherwise.
  conns.py refused HOST PORT
      a connected UDP socket sends to a closed port; passes when the ICMP
      port unreachable makes the next receive fail with ECONNREFUSED.
  conns.py pcap FILE --local ADDR... --nat IP:MIN-MAX... --vip IP...
      reads a tcpdump capture (Ethernet) taken on the outside and checks
      every IPv4 packet: one end is a --local address, the other a VIP or
      a NAT IP with a port (ICMP echo: identifier; ICMP errors: the quoted
      packet's source) inside one of its ranges. Prints a summary; exits
      1 on any packet that breaks the rule.
  conns.py deltas --events FILE... --conns JSON --rev JSON [--peers LOG...]
                  [--flows JSON] [--summary OUT]
      replays evdump's lines (tests/netns/evdump.c) and compares the
      result with `bpftool -j map dump` of "conns" and "conns_rev": same
      keys, same records (version, ifindex, NAT address and port, state,
      flags), both directions; every NEW on a key not live, every UPDATE
      and DELETE on a live one, versions +1 at each UPDATE, greater at
      DELETE, and a NEW above its key's last DELETE; every peer a server logged ("tcp|udp|udp0 IP
      PORT") is the public side of some connection; `hadp -j flow show`
      (--flows) lists exactly the live connections, with their version,
      state and public address and port. Writes a JSON summary
      to OUT (counts of events, of live entries by protocol and state, of
      the state histories of deleted and live connections). Exits 1 on any
      mismatch.
"""

import argparse
import asyncio
import collections
import ipaddress
import json
import os
import socket
import struct
import sys
import time

SO_NO_CHECK = 11  # asm-generic/socket.h


def log_line(f, *words):
    f.write(" ".join(str(w) for w in words) + "\n")
    f.flush()


# ---- serve ------------------------------------------------------------------

class Echo(asyncio.DatagramProtocol):
    def __init__(self, tag, logf):
        self.tag = tag
        self.logf = logf

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        log_line(self.logf, self.tag, addr[0], addr[1])
        self.transport.sendto(data, addr)


async def serve(args):
    logf = open(args.log, "a", buffering=1)
    loop = asyncio.get_running_loop()

    async def handle(reader, writer):
        peer = writer.get_extra_info("peername")
        log_line(logf, "tcp", peer[0], peer[1])
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            writer.write_eof()
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    servers = []
    if args.tcp:
        servers.append(await asyncio.start_server(handle, "0.0.0.0", args.tcp,
                                                  backlog=2048, reuse_address=True))
    for port, tag in ((args.udp, "udp"), (args.udp0, "udp0")):
        if not port:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if tag == "udp0":
            s.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)
        s.bind(("0.0.0.0", port))
        await loop.create_datagram_endpoint(lambda t=tag: Echo(t, logf), sock=s)
    print("listening", flush=True)
    await asyncio.Event().wait()


# ---- tcp ----------------------------------------------------------------------

async def tcp_client(args):
    async def connect(i):
        return await asyncio.wait_for(asyncio.open_connection(args.host, args.port),
                                      args.timeout)

    conns = await asyncio.gather(*(connect(i) for i in range(args.n)),
                                 return_exceptions=True)
    opened = [c for c in conns if not isinstance(c, BaseException)]
    errors = [c for c in conns if isinstance(c, BaseException)]
    print(f"tcp {len(opened)}/{args.n} connected at once", flush=True)

    async def talk(i, reader, writer):
        payload = os.urandom(args.size)
        try:
            writer.write(payload)
            await writer.drain()
            if args.hold:
                got = await reader.readexactly(args.size)
                await asyncio.sleep(args.hold)
                writer.write_eof()
                got += await reader.read(-1)
                writer.close()
            elif args.rst:
                got = await reader.readexactly(args.size)
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            else:
                writer.write_eof()
                got = await reader.read(-1)
                writer.close()
            if got != payload:
                return f"connection {i}: {len(got)} bytes back of {args.size}, " \
                       f"{'differing' if len(got) == args.size else 'short'}"
            return None
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as e:
            return f"connection {i}: {e!r}"

    results = await asyncio.wait_for(
        asyncio.gather(*(talk(i, r, w) for i, (r, w) in enumerate(opened))),
        args.timeout * 3 + args.hold)
    bad = [r for r in results if r] + [repr(e) for e in errors]
    for b in bad[:10]:
        print(b)
    ok = len(opened) - len([r for r in results if r])
    print(f"tcp {ok}/{args.n} ok")
    return 0 if ok == args.n else 1


# ---- udp ----------------------------------------------------------------------

def udp_client(args):
    socks = []
    for i in range(args.n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if args.nocsum:
            s.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)
        s.connect((args.host, args.port))
        s.setblocking(False)
        socks.append(s)
    ok = 0
    bad = []
    for round_ in range(args.count):
        want = {}
        for i, s in enumerate(socks):
            want[i] = f"flow {i} datagram {round_} {os.urandom(8).hex()}".encode() * 4
        tries = {i: 0 for i in want}
        deadline = 0.0
        pending = dict(want)
        while pending:
            now = time.monotonic()
            if now >= deadline:
                for i in list(pending):
                    if tries[i] > 3:
                        bad.append(f"flow {i} datagram {round_}: no echo")
                        del pending[i]
                        continue
                    tries[i] += 1
                    try:
                        socks[i].send(pending[i])
                    except OSError as e:
                        bad.append(f"flow {i} datagram {round_}: {e!r}")
                        del pending[i]
                deadline = now + args.timeout
            for i in list(pending):
                try:
                    data = socks[i].recv(65536)
                except BlockingIOError:
                    continue
                except OSError as e:
                    bad.append(f"flow {i} datagram {round_}: {e!r}")
                    del pending[i]
                    continue
                if data == pending[i]:
                    del pending[i]
            time.sleep(0.002)
    per_flow = {i: True for i in range(args.n)}
    for b in bad:
        per_flow[int(b.split()[1].rstrip(":"))] = False
    ok = sum(per_flow.values())
    for b in bad[:10]:
        print(b)
    print(f"udp {ok}/{args.n} ok")
    return 0 if ok == args.n else 1


def refused(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((args.host, args.port))
    s.settimeout(3)
    for _ in range(3):
        s.send(b"anyone there?")
        try:
            s.recv(100)
            print("an answer came back")
            return 1
        except ConnectionRefusedError:
            print("ECONNREFUSED: the port unreachable came back")
            return 0
        except socket.timeout:
            continue
    print("no answer, no error")
    return 1


# ---- pcap ---------------------------------------------------------------------

def pcap_packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        end = "<"
    else:
        end = ">"
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f"pcap: link type {linktype}, want Ethernet")
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def ports_of(proto, l4):
    """(sport, dport) of TCP/UDP; (id, id) of ICMP echo; None otherwise."""
    if proto in (6, 17) and len(l4) >= 4:
        return struct.unpack("!HH", l4[:4])
    if proto == 1 and len(l4) >= 8 and l4[0] in (0, 8):
        ident = struct.unpack("!H", l4[4:6])[0]
        return ident, ident
    return None


def pcap_check(args):
    local = set(args.local)
    nat = {}
    for spec in args.nat:
        ip, rng = spec.split(":")
        lo, hi = rng.split("-")
        nat.setdefault(ip, []).append((int(lo), int(hi)))
    vip = set(args.vip)
    seen = {}      # (ip, proto) -> set of ports
    counts = {"ipv4": 0, "vip": 0, "nat": 0, "icmp_error": 0}
    bad = []

    def in_range(ip, port):
        return any(lo <= port <= hi for lo, hi in nat[ip])

    for pkt in pcap_packets(args.file):
        if len(pkt) < 34 or pkt[12:14] != b"\x08\x00":
            continue
        counts["ipv4"] += 1
        ihl = (pkt[14] & 15) * 4
        proto = pkt[23]
        src = str(ipaddress.IPv4Address(pkt[26:30]))
        dst = str(ipaddress.IPv4Address(pkt[30:34]))
        l4 = pkt[14 + ihl:]
        if src in local and dst not in local:
            far, outbound = dst, True
        elif dst in local and src not in local:
            far, outbound = src, False
        else:
            bad.append(f"{src} -> {dst} proto {proto}: no end is local or both are")
            continue
        if far in vip:
            counts["vip"] += 1
            continue
        if far not in nat:
            bad.append(f"{src} -> {dst} proto {proto}: {far} is neither a NAT IP nor a VIP")
            continue
        counts["nat"] += 1
        if proto == 1 and len(l4) >= 8 and l4[0] in (3, 11, 12):
            counts["icmp_error"] += 1
            inner = l4[8:]
            if len(inner) < 28:
                bad.append(f"{src} -> {dst} ICMP error too short to check")
                continue
            iihl = (inner[0] & 15) * 4
            isrc = str(ipaddress.IPv4Address(inner[12:16]))
            ports = ports_of(inner[9], inner[iihl:])
            if isrc != far or ports is None or not in_range(far, ports[0]):
                bad.append(f"{src} -> {dst} ICMP type {l4[0]} quotes {isrc} port {ports}")
            continue
        ports = ports_of(proto, l4)
        if ports is None:
            bad.append(f"{src} -> {dst} proto {proto}: no port to check")
            continue
        port = ports[1] if outbound else ports[0]
        if not in_range(far, port):
            bad.append(f"{src} -> {dst} proto {proto}: port {port} outside {nat[far]}")
            continue
        seen.setdefault((far, proto), set()).add(port)
    for (ip, proto), ports in sorted(seen.items()):
        for lo, hi in nat[ip]:
            n = len([p for p in ports if lo <= p <= hi])
            if n:
                print(f"{ip} proto {proto} ports {lo}-{hi}: {n} distinct")
    print(" ".join(f"{k} {v}" for k, v in counts.items()))
    for b in bad[:20]:
        print("BAD", b)
    print(f"{len(bad)} packets break the rule")
    return 1 if bad or counts["ipv4"] == 0 else 0


# ---- deltas -------------------------------------------------------------------

PROTO = {1: "icmp", 6: "tcp", 17: "udp"}
STATE = {1: "opening", 2: "established", 3: "closing", 4: "closed"}


def key_tuple(k):
    return (k["vni"], k["src"], k["dst"], k["sport"], k["dport"], k["proto"])


def raw_bytes(v):
    return bytes(int(b, 16) for b in v)


def parse_key(b):
    """struct hadp_conn_key: vni (host order), addresses, ports (network
    order), proto."""
    vni, src, dst, sport, dport, proto = struct.unpack("=I4s4sHHB3x", b[:20])
    return (vni, str(ipaddress.IPv4Address(src)), str(ipaddress.IPv4Address(dst)),
            socket.ntohs(sport), socket.ntohs(dport), proto)


def parse_val(b):
    """struct hadp_conn."""
    last_seen, version, ifindex, nat_ip, nat_port, state, flags = \
        struct.unpack("=QII4sHBB", b[:24])
    return {"last_seen": last_seen, "version": version, "ifindex": ifindex,
            "nat_ip": str(ipaddress.IPv4Address(nat_ip)),
            "nat_port": socket.ntohs(nat_port), "state": state, "flags": flags}


def deltas(args):
    bad = []
    live = {}          # key -> {"rkey", "val"}
    history = {}       # key -> list of states of the current incarnation
    done = []          # (key, states) of deleted incarnations
    gone = {}          # key -> version of its last delete
    ever = set()       # (proto, nat_ip, nat_port) of every NEW
    counts = collections.Counter()
    for path in args.events:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                try:
                    ev = json.loads(line)
                except ValueError:
                    bad.append(f"{path}:{n}: not JSON: {line.strip()}")
                    continue
                t = ev["type"]
                counts[t] += 1
                if t in ("ready", "eof", "mac_learned", "table_full"):
                    continue
                if t not in ("new", "update", "delete"):
                    bad.append(f"{path}:{n}: {line.strip()}")
                    continue
                k = key_tuple(ev["key"])
                rk = key_tuple(ev["rkey"])
                val = ev["val"]
                where = f"{path}:{n}: {t} {k}"
                if val["version"] != ev["version"]:
                    bad.append(f"{where}: event version {ev['version']}, record {val['version']}")
                if ev["ifindex"] != val["ifindex"]:
                    bad.append(f"{where}: event ifindex {ev['ifindex']}, record {val['ifindex']}")
                if t == "new":
                    if k in live:
                        bad.append(f"{where}: NEW for a live connection")
                    # A reopened key must rank above its last incarnation.
                    if k in gone and ev["version"] <= gone[k]:
                        bad.append(f"{where}: NEW version {ev['version']} <= "
                                   f"deleted {gone[k]}")
                    live[k] = {"rkey": rk, "val": val}
                    history[k] = [val["state"]]
                    ever.add((k[5], val["nat_ip"], val["nat_port"]))
                    continue
                if k not in live:
                    bad.append(f"{where}: for no live connection (a NEW is missing)")
                    continue
                prev = live[k]
                pv = prev["val"]["version"]
                if t == "update" and ev["version"] != pv + 1:
                    bad.append(f"{where}: version {pv} -> {ev['version']} (an update is missing)")
                if t == "delete" and ev["version"] <= pv:
                    bad.append(f"{where}: delete version {ev['version']} <= {pv}")
                if rk != prev["rkey"]:
                    bad.append(f"{where}: public key changed {prev['rkey']} -> {rk}")
                for fld in ("nat_ip", "nat_port", "ifindex"):
                    if val[fld] != prev["val"][fld]:
                        bad.append(f"{where}: {fld} changed")
                if t == "update":
                    live[k] = {"rkey": rk, "val": val}
                    history[k].append(val["state"])
                else:
                    done.append((k, history.pop(k)))
                    gone[k] = ev["version"]
                    del live[k]

    with open(args.conns) as f:
        table = {parse_key(raw_bytes(e["key"])): parse_val(raw_bytes(e["value"]))
                 for e in json.load(f)}
    with open(args.rev) as f:
        rev = {parse_key(raw_bytes(e["key"])): parse_key(raw_bytes(e["value"]))
               for e in json.load(f)}
    for k in sorted(set(live) - set(table)):
        bad.append(f"replayed but not in conns (a DELETE is missing): {k}")
    for k in sorted(set(table) - set(live)):
        bad.append(f"in conns but never announced (a NEW is missing): {k} {table[k]}")
    for k in sorted(set(live) & set(table)):
        got, want = table[k], live[k]["val"]
        for fld in ("version", "ifindex", "nat_ip", "nat_port", "state", "flags"):
            if got[fld] != want[fld]:
                bad.append(f"{k}: {fld} is {got[fld]} in conns, {want[fld]} replayed")
        if got["last_seen"] < want["last_seen"]:
            bad.append(f"{k}: last_seen in conns older than the last delta's")
        if rev.get(live[k]["rkey"]) != k:
            bad.append(f"{k}: conns_rev[{live[k]['rkey']}] is {rev.get(live[k]['rkey'])}")
    for rk in sorted(set(rev) - {v["rkey"] for v in live.values()}):
        bad.append(f"conns_rev holds {rk} -> {rev[rk]}, no live connection has it")

    if args.flows:
        with open(args.flows) as f:
            flows = json.load(f)
        names = {v: k for k, v in PROTO.items()}
        shown = set()
        for fl in flows:
            k = (fl["vni"], fl["src"], fl["dst"], fl["sport"], fl["dport"],
                 names.get(fl["proto"], fl["proto"]))
            shown.add(k)
            if k not in live:
                bad.append(f"flow show lists {k}, no live connection replayed")
                continue
            v = live[k]["val"]
            for fld, want in (("version", v["version"]), ("nat_ip", v["nat_ip"]),
                              ("nat_port", v["nat_port"]), ("state", STATE.get(v["state"])),
                              ("ifindex", v["ifindex"])):
                if fl.get(fld) != want:
                    bad.append(f"flow show {k}: {fld} {fl.get(fld)}, replayed {want}")
        for k in sorted(set(live) - shown):
            bad.append(f"replayed {k}, flow show does not list it")

    missing_peers = 0
    npeers = 0
    for path in args.peers:
        with open(path) as f:
            for line in f:
                w = line.split()
                if len(w) != 3:
                    continue
                proto = 6 if w[0] == "tcp" else 17
                npeers += 1
                if (proto, w[1], int(w[2])) not in ever:
                    missing_peers += 1
                    if missing_peers <= 5:
                        bad.append(f"peer {w[0]} {w[1]}:{w[2]} is no connection's public side")
    if missing_peers > 5:
        bad.append(f"... {missing_peers} peers in all")

    def hist(states):
        out = []
        for st in states:
            if not out or out[-1] != st:
                out.append(st)
        return "-".join(STATE.get(st, str(st)) for st in out)

    live_by = collections.Counter(f"{PROTO.get(k[5], k[5])} {STATE.get(v['val']['state'])}"
                                  for k, v in live.items())
    hist_by = collections.Counter(f"{PROTO.get(k[5], k[5])} {hist(h)}" for k, h in done)
    hist_by.update(f"{PROTO.get(k[5], k[5])} {hist(h)} (live)" for k, h in history.items())
    summary = {"events": dict(counts), "live": len(live), "table": len(table),
               "rev": len(rev), "deleted": len(done), "peers": npeers,
               "live_by": dict(live_by), "history": dict(hist_by),
               "flags": dict(collections.Counter(
                   f"{PROTO.get(k[5], k[5])} {v['val']['flags']}" for k, v in live.items()))}
    text = json.dumps(summary, indent=1, sort_keys=True)
    print(text)
    if args.summary:
        with open(args.summary, "w") as f:
            f.write(text)
    for b in bad[:30]:
        print("BAD", b)
    print(f"{len(bad)} mismatches")
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("log")
    s.add_argument("--tcp", type=int)
    s.add_argument("--udp", type=int)
    s.add_argument("--udp0", type=int)
    s = sub.add_parser("tcp")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("-n", type=int, default=200)
    s.add_argument("--size", type=int, default=65536)
    s.add_argument("--rst", action="store_true")
    s.add_argument("--hold", type=float, default=0)
    s.add_argument("--timeout", type=float, default=20)
    s = sub.add_parser("udp")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("-n", type=int, default=50)
    s.add_argument("--count", type=int, default=3)
    s.add_argument("--nocsum", action="store_true")
    s.add_argument("--timeout", type=float, default=1)
    s = sub.add_parser("refused")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s = sub.add_parser("pcap")
    s.add_argument("file")
    s.add_argument("--local", nargs="+", required=True)
    s.add_argument("--nat", nargs="*", default=[])
    s.add_argument("--vip", nargs="*", default=[])
    s = sub.add_parser("deltas")
    s.add_argument("--events", nargs="+", required=True)
    s.add_argument("--conns", required=True)
    s.add_argument("--rev", required=True)
    s.add_argument("--peers", nargs="*", default=[])
    s.add_argument("--flows")
    s.add_argument("--summary")
    args = p.parse_args()
    if args.cmd == "serve":
        try:
            asyncio.run(serve(args))
        except KeyboardInterrupt:
            pass
        return 0
    if args.cmd == "tcp":
        try:
            return asyncio.run(tcp_client(args))
        except asyncio.TimeoutError:
            print(f"tcp: timed out after {args.timeout * 3}s")
            return 1
    if args.cmd == "udp":
        return udp_client(args)
    if args.cmd == "refused":
        return refused(args)
    if args.cmd == "deltas":
        return deltas(args)
    return pcap_check(args)


if __name__ == "__main__":
    sys.exit(main())
