#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Helpers are called through check and command substitutions:
# shellcheck disable=SC2317
# Hex bytes are handed to bpftool as words, split on purpose:
# shellcheck disable=SC2086,SC2046
#
# tests/vm/clash.sh: a NAT port clash applied from the peer leaves the live
# connection working (tests/vm/run-in-vm.sh runs it inside scripts/vmtest.sh's
# VM). The topology and helpers are tests/vm/ha-topo.bash's: instances a
# (active) and b (standby) on one hypervisor, hadp.ko carrying the sync.
#
# L is a live TCP connection of vmS through SNAT, mirrored to b. S is a
# connection of the same VM that held L's public address and port before
# it, left on b by a delete b never got: written into b's maps as the
# mirror writes an entry (both keys). The active's next periodic refresh
# carries L to b again: L wins the clash (S goes, both keys), and the
# refresh's sweep of S, S's delete, must not take L's reverse entry. Then
# the active is killed, and L must keep working on b's tables alone.
#
# Ends with "N passed, N failed".

# shellcheck source=tests/vm/ha-topo.bash
source "$(dirname "$0")/ha-topo.bash"

NTCP=${NTCP:-20}
# Seconds of traffic on b after the switch.
AFTER=${AFTER:-8}

# conn_hex key VNI SRC DST SPORT DPORT PROTO, or conn_hex val IFINDEX
# NAT_IP NAT_PORT VERSION: a key of conns or conns_rev, or a conns value
# (last seen long ago, ESTABLISHED, SNAT), as bpftool's "hex" bytes.
PACK='
import socket, struct, sys
a = sys.argv[1:]
ip = socket.inet_aton
if a[0] == "key":
    b = struct.pack("<I", int(a[1])) + ip(a[2]) + ip(a[3]) + \
        struct.pack(">HHB3x", int(a[4]), int(a[5]), int(a[6]))
else:
    # struct hadp_conn: last_seen, version, ifindex, nat_ip, nat_port,
    # state, flags, opened_ms, padding to 8 bytes
    b = struct.pack("<QII", 1, int(a[4]), int(a[1])) + ip(a[2]) + \
        struct.pack(">HBB", int(a[3]), 2, 0) + struct.pack("<I4x", 0)
print(" ".join("%02x" % x for x in b))
'
conn_hex() { "$PY" -c "$PACK" "$@"; }

# rev_of INST KEY: the conns key INST's conns_rev holds for public key KEY
# (conn_hex's form), empty if none.
rev_of() {
	bpftool -j map lookup pinned "$(bpffs hv)/hadp/$1/conns_rev" key hex $2 2>/dev/null |
		jq -r '(.value // empty) | map(ltrimstr("0x")) | join(" ")'
}

# agent_stat INST NAME: a counter of INST's agent (hadp -s ha show).
agent_stat() { ha_cli "$1" -j -s ha show "$1" | jq -r ".[0].agent.$2"; }

# ---- setup ---------------------------------------------------------------------------

section "topology, agents, configuration"
ha_start
check "vmS pings the internet through SNAT" ping_ok vmS $INET
check "traffic: $NTCP TCP connections open, three UDP streams" traffic_start clash "$NTCP"
check "b holds a's connections" converged a b

# ---- the clash -----------------------------------------------------------------------

section "a stale entry on b holds a live connection's public address and port"
read -r _ vm remote pub <<<"$(keys b | awk -v r="$INET:7000" '$1 == "tcp" && $3 == r { print; exit }')"
log "L: tcp $vm -> $remote, public side $pub"
[ -n "$pub" ] || die "b holds no TCP connection of vmS"
nat_port=${pub##*:}
L=$(conn_hex key 100 10.0.0.1 $INET "${vm##*:}" 7000 6)
S=$(conn_hex key 100 10.0.0.1 $INET 1 7000 6)
R=$(conn_hex key 0 $INET $NAT 7000 "$nat_port" 6)
check_eq "b's reverse entry of L's public side names L" "$(rev_of b "$R")" "$L"
vm1=$(n hv cat /sys/class/net/vm1/ifindex)
check "S (vmS port 1 -> $INET:7000, public side $pub) written into b's conns" \
	bpftool map update pinned "$(bpffs hv)/hadp/b/conns" key hex $S \
	value hex $(conn_hex val "$vm1" $NAT "$nat_port" 1)
check "... and its reverse entry into b's conns_rev" \
	bpftool map update pinned "$(bpffs hv)/hadp/b/conns_rev" key hex $R value hex $S
c0=$(agent_stat b rx_clashes)

section "the active's refresh carries L over S; then the active dies"
# The refresh comes every 10 s (AGENT_OPTS). S leaves b in it: as the
# loser of L's clash, or as a zombie its sweep deletes.
holds_s() { keys b | grep -q "^tcp 10.0.0.1:1 "; }
end=$(deadline 40)
while before "$end" && holds_s; do sleep 0.2; done
check_fails "S left b within 40 s (the active's refresh)" holds_s
# At once: a later refresh would write L's reverse entry again.
stop_agent a KILL
MS=$(wait_active b 30)
check "the root's active entry names b (${MS} ms)" test "$MS" != never
check_eq "b's reverse entry of L's public side still names L" "$(rev_of b "$R")" "$L"
check_gt "b counted the clash (rx_clashes)" "$(agent_stat b rx_clashes)" "$c0"
sleep "$AFTER"
traffic_stop
log "$(traffic_summary)"
check_eq "all $NTCP TCP connections were open" "$T_TCP_OPENED" "$NTCP"
check_eq "no TCP connection broken, L included (reset, mismatch or stall)" "$T_TCP_BROKEN" 0
check_gt "every TCP connection kept sending (chunks)" "$T_TCP_CHUNKS" "$((NTCP * 5))"
check_eq "no packet dropped as conn_not_owned (a, b): every entry names its owner" \
	"$(INSTANCE=a stat_sum hv drops.conn_not_owned) $(INSTANCE=b stat_sum hv drops.conn_not_owned)" "0 0"
echo "RESULT scenario=clash tcp=$T_TCP_OPENED tcp_broken=$T_TCP_BROKEN switch_ms=$MS" |
	tee -a "$TESTDIR/results"

# ---- the end -------------------------------------------------------------------------

section "summary"
check "hadpd b is still alive" alive b
stop_agent b TERM
agent_logs
finish
