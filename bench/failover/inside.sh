#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/failover/inside.sh FOTABLE SIZE...: the failover measurement, run
# as root inside scripts/vmtest.sh's VM by bench/failover/run. Builds
# tests/vm/ha-topo.bash's topology (instances a and b on hv, hadpd a and
# b on one lock file, vmS behind SNAT, vmV behind the VIP, the router and
# the internet), then for each SIZE (connections in the active's table):
#
#   unplanned: the standby stopped and its table flushed; traffic started
#     (NTCP TCP connections through SNAT, three UDP streams: tests/vm/
#     streams.py as tests/vm/failover.sh runs them); the active's table
#     filled up to SIZE with synthetic entries (FOTABLE fill: conns and
#     conns_rev written directly); the standby started, so that its bulk
#     sync carries them (a direct map write publishes no delta); once it
#     holds them all (or after a bound), kill -9 the active.
#   planned: the same with the roles swapped, SIGTERM to the active.
#
# FO_KINDS ("unplanned planned") picks and orders the measurements;
# FO_SWITCH_S (120) bounds the wait for the switch.
#
# Every measurement prints "RESULT KEY VALUE" lines (KEY: KIND_SIZE_WHAT)
# that bench/failover/run turns into bench/failover.json.

FT=${1:?usage: inside.sh FOTABLE SIZE...}
shift
SIZES=("$@")

# shellcheck source=tests/vm/ha-topo.bash
source "$(dirname "$0")/../../tests/vm/ha-topo.bash"

NTCP=${FO_NTCP:-200}
AFTER=${FO_AFTER:-5}
# Bound on the standby's bulk sync and on its holding every entry (s).
HOLD_S=${FO_HOLD_S:-240}
# Inter-arrival baseline: the window before the signal (s).
BASE_S=${FO_BASE_S:-20}

max=0
for s in "${SIZES[@]}"; do [ "$s" -gt "$max" ] && max=$s; done
CONNS=$(((max + 32768 + 65535) / 65536 * 65536))

# FO_KINDS: which measurements, in order, the roles swapping after each.
read -r -a KINDS <<<"${FO_KINDS:-unplanned planned}"
# Bound on the switch (s), for wait_active (whose default is 10 s).
SWITCH_S=${FO_SWITCH_S:-120}

say() { echo "---- $* ($(date +%T), ${SECONDS}s)"; }
res() { echo "RESULT $1 $2"; }
inst_dir() { echo "$(bpffs hv)/hadp/$1"; }

say "topology"
ha_topology
# Both instances loaded here first, sized for the largest table; the
# agents adopt them (hadpd: "adopting the pinned instance").
hadp_must hv -I a dp load conns "$CONNS"
hadp_must hv -I b dp load conns "$CONNS"
start_agent a
wait_ready a 120 || die "hadpd a not ready"
start_agent b
wait_live b || die "hadpd b not live"
ha_configure
wait_ready b 120 || die "hadpd b not ready"
[ "$(active)" = a ] || die "the active entry does not name a"
IFINDEX=$(n hv cat /sys/class/net/vm1/ifindex)
ping_ok vmS $INET || die "vmS does not reach the internet through SNAT"
say "agents ready, conns size $CONNS"
res vm_kernel "$(uname -r)"
res conns_max "$CONNS"

# p99 of the inter-arrival times (ms) of the three UDP streams, pooled,
# over [FROM - BASE_S, FROM): the streams' normal pace as the receivers
# see it, emulation's jitter included.
baseline_p99() {
	local d=$TRAFFIC from=$1 q
	# shellcheck disable=SC2016 # jq's variables
	q='[range(1; length) as $i | select(.[$i] < $f and .[$i - 1] >= $f - $w) | .[$i] - .[$i - 1]]'
	{
		jq --argjson f "$from" --argjson w "$BASE_S" ".echo.arrivals | $q" "$d/out.json"
		jq --argjson f "$from" --argjson w "$BASE_S" --arg id "$(jq -r .flow "$d/in.json")" \
			".flows[\$id].arrivals | $q" "$d/vmV.json"
		jq --argjson f "$from" --argjson w "$BASE_S" --arg id "$(jq -r .flow "$d/ov.json")" \
			".flows[\$id].arrivals | $q" "$d/vmS.json"
	} 2>/dev/null | jq -s 'add | sort | if length == 0 then "none" else
		{p99: (.[((length - 1) * 0.99 | floor)] * 1000), p50: (.[((length - 1) * 0.5 | floor)] * 1000), n: length} end' -c
}

