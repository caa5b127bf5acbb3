#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# nat.sh: VMs reach an "internet" through SNAT and a VIP; the NAT router is
# the Linux kernel's own IPv4-in-IPv6 (seg6 End.DX4 one way, encap.red the
# other); one NAT IP is shared by two hosts with disjoint port ranges, and
# return traffic that reaches the wrong host is relayed to the right one.
#
#  vmS 10.0.0.1         vmV 10.0.0.2           vmX 10.0.0.3         vmB 10.0.0.4
#  SNAT 203.0.113.1     VIP 203.0.113.10       SNAT 203.0.113.2     SNAT 203.0.113.1
#   ports 10000-10999    (ul fd00:a::200), and  ports 20000-20007    ports 11000-11999
#   ul fd00:a::100       SNAT 203.0.113.1       ul fd00:a::102       ul fd00:b::100
#                        12000-12099 (unused:
#                        the VIP wins) fd00:a::101
#   vm1                  vm2                    vm3                  vm1
# +------------------------- hvA (hadp) --------------------+     +------ hvB (hadp) ------+
# | route 0.0.0.0/0 vni 100 nat; nat router fd00:f::1      |     | the same               |
# | nat neigh 203.0.113.1 11000-11999 -> fd00:b::100       |     | nat neigh 203.0.113.1  |
# |                                                         |     |  10000-10999, 12000-   |
# |                                                         |     |  12099 -> fd00:a::10x  |
# |                     ul0 fd00:1::a/64                    |     |  ul0 fd00:2::b/64      |
# +-----------------------|---------------------------------+     +--------|---------------+
#                         |     +----------- rtr (Linux, no hadp) -------+ |
#                         +-----| ulA fd00:1::1            fd00:2::1 ulB |-+
#                               | fd00:a::/64 via hvA, fd00:b::/64 via hvB
#                               | fd00:f::1: seg6local End.DX4 nh4 198.51.100.2
#                               | 203.0.113.1/32: encap.red -> fd00:a::100 (hvA), later
#                               |   fd00:b::100 (hvB): the other host's share is relayed
#                               | 203.0.113.2/32 -> fd00:a::102, 203.0.113.10/32 -> fd00:a::200
#                               | inet0 198.51.100.1/24 (MTU 1400 for the PMTU part)
#                               +---|-------------------------------------+
#                                   |
#                         inet 198.51.100.2/24: echo servers (conns.py serve: TCP 7000,
#                         UDP 7001, UDP 7002 with zero checksums), tcpdump on eth0
#
# Every namespace that originates TCP (VMs, rtr, inet) has transmit checksum
# offload off (veth_pair). The internet side must only ever see the NAT IPs
# with ports inside their ranges, or the VIP: the servers log every peer,
# and tcpdump on inet's eth0 records everything (checked by conns.py pcap).

# shellcheck disable=SC2317 # helpers called through check
# shellcheck source=tests/netns/lib.bash
source "$(dirname "$0")/lib.bash"

[ -x "$HADP" ] || die "no $HADP: run make"
command -v "$PY" >/dev/null || die "no $PY"

NAT=203.0.113.1
NAT_X=203.0.113.2
VIP=203.0.113.10
INET=198.51.100.2
A_MIN=10000 A_MAX=10999
B_MIN=11000 B_MAX=11999
V_MIN=12000 V_MAX=12099
X_MIN=20000 X_MAX=20007
NCONN=${NCONN:-200}

# ---- topology ----------------------------------------------------------------

add_hv hvA
add_hv hvB
add_ns rtr
add_ns inet
# IPv4 settings are copied from the root namespace: no reverse-path filter
# (hvB's packets come in on ulB, the NAT IP's route points at ulA), and no
# ICMP error rate limit (every error goes to the one NAT IP).
for x in rtr inet; do
	must n $x sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.icmp_ratelimit=0
