#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# neigh.sh: the underlay next hop's MAC comes from the kernel's neighbour
# table through the "neighs" map; `hadp neigh sync` follows a change; a
# next hop without a neighbour entry is counted and dropped.
#
#  vmA 10.0.0.1 fd10::1 (VNI 100)                    vmB 10.0.0.2 fd10::2 (VNI 100)
#   eth0                                              eth0
#    |                                                 |
#   vm1  underlay fd00:a::1                           vm1  underlay fd00:b::1
# +------ hvA (hadp) ------+                        +------ hvB (hadp) ------+
# |  ul0 fd00:1::a/64      |                        |      ul0 fd00:2::b/64  |
# +--------|---------------+                        +---------------|--------+
#          |            +-------- rtr (Linux) --------+             |
#          +------------| ulA fd00:1::1   fd00:2::1 ulB|-------------+
#                       |  routes fd00:a::/64, fd00:b::/64 to the hosts
#                       +-----------------------------+
#
# The underlay is routed: each hypervisor's next hop is the router, a Linux
# namespace without XDP, which drops frames that are not addressed to its
# MAC. When the router's MAC changes it announces it (ndisc_notify) and the
# hypervisors' kernels update their neighbour entries; hadp's map follows
# on `hadp neigh sync`.

# shellcheck source=tests/netns/lib.bash
source "$(dirname "$0")/lib.bash"

[ -x "$HADP" ] || die "no $HADP: run make"

# ---- topology ----------------------------------------------------------------

add_hv hvA
add_hv hvB
add_ns rtr
veth_pair hvA ul0 rtr ulA
veth_pair hvB ul0 rtr ulB
for x in "hvA ul0" "hvB ul0" "rtr ulA" "rtr ulB"; do
	# shellcheck disable=SC2086
	must n ${x% *} ip link set dev ${x#* } mtu 1600
done
must n hvA ip -6 addr add fd00:1::a/64 dev ul0 nodad
must n hvB ip -6 addr add fd00:2::b/64 dev ul0 nodad
must n rtr ip -6 addr add fd00:1::1/64 dev ulA nodad
must n rtr ip -6 addr add fd00:2::1/64 dev ulB nodad
must n rtr sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.conf.ulA.ndisc_notify=1
must n rtr ip -6 route add fd00:a::/64 via fd00:1::a
must n rtr ip -6 route add fd00:b::/64 via fd00:2::b
must n hvA ip -6 route add default via fd00:1::1
must n hvB ip -6 route add default via fd00:2::1
# A part of the underlay behind a next hop that does not exist.
must n hvA ip -6 route add fd00:9::/64 via fd00:1::99

add_vm hvA vmA vm1 10.0.0.1 fd10::1
add_vm hvB vmB vm1 10.0.0.2 fd10::2

for hv in hvA hvB; do
	hadp_must $hv dp load
	hadp_must $hv uplink set dev ul0
done
hadp_must hvA iface add vm1 dev vm1 vni 100 mac "$(mac vmA eth0)" ipv4 10.0.0.1 ipv6 fd10::1 underlay fd00:a::1
hadp_must hvB iface add vm1 dev vm1 vni 100 mac "$(mac vmB eth0)" ipv4 10.0.0.2 ipv6 fd10::2 underlay fd00:b::1
hadp_must hvA route add 10.0.0.2/32 vni 100 via fd00:b::1
hadp_must hvA route add fd10::2/128 vni 100 via fd00:b::1
hadp_must hvB route add 10.0.0.1/32 vni 100 via fd00:a::1
hadp_must hvB route add fd10::1/128 vni 100 via fd00:a::1

# kernel_lladdr NS ADDR: the MAC of neighbour ADDR in NS's kernel table.
kernel_lladdr() {
	n "$1" ip -j -6 neigh show "$2" | jq -r '.[0].lladdr // empty'
}

# ---- through the router ---------------------------------------------------------

section "routed underlay"
old=$(mac rtr ulA)
check "vmA -> vmB ping IPv4 through the router" ping_ok vmA 10.0.0.2
check "vmB -> vmA ping IPv6 through the router" ping_ok vmB fd10::1
check "vmA -> vmB TCP IPv4" tcp_xfer vmA vmB 10.0.0.2
check "hvA's map holds the router's MAC" shows hvA "$old" neigh show
check "hvA's kernel has a neighbour entry for the router" test "$(kernel_lladdr hvA fd00:1::1)" = "$old"

# ---- the router's MAC changes ---------------------------------------------------

section "the underlay neighbour's MAC changes"
new=02:00:5e:00:01:01
must n rtr ip link set dev ulA address $new
for _ in $(seq 50); do
	[ "$(kernel_lladdr hvA fd00:1::1)" = $new ] && break
	sleep 0.1
done
check_eq "hvA's kernel learned the new MAC" "$(kernel_lladdr hvA fd00:1::1)" "$new"
check "hvA's map still has the old MAC (no agent follows events yet)" shows hvA "$old" neigh show
check "vmA -> vmB fails while the map is stale" ping_none vmA 10.0.0.2
check "hadp neigh sync" hadp hvA neigh sync
check "hvA's map has the new MAC" shows hvA "$new" neigh show
check_fails "hvA's map no longer has the old MAC" shows hvA "$old" neigh show
check "vmA -> vmB ping IPv4 works again" ping_ok vmA 10.0.0.2
check "vmA -> vmB ping IPv6 works again" ping_ok vmA fd10::2
check "vmB -> vmA TCP IPv6 works again" tcp_xfer vmB vmA fd10::1

# ---- a missing neighbour ----------------------------------------------------------

section "a next hop without a neighbour"
check "route to a next hop behind an unresolvable gateway is accepted" \
	hadp hvA route add 10.0.9.9/32 vni 100 via fd00:9::1
nn0=$(counter hvA vm1 drops.no_neigh)
check "vmA -> 10.0.9.9 gets nowhere" ping_none vmA 10.0.9.9
check_gt "hvA vm1 counts it (no_neigh)" "$(counter hvA vm1 drops.no_neigh)" "$((nn0 + 1))"
check "hadp neigh show marks it incomplete" shows hvA 'incomplete' neigh show
check "other traffic is unaffected" ping_ok vmA 10.0.0.2

section "no TCP checksum errors anywhere"
for x in hvA hvB rtr vmA vmB; do
	check_eq "TcpInCsumErrors in $x" "$(csum_errors $x)" 0
done

finish
