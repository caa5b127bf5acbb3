#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Helpers are called through check and command substitutions:
# shellcheck disable=SC2317
#
# tests/vm/failover.sh: HA failover end to end, with hadp.ko in the path
# (tests/vm/run-in-vm.sh runs it inside scripts/vmtest.sh's VM). One
# hypervisor runs instances a and b with their agents on one lock file;
# the topology is drawn in tests/vm/ha-topo.bash. Traffic, from
# tests/vm/streams.py: 200 TCP connections from vmS through SNAT, each
# sending a chunk every second (TCP_INTERVAL) and checking its echo byte for byte; a UDP
# stream vmS -> internet through SNAT, echoed, whose server checks that
# the NAT address and port never change; an inbound UDP stream internet ->
# VIP; a UDP stream from the remote hypervisor's VM across the underlay.
# The streams carry sequence numbers: lost datagrams, holes (runs of lost
# ones) and the longest silence are measured.
#
# Scenarios, in order (the roles carry over from one to the next):
#   unplanned        kill -9 the active (a); b takes over
#   planned          SIGTERM to the active (b); a takes over, nothing lost
#   standby_restart  b restarts (its tables flushed) while a carries
#                    traffic: bulk sync, /readyz only after it; kill -9 a
#   restart_alone    no standby: kill -9 the active (b) and restart it
#   lossy_sync       nftables drops 30% of sync packets: the standby (a)
#                    converges; kill -9 b
#   closed           connections closed on the active vanish from the
#                    standby within a bound
#   forged           a packet under the wrong key and replays of captured
#                    sync packets change nothing on the standby
# Every failover proves the switch: the root's active entry names the new
# instance, its counters rise while the old one's stay flat, and the
# connections keep working after the old instance's tables are flushed
# (`hadp -I OLD flow flush`): they then live on mirrored entries only.
# Each scenario prints one line "RESULT scenario=NAME tcp=N tcp_broken=N
# nat_changed=N udp_out_lost=N udp_out_gap_ms=X udp_in_lost=N ...".
#
# Ends with "N passed, N failed".

# shellcheck source=tests/vm/ha-topo.bash
source "$(dirname "$0")/ha-topo.bash"

NTCP=${NTCP:-200}
# Seconds of traffic after a switch, on mirrored entries alone.
AFTER=${AFTER:-6}

# wait_converged A B: check that B holds A's connections.
check_converged() { check "$3" converged "$1" "$2" "${4:-40}"; }

# ---- the failover steps ------------------------------------------------------------

# snapshot INST FILE: INST's connections of the traffic (keys and public
# sides): TCP to 7000, UDP to 7001, UDP to the VIP's 7101; not the pings
# and probes of earlier steps, which may age out in between.
snapshot() { keys "$1" | grep -E ':(7000|7001|7101) ' >"$2"; }

# prove_switch NEW OLD MS: the checks every failover makes once NEW is active.
prove_switch() {
	local new=$1 old=$2 ms=$3
	check "the root's active entry names $new (${ms} ms)" test "$ms" != never
	check_eq "hadpd $new reports active" "$(role "$new")" active
	check "$new's counters rise, $old's stay flat" switched "$new" "$old"
	check "hadp -I $old flow flush" hadp hv -I "$old" flow flush
	check_eq "$old's conns map is empty" "$(nconns "$old")" 0
}

