#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/sync/inside.sh: the sync bench's measurements, run by bench/sync/run
# inside scripts/vmtest.sh's VM (hadp.ko loads there, not on the host).
# Prints "RESULT key value" lines; bench/sync/run turns them into
# sync.json. Usage: inside.sh SYNCBENCH DELTAS LAG BULK
#
#   VM root netns: instances a and b (one configuration), vm1 10.0.0.1
#     SNAT 203.0.113.1, ul0 the uplink; hadpd a (lock holder, active)
#     and hadpd b (standby), each with its group in its sync netns
#   hsa 10.77.0.1 sync0 ===== veth ===== sync0 10.77.0.2 hsb
#
# One hypervisor and no traffic namespaces: the connections are made by
# a's datapath under BPF_PROG_TEST_RUN (syncbench), not by packets.

set -euo pipefail

SB=$1
DELTAS=$2
LAG=$3
BULK=$4
SRC=$(cd "$(dirname "$0")/../.." && pwd)
H=$SRC/build/hadp
HADPD=$SRC/build/hadpd
T=$(mktemp -d /tmp/hadp-syncbench.XXXXXX)
declare -A PID=() IP=([a]=10.77.0.1 [b]=10.77.0.2) NS=([a]=hsa [b]=hsb)
declare -A PORT=([a]=9101 [b]=9102)