done
veth_pair hvA ul0 rtr ulA
veth_pair hvB ul0 rtr ulB
veth_pair rtr inet0 inet eth0
for x in "hvA ul0" "hvB ul0" "rtr ulA" "rtr ulB"; do
	# shellcheck disable=SC2086
	must n ${x% *} ip link set dev ${x#* } mtu 1600
done
must n hvA ip -6 addr add fd00:1::a/64 dev ul0 nodad
must n hvB ip -6 addr add fd00:2::b/64 dev ul0 nodad
must n rtr ip -6 addr add fd00:1::1/64 dev ulA nodad
must n rtr ip -6 addr add fd00:2::1/64 dev ulB nodad
must n rtr ip addr add 198.51.100.1/24 dev inet0
must n inet ip addr add $INET/24 dev eth0
must n inet ip route add default via 198.51.100.1
must n hvA ip -6 route add default via fd00:1::1
must n hvB ip -6 route add default via fd00:2::1

# rtr: the fabric, and the NAT router as the kernel does it.
must n rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
must n rtr ip -6 route add fd00:a::/64 via fd00:1::a
must n rtr ip -6 route add fd00:b::/64 via fd00:2::b
must n rtr ip sr tunsrc set fd00:f::1
must n rtr ip -6 route add fd00:f::1/128 encap seg6local action End.DX4 nh4 $INET dev inet0
# nat_to HV: return traffic for the shared NAT IP goes to HV's share.
nat_to() {
	case $1 in
	hvA) n rtr ip route replace "$NAT/32" encap seg6 mode encap.red segs fd00:a::100 dev ulA ;;
	hvB) n rtr ip route replace "$NAT/32" encap seg6 mode encap.red segs fd00:b::100 dev ulB ;;
	esac
}
must nat_to hvA
must n rtr ip route add $NAT_X/32 encap seg6 mode encap.red segs fd00:a::102 dev ulA
must n rtr ip route add $VIP/32 encap seg6 mode encap.red segs fd00:a::200 dev ulA

add_vm hvA vmS vm1 10.0.0.1
add_vm hvA vmV vm2 10.0.0.2
add_vm hvA vmX vm3 10.0.0.3
add_vm hvB vmB vm1 10.0.0.4

# The underlay next hop in the kernel's table before hadp looks it up.
must n hvA ping -n -c 1 -W 2 fd00:1::1
must n hvB ping -n -c 1 -W 2 fd00:2::1

for hv in hvA hvB; do
	hadp_must $hv dp load
	hadp_must $hv uplink set dev ul0
	hadp_must $hv nat router fd00:f::1
	hadp_must $hv route add 0.0.0.0/0 vni 100 nat
done
hadp_must hvA iface add vm1 dev vm1 vni 100 mac "$(mac vmS eth0)" ipv4 10.0.0.1 underlay fd00:a::1
hadp_must hvA iface add vm2 dev vm2 vni 100 mac "$(mac vmV eth0)" ipv4 10.0.0.2 underlay fd00:a::2
hadp_must hvA iface add vm3 dev vm3 vni 100 mac "$(mac vmX eth0)" ipv4 10.0.0.3 underlay fd00:a::3
hadp_must hvB iface add vm1 dev vm1 vni 100 mac "$(mac vmB eth0)" ipv4 10.0.0.4 underlay fd00:b::1
hadp_must hvA nat add iface vm1 ip $NAT ports $A_MIN-$A_MAX underlay fd00:a::100
hadp_must hvA nat add iface vm2 ip $NAT ports $V_MIN-$V_MAX underlay fd00:a::101
hadp_must hvA vip add iface vm2 ip $VIP underlay fd00:a::200
hadp_must hvA nat add iface vm3 ip $NAT_X ports $X_MIN-$X_MAX underlay fd00:a::102
hadp_must hvA nat neigh add ip $NAT ports $B_MIN-$B_MAX underlay fd00:b::100
hadp_must hvB nat add iface vm1 ip $NAT ports $B_MIN-$B_MAX underlay fd00:b::100
hadp_must hvB nat neigh add ip $NAT ports $A_MIN-$A_MAX underlay fd00:a::100
hadp_must hvB nat neigh add ip $NAT ports $V_MIN-$V_MAX underlay fd00:a::101

