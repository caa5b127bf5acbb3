#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# root.sh: the per-host root program (docs/datapath.md, "Programs and the
# root object"; docs/ha.md, "Upgrading the root"). Upgrading it
# replaces the attached program on every interface with no moment without
# one; with no active instance the VM side drops and counts while the
# uplink passes; a second instance's programs fill their own slots.
#
#  vmA 10.0.0.1 fd10::1 (VNI 100)            vmB 10.0.0.2 fd10::2 (VNI 100)
#   eth0                                      eth0
#    |                                         |
#   vm1  underlay fd00:a::1                   vm1  underlay fd00:b::1
# +-- hvA: root_vm on vm1, root_uplink --+  +-- hvB: the same ---------------+
# |   on ul0; pins in bpffs/hvA          |  |   pins in bpffs/hvB            |
# |            ul0 fd00::a/64            |==|   ul0 fd00::b/64               |
# +--------------------------------------+  +--------------------------------+
#                              underlay veth, MTU 1600

# shellcheck source=tests/netns/lib.bash
source "$(dirname "$0")/lib.bash"

[ -x "$HADP" ] || die "no $HADP: run make"

# ---- topology ----------------------------------------------------------------

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

ROOT_A=$(bpffs hvA)/hadp/_root
# Echo requests in each flood (ping -f: about 3 s here, both at once).
FLOODN=${FLOODN:-100000}

# root_stat FIELD: a root_stats counter of hvA, summed over CPUs.
root_stat() {
	bpftool -j map dump pinned "$ROOT_A/root_stats" |
		jq --arg f "$1" '[.[0] | (.formatted.values // .values)[] | .value[$f]] | add // 0'
}

# active_instance: hvA's active entry, as 4 bytes for bpftool.
active_bytes() {
	bpftool -j map lookup pinned "$ROOT_A/active" key 0 0 0 0 | jq -r '.value | join(" ")'
}

# flood NS DST COUNT: COUNT echo requests, each sent as soon as the last
# was answered (ping -f); prints ping's summary.
flood() {
	n "$1" ping -n -q -f -c "$3" -W 2 "$2" 2>&1
}

# received OUTPUT: "sent received" from ping's summary.
received() {
	sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) (packets )?received.*/\1 \2/p' <<<"$1"
}

section "the root is what is attached"
check "vmA -> vmB ping IPv4" ping_ok vmA 10.0.0.2
check "vmB -> vmA ping IPv6" ping_ok vmB fd10::1
check "bpftool shows the pinned root program array" \
	bash -c "bpftool map show pinned '$ROOT_A/progs' | grep -q prog_array"
vm_id0=$(prog_id hvA vm1)
ul_id0=$(prog_id hvA ul0)
check "hvA vm1 has an XDP program" test -n "$vm_id0"
check "hvA ul0 has an XDP program" test -n "$ul_id0"
check "the program on vm1 is root_vm" \
	bash -c "bpftool prog show id '$vm_id0' | grep -q root_vm"
check "the program on ul0 is root_uplink" \
	bash -c "bpftool prog show id '$ul_id0' | grep -q root_uplink"

# ---- upgrade under traffic ------------------------------------------------------

section "upgrading the root under traffic loses nothing"
flood vmA 10.0.0.2 "$FLOODN" >"$TESTDIR/flood4" &
f4=$!
bg_pid $f4
flood vmB fd10::1 "$FLOODN" >"$TESTDIR/flood6" &
f6=$!
bg_pid $f6
tcp_xfer vmA vmB 10.0.0.2 >"$TESTDIR/tcp" 2>&1 &
ft=$!
bg_pid $ft
sleep 0.5
check "hadp dp upgrade on hvA" hadp hvA dp upgrade
check "hadp dp upgrade on hvB" hadp hvB dp upgrade
check "both floods were still running when the upgrades were done" kill -0 $f4 $f6
wait $f4 $f6
cat "$TESTDIR/flood4" "$TESTDIR/flood6" | grep -E 'transmitted|rtt' | sed 's/^/     /'
read -r sent4 got4 <<<"$(received "$(cat "$TESTDIR/flood4")")"
read -r sent6 got6 <<<"$(received "$(cat "$TESTDIR/flood6")")"
check_eq "IPv4 flood during the upgrade: all $sent4 answered" "${got4:-none}" "$FLOODN"
check_eq "IPv6 flood during the upgrade: all $sent6 answered" "${got6:-none}" "$FLOODN"
check "TCP transfer across the upgrade, payload intact" wait $ft
vm_id1=$(prog_id hvA vm1)
ul_id1=$(prog_id hvA ul0)
check "vm1 has a new program (id $vm_id0 -> ${vm_id1:-none})" \
	test -n "$vm_id1" -a "$vm_id1" != "$vm_id0"
check "ul0 has a new program (id $ul_id0 -> ${ul_id1:-none})" \
	test -n "$ul_id1" -a "$ul_id1" != "$ul_id0"
check "vmA -> vmB ping IPv6 after the upgrade" ping_ok vmA fd10::2

# ---- a second instance -------------------------------------------------------------

section "a second instance"
check_eq "the program array holds one instance's programs (2 slots)" \
	"$(bpftool -j map dump pinned "$ROOT_A/progs" | jq length)" 2
check "hadp -I second dp load on hvA" hadp hvA -I second dp load
check "the program array holds both instances' programs (4 slots)" \
	test "$(bpftool -j map dump pinned "$ROOT_A/progs" | jq length)" -ge 4
check "traffic is not disturbed" ping_ok vmA 10.0.0.2
check "hadp -I second dp unload on hvA" hadp hvA -I second dp unload
check "traffic still flows" ping_ok vmA 10.0.0.2

# ---- no active instance -------------------------------------------------------------

section "an empty slot: VM side drops and counts, uplink passes"
saved=$(active_bytes)
check "hvA has an active instance" test -n "$saved" -a "$saved" != "255 255 255 255"
vm_empty0=$(root_stat vm_empty_slot)
ul_empty0=$(root_stat uplink_empty_slot)
check "no active instance on hvA" \
	bpftool map update pinned "$ROOT_A/active" key 0 0 0 0 value 0xff 0xff 0xff 0xff
check "vmA -> vmB gets nowhere" ping_none vmA 10.0.0.2
check_gt "root_stats.vm_empty_slot counts the drops" "$(root_stat vm_empty_slot)" "$((vm_empty0 + 1))"
check "the hypervisors' own stacks still ping over the underlay" ping_ok hvB fd00::a
check_gt "root_stats.uplink_empty_slot counts the passes" "$(root_stat uplink_empty_slot)" "$ul_empty0"
# shellcheck disable=SC2086
check "the instance is active again" \
	bpftool map update pinned "$ROOT_A/active" key 0 0 0 0 value $saved
check "vmA -> vmB ping works again" ping_ok vmA 10.0.0.2

section "unloading the instance"
check "hadp dp unload on hvA" hadp hvA dp unload
check "the hypervisors' own stacks still ping over the underlay" ping_ok hvB fd00::a
check "vmA -> vmB gets nowhere" ping_none vmA 10.0.0.2

section "no TCP checksum errors anywhere"
for x in hvA hvB vmA vmB; do
	check_eq "TcpInCsumErrors in $x" "$(csum_errors $x)" 0
done

finish
