#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/sync/conntrackd.sh: the sync bench's baseline, conntrackd (Debian's
# package, FTFW mode) syncing kernel conntrack entries between two network
# namespaces over a veth like hadp's sync link; run by inside.sh in the
# same VM run as hadp's figures (bench/sync/README.md). Prints "RESULT
# ct_* value" lines (most of them from ctbench, which makes the entries
# and times them). Usage: conntrackd.sh CTBENCH DELTAS ENTRIES
#
#   cta 10.78.0.1 sync0 ===== veth ===== sync0 10.78.0.2 ctb
#   conntrackd A (active: the kernel's entries, its internal cache)
#   conntrackd B (backup: what it hears, its external cache)
#
# DELTAS entries made twice (live, then as one burst while A is stopped),
# then the table filled to ENTRIES and B started afresh to ask for a
# resync (conntrackd -n, as keepalived's primary-backup.sh does).
# HADP_SYNC_CT_TIMEOUT (600) seconds bound each wait.

set -euo pipefail

CTB=$1
DELTAS=$2
ENTRIES=$3
TIMEOUT=${HADP_SYNC_CT_TIMEOUT:-600}
T=$(mktemp -d /tmp/hadp-ctbench.XXXXXX)
declare -A PID=() IP=([A]=10.78.0.1 [B]=10.78.0.2) PEER=([A]=10.78.0.2 [B]=10.78.0.1)
declare -A NS=([A]=cta [B]=ctb)

