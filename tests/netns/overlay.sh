#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# overlay.sh: VM traffic over the IPv6 underlay between two hypervisors.
#
#  vmA1            vmA2                         vmB1            vmB2
#  10.0.0.1        10.0.0.2                     10.0.0.3        10.0.0.1 (again)
#  fd10::1         fd10::2                      fd10::3         fd10::1  (again)
#  VNI 100         VNI 100, MAC learned         VNI 100         VNI 200
#   eth0            eth0                         eth0            eth0
#    |               |                            |               |
#   vm1             vm2                          vm1             vm2
#  fd00:a::1       fd00:a::2                    fd00:b::1       fd00:b::2
# +------------ hvA ------------+            +------------ hvB ------------+
# | hadp, pins in bpffs/hvA     |            | hadp, pins in bpffs/hvB     |
# | owns fd00:a::/64            |            | owns fd00:b::/64            |
# |        ul0 fd00::a/64       |============|       ul0 fd00::b/64        |
# +-----------------------------+  underlay  +-----------------------------+
#                                  veth, MTU 1600 (1500 for the PMTU part)
#
# Every VM: host addresses (/32, /128), on-link default routes via
# 169.254.0.1 and fe80::1, transmit checksum offload off. The VNI 200 VM
# reuses vmA1's addresses and has no route anywhere: nothing may reach it
# and it may reach nothing.

# shellcheck source=tests/netns/lib.bash
source "$(dirname "$0")/lib.bash"

[ -x "$HADP" ] || die "no $HADP: run make"

# ---- topology --------------------------------------------------------------

add_hv hvA
add_hv hvB
veth_pair hvA ul0 hvB ul0
for hv in hvA hvB; do must n $hv ip link set dev ul0 mtu 1600; done
must n hvA ip -6 addr add fd00::a/64 dev ul0 nodad
must n hvB ip -6 addr add fd00::b/64 dev ul0 nodad
# The fabric routes each host's underlay prefix to the host.
must n hvA ip -6 route add fd00:b::/64 via fd00::b
must n hvB ip -6 route add fd00:a::/64 via fd00::a

add_vm hvA vmA1 vm1 10.0.0.1 fd10::1
add_vm hvA vmA2 vm2 10.0.0.2 fd10::2
add_vm hvB vmB1 vm1 10.0.0.3 fd10::3
add_vm hvB vmB2 vm2 10.0.0.1 fd10::1
# vmA2's MAC is learned from its first frame: keep it silent until then.
must n vmA2 ip link set dev eth0 down

for hv in hvA hvB; do
	hadp_must $hv dp load
	hadp_must $hv uplink set dev ul0
done
hadp_must hvA iface add vm1 dev vm1 vni 100 mac "$(mac vmA1 eth0)" ipv4 10.0.0.1 ipv6 fd10::1 underlay fd00:a::1
hadp_must hvA iface add vm2 dev vm2 vni 100 ipv4 10.0.0.2 ipv6 fd10::2 underlay fd00:a::2
hadp_must hvB iface add vm1 dev vm1 vni 100 mac "$(mac vmB1 eth0)" ipv4 10.0.0.3 ipv6 fd10::3 underlay fd00:b::1
hadp_must hvB iface add vm2 dev vm2 vni 200 mac "$(mac vmB2 eth0)" ipv4 10.0.0.1 ipv6 fd10::1 underlay fd00:b::2
hadp_must hvA route add 10.0.0.3/32 vni 100 via fd00:b::1
hadp_must hvA route add fd10::3/128 vni 100 via fd00:b::1
hadp_must hvB route add 10.0.0.1/32 vni 100 via fd00:a::1
hadp_must hvB route add fd10::1/128 vni 100 via fd00:a::1
hadp_must hvB route add 10.0.0.2/32 vni 100 via fd00:a::2
hadp_must hvB route add fd10::2/128 vni 100 via fd00:a::2

# ---- the hypervisors' own traffic ------------------------------------------

