#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# natevents.sh: the connection deltas on the "events" ring buffer describe
# every connection the datapath created, changed and deleted, with nothing
# missing: replaying them gives exactly the connection table, at every
# checkpoint (traffic, an aging pass, flushes, a full table).
#
#  vmS 10.0.0.1 SNAT 203.0.113.1:10000-10999     vmV 10.0.0.2 VIP 203.0.113.10
#   eth0 (ul fd00:a::100)                          eth0 (ul fd00:a::200)
#    |                                              |
#   vm1                                            vm2
# +------------------- hvA (hadp, conns 256) ---------------------+
# | route 0.0.0.0/0 vni 100 nat; nat router fd00:f::1             |
# | evdump follows <bpffs>/hadp/default/events                    |
# |                        ul0 fd00:1::a/64                       |
# +--------------------------|------------------------------------+
#                            |
#           +------ rtr (Linux): ulA fd00:1::1 -------------------+
#           | fd00:f::1: seg6local End.DX4 nh4 198.51.100.2        |
#           | 203.0.113.1, 203.0.113.10: seg6 encap.red to hvA     |
#           | inet0 198.51.100.1/24                                |
#           +---|--------------------------------------------------+
#               |
#           inet 198.51.100.2: echo servers (conns.py serve)
#
# evdump (tests/netns/evdump.c, compiled here against libbpf) prints every
# ring buffer record as a JSON line; conns.py deltas replays them and
# compares with bpftool's dump of conns and conns_rev. The ring buffer's
# consumer position lives in the map, so each phase's evdump continues
# exactly where the previous one stopped; stopping one drains the ring.

# shellcheck disable=SC2317 # helpers called through check
# shellcheck source=tests/netns/lib.bash
source "$(dirname "$0")/lib.bash"

[ -x "$HADP" ] || die "no $HADP: run make"
command -v "$PY" >/dev/null || die "no $PY"

NAT=203.0.113.1
VIP=203.0.113.10
INET=198.51.100.2
CONNS_MAX=256

evdump_build

# ---- topology ----------------------------------------------------------------

nat_fabric hvA $INET $NAT=fd00:a::100 $VIP=fd00:a::200

add_vm hvA vmS vm1 10.0.0.1
add_vm hvA vmV vm2 10.0.0.2
must n hvA ping -n -c 1 -W 2 fd00:1::1

hadp_must hvA dp load conns $CONNS_MAX
hadp_must hvA uplink set dev ul0
hadp_must hvA nat router fd00:f::1
hadp_must hvA route add 0.0.0.0/0 vni 100 nat
# The table itself is under test, not vm1's quota (tests/netns/tenant.sh):
# vm1 may hold more than the table.
hadp_must hvA iface add vm1 dev vm1 vni 100 mac "$(mac vmS eth0)" ipv4 10.0.0.1 underlay fd00:a::1 \
	conn-limit $((CONNS_MAX * 2))
hadp_must hvA iface add vm2 dev vm2 vni 100 mac "$(mac vmV eth0)" ipv4 10.0.0.2 underlay fd00:a::2
hadp_must hvA nat add iface vm1 ip $NAT ports 10000-10999 underlay fd00:a::100
hadp_must hvA vip add iface vm2 ip $VIP underlay fd00:a::200

LOG=$TESTDIR/inet.log
VLOG=$TESTDIR/vmV.log
serve inet "$LOG" --tcp 7000 --udp 7001 --udp0 7002 || die "the echo server in inet did not start"
serve vmV "$VLOG" --udp 7101 || die "the echo server in vmV did not start"

phase=0
EVENTS=()

# follow: start evdump on the ring buffer for the next phase.
follow() {
	phase=$((phase + 1))
	EVENTS+=("$TESTDIR/events.$phase")
	evdump_start hvA "$TESTDIR/events.$phase"
}

# unfollow: stop evdump; it drains the ring and says eof.
unfollow() { evdump_stop "$TESTDIR/events.$phase"; }

# replay NAME: replay every phase's events so far, compare with the maps
# and with `hadp flow show`.
replay() {
	bpftool -j map dump pinned "$(bpffs hvA)/hadp/default/conns" >"$TESTDIR/conns.json" &&
		bpftool -j map dump pinned "$(bpffs hvA)/hadp/default/conns_rev" >"$TESTDIR/rev.json" &&
		hadp hvA -j flow show >"$TESTDIR/flows.json" &&
		"$PY" "$CONNS" deltas --events "${EVENTS[@]}" --conns "$TESTDIR/conns.json" \
			--rev "$TESTDIR/rev.json" --flows "$TESTDIR/flows.json" --peers "$LOG" \
			--summary "$TESTDIR/summary.$1.json"
}

# sum NAME JQ: a number from checkpoint NAME's summary (0 when absent).
sum() { jq -r "($2) // 0" "$TESTDIR/summary.$1.json" 2>/dev/null || echo "no summary $1"; }

# ---- traffic --------------------------------------------------------------------