# measure KIND SIZE OLD NEW SIGNAL
measure() {
	local kind=$1 size=$2 old=$3 new=$4 sig=$5 p="${1}_${2}"
	local synth=$((size - NTCP)) t0 t1 present changed missing rc ms rec from to b line
	say "$kind, $size connections: $old active, $new standby, SIG$sig"
	[ "$synth" -lt 0 ] && synth=0
	if alive "$new"; then stop_agent "$new" TERM; fi
	hadp hv -I "$new" flow flush >/dev/null 2>&1
	# The old active starts empty too: the last round's entries, which
	# its bulk sync carried over, all sit on vmS's interface, and above
	# its connection quota (a quarter of the table) they would refuse
	# this round's real connections.
	hadp hv -I "$old" flow flush >/dev/null 2>&1
	res "${p}_standby_empty_before" "$("$FT" count "$(inst_dir "$new")")"
	traffic_start "$p" "$NTCP" >/dev/null || { res "${p}_error" traffic; traffic_stop; return 1; }
	say "traffic: $NTCP TCP connections open, three UDP streams"
	"$FT" fill "$(inst_dir "$old")" "$synth" "$IFINDEX" || { res "${p}_error" fill; traffic_stop; return 1; }
	res "${p}_active_entries" "$("$FT" count "$(inst_dir "$old")")"
	res "${p}_synthetic" "$synth"
	t0=$(date +%s%N)
	start_agent "$new"
	wait_ready "$new" "$HOLD_S" || res "${p}_note" standby_not_ready
	t1=$(date +%s%N)
	res "${p}_standby_ready_ms" $(((t1 - t0) / 1000000))
	res "${p}_bulk_state" "$(bulk_state "$new")"
	# Until the standby holds every synthetic entry (the bulk sync carried
	# them: no delta ever announced them), within the bound.
	local end
	end=$(deadline "$HOLD_S")
	while :; do
		read -r _ present _ changed _ missing <<<"$("$FT" check "$(inst_dir "$new")" "$synth")"
		[ "$missing" = 0 ] && break
		before "$end" || break
		sleep 1
	done
	res "${p}_standby_held_synthetic" "$present"
	res "${p}_standby_changed_synthetic" "$changed"
	res "${p}_standby_held_ms" $((($(date +%s%N) - t0) / 1000000))
	res "${p}_standby_entries" "$("$FT" count "$(inst_dir "$new")")"
	say "$new holds $present of $synth synthetic entries"
	sleep 3
	"$FT" real "$(inst_dir "$old")" | grep -E ':(7000|7001|7101) ' | sort >"$TESTDIR/$p.old"
	res "${p}_real_flows" "$(wc -l <"$TESTDIR/$p.old")"
	read -r _ present _ changed _ missing <<<"$("$FT" check "$(inst_dir "$old")" "$synth")"
	res "${p}_old_synthetic_present" "$present"

	from=$(uptime)
	t0=$(date +%s%N)
	stop_agent "$old" "$sig"
	rc=$?
	ms=$(wait_active "$new" "$SWITCH_S")
	to=$(uptime)
	res "${p}_switch_ms" "$ms"
	res "${p}_signal_to_switch_ms" $((($(date +%s%N) - t0) / 1000000))
	res "${p}_old_exit" "$rc"
	res "${p}_role_new" "$(role "$new")"
	rec=$(agent_json "$new" | jq -r '.reconciled // "unknown"')
	res "${p}_reconciled" "$rec"
	read -r _ present _ changed _ missing <<<"$("$FT" check "$(inst_dir "$new")" "$synth")"
	res "${p}_synthetic_present" "$present"
	res "${p}_synthetic_changed" "$changed"
	res "${p}_synthetic_missing" "$missing"
	"$FT" real "$(inst_dir "$new")" | grep -E ':(7000|7001|7101) ' | sort >"$TESTDIR/$p.new"
	read -r changed missing <<<"$(mappings_changed "$TESTDIR/$p.old" "$TESTDIR/$p.new")"
	res "${p}_real_table_changed" "$changed"
	res "${p}_real_table_missing" "$missing"
	sleep "$AFTER"
	traffic_stop
	window_gaps "$from" "$(awk -v t="$to" 'BEGIN { print t + 1 }')"
	b=$(baseline_p99 "$from")
	res "${p}_baseline" "$b"
	for line in "tcp_opened $T_TCP_OPENED" "tcp_broken $T_TCP_BROKEN" "tcp_max_wait_ms $T_TCP_WAIT" \
		"nat_changed_servers $T_NAT_CHANGED" \
		"udp_out_gap_ms $W_OUT" "udp_in_gap_ms $W_IN" "udp_overlay_gap_ms $W_OV" \
		"udp_out_sent $T_OUT_SENT" "udp_out_lost $T_OUT_LOST" "udp_in_sent $T_IN_SENT" "udp_in_lost $T_IN_LOST" \
		"udp_overlay_sent $T_OV_SENT" "udp_overlay_lost $T_OV_LOST" \
		"udp_out_worst_ms $T_OUT_GAP" "udp_in_worst_ms $T_IN_GAP" "udp_overlay_worst_ms $T_OV_GAP"; do
		res "${p}_${line% *}" "${line##* }"
	done
	traffic_summary | sed 's/^/     /'
	for line in "$old" "$new"; do
		grep -E 'promot|handover|active lock|bulk|refresh|reconcil' "$TESTDIR/hadpd-$line.log" | tail -n 8 | sed "s/^/     hadpd-$line: /"
	done
	# The old active's table, as the suite does after a switch.
	hadp hv -I "$old" flow flush >/dev/null 2>&1
	say "$kind, $size: done"
}

cur=a
for size in "${SIZES[@]}"; do
	for kind in "${KINDS[@]}"; do
		if [ "$kind" = unplanned ]; then sig=KILL; else sig=TERM; fi
		measure "$kind" "$size" "$cur" "$(other "$cur")" "$sig"
		cur=$(other "$cur")
	done
done
for i in a b; do alive $i && stop_agent $i TERM; done
say "end"
res finished 1
exit 0