# inet: the servers, and a capture of everything the internet sees.
LOG=$TESTDIR/inet.log
serve inet "$LOG" --tcp 7000 --udp 7001 --udp0 7002 || die "the echo server in inet did not start"
n_bg inet tcpdump -i eth0 -n -s 128 -B 16384 -U -w "$TESTDIR/inet.pcap" ip 2>"$TESTDIR/inet.tcpdump"
CAPTURE=$BG
sleep 1

# mark: the number of lines in the server log now (peers after it are new).
mark() { wc -l <"$LOG"; }
# peers FROM PROTO [IP MIN MAX]: distinct PROTO peers ("ip port") logged
# after line FROM, all of them or those of IP with a port in [MIN, MAX].
peers() {
	tail -n +"$(($1 + 1))" "$LOG" | awk -v p="$2" -v ip="${3:-}" -v lo="${4:-0}" -v hi="${5:-65535}" \
		'$1 == p && (ip == "" || ($2 == ip && $3 >= lo && $3 <= hi)) { print $2, $3 }' | sort -u | wc -l
}
# entries HV MAP: how many entries HV's map MAP (conns, conns_rev) holds.
entries() {
	bpftool -j map dump pinned "$(bpffs "$1")/hadp/default/$2" | jq length
}

# ---- configuration -------------------------------------------------------------

section "configuration"
check "nat show lists vm1's range" shows hvA "$NAT.*$A_MIN.*$A_MAX" nat show
check "nat show lists the neighbour's range" shows hvA "$B_MIN.*$B_MAX.*fd00:b::100" nat show
check "nat router: fd00:f::1 through the underlay gateway, rtr's MAC" \
	shows hvA "fd00:f::1 gateway fd00:1::1 dev ul0 lladdr $(mac rtr ulA) valid" nat router
check "vip show lists vm2's VIP" shows hvA "$VIP.*fd00:a::200" vip show
check "route show has the nat route" shows hvA '0\.0\.0\.0/0.*nat' route show
# refused REGEX ARGS...: `hadp hvA ARGS` fails with an error matching REGEX.
refused() {
	local re=$1 out
	shift
	! out=$(hadp hvA "$@" 2>&1) && has "$out" "$re"
}
check "hadp nat del iface vm3" hadp hvA nat del iface vm3
check_fails "vm3's range is gone" shows hvA "$X_MIN" nat show
check "a range overlapping another on the same NAT IP is refused" \
	refused "overlap.*$A_MIN-$A_MAX.*vm1" nat add iface vm3 ip $NAT ports 10999-11000 underlay fd00:a::102
check "a neighbour range overlapping a local one is refused" \
	refused "overlap.*$A_MIN-$A_MAX.*vm1" nat neigh add ip $NAT ports 10500-10501 underlay fd00:b::101
check "a local range overlapping a neighbour's is refused" \
	refused "overlap.*$B_MIN-$B_MAX" nat add iface vm3 ip $NAT ports 11500-11501 underlay fd00:a::102
check_fails "nothing was half-applied" shows hvA "ports (10999-11000|10500-10501|11500-11501)|fd00:b::101" nat show
check "hadp nat add iface vm3 again" hadp hvA nat add iface vm3 ip $NAT_X ports $X_MIN-$X_MAX underlay fd00:a::102
check "vm3's range is back" shows hvA "$NAT_X ports $X_MIN-$X_MAX iface vm3" nat show

# ---- SNAT -----------------------------------------------------------------------