section "deltas while traffic runs"
check "evdump follows the ring buffer" follow
created0=$(stat_sum hvA conns_created)
conns vmS udp $INET 7001 -n 30 --count 2 >"$TESTDIR/t1" 2>&1 &
t1=$!
conns vmS udp $INET 7002 -n 10 --nocsum >"$TESTDIR/t2" 2>&1 &
t2=$!
conns vmS tcp $INET 7000 -n 40 >"$TESTDIR/t3" 2>&1 &
t3=$!
conns vmS tcp $INET 7000 -n 10 --rst >"$TESTDIR/t4" 2>&1 &
t4=$!
conns vmV tcp $INET 7000 -n 20 >"$TESTDIR/t5" 2>&1 &
t5=$!
conns inet udp $VIP 7101 -n 5 >"$TESTDIR/t6" 2>&1 &
t6=$!
check "vmS pings the internet (one ICMP connection)" ping_ok vmS $INET
check "the internet pings the VIP (one inbound ICMP connection)" ping_ok inet $VIP
check "the internet -> vmV TCP through the VIP (inbound)" tcp_xfer inet vmV $VIP
check "vmS: 30 UDP flows" wait $t1
check "vmS: 10 UDP flows with zero checksums" wait $t2
check "vmS: 40 TCP connections closed with FIN" wait $t3
check "vmS: 10 TCP connections closed with RST" wait $t4
check "vmV: 20 TCP connections through the VIP" wait $t5
check "the internet: 5 UDP flows to the VIP" wait $t6
cat "$TESTDIR"/t[1-6] | sed 's/^/     /'
sleep 0.5
check "evdump drained the ring" unfollow
check "replaying the deltas gives the table (conns, conns_rev, flow show)" replay traffic
created=$(($(stat_sum hvA conns_created) - created0))
check_eq "a NEW for every connection created (conns_created)" "$(sum traffic .events.new)" "$created"
check_eq "every NEW is still live" "$(sum traffic .live)" "$created"
# 30 + 10 UDP, 40 + 10 + 20 TCP, 2 ICMP, 1 inbound TCP, 5 inbound UDP.
check_eq "118 connections" "$created" 118
check_eq "61 TCP connections went opening-established-closing" \
	"$(sum traffic '.history["tcp opening-established-closing (live)"]')" 61
check_eq "10 TCP connections went opening-established-closed (RST)" \
	"$(sum traffic '.history["tcp opening-established-closed (live)"]')" 10
check_eq "61 TCP connections saw both FINs (flags fin_out|fin_in)" \
	"$(jq '[.flags | to_entries[] | select(.key | test("^tcp ")) |
		select((.key | split(" ")[1] | tonumber) as $f | ($f / 4 | floor) % 4 == 3) | .value] | add // 0' \
		"$TESTDIR/summary.traffic.json")" 61
check_eq "45 UDP and 2 ICMP connections saw their reply (established)" \
	"$(sum traffic '.live_by["udp established"]')+$(sum traffic '.live_by["icmp established"]')" 45+2
check_eq "no delta was lost (events_lost)" "$(stat_sum hvA events_lost)" 0

# ---- aging ---------------------------------------------------------------------------

section "deltas of an aging pass"
check "evdump follows again" follow
conns vmS tcp $INET 7000 -n 5 --hold 8 >"$TESTDIR/held" 2>&1 &
held=$!
bg_pid $held
sleep 1.5
check "hadp flow timeouts tcp-closing 1 udp 1 icmp 1" hadp hvA flow timeouts tcp-closing 1 udp 1 icmp 1
sleep 1.5
check "hadp flow age" hadp hvA flow age
check "the 5 held connections finish after the pass" wait $held
sed 's/^/     /' "$TESTDIR/held"
check "evdump drained the ring" unfollow
check "replaying gives the table" replay age
check_eq "a DELETE for each of the 118 aged connections" "$(sum age .deleted)" 118
check_eq "the held connections alone are left, closing now" \
	"$(sum age .live)/$(sum age '.live_by["tcp closing"]')" 5/5

# ---- flush --------------------------------------------------------------------------

section "deltas of flushes"
check "evdump follows again" follow
check "vmV: 10 new UDP flows" conns vmV udp $INET 7001 -n 10 --count 1
check "hadp flow flush iface vm2" hadp hvA flow flush iface vm2
check "evdump drained the ring" unfollow
check "replaying gives the table after flush iface vm2" replay flush2
check_eq "vm1's 5 are left" "$(sum flush2 .live)" 5
check "evdump follows again" follow
check "hadp flow flush" hadp hvA flow flush
check "evdump drained the ring" unfollow
check "replaying gives the table after the flush" replay flush
check_eq "nothing is live" "$(sum flush .live)" 0
check_eq "conns is empty" "$(sum flush .table)" 0
check_eq "conns_rev is empty" "$(sum flush .rev)" 0

# ---- a full table ------------------------------------------------------------------------

section "a full table: counted, signalled, nothing evicted"
check "evdump follows again" follow
full0=$(stat_sum hvA drops.conn_table_full)
conns vmS udp $INET 7001 -n $((CONNS_MAX + 40)) --count 1 --timeout 0.3 >"$TESTDIR/full" 2>&1
tail -n 1 "$TESTDIR/full" | sed 's/^/     /'
check "evdump drained the ring" unfollow
check "replaying gives the table" replay full
check_eq "the table is full" "$(sum full .table)" $CONNS_MAX
check_gt "flows that found it full are counted (conn_table_full)" \
	"$(stat_sum hvA drops.conn_table_full)" "$((full0 + 39))"
check_gt "and signalled (a table_full event)" "$(sum full .events.table_full)" 0
check_eq "no delta was lost (events_lost)" "$(stat_sum hvA events_lost)" 0
check "flush once more" hadp hvA flow flush

section "no checksum errors anywhere"
for x in hvA rtr inet vmS vmV; do
	check_eq "TcpInCsumErrors in $x" "$(csum_errors $x)" 0
	check_eq "UdpInCsumErrors in $x" "$(udp_csum_errors $x)" 0
done

finish