cleanup() {
	local i
	for i in A B; do
		[ -n "${PID[$i]:-}" ] && { kill -CONT "${PID[$i]}"; kill "${PID[$i]}"; wait "${PID[$i]}"; } 2>/dev/null
	done
	# The table emptied here, not by the namespace's deletion in the
	# background while hadp's parts run.
	nsenter --net=/run/netns/cta conntrack -F 2>/dev/null
	ip netns del cta 2>/dev/null
	ip netns del ctb 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

say() { echo "ctbench: $* ($SECONDS s)" >&2; }
die() {
	say "$*"
	for i in A B; do [ -f "$T/$i.log" ] && tail -n 5 "$T/$i.log" >&2; done
	exit 1
}
result() { echo "RESULT $1 $2"; }
now() { date +%s%N; }
secs() { awk -v d="$1" 'BEGIN { print d / 1e9 }'; }
# conntrackd's client for daemon I's counters, where a second or two
# under emulation does not matter; stderr dropped, as the client warns
# that sync0 is not in its own namespace.
ctl() { local i=$1; shift; conntrackd -C "$T/$i.conf" "$@" 2>/dev/null; }
# A counter of daemon I's -s WHAT, by the text before its value.
counter() { ctl "$1" -s "$2" | awk -v k="$3" 'index($0, k) { print $NF; exit }'; }
# UDP payload bytes and packets daemon I sent on the sync link.
sent() { ctl "$1" -s network | awk '/Bytes sent/ { b = $1 } /Pckts sent/ { print b, $1; exit }'; }
# Until daemon I's cache C holds N objects: 0 when it does in TIMEOUT.
wait_cached() { "$CTB" wait "$T/$1.ctl" "$2" "$3" "$TIMEOUT"; }
held() { ctl "$1" -s cache | awk -v c="cache:$2" '$1 == c { print $4 }'; }

# The configuration: Debian's example for FTFW (examples/sync/ftfw), UDP
# unicast instead of multicast as hadp's link is, UDP accepted, and sized
# for the run: caches for every entry, the event socket for a whole burst
# (about 2.5 KiB of buffer an event), socket buffers as hadp's agent's
# (16 MiB), a resend queue for the whole table.
conf() {
	local i=$1 size=1024 nlbuf=$((DELTAS * 4096))
	while [ $size -lt "$ENTRIES" ]; do size=$((size * 2)); done
	[ $nlbuf -ge 2097152 ] || nlbuf=2097152
	cat >"$T/$i.conf" <<-EOF
	Sync {
		Mode FTFW {
			ResendQueueSize $((2 * ENTRIES))
		}
		UDP {
			IPv4_address ${IP[$i]}
			IPv4_Destination_Address ${PEER[$i]}
			Port 3780
			Interface sync0
			SndSocketBuffer 16777216
			RcvSocketBuffer 16777216
			Checksum on
		}
	}
	General {
		HashSize $size
		HashLimit $((2 * ENTRIES + 65536))
		LogFile $T/$i.log
		LockFile $T/$i.lock
		UNIX {
			Path $T/$i.ctl
		}
		NetlinkBufferSize $nlbuf
		NetlinkBufferSizeMaxGrowth $((2 * nlbuf))
		Filter From Userspace {
			Protocol Accept {
				UDP
			}
			Address Ignore {
				IPv4_address 127.0.0.1
				IPv4_address 10.78.0.0/24
			}
		}
	}
	EOF
}
start() {
	nsenter --net="/run/netns/${NS[$1]}" conntrackd -C "$T/$1.conf" >>"$T/$1.out" 2>&1 &
	PID[$1]=$!
	wait_cached "$1" internal 0 || die "conntrackd $1 does not answer"
}
stop() { kill "${PID[$1]}"; wait "${PID[$1]}" 2>/dev/null || true; PID[$1]=; }
in_a() { nsenter --net=/run/netns/cta "$CTB" "$@"; }
kcount() { nsenter --net=/run/netns/cta conntrack -C; }

# NAT and ctnetlink loaded for ctbench (built in, modprobe finds no
# module: ctbench then says what is missing), and the kernel's table sized
# for every entry of the run (global settings, made from the initial
# namespace, and only ever raised).
modprobe -qa nf_conntrack_netlink nf_nat || true
max=$((ENTRIES + 65536))
buckets=65536
while [ $buckets -lt $max ]; do buckets=$((buckets * 2)); done
[ "$(sysctl -n net.netfilter.nf_conntrack_max)" -ge $max ] ||
	sysctl -qw net.netfilter.nf_conntrack_max=$max
[ "$(sysctl -n net.netfilter.nf_conntrack_buckets)" -ge $buckets ] ||
	sysctl -qw net.netfilter.nf_conntrack_buckets=$buckets
ip netns add cta
ip netns add ctb
ip link add name sync0 netns cta type veth peer name sync0 netns ctb
for i in A B; do
	ip -n "${NS[$i]}" link set dev lo up
	ip -n "${NS[$i]}" addr add "${IP[$i]}/24" dev sync0
	ip -n "${NS[$i]}" link set dev sync0 up
	conf $i
done
# Events for every entry, whether or not a listener was there when it
# was made (6.1's default, 2, gives none to entries made before one).
nsenter --net=/run/netns/cta sysctl -qw net.netfilter.nf_conntrack_events=1
start A
start B
say "conntrackd A and B up"

# (1) live: DELTAS entries made as fast as ctbench goes, A running; timed
# from the first until B's external cache holds them all.
in_a live 100.64.0.0 "$DELTAS" "$T/B.ctl" "$TIMEOUT" || die "the live deltas"
say "live deltas measured"

# (2) the sync path alone: DELTAS entries made while A is stopped (their
# events wait in its netlink socket), timed from its SIGCONT until B
# holds them. An overrun of that socket would lose events: it fails.
in_a burst 100.96.0.0 "$DELTAS" "$T/B.ctl" "${PID[A]}" "$TIMEOUT" || die "the burst"
overrun=$(counter A runtime 'netlink overrun:')
[ "$overrun" = 0 ] || die "A's netlink event socket overran $overrun times in the burst"
say "burst measured"

# (3) resync: both stopped, the kernel's table filled to ENTRIES, A
# started (it loads the table into its internal cache), then B started
# afresh and asked to resync (conntrackd -n), timed until its external
# cache holds every entry.
stop B
stop A
in_a make 198.18.0.0 $((ENTRIES - $(kcount))) || die "filling cta's table"
have=$(kcount)
[ "$have" = "$ENTRIES" ] || die "cta's table holds $have entries, not $ENTRIES"
t0=$(now)
start A
wait_cached A internal "$ENTRIES" || die "A loaded $(held A internal) of $ENTRIES in ${TIMEOUT} s"
result ct_load_s "$(secs $(($(now) - t0)))"
start B
say "fresh B holds $(held B external) entries before asking"
read -r b0 p0 <<<"$(sent A)"
"$CTB" resync "$T/B.ctl" "$ENTRIES" "$TIMEOUT" | tee "$T/resync" || die "the resync"
read -r b1 p1 <<<"$(sent A)"
if grep -q '^RESULT ct_resync_complete 1' "$T/resync"; then
	result ct_resync_tx_bytes $((b1 - b0))
	result ct_resync_tx_packets $((p1 - p0))
else
	say "resync not complete after ${TIMEOUT} s"
fi
result ct_resync_entries "$ENTRIES"
say "resync measured"