section "SNAT: ping, UDP, TCP from vmS"
snat0=$(counter hvA vm1 snat)
check "vmS pings the internet" ping_ok vmS $INET
m=$(mark)
check "vmS: 50 UDP flows, 3 datagrams each, echoed" conns vmS udp $INET 7001 -n 50
check_eq "the server saw 50 UDP peers, all $NAT:$A_MIN-$A_MAX" \
	"$(peers "$m" udp $NAT $A_MIN $A_MAX)/$(peers "$m" udp)" 50/50
check "vmS sends zero UDP checksums (SO_NO_CHECK works here)" \
	capture vmS eth0 'udp dst port 7002 and udp[6:2] == 0' conns vmS udp $INET 7002 -n 1 --nocsum
m=$(mark)
check "vmS: 50 UDP flows with zero checksums, both ways" conns vmS udp $INET 7002 -n 50 --nocsum
check_eq "the server saw 50 zero-checksum UDP peers, all $NAT:$A_MIN-$A_MAX" \
	"$(peers "$m" udp0 $NAT $A_MIN $A_MAX)/$(peers "$m" udp0)" 50/50
m=$(mark)
check "vmS: $NCONN TCP connections open at once, 64 KiB echoed on each" \
	conns vmS tcp $INET 7000 -n "$NCONN"
check_eq "the server saw $NCONN TCP peers, all $NAT:$A_MIN-$A_MAX" \
	"$(peers "$m" tcp $NAT $A_MIN $A_MAX)/$(peers "$m" tcp)" "$NCONN/$NCONN"
check "vmS: 4 MiB over TCP, payload intact" tcp_xfer vmS inet $INET
frag0=$(counter hvA vm1 drops.fragment)
check "vmS: a ping of 3000 bytes (fragmented) gets no answer" ping_none vmS $INET -s 3000
check_gt "hvA vm1 drops the non-first fragment (fragment)" "$(counter hvA vm1 drops.fragment)" "$frag0"
check_gt "hvA vm1 counts translations (snat)" "$(counter hvA vm1 snat)" "$((snat0 + NCONN))"
check_gt "hvA counts translations back (dnat)" "$(stat_sum hvA dnat)" "$NCONN"
check_gt "hvA counts created connections" "$(stat_sum hvA conns_created)" "$((NCONN + 100))"

# ---- VIP ---------------------------------------------------------------------------

section "VIP: vmV both ways, preferred over its SNAT"
check "vmV pings the internet" ping_ok vmV $INET
m=$(mark)
check "vmV: 50 UDP flows" conns vmV udp $INET 7001 -n 50
check "vmV: $NCONN TCP connections at once" conns vmV tcp $INET 7000 -n "$NCONN"
check_eq "the server saw vmV only as $VIP (UDP)" "$(peers "$m" udp $VIP)/$(peers "$m" udp)" 50/50
check_eq "the server saw vmV only as $VIP (TCP)" "$(peers "$m" tcp $VIP)/$(peers "$m" tcp)" "$NCONN/$NCONN"
check "the internet pings the VIP" ping_ok inet $VIP
frag0=$(stat_sum hvA drops.fragment)
check "the internet: a ping of 3000 bytes to the VIP gets no answer" ping_none inet $VIP -s 3000
check_gt "hvA drops the non-first fragment from the uplink (fragment)" "$(stat_sum hvA drops.fragment)" "$frag0"
check "the internet -> vmV TCP through the VIP, payload intact" tcp_xfer inet vmV $VIP
VLOG=$TESTDIR/vmV.log
serve vmV "$VLOG" --udp 7101 || die "the echo server in vmV did not start"
check "the internet: 20 UDP flows to the VIP, echoed" conns inet udp $VIP 7101 -n 20
check_eq "vmV saw them from the internet's own address" \
	"$(awk '{ print $2 }' "$VLOG" | sort -u)" $INET

# ---- the wire between hadp and the router -----------------------------------------

section "the wire: IPv4-in-IPv6 between hadp and the kernel's seg6"
check "SNAT leaves from vm1's NAT underlay address to the NAT router" \
	capture rtr ulA 'ip6 and src fd00:a::100 and dst fd00:f::1 and ip6[6] == 4' \
	n vmS ping -c 1 -W 1 $INET
