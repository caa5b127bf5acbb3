#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/demo-ha.sh: the HA demo. Runs inside scripts/vmtest.sh's VM
# (Debian's kernel, where hadp.ko loads); scripts/demo.sh builds
# everything, boots the VM and runs it there:
#
#   scripts/demo.sh                                  the usual way
#   scripts/vmtest.sh -t 1200 -- scripts/demo-ha.sh  by hand
#
# One hypervisor runs two instances of the datapath, a and b, each with
# its agent (hadpd); the agent holding the lock file is active, the other
# mirrors its connection table over hadp.ko's sync link. VMs reach the
# internet through SNAT and a VIP. With TCP connections and UDP streams
# running, the active agent is killed (kill -9): the standby takes over,
# and every connection survives, even after the old instance's tables are
# flushed. The topology is tests/vm/ha-topo.bash's, as the failover suite
# (tests/vm/failover.sh) uses it. Exit status 1 if a connection broke.

set -u
if [ ! -e /run/hadp-vm/cmd ] && ! grep -q '^hadp ' /proc/modules 2>/dev/null &&
	! modprobe -n hadp 2>/dev/null; then
	echo "demo-ha: hadp.ko cannot load here; run scripts/demo.sh (it boots a VM)" >&2
	exit 1
fi
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=tests/vm/ha-topo.bash
source tests/vm/ha-topo.bash

NTCP=${NTCP:-100}
bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# show TEXT COMMAND...: print TEXT as the command an operator would type,
# then run COMMAND.
show() { printf '\033[2m$ %s\033[0m\n' "$1"; shift; "$@"; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

bold "the topology"
sed -n '/^#   vmS 10.0.0.1/,/^#  *hadp.ko group a/p' tests/vm/ha-topo.bash | sed 's/^#//'

bold "building it: namespaces, veths, the router's seg6 NAT, hadp.ko"
ha_topology
echo "sync groups: a in netns hsa (10.77.0.1:6749), b in hsb (10.77.0.2:6749), one key"

bold "two agents on one lock file: a first (active), then b (standby)"
start_agent a
wait_ready a >/dev/null || die "hadpd a did not become ready"
start_agent b
wait_live b >/dev/null || die "hadpd b did not start"
echo "hadpd a: pid ${PID[a]}, hadpd b: pid ${PID[b]}"
bold "the configuration, written by the CLI to both instances"
show "hadp nat add iface vm1 ip $NAT ports $NAT_MIN-$NAT_MAX underlay fd00:a::100  (and the rest)" ha_configure
wait_ready b >/dev/null || die "hadpd b did not become ready"
show "hadp dp show" hadp hv dp show

bold "traffic: $NTCP TCP connections from vmS through SNAT, each sending every ${TCP_INTERVAL} s"
echo "plus UDP streams with sequence numbers: vmS -> internet (SNAT, echoed), internet -> VIP, vmR -> vmS"
traffic_start demo "$NTCP" || die "the traffic did not start"
sleep 3
converged a b >/dev/null
echo "connections in a's table: $(nconns a); mirrored into b's: $(nconns b)"
show "hadp ha show a   (in a's sync namespace)" ha_cli a ha show a
show "hadp -s ha show b   (in b's sync namespace)" ha_cli b -s ha show b

bold "kill -9 the active agent (a)"
keys a >"$TESTDIR/demo.old"
t0=$(date +%s%N)
show "kill -9 ${PID[a]}" stop_agent a KILL
wait_active b >/dev/null
echo "the root's active entry names b $(ms_since "$t0") ms after the kill"
show "hadp dp show" hadp hv dp show
r0=$(rx a)
b0=$(rx b)
sleep 2
echo "packets through a's programs in 2 s: $(($(rx a) - r0)); through b's: $(($(rx b) - b0))"

bold "flush the old instance's tables: now the connections live on b's mirrored entries only"
show "hadp -I a flow flush" hadp hv -I a flow flush
echo "connections in a's table: $(nconns a); in b's: $(nconns b)"
keys b >"$TESTDIR/demo.new"
read -r changed missing <<<"$(mappings_changed "$TESTDIR/demo.old" "$TESTDIR/demo.new")"
# One of the mirrored TCP connections, while it is open, as bpftool
# prints b's entry (field names from BTF; addresses and ports in network
# byte order, as the datapath keeps them).
c=$(bpffs hv)/hadp/b/conns
printf '\033[2m$ bpftool -j map dump pinned %s | jq '"'"'[.[].formatted | select(.key.proto == 6)][0]'"'"'\033[0m\n' "$c"
bpftool -j map dump pinned "$c" | jq '[.[] | .formatted // . | select(.key.proto == 6)][0]'
sleep 5

bold "stopping the traffic: did the connections survive?"
traffic_stop
echo "TCP: $T_TCP_OPENED connections open across the failover, $((T_TCP_OPENED - T_TCP_BROKEN)) survived, $T_TCP_BROKEN broken"
echo "     ($T_TCP_CHUNKS chunks echoed and verified byte for byte; longest wait for an echo: $T_TCP_WAIT ms)"
echo "NAT: $changed mappings differ between a's and b's tables, $missing missing in b;" \
	"$T_NAT_CHANGED datagrams seen from a changed address:port (the UDP server checks)"
echo "UDP vmS -> internet (echoed): $T_OUT_SENT sent, $T_OUT_LOST lost, longest silence $T_OUT_GAP ms"
echo "UDP internet -> VIP:          $T_IN_SENT sent, $T_IN_LOST lost, longest silence $T_IN_GAP ms"
echo "UDP vmR -> vmS (underlay):    $T_OV_SENT sent, $T_OV_LOST lost, longest silence $T_OV_GAP ms"

bold "b is the active now"
show "hadp ha show b" ha_cli b ha show b
# The table as hadp reads it, after the traffic.
show "hadp -I b flow show | head -n 4" eval 'hadp hv -I b flow show | head -n 4'

stop_agent b TERM
bold "done"
[ "$T_TCP_BROKEN" = 0 ] && [ "$T_TCP_OPENED" = "$NTCP" ] && [ "$changed" = 0 ] && [ "$T_NAT_CHANGED" = 0 ]
