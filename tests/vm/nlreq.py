#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/vm/nlreq.py: hand-made generic netlink requests to hadp.ko for
# tests/vm/module.sh: attributes missing, oversized, of the wrong type,
# unknown or not taken by the command; a header with its reserved field
# set; dumps. Prints "errno MESSAGE" (the extended ack's text, or "-").
#
#   nlreq.py CASE
import os, socket, struct, sys

NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 16, 3, 1, 2
NETLINK_EXT_ACK, SOL_NETLINK = 11, 270
NLMSGERR_ATTR_MSG = 1
# include/uapi/linux/hadp.h
INFO_GET, GROUP_NEW, GROUP_SET, GROUP_DEL, GROUP_GET, REGISTER, SEND = range(1, 8)
G_NAME, G_LOCAL, G_PEER, G_KEY, G_MAXC, G_PMAXC, G_MTU, G_ROLE, G_PORTID = range(1, 10)
E_ADDR4, E_ADDR6, E_PORT = 1, 2, 3
P_GROUP, P_FLAGS, P_OPAQUE, P_MSGS = 1, 2, 3, 4

def attr(t, data):
    a = struct.pack("HH", 4 + len(data), t) + data
    return a + b"\0" * (-len(a) % 4)

def nest(t, *attrs):
    return attr(t | 0x8000, b"".join(attrs))

def s(t, v): return attr(t, v.encode() + b"\0")
def u16(t, v): return attr(t, struct.pack("H", v))
def u32(t, v): return attr(t, struct.pack("I", v))

def talk(sk, typ, cmd, payload, seq, flags=0, reserved=0):
    """Send a request; read to its ack, or the end of a dump.
    (errno, ack text, data messages)."""
    body = struct.pack("BBH", cmd, 1, reserved) + payload
    sk.send(struct.pack("IHHII", 16 + len(body), typ, NLM_F_REQUEST | NLM_F_ACK | flags, seq, 0) + body)
    msgs = []
    while True:
        data = sk.recv(1 << 20)
        off = 0
        while off + 16 <= len(data):
            ln, t, fl, sq, pid = struct.unpack_from("IHHII", data, off)
            if t in (2, 3):  # NLMSG_ERROR (the ack), NLMSG_DONE (a dump's end)
                err = -struct.unpack_from("i", data, off + 16)[0]
                text = "-"
                if t == 3:      # the status, then the ack's attributes
                    a = off + 20
                else:           # the status, the request (or its header)
                    inner = struct.unpack_from("I", data, off + 20)[0]
                    a = off + 20 + (16 if fl & 0x100 else inner)
                while a + 4 <= off + ln:
                    al, at = struct.unpack_from("HH", data, a)
                    if al < 4:
                        break
                    if at == NLMSGERR_ATTR_MSG:
                        text = data[a + 4:a + al].rstrip(b"\0").decode()
                    a += (al + 3) & ~3
                return err, text, msgs
            msgs.append(data[off:off + ln])
            off += (ln + 3) & ~3

def family(sk):
    err, _, msgs = talk(sk, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, s(CTRL_ATTR_FAMILY_NAME, "hadp"), 1)
    data = msgs[0] if msgs else b""
    off = 20
    while off + 4 <= len(data):
        al, at = struct.unpack_from("HH", data, off)
        if at == CTRL_ATTR_FAMILY_ID:
            return struct.unpack_from("H", data, off + 4)[0]
        off += (al + 3) & ~3
    sys.exit("no family hadp")

def local4(): return nest(G_LOCAL, attr(E_ADDR4, socket.inet_aton("10.9.0.1")), u16(E_PORT, 4800))
def peer4(): return nest(G_PEER, attr(E_ADDR4, socket.inet_aton("10.9.0.2")), u16(E_PORT, 4800))
KEY = attr(G_KEY, bytes(range(1, 33)))
ZERO_KEY = attr(G_KEY, bytes(32))