check "the VIP's traffic leaves from the VIP's underlay address" \
	capture rtr ulA 'ip6 and src fd00:a::200 and dst fd00:f::1 and ip6[6] == 4' \
	n vmV ping -c 1 -W 1 $INET
check "return traffic comes to the NAT underlay address (encap.red)" \
	capture rtr ulA 'ip6 and dst fd00:a::100 and ip6[6] == 4' \
	n vmS ping -c 1 -W 1 $INET

# ---- one NAT IP, two hosts ------------------------------------------------------------

# both ARGS...: `conns VM ARGS` in vmS (hvA) and vmB (hvB) at the same
# time, through the one NAT IP; prints both results.
both() {
	local s b rs=0 rb=0
	conns vmS "$@" >"$TESTDIR/both.vmS" 2>&1 &
	s=$!
	conns vmB "$@" >"$TESTDIR/both.vmB" 2>&1 &
	b=$!
	wait "$s" || rs=$?
	wait "$b" || rb=$?
	sed 's/^/vmS: /' "$TESTDIR/both.vmS"
	sed 's/^/vmB: /' "$TESTDIR/both.vmB"
	[ "$rs" -eq 0 ] && [ "$rb" -eq 0 ]
}

for owner in hvA hvB; do
	other=$([ $owner = hvA ] && echo hvB || echo hvA)
	far=$([ $owner = hvA ] && echo vmB || echo vmS)
	section "one NAT IP on two hosts; the router sends all of it to $owner"
	must nat_to $owner
	relayed0=$(stat_sum $owner nat_relayed)
	m=$(mark)
	check "vmS and vmB: $NCONN TCP connections each, at the same time" both tcp $INET 7000 -n "$NCONN"
	check_eq "the server saw $NCONN TCP peers in hvA's range" "$(peers "$m" tcp $NAT $A_MIN $A_MAX)" "$NCONN"
	check_eq "the server saw $NCONN TCP peers in hvB's range" "$(peers "$m" tcp $NAT $B_MIN $B_MAX)" "$NCONN"
	check_eq "and no other" "$(peers "$m" tcp)" $((2 * NCONN))
	m=$(mark)
	check "vmS and vmB: 50 UDP flows each, at the same time" both udp $INET 7001 -n 50
	check_eq "the server saw 50 + 50 UDP peers, each in its host's range" \
		"$(peers "$m" udp $NAT $A_MIN $A_MAX)+$(peers "$m" udp $NAT $B_MIN $B_MAX)/$(peers "$m" udp)" 50+50/100
	check "vmS pings the internet" ping_ok vmS $INET
	check "vmB pings the internet" ping_ok vmB $INET
	check_gt "$owner relayed $far's return traffic to $other (nat_relayed)" \
		"$(stat_sum $owner nat_relayed)" "$((relayed0 + NCONN))"
	check "ICMP port unreachable for $far's UDP comes back through the relay" \
		conns "$far" refused $INET 7999
done
must nat_to hvA

# ---- ICMP errors through NAT --------------------------------------------------------------

section "ICMP errors through NAT: unreachable, time exceeded, path MTU"
check "SNAT: UDP to a closed port gets ECONNREFUSED (port unreachable translated)" \
	conns vmS refused $INET 7999
