#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Helpers are called through check and command substitutions:
# shellcheck disable=SC2317
#
# hadpd.sh: the HA agent without hadp.ko (docs/ha.md, "Roles"): two agents
# on one lock file, one per instance of hvA. The one holding the lock is
# active (the root's active entry names its instance), the other waits as
# standby; killing the active promotes the standby within about a second;
# SIGTERM hands over; with no standby a killed and restarted agent adopts
# the pinned instance and no packet is lost. This host kernel cannot load
# hadp.ko, so the agents run with --no-sync (mirroring is tested in the VM,
# tests/vm/failover.sh); without it a standby says it is not ready. Both
# instances get the same configuration from the CLI.
#
#  vmA 10.0.0.1 fd10::1 (VNI 100)            vmB 10.0.0.2 fd10::2 (VNI 100)
#   eth0                                      eth0
#    |                                         |
#   vm1  underlay fd00:a::1                   vm1  underlay fd00:b::1
# +-- hvA: instances a and b, ----------+  +-- hvB: one instance, no agent --+
# |   hadpd a :9101, hadpd b :9102,     |  |   (hadp dp load)               |
# |   one lock file; ul0 fd00::a/64     |==|   ul0 fd00::b/64               |
# +-------------------------------------+  +--------------------------------+
#
# The agents load their instances (hadpd loads what is not pinned); the
# CLI then writes the configuration to every loaded instance of hvA.

# shellcheck source=tests/netns/lib.bash
source "$(dirname "$0")/lib.bash"

HADPD=${HADPD:-$HADP_SRC/build/hadpd}
[ -x "$HADP" ] || die "no $HADP: run make"
[ -x "$HADPD" ] || die "no $HADPD: run make"

LOCK=$TESTDIR/active.lock
declare -A PORT=([a]=9101 [b]=9102) PID=()

# ---- helpers ---------------------------------------------------------------------

# start_agent INST: hadpd for instance INST on hvA, in the background.
start_agent() {
	echo "---- start $(date +%T.%N)" >>"$TESTDIR/hadpd-$1.log"
	nsenter --net="/run/netns/$(ns hvA)" "$HADPD" --bpffs "$(bpffs hvA)" \
		--instance "$1" --active-lockfile "$LOCK" \
		--http "127.0.0.1:${PORT[$1]}" --age-interval 1 --no-sync \
		>>"$TESTDIR/hadpd-$1.log" 2>&1 &
	PID[$1]=$!
	bg_pid "${PID[$1]}"
}

# http INST PATH: the status code of GET PATH on INST's agent (000: none).
http() {
	n hvA curl -s -m 2 -o "$TESTDIR/http.body" -w '%{http_code}' \
		"http://127.0.0.1:${PORT[$1]}$2" 2>/dev/null
}