# scenario_checks SCENARIO CHANGED_IN_TABLE MISSING [LOSS_ALLOWED]: the
# traffic's verdict. LOSS_ALLOWED=1: one hole per stream may be; 0: no
# datagram may be lost.
scenario_checks() {
	local s=$1 tch=$2 miss=$3 loss=${4:-1}
	log "$(traffic_summary)"
	traffic_details | sed 's/^/     /'
	check_eq "$s: all $NTCP TCP connections were open" "$T_TCP_OPENED" "$NTCP"
	check_eq "$s: no TCP connection broken (reset, mismatch or stall)" "$T_TCP_BROKEN" 0
	check_gt "$s: every TCP connection kept sending (chunks)" "$T_TCP_CHUNKS" "$((NTCP * 5))"
	check_eq "$s: no NAT address or port changed (seen by the servers)" "$T_NAT_CHANGED" 0
	check_eq "$s: no NAT mapping changed between the old and the new active's tables" "$tch" 0
	check_eq "$s: the new active had every connection of the old one" "$miss" 0
	check_gt "$s: the outbound UDP stream flowed" "$T_OUT_SENT" 100
	if [ "$loss" = 1 ]; then
		check "$s: outbound UDP: at most one gap ($T_OUT_HOLES holes, $T_OUT_LOST lost, ${T_OUT_GAP} ms)" \
			test "$T_OUT_HOLES" -le 1
		check "$s: inbound UDP: at most one gap ($T_IN_HOLES holes, $T_IN_LOST lost, ${T_IN_GAP} ms)" \
			test "$T_IN_HOLES" -le 1
		check "$s: overlay UDP: at most one gap ($T_OV_HOLES holes, $T_OV_LOST lost, ${T_OV_GAP} ms)" \
			test "$T_OV_HOLES" -le 1
	else
		check_eq "$s: outbound UDP: no datagram lost (longest silence ${T_OUT_GAP} ms)" "$T_OUT_LOST" 0
		check_eq "$s: inbound UDP: no datagram lost (longest silence ${T_IN_GAP} ms)" "$T_IN_LOST" 0
		check_eq "$s: overlay UDP: no datagram lost (longest silence ${T_OV_GAP} ms)" "$T_OV_LOST" 0
	fi
	check_eq "$s: no TCP checksum error in vmS" "$(csum_errors vmS)" 0
	check_eq "$s: no TCP checksum error in inet" "$(csum_errors inet)" 0
}

# failover SCENARIO OLD NEW SIGNAL [LOSS_ALLOWED]: with traffic running and
# NEW ready as standby, SIGNAL (KILL or TERM) OLD's agent; prove the
# switch; keep traffic on NEW's mirrored entries for $AFTER s; stop it and
# judge. Sets MS (time to the switch), TCH and MISS (table comparison).
failover() {
	local s=$1 old=$2 new=$3 sig=$4 loss=${5:-1} t0 rc
	check_eq "hadpd $new is ready before the failover" "$(http "$new" /readyz)" 200
	check_converged "$old" "$new" "$new holds $old's connections (keys, public ports, states, versions)"
	snapshot "$old" "$TESTDIR/$s.old"
	t0=$(date +%s%N)
	FROM=$(uptime)
	log "uptime $FROM: SIG$sig to hadpd $old"
	stop_agent "$old" "$sig"
	rc=$?
	MS=$(wait_active "$new")
	TO=$(uptime)
	log "uptime $TO: the active entry names $new"
	log "switch after $(( ($(date +%s%N) - t0) / 1000000 )) ms from the signal; hadpd $old exit status $rc"
	if [ "$sig" = TERM ]; then
		check_eq "hadpd $old exited with status 0 on SIGTERM" "$rc" 0
	fi
	prove_switch "$new" "$old" "$MS"
	REC=$(agent_json "$new" | jq -r '.reconciled // "unknown"')
	log "hadpd $new reconciled $REC entries from $old's maps on promotion"
	# The mirror had carried the table: promotion had little to take from
	# the old active's maps (which would hide a mirror that lost entries).
	check "$new had to reconcile few entries from $old's maps ($REC; the mirror carried the rest)" \
		test "$REC" -le $((NTCP / 20))
	snapshot "$new" "$TESTDIR/$s.new"
	read -r TCH MISS <<<"$(mappings_changed "$TESTDIR/$s.old" "$TESTDIR/$s.new")"
	log "old active's table: $(wc -l <"$TESTDIR/$s.old") connections; mapping changed: $TCH, missing in $new: $MISS"
	sleep "$AFTER"
	check "$new still carries the traffic on its own entries" switched "$new" "$old"
	traffic_stop
	window_gaps "$FROM" "$(awk -v t="$TO" 'BEGIN { print t + 1 }')"
	log "longest silences from the signal to 1 s after the switch: out $W_OUT ms, in $W_IN ms, overlay $W_OV ms"
	scenario_checks "$s" "$TCH" "$MISS" "$loss"
	result "$s" "switch_ms=$MS table_changed=$TCH table_missing=$MISS reconciled=$REC"
}

# ---- setup ---------------------------------------------------------------------------

section "topology, agents, configuration"
ha_start
check_eq "hadpd a reports active" "$(role a)" active
check_eq "hadpd b reports standby" "$(role b)" standby
check "ha show a: its agent is active and ready" agent_is a '.role == "active" and .ready == true'
check "ha show b: its agent is standby, ready, bulk sync complete" \
	agent_is b '.role == "standby" and .ready == true and .bulk_sync == "complete"'
