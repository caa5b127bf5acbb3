#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Helpers are called through check and command substitutions:
# shellcheck disable=SC2317
#
# neigh.sh: the underlay next hop's MAC comes from the kernel's neighbour
# table through the "neighs" map; `hadp neigh sync` follows a change; a
# next hop without a neighbour entry is counted and dropped. With hadpd
# running, the map follows the kernel's neighbour events by itself, and
# the agent's audit reports a root slot emptied behind its back and an
# instance whose configuration differs.
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
# on `hadp neigh sync`, or by itself where hadpd runs.

# shellcheck source=tests/netns/lib.bash
source "$(dirname "$0")/lib.bash"

HADPD=${HADPD:-$HADP_SRC/build/hadpd}
[ -x "$HADP" ] || die "no $HADP: run make"
[ -x "$HADPD" ] || die "no $HADPD: run make"

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

# ---- hadpd follows the neighbour table ---------------------------------------------

PORT=9131
AGENT_LOG=$TESTDIR/hadpd.log

# metric NAME: a metric of hvA's agent (empty when unreadable).
metric() {
	n hvA curl -s -m 2 "http://127.0.0.1:$PORT/metrics" |
		awk -v n="$1" '$1 ~ "^"n"({|$)" { print $2; exit }'
}

wait_ready() {
	for _ in $(seq 50); do
		[ "$(n hvA curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}

# map_lladdr ADDR: the MAC hvA's neighs map holds for next hop ADDR.
map_lladdr() {
	hadp hvA -j neigh show | jq -r --arg a "$1" '.[] | select(.addr == $a) | .lladdr'
}

# follows ADDR MAC: within 2 s, hvA's map holds MAC for ADDR.
follows() {
	local got
	for _ in $(seq 20); do
		got=$(map_lladdr "$1")
		[ "$got" = "$2" ] && return 0
		sleep 0.1
	done
	echo "neighs holds '$got' for $1, want $2"
	return 1
}

# more_findings N: within 3 s, the audit has more than N findings.
more_findings() {
	local f
	for _ in $(seq 30); do
		f=$(metric hadp_audit_findings_total)
		[ "${f:-0}" -gt "$1" ] && { echo "findings: $1 -> $f"; return 0; }
		sleep 0.1
	done
	echo "findings: $1 -> ${f:-none}"
	return 1
}

section "hadpd follows the kernel's neighbour table"
nsenter --net="/run/netns/$(ns hvA)" "$HADPD" --bpffs "$(bpffs hvA)" \
	--instance default --active-lockfile "$TESTDIR/active.lock" --no-sync \
	--http "127.0.0.1:$PORT" --audit-interval 1 >"$AGENT_LOG" 2>&1 &
bg_pid $!
check "hadpd is ready" wait_ready
check_eq "the map holds the router's MAC" "$(map_lladdr fd00:b::1)" "$new"

newer=02:00:5e:00:01:02
must n rtr ip link set dev ulA address $newer
check "the router's new MAC reaches the map within 2 s, no neigh sync" follows fd00:b::1 $newer
check "vmA -> vmB ping IPv4 through the new MAC" ping_ok vmA 10.0.0.2
check "vmB -> vmA TCP IPv6 through the new MAC" tcp_xfer vmB vmA fd10::1

bogus=02:00:5e:00:0b:ad
must n hvA ip -6 neigh replace fd00:1::1 lladdr $bogus dev ul0
check "ip neigh replace reaches the map within 2 s" follows fd00:b::1 $bogus
check "vmA -> vmB fails towards the wrong MAC" ping_none vmA 10.0.0.2
must n hvA ip -6 neigh replace fd00:1::1 lladdr $newer dev ul0
check "the map follows back" follows fd00:b::1 $newer
check "vmA -> vmB ping IPv4 works again" ping_ok vmA 10.0.0.2
check "vmA -> vmB ping IPv6 works again" ping_ok vmA fd10::2
check "the agent logged the change" \
	grep -q "^<6>neighbour of fd00:b::1 in default: gateway fd00:1::1 dev ul0 lladdr $newer valid (was $bogus valid)" "$AGENT_LOG"
check_gt "hadp_neigh_events_total" "$(metric hadp_neigh_events_total)" 0
check_gt "hadp_neigh_updates_total counts the three rewrites" "$(metric hadp_neigh_updates_total)" 2
check_eq "hadp_neigh_errors_total" "$(metric hadp_neigh_errors_total)" 0

# ---- the audit ------------------------------------------------------------------

section "the agent's audit"
sleep 1.5
check_gt "the audit runs (hadp_audit_runs_total)" "$(metric hadp_audit_runs_total)" 0
check_eq "a sound datapath has no findings" "$(metric hadp_audit_findings_total)" 0

f0=$(metric hadp_audit_findings_total)
# The instance's VM slot in the root's program array: index * kinds + 0.
idx=$(hadp hvA -j dp show | jq -r '.. | objects | select(.name? == "default") | .index' | head -n1)
idx=${idx:-0}
slot=$((idx * 2))
progs=$(bpffs hvA)/hadp/_root/progs
must bpftool map delete pinned "$progs" key $slot 0 0 0
check "an emptied root slot is a finding" more_findings "${f0:-0}"
check "naming the slot" grep -q "^<4>audit: slot $slot of the root's progs is empty" "$AGENT_LOG"
must bpftool map update pinned "$progs" key $slot 0 0 0 value pinned "$(bpffs hvA)/hadp/default/prog_vm"
check "vmA -> vmB ping IPv4 with the slot back" ping_ok vmA 10.0.0.2

sleep 1.5
f0=$(metric hadp_audit_findings_total)
active=$(bpffs hvA)/hadp/_root/active
must bpftool map update pinned "$active" key 0 0 0 0 value 0xff 0xff 0xff 0xff
check "an active entry naming no instance is a finding" more_findings "${f0:-0}"
check "naming it" grep -q "^<4>audit: default is active, but the root's active entry names no instance" "$AGENT_LOG"
must bpftool map update pinned "$active" key 0 0 0 0 value "$idx" 0 0 0

sleep 1.5
f0=$(metric hadp_audit_findings_total)
must n hvA ip link set dev vm1 xdp off
check "a VM interface without the root is a finding" more_findings "${f0:-0}"
check "naming the device" grep -q "^<4>audit: default's VM interface vm1 (ifindex [0-9]*) runs no XDP program, not the root's root_vm" "$AGENT_LOG"
must n hvA ip link set dev vm1 xdp pinned "$(bpffs hvA)/hadp/_root/root_vm"
check "vmA -> vmB ping IPv4 with the root back on vm1" ping_ok vmA 10.0.0.2

sleep 1.5
f1=$(metric hadp_audit_findings_total)
hadp_must hvA -I b dp load
check "an instance b without hvA's configuration is a finding" more_findings "${f1:-0}"
check "naming the map and the instance" \
	grep -Eq "^<4>audit: routes4 of default and of b differ: keys only in default: [1-9][0-9]*, only in b: 0$" "$AGENT_LOG"
hadp_must hvA -I b dp unload
sleep 1.5
f2=$(metric hadp_audit_findings_total)
sleep 2.5
check_eq "no finding once b is gone" "$(metric hadp_audit_findings_total)" "$f2"

vm_id=$(prog_id hvA vm1)
hadp_must hvA dp upgrade
check "dp upgrade put a new root on vm1" test "$(prog_id hvA vm1)" != "$vm_id"
sleep 2.5
check_eq "an upgraded root is no finding" "$(metric hadp_audit_findings_total)" "$f2"
check "vmA -> vmB ping IPv4 through the upgraded root" ping_ok vmA 10.0.0.2

section "no TCP checksum errors anywhere"
for x in hvA hvB rtr vmA vmB; do
	check_eq "TcpInCsumErrors in $x" "$(csum_errors $x)" 0
done

[ -n "$VERBOSE" ] && { echo "---- hadpd.log"; cat "$AGENT_LOG"; }

finish