cleanup() {
	local i
	for i in a b; do
		[ -n "${PID[$i]:-}" ] && { kill "${PID[$i]}" 2>/dev/null; wait "${PID[$i]}" 2>/dev/null; }
	done
	ip netns del hsa 2>/dev/null
	ip netns del hsb 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

say() { echo "syncbench: $* ($SECONDS s)" >&2; }
die() {
	say "$*"
	for i in a b; do
		[ -f "$T/$i.log" ] && tail -n 15 "$T/$i.log" >&2
		hcli $i -s ha show $i >&2 || true
	done
	exit 1
}
result() { echo "RESULT $1 $2"; }

# HADP_SYNC_PERF=1: each agent's system calls (all, and bpf) by phase,
# counted by perf stat, and its CPU time (user and system, from
# /proc/PID/stat) over the phase's wall time, reported at the phase's end
# on stderr: an agent near 100% is the bottleneck. Beside them the whole
# VM's split from /proc/stat (softirq time, where the peer's receive path
# and the module's replies run, is no process's), in CPUs. (perf record
# samples in this guest come out throttled to a handful: where the user
# time goes is bench/sync/applybench's, on the host.)
PERF_PIDS=()
declare -A CPU0=()
PERF_T0=0
STAT0=
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# user+nice, system, softirq+irq, idle+iowait of all CPUs, in ticks
vm_ticks() { awk '$1 == "cpu" { print $2 + $3, $4, $7 + $8, $5 + $6 }' /proc/stat; }
prof_start() {
	[ -n "${HADP_SYNC_PERF:-}" ] || return 0
	local i
	PERF_PIDS=()
	PERF_T0=$(date +%s%N)
	STAT0=$(vm_ticks)
	for i in a b; do
		CPU0[$i]=$(cpu_ticks "${PID[$i]}")
		perf stat -x, -e raw_syscalls:sys_enter,syscalls:sys_enter_bpf -p "${PID[$i]}" \
			-o "$T/$1-$i.stat" 2>/dev/null &
		PERF_PIDS+=($!)
	done
}
prof_end() {
	[ -n "${HADP_SYNC_PERF:-}" ] || return 0
	local i
	kill -INT "${PERF_PIDS[@]}" 2>/dev/null || true
	wait "${PERF_PIDS[@]}" 2>/dev/null || true
	local ms=$((($(date +%s%N) - PERF_T0) / 1000000)) cpu
	for i in a b; do
		cpu=$((($(cpu_ticks "${PID[$i]}") - CPU0[$i]) * 1000 / $(getconf CLK_TCK)))
		echo "PERF $1 $i: system calls (all, bpf): $(grep -v '^#' "$T/$1-$i.stat" | cut -d, -f1 | xargs); CPU ${cpu} ms of ${ms} ms ($((cpu * 100 / (ms ? ms : 1)))%)" >&2
	done
	# shellcheck disable=SC2086,SC2046 # two lists of four numbers
	echo "PERF $1 VM: $(echo $STAT0 $(vm_ticks) | awk -v ms="$ms" -v hz="$(getconf CLK_TCK)" \
		'{ printf "user %.2f, system %.2f, softirq %.2f, idle %.2f CPUs", ($5 - $1) * 1000 / hz / ms, ($6 - $2) * 1000 / hz / ms, ($7 - $3) * 1000 / hz / ms, ($8 - $4) * 1000 / hz / ms }')" >&2
}
# The CLI in INST's sync namespace, where its group lives (nsenter, not
# ip netns exec: that remounts /sys, and the pins under /sys/fs/bpf with it).
hcli() { local i=$1; shift; nsenter --net="/run/netns/${NS[$i]}" "$H" "$@"; }
# A group's kernel stat (hadp -j -s ha show).
gstat() { hcli "$1" -j -s ha show "$1" | jq -r ".[0].stats.$2 // .[0].$2 // empty"; }
count() { "$SB" count /sys/fs/bpf/hadp/"$1"/conns; }

# The agent of INST, active by the lock for whoever takes it first; no
# periodic refresh and no aging within the run: both would add traffic of
# their own to the figures (the datapath's new UDP connections never see
# a reply and time out within the run). Retransmission after 2 s: with
# the default 200 ms, a dump of a few thousand entries never completes
# under emulation (unacked batches are sent again faster than the standby
# applies them, and the dump is aborted and asked for again).
start_agent() {
	"$HADPD" --instance "$1" --active-lockfile "$T/lock" --group "$1" \
		--sync-netns "${NS[$1]}" --http "127.0.0.1:${PORT[$1]}" \
		--refresh-interval 3600 --age-interval 3600 --retransmit-ms 2000 \
		--ready-lag-ms 5000 >>"$T/$1.log" 2>&1 &
	PID[$1]=$!
}
ready() { curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz" 2>/dev/null; }
wait_ready() {
	local i=$1 n=$2
	while [ "$n" -gt 0 ]; do
		[ "$(ready "${PORT[$i]}")" = 200 ] && return 0
		kill -0 "${PID[$i]}" 2>/dev/null || return 1
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

result vm_kernel "$(uname -r)"
# The baseline first, in namespaces of its own and gone before hadp's
# parts start: conntrackd syncing kernel conntrack entries, as many as
# a's table holds for the bulk sync below (bench/sync/conntrackd.sh).
"$SRC/bench/sync/conntrackd.sh" "$(dirname "$SB")/ctbench" "$DELTAS" $((BULK + 2 * DELTAS + LAG)) ||
	die "the conntrackd baseline"
modprobe hadp || die "modprobe hadp"
ip link set dev lo up
ip netns add hsa
ip netns add hsb
ip link add name sync0 netns hsa type veth peer name sync0 netns hsb
for i in a b; do
	ip -n "${NS[$i]}" link set dev lo up
	ip -n "${NS[$i]}" addr add "${IP[$i]}/24" dev sync0
	ip -n "${NS[$i]}" link set dev sync0 up
done
# vm1 and the uplink ul0, its router in the neighbour table so that the
# NAT router's next hop resolves (as bench/cost does).
for d in vm1 ul0; do
	ip link add name $d type veth peer name $d-p
	sysctl -qw net.ipv6.conf.$d-p.disable_ipv6=1
	ip link set dev $d up
	ip link set dev $d-p up
done
ip -6 addr add fd00:1::a/64 dev ul0 nodad
ip -6 neigh add fd00:1::1 lladdr 02:bb:00:00:00:01 dev ul0 nud permanent
ip -6 route add default via fd00:1::1 dev ul0

# Both instances sized for the bulk table (and the deltas made before it).
BURST100K=${BURST100K:-100000}
conns=$((BULK + DELTAS + LAG + BURST100K + 65536))
for i in a b; do "$H" -I $i dp load conns $conns; done
"$H" uplink set dev ul0
"$H" iface add vm1 dev vm1 vni 100 mac 52:54:00:00:00:01 ipv4 10.0.0.1 underlay fd00:a::1
"$H" nat router fd00:f::1
"$H" route add 0.0.0.0/0 vni 100 nat
"$H" nat add iface vm1 ip 203.0.113.1 ports 1024-65535 underlay fd00:a::101
ifindex=$(cat /sys/class/net/vm1/ifindex)
# The sync path is measured, not the per-interface event budget (1000
# deltas a second since tenant isolation): off in both instances.
"$H" flow deltas rate 0
head -c 32 /dev/urandom >"$T/key"
hcli a ha add a local 10.77.0.1:6749 peer 10.77.0.2:6749 key "$T/key"
hcli b ha add b local 10.77.0.2:6749 peer 10.77.0.1:6749 key "$T/key"
say "instances and groups up"

# Baselines first, with no agent running: the same link, plain sockets.
"$SB" udp hsa hsb 10.77.0.1 10.77.0.2 || die "UDP baseline"
say "UDP baselines measured"

start_agent a
wait_ready a 600 || die "hadpd a not ready"
start_agent b
wait_ready b 600 || die "hadpd b not ready"
[ "$(hcli a -j ha show a | jq -r '.[0].agent.role')" = active ] || die "a is not active"
say "agents ready"

# (1) deltas per second, with a's group stats around it for (2).
prof_start delta
tx0=$(hcli a -j -s ha show a)
"$SB" deltas /sys/fs/bpf "$ifindex" "$DELTAS" || die "deltas"
sleep 1
tx1=$(hcli a -j -s ha show a)
echo "$tx0" "$tx1" | jq -s -r '.[0][0] as $a | .[1][0] as $b |
	"RESULT delta_tx_packets \($b.stats.tx_packets - $a.stats.tx_packets)",
	"RESULT delta_tx_messages \($b.stats.tx_messages - $a.stats.tx_messages)",
	"RESULT delta_tx_bytes \($b.stats.tx_bytes - $a.stats.tx_bytes)",
	"RESULT delta_retransmits \(($b.agent.retransmits // 0) - ($a.agent.retransmits // 0))",
	"RESULT delta_entries_sent \(($b.agent.entries_sent // 0) - ($a.agent.entries_sent // 0))"'
say "deltas measured"

# (1') the sync path alone: bursts made while a's agent is stopped, timed
# from its continuing (the paced run above is held to the creation rate).
"$SB" burst /sys/fs/bpf "$ifindex" "$DELTAS" "${PID[a]}" || die "burst"
prof_end delta
say "bursts measured"

# (3) lag, one connection at a time, 20 ms apart.
"$SB" lag /sys/fs/bpf "$ifindex" "$LAG" 20 || die "lag"
say "lag measured"

# (3b) a burst of BURST100K connections at the datapath's full rate with
# a's agent running: lost deltas, the ring's backlog, and the time until
# b holds them all, repairs included (docs/ha.md, "Lost deltas").
"$SB" burst100k /sys/fs/bpf "$ifindex" "$BURST100K" || die "burst100k"
say "burst of $BURST100K measured"
for m in hadp_sync_repairs_total hadp_sync_repair_entries_total hadp_sync_lost_deltas_total; do
	result "burst100k_$m" "$(curl -s -m 3 "http://127.0.0.1:${PORT[a]}/metrics" |
		awk -v n="$m" '$1 ~ "^"n"{" { print $2; exit }')"
done

# (4) bulk sync: b's agent stopped, a's table filled behind the datapath's
# back (a dump walks the table, so the agent need not have seen them),
# then b started fresh: it registers, asks for a full dump, and is
# complete once every batch of it was acked and applied.
kill "${PID[b]}"
wait "${PID[b]}" 2>/dev/null || true
PID[b]=
"$SB" fill /sys/fs/bpf "$ifindex" "$BULK" || die "fill"
want=$(count a)
result bulk_entries_a "$want"
tx0=$(hcli a -j -s ha show a)
t0=$(date +%s%N)
start_agent b
prof_start bulk
end=$(($(date +%s) + ${HADP_SYNC_BULK_TIMEOUT:-600}))
t_all=
# Polled by b's own status (one `ha show`), not by counting b's table: a
# read of a million entries five times a second took a vCPU of the VM
# from the agents it timed.
while st=$(hcli b -j -s ha show b) &&
	[ "$(jq -r '.[0].agent.bulk_sync // "unknown"' <<<"$st")" != complete ]; do
	kill -0 "${PID[b]}" 2>/dev/null || die "hadpd b exited"
	# When b's agent first applied every entry (the dump entries it
	# received, written at the end of their packets), whether or not the
	# dump then completes.
	if [ -z "$t_all" ] && [ "$(jq -r '.[0].agent.dump_entries // 0' <<<"$st")" -ge "$want" ]; then
		t_all=$(date +%s%N)
		txa=$(hcli a -j -s ha show a)
		result bulk_all_s "$(awk -v d=$((t_all - t0)) 'BEGIN { print d / 1e9 }')"
		echo "$tx0" "$txa" | jq -s -r '.[0][0].stats as $a | .[1][0].stats as $b |
			"RESULT bulk_all_tx_packets \($b.tx_packets - $a.tx_packets)",
			"RESULT bulk_all_tx_messages \($b.tx_messages - $a.tx_messages)",
			"RESULT bulk_all_tx_bytes \($b.tx_bytes - $a.tx_bytes)"'
	fi
	if [ "$(date +%s)" -ge $end ]; then
		# Not a failure of the bench: the figure is that it did not
		# complete, with the counters that say why.
		say "bulk sync not complete after ${HADP_SYNC_BULK_TIMEOUT:-600} s"
		result bulk_complete 0
		result bulk_entries_b "$(count b)"
		for i in a b; do hcli $i -s ha show $i >&2; tail -n 20 "$T/$i.log" >&2; done
		exit 0
	fi
	sleep 0.2
done
t1=$(date +%s%N)
tx1=$(hcli a -j -s ha show a)
have=$(count b)
result bulk_complete 1
result bulk_entries_b "$have"
result bulk_s "$(awk -v d=$((t1 - t0)) 'BEGIN { print d / 1e9 }')"
echo "$tx0" "$tx1" | jq -s -r '.[0][0].stats as $a | .[1][0].stats as $b |
	"RESULT bulk_tx_packets \($b.tx_packets - $a.tx_packets)",
	"RESULT bulk_tx_messages \($b.tx_messages - $a.tx_messages)",
	"RESULT bulk_tx_bytes \($b.tx_bytes - $a.tx_bytes)"'
prof_end bulk
[ "$have" -ge "$want" ] || die "b holds $have of $want after its bulk sync"
say "bulk sync measured"

# (5) the burst of (3b) on a pair on two hosts, the one-host agents
# stopped first so that they take no CPU from it.
for i in a b; do kill "${PID[$i]}"; wait "${PID[$i]}" 2>/dev/null || true; PID[$i]=; done
"$SRC/bench/sync/twohost.sh" "$SB" "$BURST100K" "$conns" || die "the two-host burst"