check "VIP: UDP to a closed port gets ECONNREFUSED" conns vmV refused $INET 7999
out=$(n vmS ping -n -c 1 -W 2 -t 1 $INET 2>&1)
check "TTL 1: time exceeded from hadp's gateway" has "$out" 'From 169.254.0.1 .*Time to live exceeded'
out=$(n vmS ping -n -c 1 -W 2 -t 2 $INET 2>&1)
check "TTL 2: time exceeded from the router, translated back" has "$out" 'From 198.51.100.1 .*Time to live exceeded'
out=$(n vmV ping -n -c 1 -W 2 -t 2 $INET 2>&1)
check "TTL 2 through the VIP: time exceeded from the router" has "$out" 'From 198.51.100.1 .*Time to live exceeded'
must n rtr ip link set dev inet0 mtu 1400
check "SNAT: 4 MiB TCP to the internet behind an MTU 1400 hop (PMTU discovery)" tcp_xfer vmS inet $INET
check "vmS learned path MTU 1400" route_mtu vmS $INET 1400
out=$(n vmV ping -n -c 1 -W 2 -Mdo -s 1472 $INET 2>&1)
check "VIP: DF 1500 bytes gets frag needed, mtu 1400, from the router" has "$out" 'From 198.51.100.1 .*Frag needed.*mtu = 1400'
check "VIP: 4 MiB TCP behind the MTU 1400 hop" tcp_xfer vmV inet $INET
# The router sends the NAT IP to hvA: vmB's errors must be relayed to hvB.
out=$(n vmB ping -n -c 1 -W 2 -Mdo -s 1472 $INET 2>&1)
check "SNAT on hvB: frag needed comes back relayed through hvA" has "$out" 'Frag needed.*mtu = 1400'
must n rtr ip link set dev inet0 mtu 1500

# ---- port exhaustion ---------------------------------------------------------------------

section "port exhaustion: vmX has 8 ports"
m=$(mark)
check "vmX: 8 UDP flows take the 8 ports" conns vmX udp $INET 7001 -n 8 --count 1
check_eq "the server saw 8 peers in $NAT_X:$X_MIN-$X_MAX" "$(peers "$m" udp $NAT_X $X_MIN $X_MAX)/$(peers "$m" udp)" 8/8
exh0=$(counter hvA vm3 drops.nat_exhausted)
check_fails "a 9th flow to the same server gets no port" conns vmX udp $INET 7001 -n 1 --count 1 --timeout 0.3
check_gt "hvA vm3 counts it (nat_exhausted)" "$(counter hvA vm3 drops.nat_exhausted)" "$exh0"
check_eq "vm3 still has exactly 8 connections" \
	"$(hadp hvA -j flow show iface vm3 | jq length)" 8
check "hadp flow flush iface vm3" hadp hvA flow flush iface vm3
check_eq "vm3 has no connection left" "$(hadp hvA -j flow show iface vm3 | jq length)" 0
check "vmX: a new flow gets a port again" conns vmX udp $INET 7001 -n 1 --count 1

# ---- what the internet saw ------------------------------------------------------------------

section "what the internet saw"
kill -INT "$CAPTURE" 2>/dev/null
wait "$CAPTURE" 2>/dev/null
sed 's/^/     /' "$TESTDIR/inet.tcpdump"
check "every packet on the internet side is NAT IP:port in range, or the VIP" \
	conns inet pcap "$TESTDIR/inet.pcap" --local $INET \
	--nat $NAT:$A_MIN-$A_MAX $NAT:$B_MIN-$B_MAX $NAT_X:$X_MIN-$X_MAX --vip $VIP
check_eq "no VM address in the server's logs" "$(grep -c ' 10\.' "$LOG")" 0

# ---- unknown inbound ------------------------------------------------------------------------

section "inbound traffic that no connection holds"
# udp_probe PORT: one datagram from the internet to the NAT IP.
udp_probe() { echo probe | n inet socat -u - "UDP4-SENDTO:$NAT:$1"; }
noconn0=$(stat_sum hvA drops.no_conn)
tx0=$(counter hvA vm1 tx_packets)
check "a datagram to an unused port of hvA's range" udp_probe 10998
check "a TCP SYN to an unused port of hvA's range" \
	bash -c "! ip netns exec $(ns inet) timeout 3 socat -u /dev/null TCP4:$NAT:10997,connect-timeout=1"
