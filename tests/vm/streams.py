#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Long-lived traffic for the HA failover suite (tests/vm/failover.sh) and
the HA demo (scripts/demo-ha.sh): connections and streams that keep
sending across a failover and measure what it cost them.

  streams.py serve --report FILE [--tcp PORT] [--udp PORT] [--echo]
      TCP: echoes every byte back (then FIN after the client's). UDP: every
      datagram carries a flow id and a sequence number (below); per flow
      the server keeps the first source address:port it saw and counts
      datagrams from any other (a changed NAT mapping), the datagrams
      received, the holes in the sequence (each run of missing numbers is
      one hole; the lost numbers are counted) and the longest time between
      two arrivals. --echo sends each datagram back. Prints "listening"
      when ready. On SIGTERM or SIGINT it writes the report (JSON) to FILE
      and exits.
  streams.py udp HOST PORT --report FILE [--rate 50] [--echo]
      one UDP flow (one socket, one source port) sending RATE datagrams a
      second until SIGTERM; with --echo it also accounts the echoes as the
      server does the datagrams. At SIGTERM it stops sending, waits 1 s for
      the last echoes and writes the report: sent, and for the echoes
      received, lost, holes, gap_ms.
  streams.py tcp HOST PORT --report FILE [-n 200] [--interval 0.2]
                [--stall 15] [--size 64]
      opens N connections (50 at a time) and keeps them open; each sends a
      chunk of SIZE bytes (its number, a counter, random bytes) every
      INTERVAL seconds (first one at a random offset) and waits for the
      echo, comparing it byte for byte. A connection is broken when it is
      reset, refused, closed early, echoes other bytes, or waits more than
      STALL seconds for an echo. Prints "connected N/N" once all are open.
      At SIGTERM each open connection half-closes and must read its last
      echo and then EOF; the report: opened, ok, broken (with reasons),
      chunks, max_wait_ms (the longest wait for one echo).

  streams.py replay PCAP --src IP:PORT --dst IP:PORT
      sends again, with a raw socket (so from SRC's address and port,
      which the peer's hadp.ko has bound), the payload of every UDP packet
      from SRC to DST in a tcpdump capture (Ethernet). Prints how many.

A datagram: 8-byte flow id, 8-byte sequence number (from 0), 8 bytes of
the sender's monotonic clock in microseconds, padding to 64 bytes.
Reports are JSON objects; every count is exact.
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import struct
import sys
import time

DGRAM = struct.Struct("!8sQQ")
DGRAM_LEN = 64


def now_ms():
    # CLOCK_BOOTTIME, the clock of uptime() and /proc/uptime (the same as
    # CLOCK_MONOTONIC where nothing suspends): gaps and arrival times come
    # from one reading.
    return time.clock_gettime(time.CLOCK_BOOTTIME) * 1000.0


def uptime():
    """CLOCK_BOOTTIME in seconds, as /proc/uptime shows it: the suites
    note when they kill an agent in the same clock."""
    return round(time.clock_gettime(time.CLOCK_BOOTTIME), 3)


def stop_on_signals(loop):
    """An event SIGTERM and SIGINT set: every mode runs until it."""
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    return stop


def write_report(path, rep):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(rep, f, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


class SeqStats:
    """Sequence accounting of one flow: received, lost, holes, gap."""

    def __init__(self):
        self.received = 0
        self.dups = 0
        self.next = 0          # the next sequence number expected
        self.lost = 0          # numbers skipped and never seen later
        self.holes = 0
        self.late = 0          # arrived after a later one (reordered)
        self.missing = set()
        self.last = None
        self.gap_ms = 0.0
        self.gap_at = None     # seq after the longest gap
        self.gaps = []         # the 3 longest: [ms, seq after, uptime at its end]
        self.hole_list = []    # the first 20: [first missing seq, count, uptime]
        self.arrivals = []     # uptime of every arrival (the suites find
                               # the silence around a failover in it)

    def add(self, seq, t):
        if self.last is not None:
            g = t - self.last
            if g > self.gap_ms:
                self.gap_ms = g
                self.gap_at = seq
            if len(self.gaps) < 3 or g > self.gaps[-1][0]:
                self.gaps.append([round(g, 1), seq, round(t / 1000.0, 3)])
                self.gaps.sort(key=lambda x: -x[0])
                del self.gaps[3:]
        self.last = t
        self.arrivals.append(round(t / 1000.0, 4))
        if seq >= self.next:
            if seq > self.next:
                self.holes += 1
                if len(self.hole_list) < 20:
                    self.hole_list.append([self.next, seq - self.next, round(t / 1000.0, 3)])
                self.missing.update(range(self.next, seq))
            self.next = seq + 1
            self.received += 1
        elif seq in self.missing:
            self.missing.discard(seq)
            self.late += 1
            self.received += 1
        else:
            self.dups += 1

    def report(self, sent=None):
        r = {"received": self.received, "dups": self.dups, "holes": self.holes,
             "late": self.late, "gap_ms": round(self.gap_ms, 1),
             "gap_at": self.gap_at, "highest": self.next - 1,
             "gaps": self.gaps, "hole_list": self.hole_list,
             "arrivals": self.arrivals}
        # Holes still open, plus (when the sender's count is known) what
        # never came after the last arrival.
        lost = len(self.missing)
        if sent is not None and sent > self.next:
            lost += sent - self.next
            r["tail_lost"] = sent - self.next
        r["lost"] = lost
        return r


# ---- serve ----------------------------------------------------------------------

class UdpServer(asyncio.DatagramProtocol):
    def __init__(self, echo):
        self.echo = echo
        self.flows = {}
        self.malformed = 0

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        t = now_ms()
        if len(data) < DGRAM.size:
            self.malformed += 1
            return
        fid, seq, _ = DGRAM.unpack_from(data)
        fid = fid.hex()
        peer = f"{addr[0]}:{addr[1]}"
        f = self.flows.get(fid)
        if f is None:
            f = self.flows[fid] = {"peer": peer, "changed": 0, "peers": [peer],
                                   "stats": SeqStats()}
        if peer != f["peer"]:
            f["changed"] += 1
            if peer not in f["peers"]:
                f["peers"].append(peer)
        f["stats"].add(seq, t)
        if self.echo:
            self.transport.sendto(data, addr)

    def report(self):
        flows = {}
        for fid, f in self.flows.items():
            r = f["stats"].report()
            r.update(peer=f["peer"], changed=f["changed"], peers=f["peers"])
            flows[fid] = r
        return {"flows": flows, "malformed": self.malformed}


async def serve(args):
    loop = asyncio.get_running_loop()
    stop = stop_on_signals(loop)
    tcp_peers = {"accepted": 0, "closed_clean": 0, "errors": 0}

    async def handle(reader, writer):
        tcp_peers["accepted"] += 1
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            writer.write_eof()
            await writer.drain()
            tcp_peers["closed_clean"] += 1
        except (ConnectionError, OSError):
            tcp_peers["errors"] += 1
        finally:
            writer.close()

    udp = None
    if args.tcp:
        await asyncio.start_server(handle, "0.0.0.0", args.tcp, backlog=2048,
                                   reuse_address=True)
    if args.udp:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind(("0.0.0.0", args.udp))
        _, udp = await loop.create_datagram_endpoint(lambda: UdpServer(args.echo), sock=s)
    print("listening", flush=True)
    await stop.wait()
    rep = {"tcp": tcp_peers}
    if udp:
        rep.update(udp.report())
    write_report(args.report, rep)


# ---- udp --------------------------------------------------------------------------

async def udp_client(args):
    loop = asyncio.get_running_loop()
    stop = stop_on_signals(loop)
    fid = os.urandom(8)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.connect((args.host, args.port))
    sock.setblocking(False)
    echoes = SeqStats()
    errors = {}

    def readable():
        while True:
            try:
                data = sock.recv(2048)
            except BlockingIOError:
                return
            except OSError as e:
                errors[e.strerror] = errors.get(e.strerror, 0) + 1
                return
            if len(data) >= DGRAM.size and data[:8] == fid:
                echoes.add(DGRAM.unpack_from(data)[1], now_ms())

    if args.echo:
        loop.add_reader(sock.fileno(), readable)
    sent = 0
    started = uptime()
    t0 = time.monotonic()
    period = 1.0 / args.rate
    while not stop.is_set():
        pkt = DGRAM.pack(fid, sent, int(time.monotonic() * 1e6)).ljust(DGRAM_LEN, b"\0")
        try:
            sock.send(pkt)
        except OSError as e:
            # ECONNREFUSED from an ICMP error, ENOBUFS...: counted, and the
            # number is skipped (the receiver sees a hole).
            errors[e.strerror] = errors.get(e.strerror, 0) + 1
        sent += 1
        delay = t0 + sent * period - time.monotonic()
        if delay < -1.0:
            # Far behind (the machine stalled): do not burst to catch up.
            t0 = time.monotonic() - sent * period
            delay = 0
        try:
            await asyncio.wait_for(stop.wait(), max(delay, 0))
        except asyncio.TimeoutError:
            pass
    if args.echo:
        await asyncio.sleep(1.0)
        loop.remove_reader(sock.fileno())
    rep = {"flow": fid.hex(), "local": "%s:%d" % sock.getsockname(), "sent": sent,
           "started": started, "stopped": uptime(),
           "rate": args.rate, "errors": errors}
    if args.echo:
        rep["echo"] = echoes.report(sent)
    write_report(args.report, rep)


# ---- tcp --------------------------------------------------------------------------

async def tcp_client(args):
    stop = stop_on_signals(asyncio.get_running_loop())
    sem = asyncio.Semaphore(50)
    state = {"chunks": 0, "max_wait_ms": 0.0, "connect_errors": []}
    broken = {}

    async def connect(i):
        async with sem:
            try:
                return await asyncio.wait_for(asyncio.open_connection(args.host, args.port),
                                              args.stall)
            except (OSError, asyncio.TimeoutError) as e:
                state["connect_errors"].append(f"connection {i}: {e!r}")
                return None

    conns = await asyncio.gather(*(connect(i) for i in range(args.n)))
    opened = [(i, c) for i, c in enumerate(conns) if c is not None]
    print(f"connected {len(opened)}/{args.n}", flush=True)

    async def talk(i, reader, writer):
        seq = 0
        try:
            await asyncio.wait_for(stop.wait(), args.interval * (i % 97) / 97)
        except asyncio.TimeoutError:
            pass
        try:
            while True:
                last = stop.is_set()
                chunk = struct.pack("!II", i, seq) + os.urandom(args.size - 8)
                seq += 1
                writer.write(chunk)
                if last:
                    writer.write_eof()
                await writer.drain()
                t = now_ms()
                try:
                    got = await asyncio.wait_for(reader.readexactly(len(chunk)), args.stall)
                except asyncio.TimeoutError:
                    return f"no echo within {args.stall} s"
                w = now_ms() - t
                if w > state["max_wait_ms"]:
                    state["max_wait_ms"] = w
                    state["max_wait_at"] = uptime()
                if got != chunk:
                    return "echo differs"
                state["chunks"] += 1
                if last:
                    rest = await asyncio.wait_for(reader.read(), args.stall)
                    if rest:
                        return f"{len(rest)} unexpected bytes before EOF"
                    return None
                try:
                    await asyncio.wait_for(stop.wait(), args.interval)
                except asyncio.TimeoutError:
                    pass
        except asyncio.IncompleteReadError as e:
            return f"closed early ({len(e.partial)} of {e.expected} bytes)"
        except asyncio.TimeoutError:
            return f"no EOF within {args.stall} s"
        except (ConnectionError, OSError) as e:
            return f"{e.__class__.__name__}: {e.strerror or e}"
        finally:
            writer.close()

    async def one(i, rw):
        err = await talk(i, *rw)
        if err:
            broken[i] = err
            print(f"connection {i} broken: {err}", flush=True)

    await asyncio.gather(*(one(i, rw) for i, rw in opened))
    reasons = {}
    for r in broken.values():
        reasons[r] = reasons.get(r, 0) + 1
    rep = {"n": args.n, "opened": len(opened), "broken": len(broken),
           "ok": len(opened) - len(broken), "reasons": reasons,
           "broken_ids": sorted(broken)[:50], "chunks": state["chunks"],
           "max_wait_ms": round(state["max_wait_ms"], 1),
           "max_wait_at": state.get("max_wait_at"),
           "connect_errors": state["connect_errors"][:10]}
    write_report(args.report, rep)


# ---- replay -----------------------------------------------------------------------

def pcap_packets(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    end = "<" if struct.unpack("<I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    if struct.unpack(end + "I", data[20:24])[0] != 1:
        raise SystemExit("pcap: not Ethernet")
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def replay(args):
    sa, sp = args.src.rsplit(":", 1)
    da, dp = args.dst.rsplit(":", 1)
    sp, dp = int(sp), int(dp)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    for pkt in pcap_packets(args.pcap):
        if len(pkt) < 42 or pkt[12:14] != b"\x08\x00" or pkt[23] != 17:
            continue
        ihl = (pkt[14] & 15) * 4
        if pkt[26:30] != socket.inet_aton(sa) or pkt[30:34] != socket.inet_aton(da):
            continue
        udp = pkt[14 + ihl:]
        if struct.unpack("!HH", udp[:4]) != (sp, dp):
            continue
        payload = udp[8:struct.unpack("!H", udp[4:6])[0]]
        ulen = 8 + len(payload)
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0,
                          socket.inet_aton(sa), socket.inet_aton(da))
        raw.sendto(hdr + struct.pack("!HHHH", sp, dp, ulen, 0) + payload, (da, 0))
        sent += 1
    print(f"replayed {sent} packets")
    return 0 if sent else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--report", required=True)
    s.add_argument("--tcp", type=int)
    s.add_argument("--udp", type=int)
    s.add_argument("--echo", action="store_true")
    s = sub.add_parser("udp")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("--report", required=True)
    s.add_argument("--rate", type=float, default=50)
    s.add_argument("--echo", action="store_true")
    s = sub.add_parser("tcp")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("--report", required=True)
    s.add_argument("-n", type=int, default=200)
    s.add_argument("--interval", type=float, default=0.2)
    s.add_argument("--stall", type=float, default=15)
    s.add_argument("--size", type=int, default=64)
    s = sub.add_parser("replay")
    s.add_argument("pcap")
    s.add_argument("--src", required=True)
    s.add_argument("--dst", required=True)
    args = p.parse_args()
    if args.cmd == "replay":
        return replay(args)
    if args.cmd == "tcp" and args.size < 8:
        p.error("--size: at least 8")
    run = {"serve": serve, "udp": udp_client, "tcp": tcp_client}[args.cmd]
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
