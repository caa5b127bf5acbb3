#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/demo.sh: the hadp demo, as root, on a fresh Debian 12 machine.
#
#   sudo scripts/demo.sh              the HA demo (below)
#   sudo scripts/demo.sh --host       the overlay demo on this kernel
#   sudo scripts/demo.sh --host --keep     ... and stop before cleaning up
#
# Both first install what is missing (scripts/install-deps.sh) and build
# (make).
#
# The HA demo needs hadp.ko, which this machine's kernel cannot load: it
# boots Debian's kernel in qemu (scripts/vmtest.sh) and runs
# scripts/demo-ha.sh there: one hypervisor with two datapath instances and
# their agents, VMs behind SNAT and a VIP, a router, the internet and a
# remote hypervisor; TCP connections and UDP streams run while the active
# agent is killed with kill -9; the standby takes over and the connections
# survive (shown with hadp ha show, hadp dp show and bpftool map dump).
# Under software emulation it takes a few minutes.
#
# The overlay demo (--host), on this machine's kernel:
#
#   vm-a (10.0.0.1, fd10::1)                     vm-b (10.0.0.2, fd10::2)
#    eth0                                          eth0
#     |                                             |
#    tap-a  VNI 100, underlay fd00:a::1            tap-b  VNI 100, underlay fd00:b::1
#  +------- hv-a -----------+                    +------- hv-b -----------+
#  | hadp: root_vm on tap-a |                    | hadp: root_vm on tap-b |
#  | root_uplink on ul0     |                    | root_uplink on ul0     |
#  | owns fd00:a::/64       |                    | owns fd00:b::/64       |
#  |   ul0 fd00::a/64       |====================|   ul0 fd00::b/64       |
#  +------------------------+  IPv6 underlay,    +------------------------+
#                              MTU 1600
#
# Each hypervisor is a network namespace with its own bpffs and its own
# pinned datapath. The VMs ping each other and move 8 MiB over TCP,
# IPv4-in-IPv6 and IPv6-in-IPv6 on the underlay; then the counters and the
# pinned maps are shown. Everything is removed on exit.

set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
HADP=$SRC/build/hadp
MODE=ha
KEEP=
for arg in "$@"; do
	case $arg in
	--host) MODE=host ;;
	--keep) KEEP=--keep ;;
	*) echo "usage: scripts/demo.sh [--host [--keep]]" >&2; exit 2 ;;
	esac
done

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it creates namespaces and attaches XDP)" >&2
	exit 1
fi

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }

# ---- build -----------------------------------------------------------------

scripts/install-deps.sh
if [ "$MODE" = ha ]; then
	bold "building hadp (BPF objects, hadp, hadpd, hadp.ko)"
	make -s -j"$(nproc)"
	bold "booting Debian's kernel in qemu: hadp.ko loads there (a few minutes under emulation)"
	exec scripts/vmtest.sh -t "${HADP_DEMO_TIMEOUT:-1500}" -- scripts/demo-ha.sh
fi
make -s -j"$(nproc)" user

# ---- cleanup ---------------------------------------------------------------

