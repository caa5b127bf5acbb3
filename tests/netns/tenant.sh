#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tenant.sh: one tenant cannot deny service to another on the same
# hypervisor (docs/nat.md, "Tenant isolation"). vmF floods: UDP to
# thousands of ports, bare TCP ACKs, RST/FIN alternating on one 4-tuple,
# TTL=1 and oversized DF packets; the internet floods vmV's VIP from
# thousands of source ports. Meanwhile vmQ opens TCP connections and
# discovers the path MTU (hadp's own "fragmentation needed": the uplink's
# MTU is 1400) again and again: every attempt succeeds, vmF's refusals are
# counted on vm2 (conn_quota, no_conn, icmp_ratelimit), the VIP's on vm3,
# none on vm1, and the ring buffer has every delta of vmQ. Then hadpd
# adopts the instance: its start rebuilds the connection counts from the
# table, and with the table full it evicts the never answered.
#
#  vmQ 10.0.0.1 (quiet)       vmF 10.0.0.2 (flooder)     vmV 10.0.0.3
#  SNAT 203.0.113.1            SNAT 203.0.113.2           VIP 203.0.113.10
#   10000-10999 ul fd00:a::100  20000-20999 ul fd00:a::102  ul fd00:a::200
#   vm1                         vm2                        vm3
# +------------ hvA (hadp: conns 1024, so 256 an interface, 128 a VIP) ---+
# | route 0.0.0.0/0 vni 100 nat; nat router fd00:f::1; uplink mtu 1400   |
# | evdump follows <bpffs>/hadp/default/events during the flood,         |
# | then hadpd (--no-sync, :9111) adopts the instance                    |
# |                        ul0 fd00:1::a/64                               |
# +--------------------------|--------------------------------------------+
#                            |
#           +------ rtr (Linux): ulA fd00:1::1 --------------------------+
#           | fd00:f::1: seg6local End.DX4 nh4 198.51.100.2               |
#           | 203.0.113.1, .2, .10: seg6 encap.red to hvA                 |
#           | inet0 198.51.100.1/24                                       |
#           +---|---------------------------------------------------------+
#               |
#           inet 198.51.100.2: echo servers (conns.py serve TCP 7000, UDP
#           7001), and the VIP flood (flood.py)

# shellcheck disable=SC2317 # helpers called through check
# shellcheck source=tests/netns/lib.bash
source "$(dirname "$0")/lib.bash"

[ -x "$HADP" ] || die "no $HADP: run make"
command -v "$PY" >/dev/null || die "no $PY"

NAT_Q=203.0.113.1
NAT_F=203.0.113.2
VIP=203.0.113.10
INET=198.51.100.2
CONNS_MAX=1024
ROUNDS=${ROUNDS:-5}
FLOOD=$HADP_SRC/tests/netns/flood.py

evdump_build

# ---- topology ----------------------------------------------------------------

nat_fabric hvA $INET $NAT_Q=fd00:a::100 $NAT_F=fd00:a::102 $VIP=fd00:a::200

add_vm hvA vmQ vm1 10.0.0.1
add_vm hvA vmF vm2 10.0.0.2
add_vm hvA vmV vm3 10.0.0.3
must n hvA ping -n -c 1 -W 2 fd00:1::1

hadp_must hvA dp load conns $CONNS_MAX
# VM packets of 1500 bytes do not fit: hadp answers "fragmentation needed".
hadp_must hvA uplink set dev ul0 mtu 1400
hadp_must hvA nat router fd00:f::1
hadp_must hvA route add 0.0.0.0/0 vni 100 nat
hadp_must hvA iface add vm1 dev vm1 vni 100 mac "$(mac vmQ eth0)" ipv4 10.0.0.1 underlay fd00:a::1
hadp_must hvA iface add vm2 dev vm2 vni 100 mac "$(mac vmF eth0)" ipv4 10.0.0.2 underlay fd00:a::2
hadp_must hvA iface add vm3 dev vm3 vni 100 mac "$(mac vmV eth0)" ipv4 10.0.0.3 underlay fd00:a::3
hadp_must hvA nat add iface vm1 ip $NAT_Q ports 10000-10999 underlay fd00:a::100
hadp_must hvA nat add iface vm2 ip $NAT_F ports 20000-20999 underlay fd00:a::102
hadp_must hvA vip add iface vm3 ip $VIP underlay fd00:a::200

