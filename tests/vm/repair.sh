#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Helpers are called through check and command substitutions:
# shellcheck disable=SC2317
#
# tests/vm/repair.sh: deltas the active's ring lost are repaired by its
# agent at once, not at the next refresh (docs/ha.md, "Lost deltas");
# tests/vm/run-in-vm.sh runs it inside scripts/vmtest.sh's VM. The
# topology is tests/vm/ha-topo.bash's: a (active) and b (standby) on one
# hypervisor, hadp.ko carrying the sync.
#
# a is loaded with a ring of one page (46 deltas), and no agent refreshes
# (--refresh-interval 0): only the repair can heal b.
#
# 1. a's agent is stopped (SIGSTOP) while vmS opens NBURST UDP connections
#    through SNAT: the ring takes the first 46 deltas and loses the rest.
#    Continued, the agent sees events_lost grow and resends what changed
#    since; b holds exactly a's connections within a few seconds, and
#    sweeps nothing (a repair is no dump).
# 2. Stopped again, the ring filled again by a second burst, then a sweep
#    (hadp flow flush iface vm1) deletes every connection of vmS: each
#    delete is lost. Continued, the agent sees that a sweep deleted in the
#    loss window and follows the repair with a full refresh, whose end
#    makes b sweep the zombies: b ends empty, as a.
#
# Ends with "N passed, N failed".

# shellcheck source=tests/vm/ha-topo.bash
source "$(dirname "$0")/ha-topo.bash"

NBURST=${NBURST:-300}
# Seconds b may take to hold the repaired state, polled: a correctness
# bound with room for emulation, far below any refresh (there is none).
BOUND=${BOUND:-5}

# burst N PORT0: vmS sends one UDP datagram from each of N new sockets
# (N connections through SNAT) to the internet's port PORT0.
burst() {
	n vmS "$PY" -c '
import socket, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
for s in socks:
    s.sendto(b"x", (sys.argv[3], port))
' "$1" "$2" "$INET"
}

# lost: a's events_lost (the datapath's, every interface and CPU).
lost() { INSTANCE=a stat_sum hv events_lost; }

# agent_stat INST NAME: a counter of INST's agent (hadp -s ha show).
agent_stat() { ha_cli "$1" -j -s ha show "$1" | jq -r ".[0].agent.$2"; }

section "topology, agents (a with a ring of 4096 bytes), configuration"
AGENT_OPTS+=(--refresh-interval 0)
A_LOAD=(events 4096)
ha_start
check_eq "a's ring is 4096 bytes" \
	"$(hadp hv -j -I a dp show | jq '.[0].instances[0].events_bytes')" 4096
# Connections stay until the test deletes them.
hadp_must hv flow timeouts udp 600 unreplied 600 icmp 600
check "vmS pings the internet through SNAT" ping_ok vmS "$INET"

section "1. creations lost while the agent is stopped"
l0=$(lost)
r0=$(metric a hadp_sync_repairs_total)
s0=$(agent_stat b swept)
check "a's agent stopped (SIGSTOP)" kill -STOP "${PID[a]}"
check "vmS opens $NBURST UDP connections" burst "$NBURST" 9
l1=$(lost)
log "events_lost: $l0 -> $l1"
check_gt "a's ring lost deltas (events_lost)" "$l1" "$((l0 + NBURST / 2))"
check "a's agent continued (SIGCONT)" kill -CONT "${PID[a]}"
rc=0
out=$(converged a b "$BOUND") || rc=$?
log "$out"
check_eq "b holds exactly a's connections within $BOUND s (keys, states, versions)" "$rc" 0
check_gt "a counted a repair (hadp_sync_repairs_total)" \
	"$(metric a hadp_sync_repairs_total)" "$r0"
check_gt "a resent at least the lost connections (hadp_sync_repair_entries_total)" \
	"$(metric a hadp_sync_repair_entries_total)" "$((l1 - l0 - 1))"
check_eq "a saw every lost delta (hadp_sync_lost_deltas_total)" \
	"$(metric a hadp_sync_lost_deltas_total)" "$((l1 - l0))"
check_eq "no refresh followed: no sweep deleted (hadp_sync_repair_refreshes_total)" \
	"$(metric a hadp_sync_repair_refreshes_total)" 0
check_eq "b swept nothing (a repair is no dump)" "$(agent_stat b swept)" "$s0"
check "ha show says so (events-lost, repairs)" \
	agent_is a ".events_lost == $((l1 - l0)) and .repairs >= 1"

section "2. deletes lost: a sweep while the ring is full"
n1=$(nconns b)
log "b holds $n1 connections"
s1=$(agent_stat b swept)
check "a's agent stopped (SIGSTOP)" kill -STOP "${PID[a]}"
check "vmS opens 100 more UDP connections (the ring fills)" burst 100 10
l2=$(lost)
check "hadp flow flush iface vm1 on a (every delete lost)" \
	hadp hv -I a flow flush iface vm1
check_eq "a holds no connection" "$(nconns a)" 0
log "events_lost: $l2 -> $(lost)"
check_gt "the deletes were lost (events_lost)" "$(lost)" "$((l2 + n1 / 2))"
check "a's agent continued (SIGCONT)" kill -CONT "${PID[a]}"
check "b holds no connection (the zombies swept)" wait_empty b
check_eq "a followed the repair with a full refresh (hadp_sync_repair_refreshes_total)" \
	"$(metric a hadp_sync_repair_refreshes_total)" 1
check_gt "b swept the zombies" "$(agent_stat b swept)" "$((s1 + n1 - 1))"

section "summary"
check "hadpd a is still alive" alive a
check "hadpd b is still alive" alive b
stop_agent b TERM
stop_agent a TERM
agent_logs
finish
