#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# interop.sh: the far end of the underlay is the Linux kernel itself, with
# no hadp: SRv6 H.Encaps.Red (seg6 encap.red) with a single segment emits
# plain IPv4-in-IPv6 / IPv6-in-IPv6 (no routing header), and End.DX4 /
# End.DX6 take them. hadp must speak exactly that.
#
#  vmA 10.0.0.1 fd10::1 (VNI 100)             vmK 10.0.0.9 fd10::9
#   eth0                                       eth0
#    |                                          |
#   vm1  underlay fd00:a::1                    vmk  169.254.0.1/32, fe80::1/64
# +------ hvA (hadp) ------+                 +------ hvK (the kernel, no XDP) -------+
# |                        |                 | 10.0.0.1/32, fd10::1/128:             |
# |                        |                 |   encap seg6 mode encap.red           |
# |                        |                 |   segs fd00:a::1, tunsrc fd00:c::1    |
# |                        |                 | fd00:c::4/128: seg6local End.DX4      |
# |                        |                 |   nh4 10.0.0.9 dev vmk                |
# |                        |                 | fd00:c::6/128: seg6local End.DX6      |
# |                        |                 |   nh6 fd10::9 dev vmk                 |
# |   ul0 fd00::a/64       |=================|   ul0 fd00::c/64                      |
# +------------------------+  underlay veth  +---------------------------------------+
#
# hadp sends vmK's IPv4 to fd00:c::4 and its IPv6 to fd00:c::6 (one SID
# per family: End.DX4 takes next header 4 only, End.DX6 41 only).

# shellcheck source=tests/netns/lib.bash
source "$(dirname "$0")/lib.bash"

[ -x "$HADP" ] || die "no $HADP: run make"

# ---- topology ------------------------------------------------------------------

add_hv hvA
add_ns hvK
veth_pair hvA ul0 hvK ul0
for hv in hvA hvK; do must n $hv ip link set dev ul0 mtu 1600; done
must n hvA ip -6 addr add fd00::a/64 dev ul0 nodad
must n hvK ip -6 addr add fd00::c/64 dev ul0 nodad
must n hvA ip -6 route add fd00:c::/64 via fd00::c
must n hvK ip -6 route add fd00:a::/64 via fd00::a

add_vm hvA vmA vm1 10.0.0.1 fd10::1
add_vm hvK vmK vmk 10.0.0.9 fd10::9

# hvK: a plain Linux router for its VM, and the SRv6 ends.
must n hvK sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
must n hvK ip addr add 169.254.0.1/32 dev vmk
must n hvK ip addr add fe80::1/64 dev vmk nodad
must n hvK ip route add 10.0.0.9/32 dev vmk
must n hvK ip -6 route add fd10::9/128 dev vmk
must n hvK ip sr tunsrc set fd00:c::1
must n hvK ip route add 10.0.0.1/32 encap seg6 mode encap.red segs fd00:a::1 dev ul0
must n hvK ip -6 route add fd10::1/128 encap seg6 mode encap.red segs fd00:a::1 dev ul0
must n hvK ip -6 route add fd00:c::4/128 encap seg6local action End.DX4 nh4 10.0.0.9 dev vmk
must n hvK ip -6 route add fd00:c::6/128 encap seg6local action End.DX6 nh6 fd10::9 dev vmk

hadp_must hvA dp load
hadp_must hvA uplink set dev ul0
hadp_must hvA iface add vm1 dev vm1 vni 100 mac "$(mac vmA eth0)" ipv4 10.0.0.1 ipv6 fd10::1 underlay fd00:a::1
hadp_must hvA route add 10.0.0.9/32 vni 100 via fd00:c::4
hadp_must hvA route add fd10::9/128 vni 100 via fd00:c::6

# ---- what each side puts on the wire -----------------------------------------------

section "the wire format"
# tcpdump on hvK's ul0: it has no XDP, so it sees what both ends send.
check "kernel encap.red (one segment) emits plain IPv4-in-IPv6, no SRH" \
	capture hvK ul0 'ip6 and src fd00:c::1 and dst fd00:a::1 and ip6[6] == 4' \
	n vmK ping -c 1 -W 1 10.0.0.1
check "kernel encap.red emits plain IPv6-in-IPv6" \
	capture hvK ul0 'ip6 and src fd00:c::1 and dst fd00:a::1 and ip6[6] == 41' \
	n vmK ping -c 1 -W 1 fd10::1
check "hadp emits IPv4-in-IPv6 from the iface's underlay address, with a flow label" \
	capture hvK ul0 'ip6 and src fd00:a::1 and dst fd00:c::4 and ip6[6] == 4 and (ip6[1:4] & 0x000fffff) != 0' \
	n vmA ping -c 1 -W 1 10.0.0.9
check "hadp emits IPv6-in-IPv6 from the iface's underlay address, with a flow label" \
	capture hvK ul0 'ip6 and src fd00:a::1 and dst fd00:c::6 and ip6[6] == 41 and (ip6[1:4] & 0x000fffff) != 0' \
	n vmA ping -c 1 -W 1 fd10::9

# ---- traffic --------------------------------------------------------------------

section "VM traffic to and from a kernel-only host"
check "vmA -> vmK ping IPv4 (hadp encap, End.DX4)" ping_ok vmA 10.0.0.9
check "vmA -> vmK ping IPv6 (hadp encap, End.DX6)" ping_ok vmA fd10::9
check "vmK -> vmA ping IPv4 (encap.red, hadp decap)" ping_ok vmK 10.0.0.1
check "vmK -> vmA ping IPv6 (encap.red, hadp decap)" ping_ok vmK fd10::1
tx0=$(counter hvA vm1 tx_packets)
check "vmA -> vmK TCP IPv4, payload intact" tcp_xfer vmA vmK 10.0.0.9
check "vmK -> vmA TCP IPv4, payload intact" tcp_xfer vmK vmA 10.0.0.1
check "vmA -> vmK TCP IPv6, payload intact" tcp_xfer vmA vmK fd10::9
check "vmK -> vmA TCP IPv6, payload intact" tcp_xfer vmK vmA fd10::1
check_gt "hvA delivered the kernel's packets to vm1 (tx_packets)" "$(counter hvA vm1 tx_packets)" "$tx0"

section "no TCP checksum errors anywhere"
for x in hvA hvK vmA vmK; do
	check_eq "TcpInCsumErrors in $x" "$(csum_errors $x)" 0
done

finish
