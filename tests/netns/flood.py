#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Crafted IPv4 packets as fast as Python sends them, for tests/netns/tenant.sh:
what a hostile tenant or an internet host throws at the datapath.

  flood.py DST --count N [--proto udp|tcp] [--src ADDR] [--sport P|A-B]
           [--dport P|A-B] [--flags S,R,F,A,...] [--ttl T] [--size B] [--df]

Packet i goes from port sport[i % len] to dport[i % len] with TCP flags
flags[i % len] (letters of S, A, F, R, P; ignored for UDP), TTL T, B bytes of
payload, DF when asked. Sent through a raw socket (IP_HDRINCL) from --src,
else from the address the kernel picks for DST. Prints "sent N".
"""

import argparse
import socket
import struct

FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}


def ports(spec):
    lo, _, hi = spec.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def packet(a, src, dst, sport, dport, flags, seq):
    payload = bytes(a.size)
    if a.proto == "udp":
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        proto, at = socket.IPPROTO_UDP, 6
    else:
        bits = sum(FLAG_BITS[c] for c in flags)
        ack = 1 if bits & 0x10 else 0
        l4 = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, bits,
                         65535, 0, 0) + payload
        proto, at = socket.IPPROTO_TCP, 16
    pseudo = src + dst + struct.pack("!BBH", 0, proto, len(l4))
    c = csum(pseudo + l4) or 0xffff
    l4 = l4[:at] + struct.pack("!H", c) + l4[at + 2:]
    # Total length and header checksum: the kernel fills them in.
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0x4000 if a.df else 0,
                     a.ttl, proto, 0, src, dst)
    return ip + l4


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dst")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--proto", choices=("udp", "tcp"), default="udp")
    p.add_argument("--src")
    p.add_argument("--sport", default="40000")
    p.add_argument("--dport", default="7001")
    p.add_argument("--flags", default="S")
    p.add_argument("--ttl", type=int, default=64)
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--df", action="store_true")
    a = p.parse_args()

    if a.src is None:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.connect((a.dst, 9))
        a.src = probe.getsockname()[0]
        probe.close()
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.dst)
    sports, dports, flags = ports(a.sport), ports(a.dport), a.flags.split(",")
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    for i in range(a.count):
        pkt = packet(a, src, dst, sports[i % len(sports)],
                     dports[i % len(dports)], flags[i % len(flags)], i)
        try:
            s.sendto(pkt, (a.dst, 0))
            sent += 1
        except OSError:
            pass    # a full queue: a flood loses some, that is all
    print("sent", sent)


if __name__ == "__main__":
    main()