check "vmS pings the internet through SNAT" ping_ok vmS $INET
check "the internet pings the VIP" ping_ok inet $VIP
check "vmR pings vmS across the underlay" ping_ok vmR 10.0.0.1

# ---- unplanned: kill -9 the active -------------------------------------------------------

section "unplanned failover: kill -9 the active (a)"
check "traffic: $NTCP TCP connections open, three UDP streams" traffic_start unplanned "$NTCP"
sleep 3
failover unplanned a b KILL 1
check_gt "hadpd b counts the promotion" "$(metric_sum b hadp_promotions_total)" 0

start_agent a
check "hadpd a restarted as standby: ready after its bulk sync" wait_ready a
check_eq "hadpd a reports standby" "$(role a)" standby
check_eq "the active entry still names b" "$(active)" b

# ---- planned: SIGTERM to the active ---------------------------------------------------------

section "planned switchover: SIGTERM to the active (b)"
check "traffic: $NTCP TCP connections open, three UDP streams" traffic_start planned "$NTCP"
sleep 3
failover planned b a TERM 0
check "hadpd b logged the planned handover" grep -q 'planned handover' "$TESTDIR/hadpd-b.log"

# ---- the standby restarts while the active carries traffic -----------------------------------

section "the standby (b) restarts under traffic: bulk sync, then ready"
check "b's tables flushed while its agent is down" hadp hv -I b flow flush
check_eq "b's conns map is empty" "$(nconns b)" 0
check "traffic: $NTCP TCP connections open, three UDP streams" traffic_start standby_restart "$NTCP"
sleep 2
check_gt "a holds the traffic's connections" "$(nconns a)" "$NTCP"
start_agent b
# Watch /readyz and the bulk sync state together until ready.
t0=$(date +%s%N)
early=0 samples=0 notready=0 ready_ms=never
while [ $(($(date +%s%N) - t0)) -lt 90000000000 ]; do
	# /readyz first, the bulk state after it: a 200 followed by a state
	# other than complete was a 200 before the bulk sync completed.
	code=$(http b /readyz)
	st=$(bulk_state b)
	samples=$((samples + 1))
	echo "$(( ($(date +%s%N) - t0) / 1000000 )) ms: readyz $code bulk $st" >>"$TESTDIR/readyz.log"
	if [ "$code" = 200 ]; then
		[ "$st" = complete ] || early=$((early + 1))
		ready_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		break
	fi
	notready=$((notready + 1))
	alive b || break
	sleep 0.05
done
log "$(tail -n 5 "$TESTDIR/readyz.log" | tr '\n' ';')"
check "hadpd b turned ready (${ready_ms} ms after its start)" test "$ready_ms" != never
check_eq "b was never ready before its bulk sync completed" "$early" 0
check_gt "b was seen not ready first ($samples samples)" "$notready" 0
check_eq "b's bulk sync: complete" "$(bulk_state b)" complete
check_gt "b's agent applied entries (hadp_sync_applied_total)" "$(metric_sum b hadp_sync_applied_total)" "$NTCP"
failover standby_restart a b KILL 1

# ---- no standby: the active is killed and restarted ---------------------------------------------

section "no standby: kill -9 the active (b) and restart it"
check "traffic: $NTCP TCP connections open, three UDP streams" traffic_start restart_alone "$NTCP"
sleep 3
vm_prog=$(prog_id hv vm1)
FROM=$(uptime)
stop_agent b KILL
sleep 1
start_agent b
check "hadpd b is ready after the restart" wait_ready b
TO=$(uptime)
check_eq "hadpd b is active again" "$(role b)" active
check_eq "the active entry names b" "$(active)" b
check_eq "the root on vm1 was not touched" "$(prog_id hv vm1)" "$vm_prog"
check "b's counters rise, a's stay flat" switched b a
sleep 3
traffic_stop
window_gaps "$FROM" "$TO"
scenario_checks restart_alone 0 0 0
result restart_alone

# ---- a share of the sync packets dropped ---------------------------------------------------------

section "lossy sync link: 30% of sync packets dropped; the standby (a) converges"
check "a's tables flushed while its agent is down" hadp hv -I a flow flush
# Dropped on the way in at both ends (as a lossy wire would), so that
# no sender sees an error from its own stack.
for x in hsa hsb; do
	must n $x nft -f - <<EOF
