#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/sync/twohost.sh: the 100k burst of inside.sh on a pair on two
# hosts (tests/vm/orchestrated.sh's topology), run by inside.sh at its end
# in the same VM. Prints "RESULT twohost_burst100k_* value" lines.
# Usage: twohost.sh SYNCBENCH N CONNS
#
#   +------ host h1 ---------------+          +------ host h2 ---------------+
#   | bpffs $T/h1, instance a      |          | bpffs $T/h2, instance b      |
#   | vm1 (VNI 100, 10.0.0.1), ul0 |          | pad0, vm1 (the same VM), ul0 |
#   | hadpd a, group a 10.88.0.1   |s1 -- s2| hadpd b, group b 10.88.0.2   |
#   +------------------------------+          +------------------------------+
#
# Each host has its own bpffs, maps and interface numbers (pad0 shifts
# h2's, so vm1 has another ifindex there): b maps every entry to its own
# interface by VNI and address, as a pair on two hosts must. Roles come
# from `hadp ha role` (--role-by-orchestrator). The instances are sized
# as inside.sh's (CONNS), so that a's ring has the same size.

set -euo pipefail

SB=$1
N=$2
CONNS=$3
SRC=$(cd "$(dirname "$0")/../.." && pwd)
H=$SRC/build/hadp
HADPD=$SRC/build/hadpd
T=$(mktemp -d /tmp/hadp-twohost.XXXXXX)
declare -A PID=() HOST=([a]=h1 [b]=h2) PORT=([a]=9301 [b]=9302)

cleanup() {
	local i
	for i in a b; do
		[ -n "${PID[$i]:-}" ] && { kill "${PID[$i]}" 2>/dev/null; wait "${PID[$i]}" 2>/dev/null; }
	done
	ip netns del h1 2>/dev/null
	ip netns del h2 2>/dev/null
	umount "$T/h1" "$T/h2" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

say() { echo "twohost: $* ($SECONDS s)" >&2; }
die() {
	say "$*"
	for i in a b; do [ -f "$T/$i.log" ] && tail -n 15 "$T/$i.log" >&2; done
	exit 1
}
# on HOST CMD...: in HOST's netns (nsenter keeps this namespace's mounts)
on() { local h=$1; shift; nsenter --net="/run/netns/$h" "$@"; }
hadp() { local h=$1; shift; on "$h" "$H" --bpffs "$T/$h" "$@"; }
agent() { hadp "${HOST[$1]}" -j ha show "$1" | jq -r ".[0].agent.$2"; }
ready() { on "${HOST[$1]}" curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[$1]}/readyz"; }
until_ok() { local n=$(($1 * 5)); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.2; n=$((n - 1)); done; return 1; }
is() { [ "$("${@:2}")" = "$1" ]; }

ip netns add h1
ip netns add h2
ip link add name s1 netns h1 type veth peer name s2 netns h2
ip -n h1 addr add 10.88.0.1/24 dev s1
ip -n h2 addr add 10.88.0.2/24 dev s2
ip -n h2 link add name pad0 type dummy
for h in h1 h2; do
	ip -n $h link set lo up
	for d in vm1 ul0; do
		ip -n $h link add name $d type veth peer name $d-p
		ip netns exec $h sysctl -qw net.ipv6.conf.$d-p.disable_ipv6=1
		ip -n $h link set dev $d up
		ip -n $h link set dev $d-p up
	done
	ip -n $h -6 addr add fd00:1::a/64 dev ul0 nodad
	ip -n $h -6 neigh add fd00:1::1 lladdr 02:bb:00:00:00:01 dev ul0 nud permanent
	ip -n $h -6 route add default via fd00:1::1 dev ul0
done
ip -n h1 link set s1 up
ip -n h2 link set s2 up
mkdir -p "$T/h1" "$T/h2" "$T/both/hadp"
mount -t bpf bpf "$T/h1"
mount -t bpf bpf "$T/h2"

(umask 077 && head -c 32 /dev/urandom >"$T/key")
for i in a b; do
	h=${HOST[$i]}
	hadp "$h" -I $i dp load conns "$CONNS"
	hadp "$h" uplink set dev ul0
	hadp "$h" iface add vm1 dev vm1 vni 100 mac 52:54:00:00:00:01 ipv4 10.0.0.1 underlay fd00:a::1
	hadp "$h" nat router fd00:f::1
	hadp "$h" route add 0.0.0.0/0 vni 100 nat
	hadp "$h" nat add iface vm1 ip 203.0.113.1 ports 1024-65535 underlay fd00:a::101
	hadp "$h" flow deltas rate 0
done
hadp h1 ha add a local 10.88.0.1:6749 peer 10.88.0.2:6749 key "$T/key"
hadp h2 ha add b local 10.88.0.2:6749 peer 10.88.0.1:6749 key "$T/key"
# (ip, not /sys/class/net: nsenter keeps this namespace's sysfs)
ifindex() { ip -n "$1" -j link show dev vm1 | jq -r '.[0].ifindex'; }
[ "$(ifindex h1)" != "$(ifindex h2)" ] ||
	die "vm1 has the same ifindex on both hosts: the owners' mapping would not be exercised"
# syncbench finds a and b under one directory: each host's, linked.
ln -s "$T/h1/hadp/a" "$T/both/hadp/a"
ln -s "$T/h2/hadp/b" "$T/both/hadp/b"

# As inside.sh's agents: no refresh or aging within the run.
for i in a b; do
	nsenter --net="/run/netns/${HOST[$i]}" "$HADPD" --bpffs "$T/${HOST[$i]}" \
		--instance $i --role-by-orchestrator --http "127.0.0.1:${PORT[$i]}" \
		--refresh-interval 3600 --age-interval 3600 --retransmit-ms 2000 \
		--ready-lag-ms 5000 >>"$T/$i.log" 2>&1 &
	PID[$i]=$!
done
until_ok 30 is true agent a registered || die "a did not register"
until_ok 30 is true agent b registered || die "b did not register"
hadp h1 ha role a active
until_ok 30 is active agent a role || die "a not active"
until_ok 60 is complete agent b bulk_sync || die "b's bulk sync did not complete"
until_ok 30 is 200 ready b || die "b not ready"
say "two hosts up, a active, b in sync"

on h1 "$SB" burst100k "$T/both" "$(ifindex h1)" "$N" |
	sed 's/^RESULT burst100k_/RESULT twohost_burst100k_/' || die "burst100k"
for m in hadp_sync_repairs_total hadp_sync_lost_deltas_total; do
	echo "RESULT twohost_burst100k_$m $(on h1 curl -s -m 3 "http://127.0.0.1:${PORT[a]}/metrics" |
		awk -v n="$m" '$1 ~ "^"n"{" { print $2; exit }')"
done
# One of b's entries, as bpftool reads it: on b's own interface.
P=$T/h2/hadp/b/conns
key=$(bpftool -j map getnext pinned "$P" | jq -r '.next_key | join(" ")')
# shellcheck disable=SC2086 # the key's bytes, one word each
got=$(bpftool -j map lookup pinned "$P" key hex $key | jq -r '.formatted.value.ifindex // empty')
[ "$got" = "$(ifindex h2)" ] || die "b's entry names ifindex ${got:-?}, not h2's vm1 ($(ifindex h2))"
echo "RESULT twohost_unowned $(hadp h2 -j -s ha show b | jq -r '.[0].agent.unowned // 0')"
say "burst of $N measured on two hosts"