CASES = {
    "missing-key":    (GROUP_NEW, s(G_NAME, "nl0") + local4() + peer4()),
    "missing-name":   (GROUP_NEW, local4() + peer4() + KEY),
    "long-name":      (GROUP_NEW, s(G_NAME, "x" * 40) + local4() + peer4() + KEY),
    "short-key":      (GROUP_NEW, s(G_NAME, "nl0") + local4() + peer4() + attr(G_KEY, bytes(31))),
    "mtu-as-u16":     (GROUP_NEW, s(G_NAME, "nl0") + local4() + peer4() + KEY + u16(G_MTU, 1500)),
    "mtu-too-big":    (GROUP_NEW, s(G_NAME, "nl0") + local4() + peer4() + KEY + u32(G_MTU, 70000)),
    "coalesce-zero":  (GROUP_NEW, s(G_NAME, "nl0") + local4() + peer4() + KEY + u32(G_MAXC, 0)),
    "reply-only":     (GROUP_NEW, s(G_NAME, "nl0") + local4() + peer4() + KEY + u32(G_PORTID, 5)),
    "unknown-attr":   (GROUP_NEW, s(G_NAME, "nl0") + local4() + peer4() + KEY + u32(60, 1)),
    "two-addrs":      (GROUP_NEW, s(G_NAME, "nl0") + nest(G_LOCAL, attr(E_ADDR4, socket.inet_aton("10.9.0.1")), attr(E_ADDR6, bytes(16)), u16(E_PORT, 4800)) + peer4() + KEY),
    "port-zero":      (GROUP_NEW, s(G_NAME, "nl0") + nest(G_LOCAL, attr(E_ADDR4, socket.inet_aton("10.9.0.1")), u16(E_PORT, 0)) + peer4() + KEY),
    "bad-name":       (GROUP_NEW, s(G_NAME, "_x") + local4() + peer4() + KEY),
    "set-local":      (GROUP_SET, s(G_NAME, "ha0") + local4()),
    "send-no-msgs":   (SEND, s(P_GROUP, "ha0")),
    "send-bad-flags": (SEND, s(P_GROUP, "ha0") + u32(P_FLAGS, 0x80) + attr(P_MSGS, b"\x01\x01\x00\x00\x00\x00\x00\x01")),
    "send-junk":      (SEND, s(P_GROUP, "ha0") + attr(P_MSGS, b"\x01\x01\x00\x09\x00")),
    "send-oversized": (SEND, s(P_GROUP, "ha0") + attr(P_MSGS, bytes(65100))),
    "send-no-group":  (SEND, s(P_GROUP, "nosuch") + attr(P_MSGS, b"\x01\x01\x00\x00\x00\x00\x00\x01")),
    "zero-key":       (GROUP_NEW, s(G_NAME, "nl0") + local4() + peer4() + ZERO_KEY),
    "set-zero-key":   (GROUP_SET, s(G_NAME, "ha0") + ZERO_KEY),
    # attributes a command does not take
    "del-with-key":   (GROUP_DEL, s(G_NAME, "ha0") + KEY),
    "get-with-mtu":   (GROUP_GET, s(G_NAME, "ha0") + u32(G_MTU, 1500)),
    "register-with-peer": (REGISTER, s(G_NAME, "ha0") + peer4()),
    "send-with-count": (SEND, s(P_GROUP, "ha0") + u32(5, 1) + attr(P_MSGS, b"\x01\x01\x00\x00\x00\x00\x00\x01")),
    "info-with-name": (INFO_GET, s(G_NAME, "ha0")),
    # reads: a group, the module's info, every group
    "get":            (GROUP_GET, s(G_NAME, "ha0")),
    "info":           (INFO_GET, b""),
    "dump":           (GROUP_GET, b"", NLM_F_DUMP),
    "dump-with-name": (GROUP_GET, s(G_NAME, "ha0"), NLM_F_DUMP),
    # the genetlink header's reserved field
    "get-reserved":   (GROUP_GET, s(G_NAME, "ha0"), 0, 1),
    "del-reserved":   (GROUP_DEL, s(G_NAME, "ha0"), 0, 0x100),
}

sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
sk.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
sk.bind((0, 0))
fam = family(sk)
cmd, payload, *more = CASES[sys.argv[1]]
err, text, _ = talk(sk, fam, cmd, payload, 2, *more)
print(err, text)