check "a datagram to a port in no range" udp_probe 80
sleep 0.5
check_gt "hvA drops them (no_conn)" "$(stat_sum hvA drops.no_conn)" "$((noconn0 + 2))"
check_eq "nothing reached vmS" "$(counter hvA vm1 tx_packets)" "$tx0"
relayed0=$(stat_sum hvA nat_relayed)
noconnB0=$(stat_sum hvB drops.no_conn)
check "a datagram to an unused port of hvB's range" udp_probe 11998
sleep 0.5
check_gt "hvA relays it to hvB" "$(stat_sum hvA nat_relayed)" "$relayed0"
check_gt "hvB drops it (no_conn)" "$(stat_sum hvB drops.no_conn)" "$noconnB0"

# ---- the connection table ---------------------------------------------------------------------

section "hadp flow show, age, flush"
out=$(hadp hvA -j flow show iface vm1)
check_gt "flow show lists vm1's connections" "$(jq length <<<"$out")" "$((2 * NCONN))"
check "flow show: vmS's TCP connections to the server" \
	has "$(hadp hvA flow show iface vm1)" "10\.0\.0\.1.*198\.51\.100\.2.*7000.*$NAT"
check_eq "flow show iface vm1 shows vm1's only" \
	"$(jq -r '[.[] | .iface] | unique | join(",")' <<<"$out")" vm1
check_eq "every one of them is SNAT to $NAT:$A_MIN-$A_MAX" \
	"$(jq --arg ip $NAT --argjson lo $A_MIN --argjson hi $A_MAX \
		'[.[] | select(.nat != "snat" or .nat_ip != $ip or .nat_port < $lo or .nat_port > $hi)] | length' <<<"$out")" 0
check_eq "every one of vm2's is the VIP" \
	"$(hadp hvA -j flow show iface vm2 | jq --arg ip $VIP '[.[] | select(.nat != "vip" or .nat_ip != $ip)] | length')" 0
check_eq "conns and conns_rev hold the same number of entries" \
	"$(entries hvA conns)" "$(entries hvA conns_rev)"
vm1n=$(jq length <<<"$out")
check_gt "vm2 has connections" "$(hadp hvA -j flow show iface vm2 | jq length)" "$NCONN"
check "hadp flow flush iface vm2" hadp hvA flow flush iface vm2
check_eq "vm2 has no connection left" "$(hadp hvA -j flow show iface vm2 | jq length)" 0
check_eq "vm1's are all still there" "$(hadp hvA -j flow show iface vm1 | jq length)" "$vm1n"
conns vmS tcp $INET 7000 -n 5 --hold 6 >"$TESTDIR/held" 2>&1 &
held=$!
bg_pid $held
sleep 2
check "hadp flow timeouts tcp-closing 1 udp 1 icmp 1 unreplied 1" hadp hvA flow timeouts tcp-closing 1 udp 1 icmp 1 unreplied 1
sleep 2
check "hadp flow age" hadp hvA flow age
out=$(hadp hvA -j flow show iface vm1)
check_eq "aging left vm1's 5 established connections" "$(jq length <<<"$out")" 5
check "vmS's 5 held connections finish, payload intact" wait $held
sed 's/^/     /' "$TESTDIR/held"
check "hadp flow flush" hadp hvA flow flush
check_eq "flow show is empty" "$(hadp hvA -j flow show | jq length)" 0
check_eq "conns is empty" "$(entries hvA conns)" 0
check_eq "conns_rev is empty" "$(entries hvA conns_rev)" 0
check_gt "hvB still has its connections (flush is per host)" "$(entries hvB conns)" 0
check "traffic opens new connections after the flush" ping_ok vmS $INET

# ---- checksums ------------------------------------------------------------------------------------

section "no checksum errors anywhere"
for x in hvA hvB rtr inet vmS vmV vmX vmB; do
	check_eq "TcpInCsumErrors in $x" "$(csum_errors $x)" 0
	check_eq "UdpInCsumErrors in $x" "$(udp_csum_errors $x)" 0
done

finish