LOG=$TESTDIR/inet.log
serve inet "$LOG" --tcp 7000 --udp 7001 || die "the echo server in inet did not start"

# json HV ARGS...: `hadp -j ARGS` of HV piped through jq's last argument.
json() {
	local hv=$1 filter=${*: -1}
	hadp "$hv" -j "${@:2:$#-2}" | jq -r "$filter"
}

# pmtu_xfer: vmQ forgets the path MTU, sends 4 MiB to the internet, and
# has learned 1360 (1400 less the outer IPv6 header) from hadp's answer.
pmtu_xfer() {
	n vmQ ip route flush cache
	tcp_xfer vmQ inet "$INET" && route_mtu vmQ "$INET" 1360
}

# ---- before ---------------------------------------------------------------------

section "quotas as configured"
check_eq "an interface's default limit is a quarter of conns" \
	"$(json hvA iface show vm2 '.[0].conn_limit')" $((CONNS_MAX / 4))
check_eq "a VIP's default limit is half of that" \
	"$(json hvA vip show '.[0].conn_limit')" $((CONNS_MAX / 8))
check "vmQ: 20 TCP connections" conns vmQ tcp $INET 7000 -n 20 --size 4096
check "vmQ: path MTU discovery through hadp" pmtu_xfer

# ---- the flood ---------------------------------------------------------------------

# flood: what vmF and the internet send until $TESTDIR/stop exists.
flood() {
	while [ ! -e "$TESTDIR/stop" ]; do
		n vmF "$PY" "$FLOOD" $INET --dport 1-5000 --count 5000
		n vmF "$PY" "$FLOOD" $INET --proto tcp --flags A --sport 30000-34999 --dport 7000 --count 5000
		n vmF "$PY" "$FLOOD" $INET --proto tcp --flags S,R,F,R,F --sport 45000 --dport 7000 --count 2000
		n vmF "$PY" "$FLOOD" $INET --ttl 1 --count 2000
		n vmF "$PY" "$FLOOD" $INET --df --size 1460 --count 2000
		n inet "$PY" "$FLOOD" $VIP --sport 1024-6023 --dport 7101 --count 5000
	done >"$TESTDIR/flood.log" 2>&1
}

section "vmF and the internet flood; vmQ keeps working"
EV=$TESTDIR/events
created0=$(counter hvA vm1 conns_created)
check "evdump follows the ring buffer" evdump_start hvA "$EV"
flood &
bg_pid $!
FLOODER=$!
# Let the flood fill what it can first.
sleep 3
for r in $(seq "$ROUNDS"); do
	check "round $r: vmQ opens 20 TCP connections" conns vmQ tcp $INET 7000 -n 20 --size 4096
	check "round $r: vmQ discovers the path MTU again" pmtu_xfer
done
touch "$TESTDIR/stop"
wait "$FLOODER"
sort "$TESTDIR/flood.log" | uniq -c | sed 's/^/     /'
check "evdump drained the ring" evdump_stop "$EV"

# ---- who paid ----------------------------------------------------------------------------

section "the flooders' refusals are theirs"
check_gt "vm2's new connections were refused (conn_quota)" "$(counter hvA vm2 drops.conn_quota)" 0
check_eq "vm2 holds its limit, no more" "$(json hvA iface show vm2 '.[0].conns')" $((CONNS_MAX / 4))
check_gt "vm2's ICMP errors were rate limited (icmp_ratelimit)" \
	"$(counter hvA vm2 drops.icmp_ratelimit)" 0
check_gt "the VIP's flood was refused on vm3 (conn_quota)" "$(counter hvA vm3 drops.conn_quota)" 0
check_eq "vm3's VIP holds its limit, no more" "$(json hvA vip show '.[0].conns')" $((CONNS_MAX / 8))
check_eq "nothing of vm1 refused (conn_quota)" "$(counter hvA vm1 drops.conn_quota)" 0
check_eq "nothing of vm1 rate limited (icmp_ratelimit)" "$(counter hvA vm1 drops.icmp_ratelimit)" 0
check_eq "the table never filled (conn_table_full)" "$(stat_sum hvA drops.conn_table_full)" 0
no_conn0=$(counter hvA vm2 drops.no_conn)
check "vmF: 1000 bare ACKs more" n vmF "$PY" "$FLOOD" $INET --proto tcp --flags A \
	--sport 50000-50999 --dport 7000 --count 1000
check_eq "they opened nothing (no_conn)" "$(($(counter hvA vm2 drops.no_conn) - no_conn0))" 1000