table inet hadp_loss {
	counter dropped { }
	chain input {
		type filter hook input priority 0;
		udp dport $SYNC_PORT numgen random mod 100 < 30 counter name dropped drop
	}
}
EOF
done
rt0=$(metric_sum b hadp_sync_retransmits_total)
start_agent a
check "traffic: $NTCP TCP connections open, three UDP streams" traffic_start lossy_sync "$NTCP"
check "hadpd a turns ready despite the losses" wait_ready a 120
sleep 3
check_converged b a "a holds b's connections despite the losses" 90
dropped=0
for x in hsa hsb; do
	v=$(n $x nft -j list counter inet hadp_loss dropped | jq '[.nftables[] | .counter? // empty | .packets] | add // 0')
	[[ $v =~ ^[0-9]+$ ]] && dropped=$((dropped + v))
done
check_gt "nftables dropped sync packets" "${dropped:-0}" 10
check_gt "hadpd b retransmitted (hadp_sync_retransmits_total)" "$(metric_sum b hadp_sync_retransmits_total)" "$rt0"
log "dropped $dropped sync packets; b retransmitted $(($(metric_sum b hadp_sync_retransmits_total) - rt0))"
# Converged is not enough: it must stay so through the active's periodic
# refreshes (every 10 s), whose packets are lost too. Watch the standby's
# table for 25 s: it never holds fewer connections than the traffic has.
sw0=$(metric_sum a hadp_sync_swept_total)
low=999999
end=$(deadline 25)
while before "$end"; do
	c=$(nconns a)
	[[ $c =~ ^[0-9]+$ ]] && [ "$c" -lt "$low" ] && low=$c
	sleep 0.3
done
log "a's table over 25 s: at least $low entries; a swept $(($(metric_sum a hadp_sync_swept_total) - sw0)) entries (hadp_sync_swept_total)"
check "a kept every connection through b's refreshes under loss (at least $low entries over 25 s)" \
	test "$low" -ge "$NTCP"
failover lossy_sync b a KILL 1
must n hsa nft delete table inet hadp_loss
must n hsb nft delete table inet hadp_loss
start_agent b
check "hadpd b restarted as standby: ready" wait_ready b

# ---- connections closed on the active vanish from the standby ---------------------------------------

section "connections closed on the active (a) leave the standby (b) within a bound"
check "hadp -I a flow flush: a clean start" hadp hv -I a flow flush
check "the standby mirrors it" wait_empty b
CLOSING=2
check "flow timeouts tcp-closing $CLOSING (every instance)" hadp hv flow timeouts tcp-closing $CLOSING
check "20 TCP connections open" traffic_start closed 20
closed_keys() { keys "$1" | awk '$1 == "tcp"' | wc -l; }
check_converged a b "b holds a's connections"
n20=$(closed_keys b)
check_eq "b holds the 20 TCP connections" "$n20" 20
del0=$(metric_sum b hadp_sync_deleted_total)
traffic_stop_senders
t0=$T_CLOSED_NS
gone_a=never gone_b=never
end=$(deadline 60)
while before "$end" && { [ "$gone_a" = never ] || [ "$gone_b" = never ]; }; do
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$gone_a" = never ] && [ "$(closed_keys a)" = 0 ] && gone_a=$ms
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$gone_b" = never ] && [ "$(closed_keys b)" = 0 ] && gone_b=$ms
	sleep 0.1
done
# The active deletes a closing connection once it has been idle
# tcp-closing seconds (last_seen has 1 s steps, aging runs every 1 s); the
# standby follows within the sync's delay. Generous bounds for emulation.
BOUND=$((CLOSING + 1 + 1 + 6))
check "a (active) aged them out ${gone_a} ms after the close" test "${gone_a/never/999999}" -le $((BOUND * 1000))
check "b (standby) dropped them ${gone_b} ms after the close (bound ${BOUND} s: tcp-closing ${CLOSING} s, last_seen and aging steps, 6 s)" \
	test "${gone_b/never/999999}" -le $((BOUND * 1000))
lag=$((${gone_b/never/999999} - ${gone_a/never/0}))
check "b followed a within 3 s (${lag} ms, polls included)" test "$lag" -le 3000
traffic_stop
check_eq "the 20 connections had closed cleanly" "$T_TCP_BROKEN/$T_TCP_OPENED" 0/20
check_gt "b's agent applied the deletes (hadp_sync_deleted_total)" "$(metric_sum b hadp_sync_deleted_total)" "$((del0 + 19))"
echo "RESULT scenario=closed tcp=20 active_gone_ms=$gone_a standby_gone_ms=$gone_b bound_ms=$((BOUND * 1000)) standby_lag_ms=$lag" | tee -a "$TESTDIR/results"
hadp hv flow timeouts tcp-closing 10 >/dev/null 2>&1

