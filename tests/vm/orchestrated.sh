#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/vm/orchestrated.sh: a pair on two hosts, where no lock can decide:
# the orchestrator hands the role down with `hadp ha role`, and each
# hadpd --role-by-orchestrator follows its group's role (docs/ha.md,
# "Roles"). Runs inside scripts/vmtest.sh's VM (hadp.ko loads there).
#
#   +------ host h1 ------------+            +------ host h2 ------------+
#   | bpffs $T/h1, instance a   |            | bpffs $T/h2, instance b   |
#   | hadpd a :9201             |            | hadpd b :9202             |
#   | group a 10.88.0.1:6749    |s1 ---- s2 | group b 10.88.0.2:6749    |
#   +---------------------------+            +---------------------------+
#
# Each host loads its instance first, so the fast path's active entry
# names it; a standby by the orchestrator's word must clear that. Then
# a is made active (b bulk-syncs and turns ready), and the roles swap.
#
# Ends with "N passed, N failed"; exits non-zero on any failure.

set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
H=$SRC/build/hadp
HADPD=$SRC/build/hadpd
T=$(mktemp -d /tmp/hadp-orch.XXXXXX)
passed=0
failed=0
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del h1 2>/dev/null
	ip netns del h2 2>/dev/null
	umount "$T/h1" "$T/h2" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -s "$T/out" ] && tail -n 15 "$T/out" | sed 's/^/     | /'; }
check() { local d=$1; shift; if "$@" >"$T/out" 2>&1; then ok "$d"; else bad "$d"; fi; }
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else echo "     got \"$2\", want \"$3\"" >"$T/out"; bad "$1"; fi; }
section() { echo "---- $* (${SECONDS}s)"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
die() { echo "orchestrated.sh: $*"; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

# on HOST CMD...: in HOST's netns (nsenter keeps this namespace's mounts)
on() { local h=$1; shift; nsenter --net="/run/netns/$h" "$@"; }
hadp() { local h=$1; shift; on "$h" "$H" --bpffs "$T/$h" "$@"; }
active() { hadp "$1" -j dp show | jq -r '.[0].active'; }
agent() { hadp "$1" -j ha show "$2" | jq -r ".[0].agent.$3"; }
readyz() { on "$1" curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/readyz"; }
# until SECONDS CMD...: CMD succeeds within SECONDS
until_ok() { local n=$(($1 * 10)); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done; return 1; }
is() { [ "$("${@:2}")" = "$1" ]; }

[ -x "$H" ] && [ -x "$HADPD" ] || die "run make first"

section "two hosts, one sync link"
modprobe hadp || die "modprobe hadp"
ip netns add h1 && ip netns add h2 || die "netns"
ip link add name s1 netns h1 type veth peer name s2 netns h2 || die "veth"
ip -n h1 addr add 10.88.0.1/24 dev s1 && ip -n h2 addr add 10.88.0.2/24 dev s2
for h in h1 h2; do ip -n $h link set lo up; done
ip -n h1 link set s1 up && ip -n h2 link set s2 up
mkdir -p "$T/h1" "$T/h2" && mount -t bpf bpf "$T/h1" && mount -t bpf bpf "$T/h2" || die "bpffs"
head -c 32 /dev/urandom >"$T/key"
check "h1: ha add a" hadp h1 ha add a local 10.88.0.1:6749 peer 10.88.0.2:6749 key "$T/key"
check "h2: ha add b" hadp h2 ha add b local 10.88.0.2:6749 peer 10.88.0.1:6749 key "$T/key"

section "agents start as standbys"
# nsenter itself, not the function on(): $! must be the agent (nsenter
# execs it), or the SIGTERM at the end would reach a subshell.
nsenter --net=/run/netns/h1 "$HADPD" --bpffs "$T/h1" --instance a \
	--role-by-orchestrator --http 127.0.0.1:9201 >"$T/a.log" 2>&1 &
pids+=($!)
nsenter --net=/run/netns/h2 "$HADPD" --bpffs "$T/h2" --instance b \
	--role-by-orchestrator --http 127.0.0.1:9202 >"$T/b.log" 2>&1 &
pids+=($!)
check "a registered for its group" until_ok 20 is true agent h1 a registered
check "b registered for its group" until_ok 20 is true agent h2 b registered
check "h1's active entry cleared: a is no one's active yet" until_ok 5 is none active h1
check "h2's active entry cleared" until_ok 5 is none active h2
check_eq "a reports standby" "$(agent h1 a role)" standby
check "a says it is orchestrated" is true agent h1 a orchestrated
check "a logged why its fast path stops" grep -q 'standby (role set by the orchestrator)' "$T/a.log"

section "the orchestrator makes a active"
check "hadp ha role a active" hadp h1 ha role a active
check "a promoted: h1's active entry names a" until_ok 5 is a active h1
check_eq "a reports active" "$(agent h1 a role)" active
check "a's /readyz turns 200" until_ok 10 is 200 readyz h1 9201
check "b's bulk sync from a completes" until_ok 20 is complete agent h2 b bulk_sync
check "b's /readyz turns 200 (standby in sync)" until_ok 10 is 200 readyz h2 9202
check_eq "h2 stays without an active instance" "$(active h2)" none

section "the roles swap"
check "hadp ha role a standby" hadp h1 ha role a standby
check "a demoted: h1's active entry cleared" until_ok 5 is none active h1
check_eq "a reports standby" "$(agent h1 a role)" standby
check "hadp ha role b active" hadp h2 ha role b active
check "b promoted: h2's active entry names b" until_ok 5 is b active h2
check_eq "b reports active" "$(agent h2 b role)" active
check_eq "b counted one promotion" "$(agent h2 b promotions)" 1
# The demoted a asked for a dump; only an active streams one.
check "a's bulk sync from b completes" until_ok 20 is complete agent h1 a bulk_sync
check "a's /readyz turns 200 again (in sync with b)" until_ok 20 is 200 readyz h1 9201

section "bad input"
check "a bad role is refused, naming it" sh -c "! nsenter --net=/run/netns/h1 '$H' --bpffs '$T/h1' ha role a leader 2>'$T/err' && grep -q 'invalid role \"leader\"' '$T/err'"
check_eq "and nothing changed: a stays standby" "$(agent h1 a role)" standby
check "hadpd refuses a lock file with --role-by-orchestrator" sh -c "! '$HADPD' --instance c --role-by-orchestrator --active-lockfile /tmp/x 2>'$T/err' && grep -q 'exclude each other' '$T/err'"

for p in "${pids[@]}"; do kill -TERM "$p"; done
check "a stops on SIGTERM with status 0" wait "${pids[0]}"
check "b, active, hands over on SIGTERM and exits with status 0" wait "${pids[1]}"
check "b logged the handover" grep -q 'planned handover' "$T/b.log"
pids=()
finish