# Nothing read the ring before evdump: it holds every delta since the load.
section "the ring buffer kept every delta of vmQ"
ifx=$(n hvA cat /sys/class/net/vm1/ifindex)
created=$(counter hvA vm1 conns_created)
check_gt "vmQ made connections during the flood" "$((created - created0))" $((ROUNDS * 20))
check_eq "a NEW on the ring for every connection of vmQ" \
	"$(jq -c --argjson i "$ifx" 'select(.type == "new" and .ifindex == $i)' "$EV" | wc -l)" "$created"
check_eq "no delta was lost (events_lost)" "$(stat_sum hvA events_lost)" 0
check_eq "none of vmQ's was held back (events_throttled)" "$(counter hvA vm1 events_throttled)" 0

section "after"
check "vmQ: 20 TCP connections" conns vmQ tcp $INET 7000 -n 20 --size 4096
check "hadp flow flush iface vm2" hadp hvA flow flush iface vm2
check_eq "vm2's count follows the flush" "$(json hvA iface show vm2 '.[0].conns')" 0
check "vmF opens a connection again" conns vmF tcp $INET 7000 -n 1 --size 4096

# ---- the agent -----------------------------------------------------------------------

HADPD=${HADPD:-$HADP_SRC/build/hadpd}
AGENT_PORT=9111

# metric NAME [LABEL]: a value of the agent's /metrics.
metric() {
	n hvA curl -s -m 2 "http://127.0.0.1:$AGENT_PORT/metrics" |
		awk -v n="$1" -v l="${2:-}" '$1 ~ "^"n"({|$)" && index($1, l) { print $2; exit }'
}

agent_ready() {
	for _ in $(seq 50); do
		[ "$(n hvA curl -s -m 2 -o /dev/null -w '%{http_code}' \
			"http://127.0.0.1:$AGENT_PORT/readyz")" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}

# vm2_flows: vm2's connections as the table holds them.
vm2_flows() { hadp hvA -j flow show iface vm2 | jq length; }

section "the agent rebuilds the counts, and evicts when the table is full"
check "vmF: 5 TCP connections (closing in the table)" conns vmF tcp $INET 7000 -n 5 --size 4096
check_eq "vm2's count is what the table holds" "$(json hvA iface show vm2 '.[0].conns')" "$(vm2_flows)"
# What a standby's mirror or a promotion's reconcile leaves: entries the
# datapath never counted.
ifx2=$(n hvA cat /sys/class/net/vm2/ifindex)
read -ra key <<<"$(printf '0x%02x 0x%02x 0x%02x 0x%02x' $((ifx2 & 255)) $((ifx2 >> 8 & 255)) \
	$((ifx2 >> 16 & 255)) $((ifx2 >> 24)))"
check "vm2's count wiped" bpftool map update pinned "$(bpffs hvA)/hadp/default/conn_counts" \
	key "${key[@]}" value 0 0 0 0 0 0 0 0
check_eq "and reads 0" "$(json hvA iface show vm2 '.[0].conns')" 0
nsenter --net="/run/netns/$(ns hvA)" "$HADPD" --bpffs "$(bpffs hvA)" --instance default \
	--active-lockfile "$TESTDIR/active.lock" --http "127.0.0.1:$AGENT_PORT" \
	--age-interval 60 --no-sync >"$TESTDIR/hadpd.log" 2>&1 &
bg_pid $!
check "hadpd adopts the instance and is ready" agent_ready
check_eq "its start rebuilt vm2's count from the table" \
	"$(json hvA iface show vm2 '.[0].conns')" "$(vm2_flows)"

hadp_must hvA iface set vm2 conn-limit $((CONNS_MAX * 4))
n vmF "$PY" "$FLOOD" $INET --dport 1-3000 --count 3000 >/dev/null
sleep 1
n vmF "$PY" "$FLOOD" $INET --dport 3001-4000 --count 1000 >/dev/null
sleep 2
check_gt "a full table (conn_table_full)" "$(stat_sum hvA drops.conn_table_full)" 0
check_gt "the agent evicted the never answered" "$(metric hadp_evicted_total)" 0
check_gt "each eviction published as a delete" \
	"$(metric hadp_deltas_read_total 'type="conn_delete"')" "$(($(metric hadp_evicted_total) - 1))"
check "vmQ: 20 TCP connections in the room made" conns vmQ tcp $INET 7000 -n 20 --size 4096

finish