# wait_ready INST: /readyz answers 200 within 5 s.
wait_ready() {
	for _ in $(seq 50); do
		[ "$(http "$1" /readyz)" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}

# metric INST NAME [LABELMATCH]: the value of a metric of INST's agent.
metric() {
	n hvA curl -s -m 2 "http://127.0.0.1:${PORT[$1]}/metrics" |
		awk -v n="$2" -v l="${3:-}" '$1 ~ "^"n"({|$)" && index($1, l) { print $2; exit }'
}

role() {
	if [ "$(metric "$1" hadp_role 'role="active"')" = 1 ]; then echo active
	elif [ "$(metric "$1" hadp_role 'role="standby"')" = 1 ]; then echo standby
	else echo unknown; fi
}

# active: the instance the root's active entry names.
active() { hadp hvA -j dp show 2>/dev/null | jq -r '.. | objects | select(has("active_index")) | .active' | head -n1; }

# rx INST: packets taken in by INST's programs (every interface, every CPU).
rx() { INSTANCE=$1 stat_sum hvA rx_packets; }

# wait_active INST: the active entry names INST within 3 s; prints the ms it took.
wait_active() {
	local t0 now
	t0=$(date +%s%N)
	for _ in $(seq 300); do
		if [ "$(active)" = "$1" ]; then
			now=$(date +%s%N)
			echo $(((now - t0) / 1000000))
			return 0
		fi
		sleep 0.01
	done
	echo never
	return 1
}

# fast_ping COUNT: ping -i 0.01 from vmA to vmB; prints the summary.
fast_ping() { n vmA ping -n -q -i 0.01 -c "$1" -W 1 10.0.0.2 2>&1; }
received() { sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) (packets )?received.*/\1 \2/p' <<<"$1"; }

# flows INST: counters of INST rise with traffic while the other's stay flat.
flows_through() {
	local on=$1 off=$2 on0 off0 on1 off1
	on0=$(rx "$on")
	off0=$(rx "$off")
	ping_ok vmA 10.0.0.2 || return 1
	on1=$(rx "$on")
	off1=$(rx "$off")
	echo "$on: $on0 -> $on1, $off: $off0 -> $off1"
	[ "$on1" -gt "$on0" ] 2>/dev/null && [ "$off1" = "$off0" ]
}

# fake_conn INST: an expired connection (last_seen 0) in INST's conns, as
# if the datapath had made it long ago; the aging pass deletes it.
fake_conn() {
	local p vs
	p=$(bpffs hvA)/hadp/$1/conns
	vs=$(bpftool -j map show pinned "$p" | jq .bytes_value) || return 1
	# shellcheck disable=SC2046
	bpftool map update pinned "$p" key 0 0 0 7 10 0 0 1 10 0 0 2 0 1 0 2 17 0 0 0 \
		value $(for _ in $(seq "$vs"); do printf '0 '; done)
}
nconns() { bpftool -j map dump pinned "$(bpffs hvA)/hadp/$1/conns" | jq length; }

metrics_parse() {
	local body
	body=$(n hvA curl -s -m 2 "http://127.0.0.1:${PORT[$1]}/metrics") || return 1
	echo "$body"
	[ -n "$body" ] || return 1
	# Every sample line: name{labels} value; comments are HELP or TYPE.
	! grep -vE '^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9]+(\.[0-9]+)?)$' <<<"$body" &&
		grep -q '^hadp_deltas_read_total{' <<<"$body" &&
		grep -q '^hadp_events_lost_total{' <<<"$body" &&
		grep -q '^hadp_sweep_deleted_total{' <<<"$body" &&
		grep -q '^hadp_conns_entries{' <<<"$body"
}

# ---- topology ------------------------------------------------------------------

add_hv hvA
add_hv hvB
veth_pair hvA ul0 hvB ul0
for hv in hvA hvB; do must n $hv ip link set dev ul0 mtu 1600; done
must n hvA ip -6 addr add fd00::a/64 dev ul0 nodad
must n hvB ip -6 addr add fd00::b/64 dev ul0 nodad
must n hvA ip -6 route add fd00:b::/64 via fd00::b
must n hvB ip -6 route add fd00:a::/64 via fd00::a
add_vm hvA vmA vm1 10.0.0.1 fd10::1
add_vm hvB vmB vm1 10.0.0.2 fd10::2

hadp_must hvB dp load
hadp_must hvB uplink set dev ul0
hadp_must hvB iface add vm1 dev vm1 vni 100 mac "$(mac vmB eth0)" ipv4 10.0.0.2 ipv6 fd10::2 underlay fd00:b::1
hadp_must hvB route add 10.0.0.1/32 vni 100 via fd00:a::1
hadp_must hvB route add fd10::1/128 vni 100 via fd00:a::1

section "two agents on one lock file"
start_agent a
check "hadpd a is ready (/readyz 200)" wait_ready a
start_agent b
check "hadpd b is ready (/readyz 200)" wait_ready b
check "hadpd a loaded instance a" grep -q '^<5>loaded instance a' "$TESTDIR/hadpd-a.log"
check "log lines carry systemd level prefixes" \
	bash -c "! grep -v '^----' '$TESTDIR/hadpd-a.log' | grep -qv '^<[0-7]>'"

# The CLI writes configuration to every loaded instance: a and b.
hadp_must hvA uplink set dev ul0
hadp_must hvA iface add vm1 dev vm1 vni 100 mac "$(mac vmA eth0)" ipv4 10.0.0.1 ipv6 fd10::1 underlay fd00:a::1
hadp_must hvA route add 10.0.0.2/32 vni 100 via fd00:b::1
hadp_must hvA route add fd10::2/128 vni 100 via fd00:b::1

check_eq "the root's active entry names a" "$(active)" a
check_eq "a's agent reports active" "$(role a)" active
check_eq "b's agent reports standby" "$(role b)" standby
check "hadpd a logged its promotion" grep -q '^<5>promoted: instance a' "$TESTDIR/hadpd-a.log"
check "hadpd b waits for the lock" grep -q 'standby: waiting for the active lock' "$TESTDIR/hadpd-b.log"
check "vmA -> vmB ping IPv4" ping_ok vmA 10.0.0.2
check "vmB -> vmA ping IPv6" ping_ok vmB fd10::1
check "traffic goes through a, not b" flows_through a b
check_eq "/livez of a" "$(http a /livez)" 200
check_eq "/livez of b" "$(http b /livez)" 200
check_eq "an unknown path is 404" "$(http a /nope)" 404
check "/metrics of a parses" metrics_parse a
check "/metrics of b parses" metrics_parse b
sleep 1.5
check_gt "the active ages (hadp_sweeps_total of a)" "$(metric a hadp_sweeps_total)" 0
check_eq "the standby never ages (hadp_sweeps_total of b)" "$(metric b hadp_sweeps_total)" 0
check "an expired connection in a's conns" fake_conn a
check "an expired connection in b's conns" fake_conn b
sleep 2.5
check_eq "a's aging deleted it" "$(nconns a)" 0
check_eq "b's stays: a standby never ages" "$(nconns b)" 1
check_eq "hadp_sweep_deleted_total of a" "$(metric a hadp_sweep_deleted_total)" 1
check_eq "hadpd a read the delete's delta (hadp_deltas_read_total conn_delete)" \
	"$(metric a hadp_deltas_read_total 'type="conn_delete"')" 1
check_eq "hadp_events_lost_total of a" "$(metric a hadp_events_lost_total)" 0

section "kill -9 the active: the standby takes over"
fast_ping 400 >"$TESTDIR/ping1" &
fp=$!
bg_pid $fp
sleep 1
kill -9 "${PID[a]}"
ms=$(wait_active b)
wait "${PID[a]}" 2>/dev/null
check "the active entry names b after kill -9 a (${ms} ms)" test "$ms" != never
check "within about a second" test "${ms/never/99999}" -le 1500
wait $fp
log "$(grep -E 'transmitted' "$TESTDIR/ping1")"
read -r sent got <<<"$(received "$(cat "$TESTDIR/ping1")")"
check "traffic kept flowing across the failover ($got of $sent)" test "${got:-0}" -ge $((${sent:-1} * 9 / 10))
check_eq "b's agent reports active" "$(role b)" active
check_eq "/readyz of b" "$(http b /readyz)" 200
check "hadpd b logged its promotion from a" grep -q '^<5>promoted: instance b .*(was a)' "$TESTDIR/hadpd-b.log"
check "traffic goes through b now, a's counters stay flat" flows_through b a
sleep 0.2
check_eq "promotion dropped b's connection that a no longer held" "$(nconns b)" 0
check "an expired connection in b's conns" fake_conn b
sleep 2.5
check_eq "promoted b ages: its expired connection is gone" "$(nconns b)" 0
check_eq "hadpd b read that delete's delta" "$(metric b hadp_deltas_read_total 'type="conn_delete"')" 1

section "restarting a: it adopts and stays standby"
start_agent a
check "hadpd a is ready again" wait_ready a
check "hadpd a adopted the pinned instance" grep -q '^<5>adopting the pinned instance a' "$TESTDIR/hadpd-a.log"
sleep 0.5
check_eq "a's agent reports standby" "$(role a)" standby
check_eq "the active entry still names b" "$(active)" b
check "traffic still goes through b" flows_through b a

section "SIGTERM to the active: planned handover to a"
fast_ping 300 >"$TESTDIR/ping2" &
fp=$!
bg_pid $fp
sleep 0.5
kill -TERM "${PID[b]}"
ms=$(wait_active a)
check "the active entry names a after SIGTERM to b (${ms} ms)" test "$ms" != never
check "hadpd b exited with status 0" wait "${PID[b]}"
check "hadpd b logged the planned handover" grep -q '^<5>.*planned handover: instance b' "$TESTDIR/hadpd-b.log"
wait $fp
log "$(grep -E 'transmitted' "$TESTDIR/ping2")"
read -r sent got <<<"$(received "$(cat "$TESTDIR/ping2")")"
check_eq "no echo request lost across the handover ($sent sent)" "${got:-none}" "${sent:-0}"
check_eq "a's agent reports active" "$(role a)" active
check "traffic goes through a, b's counters stay flat" flows_through a b

section "no standby: kill -9 and restart the active"
fast_ping 400 >"$TESTDIR/ping3" &
fp=$!
bg_pid $fp
sleep 0.5
vm_id=$(prog_id hvA vm1)
kill -9 "${PID[a]}"
wait "${PID[a]}" 2>/dev/null
sleep 0.5
start_agent a
check "hadpd a is ready after the restart" wait_ready a
check_eq "a's agent reports active again" "$(role a)" active
check_eq "the active entry names a" "$(active)" a
check_eq "the root on vm1 was not touched" "$(prog_id hvA vm1)" "$vm_id"
wait $fp
log "$(grep -E 'transmitted' "$TESTDIR/ping3")"
read -r sent got <<<"$(received "$(cat "$TESTDIR/ping3")")"
check_eq "no echo request lost (ping -i 0.01 across kill and restart, $sent sent)" "${got:-none}" "${sent:-0}"
check "/livez after the restart" test "$(http a /livez)" = 200
check "/metrics after the restart parses" metrics_parse a

section "a bad invocation"
check_fails "hadpd without --active-lockfile fails" \
	nsenter --net="/run/netns/$(ns hvA)" "$HADPD" --instance c --bpffs "$(bpffs hvA)"
says() { local want=$1; shift; ! "$@" >"$TESTDIR/says" 2>&1 && grep -qF -- "$want" "$TESTDIR/says"; }
check "a bad --queue is named" says 'invalid --queue "x"' \
	"$HADPD" --instance c --active-lockfile "$LOCK" --queue x
check "--no-sync with --group is refused" says '--no-sync excludes' \
	"$HADPD" --instance c --active-lockfile "$LOCK" --no-sync --group c
check "both role sources are refused" says 'exclude each other' \
	"$HADPD" --instance c --active-lockfile "$LOCK" --role-by-orchestrator

section "a standby that cannot sync is not ready"
nsenter --net="/run/netns/$(ns hvA)" "$HADPD" --bpffs "$(bpffs hvA)" --instance b \
	--active-lockfile "$LOCK" --http 127.0.0.1:9103 >"$TESTDIR/hadpd-b2.log" 2>&1 &
b2=$!
bg_pid $b2
PORT[b2]=9103
sleep 1.5
check_eq "/readyz of a standby without hadp.ko" "$(http b2 /readyz)" 503
check "it says why" grep -q 'not registered for sync group b' "$TESTDIR/http.body"
check "it logged one line on the missing module" grep -c "running unsynced" "$TESTDIR/hadpd-b2.log"
check_eq "hadp_sync_registered of it" "$(metric b2 hadp_sync_registered)" 0
kill -TERM $b2
check "it stops on SIGTERM with status 0" wait $b2

kill -TERM "${PID[a]}"
check "hadpd a stops on SIGTERM with status 0" wait "${PID[a]}"

[ -n "$VERBOSE" ] && for i in a b; do echo "---- hadpd-$i.log"; cat "$TESTDIR/hadpd-$i.log"; done
finish