TAG=hadp-demo
WORK=$(mktemp -d /tmp/hadp-demo.XXXXXX)
NAMESPACES=(hv-a hv-b vm-a vm-b)
cleanup() {
	set +e
	[ -n "${SOCAT_PID:-}" ] && kill "$SOCAT_PID" 2>/dev/null
	for ns in "${NAMESPACES[@]}"; do ip netns del "$TAG-$ns" 2>/dev/null; done
	for hv in hv-a hv-b; do umount "$WORK/$hv" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
# A previous run that was killed may have left its namespaces.
for ns in "${NAMESPACES[@]}"; do ip netns del "$TAG-$ns" 2>/dev/null || true; done

on() { local ns=$1; shift; ip netns exec "$TAG-$ns" "$@"; }
# hadp on a hypervisor: its network namespace, its pin root.
hadp() { local hv=$1; shift; nsenter --net="/run/netns/$TAG-$hv" "$HADP" --bpffs "$WORK/$hv" "$@"; }

# ---- the two hypervisors ---------------------------------------------------

bold "two hypervisors joined by an IPv6 underlay"
for ns in "${NAMESPACES[@]}"; do
	ip netns add "$TAG-$ns"
	on "$ns" ip link set dev lo up
	on "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip -n "$TAG-hv-a" link add name ul0 type veth peer name ul0 netns "$TAG-hv-b"
for hv in a b; do
	on hv-$hv ip link set dev ul0 mtu 1600 up
	on hv-$hv ip -6 addr add fd00::$hv/64 dev ul0 nodad
	# checksums computed in software wherever TCP may start: XDP cannot
	# see a partial checksum (docs/datapath.md, "The VM contract")
	on hv-$hv ethtool -K ul0 tx off >/dev/null
	mkdir -p "$WORK/hv-$hv"
	mount -t bpf bpf "$WORK/hv-$hv"
done
# The fabric routes each host's underlay prefix to the host.
run on hv-a ip -6 route add fd00:b::/64 via fd00::b
run on hv-b ip -6 route add fd00:a::/64 via fd00::a

bold "a VM on each: host addresses, default routes via 169.254.0.1 and fe80::1"
# A veth stands in for the VM's NIC. Its VM end needs GRO on, turned on
# after the link is up: only then does a veth take XDP redirects into it.
for x in a b; do
	ip -n "$TAG-hv-$x" link add name tap-$x type veth peer name eth0 netns "$TAG-vm-$x"
	on hv-$x ethtool -K tap-$x tx off >/dev/null
	on hv-$x ip link set dev tap-$x up
	on vm-$x ip link set dev eth0 up
	on vm-$x ethtool -K eth0 tx off gro on >/dev/null
done
for x in a b; do
	i=$([ $x = a ] && echo 1 || echo 2)
	run on vm-$x ip addr add "10.0.0.$i/32" dev eth0
	run on vm-$x ip route add default via 169.254.0.1 dev eth0 onlink
	run on vm-$x ip addr add "fd10::$i/128" dev eth0 nodad
	run on vm-$x ip -6 route add default via fe80::1 dev eth0
done

# ---- hadp ------------------------------------------------------------------

for x in a b; do
	bold "hadp on hv-$x"
	run hadp hv-$x dp load
	run hadp hv-$x uplink set dev ul0
done
bold "the VMs' interfaces, and routes to the remote VM's underlay address"
run hadp hv-a iface add vm-a dev tap-a vni 100 ipv4 10.0.0.1 ipv6 fd10::1 underlay fd00:a::1 \
	mac "$(on vm-a cat /sys/class/net/eth0/address)"
run hadp hv-b iface add vm-b dev tap-b vni 100 ipv4 10.0.0.2 ipv6 fd10::2 underlay fd00:b::1 \
	mac "$(on vm-b cat /sys/class/net/eth0/address)"
run hadp hv-a route add 10.0.0.2/32 vni 100 via fd00:b::1
run hadp hv-a route add fd10::2/128 vni 100 via fd00:b::1
run hadp hv-b route add 10.0.0.1/32 vni 100 via fd00:a::1
run hadp hv-b route add fd10::1/128 vni 100 via fd00:a::1
run hadp hv-a iface show
run hadp hv-a route show
run hadp hv-a neigh show
run on hv-a ip link show dev tap-a

# ---- traffic ---------------------------------------------------------------

bold "vm-a -> vm-b across the underlay"
run on vm-a ping -c 3 -i 0.2 10.0.0.2
run on vm-a ping -c 3 -i 0.2 fd10::2

bold "8 MiB over TCP, vm-b -> vm-a, checked by sha256"
head -c 8388608 /dev/urandom >"$WORK/payload"
on vm-a socat -u TCP6-LISTEN:5001,reuseaddr "CREATE:$WORK/received" &
SOCAT_PID=$!
for _ in $(seq 50); do on vm-a ss -Hltn 'sport = :5001' | grep -q . && break; sleep 0.1; done
start=$(date +%s%N)
run on vm-b socat -u "OPEN:$WORK/payload" "TCP6:[fd10::1]:5001"
wait "$SOCAT_PID"
SOCAT_PID=
end=$(date +%s%N)
sent=$(sha256sum <"$WORK/payload" | cut -c1-16)
got=$(sha256sum <"$WORK/received" | cut -c1-16)
echo "sent sha256 $sent..., received $got... in $(((end - start) / 1000000)) ms"
[ "$sent" = "$got" ] || { echo "demo: the payload was corrupted" >&2; exit 1; }
echo "TcpInCsumErrors on vm-a: $(on vm-a nstat -asz TcpInCsumErrors | awk '$1 == "TcpInCsumErrors" { print $2 }')"

# ---- counters and maps -----------------------------------------------------

bold "counters"
run hadp hv-a -s iface show
run hadp hv-b -s iface show vm-b
run hadp hv-b -s uplink show

bold "the pinned maps, read by bpftool (field names from BTF)"
run ls "$WORK/hv-a/hadp" "$WORK/hv-a/hadp/default"
printf '\033[2m$ bpftool map dump pinned %s | head -n 40\033[0m\n' "$WORK/hv-a/hadp/default/ifaces"
bpftool map dump pinned "$WORK/hv-a/hadp/default/ifaces" | head -n 40
printf '\033[2m$ bpftool map dump pinned %s\033[0m\n' "$WORK/hv-a/hadp/default/routes4"
bpftool map dump pinned "$WORK/hv-a/hadp/default/routes4" | head -n 40

if [ "$KEEP" = --keep ]; then
	bold "kept: namespaces $TAG-*, pins in $WORK/hv-a and $WORK/hv-b"
	echo "e.g.  ip netns exec $TAG-vm-a ping 10.0.0.2"
	echo "      nsenter --net=/run/netns/$TAG-hv-a $HADP --bpffs $WORK/hv-a -s iface show"
	echo "press Enter to clean up"
	read -r _
fi
bold "done: cleaning up"