section "underlay: the hypervisors' own stacks, XDP attached"
check "hvA ul0 has an XDP program" test -n "$(prog_id hvA ul0)"
check "hvB ul0 has an XDP program" test -n "$(prog_id hvB ul0)"
check "hvA vm1 has an XDP program" test -n "$(prog_id hvA vm1)"
check "hvA pings hvB over the underlay" ping_ok hvA fd00::b
check "hvB pings hvA over the underlay" ping_ok hvB fd00::a
check "TCP between the hypervisors' stacks" tcp_xfer hvA hvB fd00::b

# ---- MAC learning ----------------------------------------------------------

section "MAC learning"
macA2=$(mac vmA2 eth0)
check "vm2 is shown" shows hvA vm2 iface show vm2
check_fails "vm2's MAC is not known before its first frame" shows hvA "$macA2" iface show vm2
vm_up vmA2
check "vmA2 (MAC not configured) pings vmA1" ping_ok vmA2 10.0.0.1
check "vm2's MAC is learned and shown" shows hvA "$macA2" iface show vm2

# ---- same host --------------------------------------------------------------

section "VM to VM on one host"
check "vmA1 -> vmA2 ping IPv4" ping_ok vmA1 10.0.0.2
check "vmA2 -> vmA1 ping IPv6" ping_ok vmA2 fd10::1
check "vmA1 -> vmA2 TCP IPv4, payload intact" tcp_xfer vmA1 vmA2 10.0.0.2
check "vmA2 -> vmA1 TCP IPv6, payload intact" tcp_xfer vmA2 vmA1 fd10::1

# ---- across hosts ------------------------------------------------------------

section "VM to VM across the underlay"
enc0=$(counter hvA vm1 encap)
check "vmA1 -> vmB1 ping IPv4" ping_ok vmA1 10.0.0.3
check "vmA1 -> vmB1 ping IPv6" ping_ok vmA1 fd10::3
check "vmB1 -> vmA2 ping IPv4" ping_ok vmB1 10.0.0.2
check "vmB1 -> vmA2 ping IPv6" ping_ok vmB1 fd10::2
check_gt "hvA vm1 encap counter rose" "$(counter hvA vm1 encap)" "$enc0"
check "vmA1 -> vmB1 TCP IPv4, payload intact" tcp_xfer vmA1 vmB1 10.0.0.3
check "vmB1 -> vmA1 TCP IPv4, payload intact" tcp_xfer vmB1 vmA1 10.0.0.1
check "vmA2 -> vmB1 TCP IPv6, payload intact" tcp_xfer vmA2 vmB1 fd10::3
check "vmB1 -> vmA2 TCP IPv6, payload intact" tcp_xfer vmB1 vmA2 fd10::2

# ---- VNI isolation -----------------------------------------------------------

section "a second VNI reusing the same addresses stays isolated"
# vmA1 and vmB2 both have 10.0.0.1; vmB1 must reach vmA1 (its VNI), even
# though vmB2 sits on its own host. Each answers with its name.
ids=()
for vm in vmA1 vmB2; do
	n_bg $vm timeout 30 socat TCP4-LISTEN:7000,reuseaddr "SYSTEM:echo $vm"
	ids+=("$BG")
done
sleep 0.5
who=$(n vmB1 timeout 10 socat -u TCP4:10.0.0.1:7000 - 2>&1)
check_eq "vmB1 -> 10.0.0.1 reaches vmA1 (VNI 100), not vmB2 (VNI 200)" "$who" vmA1
kill "${ids[@]}" 2>/dev/null
wait "${ids[@]}" 2>/dev/null
drops0=$(counter hvB vm2 drops.no_route)
check "vmB2 (VNI 200) cannot ping vmB1 on its own host" ping_none vmB2 10.0.0.3
check "vmB2 (VNI 200) cannot ping vmA2 across the underlay" ping_none vmB2 10.0.0.2
check "vmB2 (VNI 200) cannot ping vmB1 over IPv6" ping_none vmB2 fd10::3
check_gt "hvB vm2 counts the drops (no_route)" "$(counter hvB vm2 drops.no_route)" "$((drops0 + 3))"
tx0=$(counter hvB vm2 tx_packets)
check "vmA1 -> vmB1 still works" ping_ok vmA1 10.0.0.3
check_eq "nothing was delivered to vmB2 meanwhile" "$(counter hvB vm2 tx_packets)" "$tx0"

# ---- what a router would do -------------------------------------------------