# ---- forged and replayed sync packets ---------------------------------------------------------------

section "forged and replayed sync packets change nothing on the standby (b)"
stats_b() { ha_cli b -j -s ha show b | jq -r ".[0].stats.$1"; }
conns_dump() {
	bpftool -j map dump pinned "$(bpffs hv)/hadp/$1/conns" |
		jq -S '[.[] | (.formatted // .) | {key, value: (.value | if type == "object" then del(.last_seen) else . end)}] | sort_by(.key | tostring)'
}
pcap=$TESTDIR/sync.pcap
n_bg hsb tcpdump -i sync0 -n -U -w "$pcap" "udp and src ${SYNCIP[a]} and dst port $SYNC_PORT" 2>"$TESTDIR/sync.tcpdump"
cap=$BG
sleep 1
check "a new connection on the active (ping through SNAT)" ping_ok vmS $INET
sleep 2
kill -INT "$cap" 2>/dev/null
wait "$cap" 2>/dev/null
ncap=$(tcpdump -r "$pcap" -n 2>/dev/null | wc -l)
check_gt "sync packets a -> b captured" "$ncap" 0
check "hadp flow flush on the active (a)" hadp hv -I a flow flush
check "the standby mirrors the flush: b's conns map is empty" wait_empty b
before=$(conns_dump b)
m0=$(stats_b bad_mac)
r0=$(stats_b replayed)
ap0=$(metric_sum b hadp_sync_applied_total)
epoch=$(ha_cli a -j ha show a | jq -r '.[0].epoch // 0')
seq=$(ha_cli a -j ha show a | jq -r '.[0].next_seq // 0')
[[ $epoch =~ ^[0-9]+$ ]] || epoch=0
[[ $seq =~ ^[0-9]+$ ]] || seq=0
check "a packet under a wrong key, from a's address and port" \
	n hsa "$PY" "$HAPKT" ${SYNCIP[a]}:$SYNC_PORT ${SYNCIP[b]}:$SYNC_PORT "$KEY" "$epoch" "$((seq + 1000))" badmac
check "$ncap captured sync packets sent again" \
	n hsa "$PY" "$STREAMS" replay "$pcap" --src ${SYNCIP[a]}:$SYNC_PORT --dst ${SYNCIP[b]}:$SYNC_PORT
sleep 2
check_gt "b's module counts the wrong key (bad_mac)" "$(stats_b bad_mac)" "$m0"
check_gt "b's module counts the replays (replayed)" "$(stats_b replayed)" "$((r0 + ncap - 1))"
check_eq "b's agent applied nothing (hadp_sync_applied_total)" "$(metric_sum b hadp_sync_applied_total)" "$ap0"
after=$(conns_dump b)
check_eq "b's conns map is unchanged (bpftool map dump)" "$after" "$before"
echo "RESULT scenario=forged bad_mac=$(($(stats_b bad_mac) - m0)) replayed=$(($(stats_b replayed) - r0)) replays_sent=$ncap conns_changed=$([ "$after" = "$before" ] && echo 0 || echo 1)" |
	tee -a "$TESTDIR/results"

# ---- the end -----------------------------------------------------------------------------------

section "summary"
sed 's/^/     /' "$TESTDIR/results"
check_eq "no packet dropped as conn_not_owned (a, b): every mirrored entry names its owner" \
	"$(INSTANCE=a stat_sum hv drops.conn_not_owned) $(INSTANCE=b stat_sum hv drops.conn_not_owned)" "0 0"
check "hadpd a is still alive" alive a
check "hadpd b is still alive" alive b
check_eq "no 'leaked' or error from hadp.ko in dmesg" "$(dmesg | grep -c 'hadp:.*\(leak\|BUG\)')" 0
for i in a b; do
	stop_agent "$i" TERM
done
if [ -n "$VERBOSE" ] || [ "$failed" -gt 0 ]; then
	for i in a b; do
		echo "---- hadpd-$i.log: warnings and errors (first 30), then the last 30 lines"
		grep -E '^(<[0-4]>|----)' "$TESTDIR/hadpd-$i.log" | head -n 30
		echo "     ..."
		tail -n 30 "$TESTDIR/hadpd-$i.log"
	done
fi
finish