section "spoofing and TTL"
must n vmA1 ip addr add 10.0.0.99/32 dev eth0
spoof0=$(counter hvA vm1 drops.spoof_ip)
check "vmA1 from an address not its own gets nowhere" ping_none vmA1 10.0.0.3 -I 10.0.0.99
check_gt "hvA vm1 counts it (spoof_ip)" "$(counter hvA vm1 drops.spoof_ip)" "$((spoof0 + 1))"
must n vmA1 ip addr del 10.0.0.99/32 dev eth0
out=$(n vmA1 ping -n -c 1 -W 2 -t 1 10.0.0.3 2>&1)
check "IPv4 TTL 1: time exceeded from the gateway" has "$out" 'From 169.254.0.1 .*Time to live exceeded'
out=$(n vmA1 ping -n -c 1 -W 2 -t 1 fd10::3 2>&1)
check "IPv6 hop limit 1: time exceeded from the gateway" has "$out" 'From fe80::1(%eth0)? .*Time exceeded'
check "TTL 2 reaches vmB1 (the datapath is one hop)" ping_ok vmA1 10.0.0.3 -t 2

# ---- maps and counters --------------------------------------------------------

section "pinned maps and counters"
dump=$(bpftool map dump pinned "$(bpffs hvA)/hadp/default/ifaces" 2>&1)
check "bpftool dumps ifaces with field name vni" grep -q '"vni"' <<<"$dump"
check "bpftool dumps ifaces with field name underlay" grep -q '"underlay"' <<<"$dump"
check "hadp -s iface show prints counters" shows hvB decap -s iface show vm1
check_gt "hvB vm1 tx_packets (decapsulated, delivered)" "$(counter hvB vm1 tx_packets)" 0
check_gt "hvA vm1 ARP replies" "$(counter hvA vm1 arp_replies)" 0
check_gt "hvA vm1 ND replies" "$(counter hvA vm1 nd_replies)" 0

# ---- path MTU ------------------------------------------------------------------

section "packet too big: underlay MTU 1500"
for hv in hvA hvB; do
	must n $hv ip link set dev ul0 mtu 1500
	hadp_must $hv uplink set dev ul0 mtu 1500
done
out=$(n vmA1 ping -n -c 1 -W 2 -Mdo -s 1472 10.0.0.3 2>&1)
check "IPv4 DF 1500 bytes: frag needed, mtu 1460" has "$out" 'Frag needed.*mtu = 1460'
check "vmA1 learned PMTU 1460 for vmB1" route_mtu vmA1 10.0.0.3 1460
out=$(n vmA1 ping -n -c 1 -W 2 -Mdo -s 1472 10.0.0.3 2>&1)
check "IPv4 DF 1500 bytes again: refused locally, mtu 1460" has "$out" 'local error: message too long, mtu=1460'
check "IPv4 DF 1460 bytes goes through" ping_ok vmA1 10.0.0.3 -Mdo -s 1432
out=$(n vmA1 ping -n -c 1 -W 2 -Mdo -s 1452 fd10::3 2>&1)
check "IPv6 1500 bytes: packet too big, mtu 1460" has "$out" 'packet too big.*mtu=1460'
check "vmA1 learned PMTU 1460 for fd10::3" route_mtu vmA1 fd10::3 1460
check "IPv6 1460 bytes goes through" ping_ok vmA1 fd10::3 -Mdo -s 1412
nodf0=$(counter hvB vm1 drops.too_big_no_df)
check "IPv4 without DF that does not fit is dropped" ping_none vmB1 10.0.0.1 -Mdont -s 1472
check_gt "hvB vm1 counts it (too_big_no_df)" "$(counter hvB vm1 drops.too_big_no_df)" "$nodf0"
check "TCP IPv4 across, PMTU discovery on the way" tcp_xfer vmB1 vmA2 10.0.0.2
check "TCP IPv6 across, PMTU discovery on the way" tcp_xfer vmB1 vmA1 fd10::1

# ---- checksums -----------------------------------------------------------------

section "no TCP checksum errors anywhere"
for x in hvA hvB vmA1 vmA2 vmB1 vmB2; do
	check_eq "TcpInCsumErrors in $x" "$(csum_errors $x)" 0
done

finish
