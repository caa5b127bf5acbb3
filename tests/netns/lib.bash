# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Helpers shared by the network-namespace suites (tests/netns/*.sh). Not a
# suite itself (tests/run runs *.sh only). A suite sources it, draws its
# topology with these helpers, checks things with check/check_fails/
# check_eq, and ends with `finish`, which prints "N passed, N failed" and
# exits non-zero on any failure. Everything a suite creates (namespaces,
# bpffs mounts, background processes, files) is removed on exit.
#
# Machine traps handled here:
#  - `ip netns exec` remounts /sys, and a bpffs mounted inside it dies with
#    the command: each hypervisor's bpffs is mounted in the root namespace
#    and hadp runs under `nsenter --net=/run/netns/HV`.
#  - XDP_REDIRECT into a veth is delivered only when the peer end has an XDP
#    program or GRO on, and GRO counts only if it was turned on while the
#    end was up: GRO is turned on, after up, at every veth end.
#  - XDP_TX on a veth reaches the peer end at once only if that end runs
#    XDP (with GRO alone the frame waits in its ring for the next packet
#    of the other stack): VM ends carry an XDP program that passes all.
#  - TCP through XDP needs transmit checksum offload off wherever TCP
#    starts: `tx off` on every veth end created here.

set -u

HADP_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HADP=${HADP:-$HADP_SRC/build/hadp}
# Namespace names: unique per run, short enough to read in `ip netns`.
NS_PREFIX=${NS_PREFIX:-hadp$$}
TESTDIR=$(mktemp -d /tmp/hadp-netns.XXXXXX)
VERBOSE=${VERBOSE:-}

passed=0
failed=0
_namespaces=()
_mounts=()
_pids=()

log() { echo "     $*"; }
section() { echo "---- $* (${SECONDS}s)"; }

# ---- cleanup --------------------------------------------------------------

_cleanup() {
	local p ns m
	set +e
	for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${_pids[@]}"; do wait "$p" 2>/dev/null; done
	# Deleting a namespace deletes its veths, and with them the XDP
	# attachments; the pinned maps go with the bpffs mount.
	for ns in "${_namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
	for m in "${_mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
	rm -rf "$TESTDIR"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# Remember a background process started by the suite, for the cleanup.
bg_pid() { _pids+=("$1"); }

# n_bg NAME COMMAND...: run COMMAND in namespace NAME in the background; its
# pid (ip execs COMMAND, so a signal reaches it) is in $BG and is killed on
# exit if still running.
n_bg() {
	local name=$1
	shift
	ip netns exec "$(ns "$name")" "$@" &
	BG=$!
	_pids+=("$BG")
}

# ---- checks ---------------------------------------------------------------

_ok() { passed=$((passed + 1)); echo "ok   $1"; }
_fail() {
	failed=$((failed + 1))
	echo "FAIL $1"
	if [ -s "$TESTDIR/check.out" ]; then tail -n 25 "$TESTDIR/check.out" | sed 's/^/     | /'; fi
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
	local desc=$1
	shift
	if "$@" >"$TESTDIR/check.out" 2>&1; then
		_ok "$desc"
		[ -n "$VERBOSE" ] && sed 's/^/     | /' "$TESTDIR/check.out"
	else
		_fail "$desc"
	fi
	return 0
}

# check_fails DESCRIPTION COMMAND...: passes when COMMAND fails.
check_fails() {
	local desc=$1
	shift
	if "$@" >"$TESTDIR/check.out" 2>&1; then _fail "$desc (it succeeded)"; else _ok "$desc"; fi
	return 0
}

# check_eq DESCRIPTION GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then _ok "$1"; else echo "got '$2', want '$3'" >"$TESTDIR/check.out"; _fail "$1"; fi
	return 0
}

# check_gt DESCRIPTION A B: passes when integer A > B.
check_gt() {
	if [ "$2" -gt "$3" ] 2>/dev/null; then _ok "$1 ($2 > $3)"; else echo "got '$2', want > '$3'" >"$TESTDIR/check.out"; _fail "$1"; fi
	return 0
}

# has TEXT REGEX: TEXT matches REGEX (grep -Ei); prints TEXT for the log.
has() {
	echo "$1"
	grep -Eqi -- "$2" <<<"$1"
}

# Stop the suite: something it needs could not be set up.
die() {
	echo "FAIL setup: $*"
	failed=$((failed + 1))
	finish
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit
}

# Run a setup command; on failure print its output and stop the suite.
must() {
	if ! "$@" >"$TESTDIR/must.out" 2>&1; then
		sed 's/^/     | /' "$TESTDIR/must.out"
		die "$*"
	fi
}

# ---- namespaces -----------------------------------------------------------

# ns NAME: the full namespace name of a short one.
ns() { echo "$NS_PREFIX-$1"; }

# n NAME COMMAND...: run COMMAND in namespace NAME (ip netns exec).
n() {
	local name=$1
	shift
	ip netns exec "$(ns "$name")" "$@"
}

# add_ns NAME: a namespace with lo up and no IPv6 DAD (addresses usable at once).
add_ns() {
	local full
	full=$(ns "$1")
	must ip netns add "$full"
	_namespaces+=("$full")
	must ip -n "$full" link set dev lo up
	n "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.keep_addr_on_down=1 net.ipv6.conf.default.keep_addr_on_down=1
}

# veth_pair NS1 IF1 NS2 IF2: a veth between two namespaces, both ends up,
# transmit checksum offload off on both, GRO on both (so XDP_REDIRECT into
# either end is delivered; ends that get hadp's XDP do not need it).
veth_pair() {
	must ip -n "$(ns "$1")" link add name "$2" type veth peer name "$4" netns "$(ns "$3")"
	_veth_end "$1" "$2"
	_veth_end "$3" "$4"
}

_veth_end() {
	n "$1" sysctl -qw "net.ipv6.conf.$2.accept_dad=0"
	must ip -n "$(ns "$1")" link set dev "$2" up
	# GRO after up: a veth turned GRO on while down does not make its
	# peer a redirect target (the kernel updates that only when up).
	must n "$1" ethtool -K "$2" tx off gro on
}

# ---- hypervisors ----------------------------------------------------------

# add_hv NAME: a hypervisor: a namespace with its own bpffs, mounted in the
# root namespace so it outlives every command.
add_hv() {
	add_ns "$1"
	mkdir -p "$TESTDIR/bpffs/$1"
	must mount -t bpf bpf "$TESTDIR/bpffs/$1"
	_mounts+=("$TESTDIR/bpffs/$1")
}

# bpffs HV: the pin root of hypervisor HV.
bpffs() { echo "$TESTDIR/bpffs/$1"; }

# hadp HV ARGS...: the CLI as an operator runs it on hypervisor HV.
hadp() {
	local hv=$1
	shift
	nsenter --net="/run/netns/$(ns "$hv")" "$HADP" --bpffs "$(bpffs "$hv")" "$@"
}

# shows HV REGEX ARGS...: `hadp HV ARGS` succeeds and prints REGEX (grep -Ei).
shows() {
	local hv=$1 re=$2 out
	shift 2
	out=$(hadp "$hv" "$@" 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	grep -Eqi -- "$re" <<<"$out"
}

# hadp_must HV ARGS...: hadp during setup; stops the suite on failure.
hadp_must() { must hadp "$@"; }

declare -A _vm_v4 _vm_v6
# add_vm HV VM HOSTIF [IPV4 [IPV6]]: a VM namespace VM with eth0, whose other
# end is HOSTIF on HV. The VM follows the VM contract: host addresses (/32,
# /128) and on-link default routes via 169.254.0.1 and fe80::1. Its eth0
# has GRO on (veth_pair), which is what lets hadp's redirects, answers
# included, reach it.
add_vm() {
	local hv=$1 vm=$2 hostif=$3
	_vm_v4[$vm]=${4:-}
	_vm_v6[$vm]=${5:-}
	add_ns "$vm"
	veth_pair "$hv" "$hostif" "$vm" eth0
	[ -n "${_vm_v4[$vm]}" ] && must n "$vm" ip addr add "${_vm_v4[$vm]}/32" dev eth0
	[ -n "${_vm_v6[$vm]}" ] && must n "$vm" ip addr add "${_vm_v6[$vm]}/128" dev eth0 nodad
	vm_routes "$vm"
}

# vm_routes VM: the VM's default routes (again, after its link was down).
vm_routes() {
	[ -n "${_vm_v4[$1]}" ] && must n "$1" ip route replace default via 169.254.0.1 dev eth0 onlink
	[ -n "${_vm_v6[$1]}" ] && must n "$1" ip -6 route replace default via fe80::1 dev eth0
	return 0
}

# vm_up VM: bring the VM's link up with its routes.
vm_up() {
	must n "$1" ip link set dev eth0 up
	vm_routes "$1"
}

# mac NS IF: the MAC address of IF in NS.
mac() { n "$1" cat "/sys/class/net/$2/address"; }

# prog_id NS IF: the id of the XDP program attached to IF (empty if none).
prog_id() {
	n "$1" ip -j link show dev "$2" | jq -r '.[0].xdp.prog.id // empty'
}

# ---- traffic --------------------------------------------------------------

# ping_ok NS DST [ARGS...]: at least 2 of 3 echo requests answered.
ping_ok() {
	local ns=$1 dst=$2 out rx
	shift 2
	out=$(n "$ns" ping -n -c 3 -i 0.2 -W 2 "$@" "$dst" 2>&1)
	echo "$out"
	rx=$(sed -nE 's/.* ([0-9]+) received.*/\1/p' <<<"$out")
	[ "${rx:-0}" -ge 2 ]
}

# ping_none NS DST [ARGS...]: no echo request answered (for checks that
# must fail; ping's own errors do not count as "none answered").
ping_none() {
	local ns=$1 dst=$2 out
	shift 2
	out=$(n "$ns" ping -n -c 2 -i 0.2 -W 1 "$@" "$dst" 2>&1)
	echo "$out"
	grep -q ' 0 received' <<<"$out"
}

# route_mtu NS DST MTU: the kernel in NS has learned path MTU MTU for DST.
route_mtu() {
	local out
	out=$(n "$1" ip route get "$2" 2>&1)
	echo "$out"
	grep -q " mtu $3 " <<<"$out "
}

# payload: 4 MiB of random bytes, made once per suite.
payload() {
	[ -f "$TESTDIR/payload" ] || head -c 4194304 /dev/urandom >"$TESTDIR/payload"
	echo "$TESTDIR/payload"
}

_port=5000
# tcp_xfer SRC DST ADDR: send the payload over TCP from namespace SRC to a
# listener on ADDR in namespace DST; passes when the bytes received hash
# to the bytes sent.
tcp_xfer() {
	local src=$1 dst=$2 addr=$3 family=4 connect listen file pid
	_port=$((_port + 1))
	file=$TESTDIR/recv.$_port
	case $addr in *:*) family=6; connect="TCP6:[$addr]:$_port" ;; *) connect="TCP4:$addr:$_port" ;; esac
	listen="TCP$family-LISTEN:$_port,reuseaddr"
	n_bg "$dst" timeout 60 socat -u -T 20 "$listen" "CREATE:$file"
	pid=$BG
	for _ in $(seq 50); do
		n "$dst" ss -Hltn "sport = :$_port" | grep -q . && break
		sleep 0.1
	done
	if ! n "$src" timeout 60 socat -u "OPEN:$(payload),rdonly" "$connect"; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		echo "sending failed"
		return 1
	fi
	wait "$pid"
	local want got
	want=$(sha256sum <"$(payload)" | cut -d' ' -f1)
	got=$(sha256sum <"$file" | cut -d' ' -f1)
	echo "sent $want, received $got ($(stat -c %s "$file") bytes)"
	[ "$want" = "$got" ]
}

# csum_errors NS: TcpInCsumErrors in namespace NS.
csum_errors() {
	n "$1" nstat -asz TcpInCsumErrors | awk '$1 == "TcpInCsumErrors" { print $2 }'
}

# ---- counters -------------------------------------------------------------

# counter HV IFACE FIELD: a counter of interface IFACE from `hadp -s -j
# iface show`, e.g. rx_packets or drops.no_route (a path below "stats").
# When it cannot be read it prints an error tagged with a random number, so
# that two failed reads never compare equal in a check.
counter() {
	local v
	v=$(hadp "$1" -s -j iface show "$2" 2>&1 |
		jq -r --arg f "$3" '.[0].stats | getpath($f | split("."))' 2>&1)
	if [[ $v =~ ^[0-9]+$ ]]; then echo "$v"; else echo "unreadable:$3:$RANDOM:$v"; fi
}

# stat_sum HV FIELD: a counter of HV's instance (${INSTANCE:-default})
# summed over every "stats" entry (each interface, the uplink, ifindex 0)
# and every CPU, read with bpftool: for counters whose interface does not
# matter (e.g. drops.no_conn, nat_relayed). Unreadable: as counter().
stat_sum() {
	local v idx=-1 f=$2
	if [[ $f == drops.* ]]; then
		# The index of the reason in enum hadp_drop_reason (maps.h).
		idx=$(awk -v want="HADP_DROP_${f#drops.}" '
			/^enum hadp_drop_reason/ { on = 1; next }
			on && /HADP_DROP_MAX/ { exit }
			on && match($0, /HADP_DROP_[A-Z0-9_]+/) {
				if (toupper(substr($0, RSTART, RLENGTH)) == toupper(want)) { print i; exit }
				i++
			}' "$HADP_SRC/include/hadp/maps.h")
		f=drops
	fi
	v=$(bpftool -j map dump pinned "$(bpffs "$1")/hadp/${INSTANCE:-default}/stats" 2>&1 |
		jq --arg f "$f" --argjson i "${idx:--1}" '
			[.[] | .formatted.values[] | .value[$f] |
			 if $i >= 0 then .[$i] else . end] | add // 0' 2>&1)
	if [[ $v =~ ^[0-9]+$ ]]; then echo "$v"; else echo "unreadable:$2:$RANDOM:$v"; fi
}

# ---- NAT helpers -------------------------------------------------------------

PY=${PY:-/usr/bin/python3}
CONNS=$HADP_SRC/tests/netns/conns.py

# conns NS ARGS...: tests/netns/conns.py (many connections, an echo server,
# a capture checker) in namespace NS.
conns() {
	local name=$1
	shift
	n "$name" "$PY" "$CONNS" "$@"
}

# serve NS LOG ARGS...: conns.py's echo server in NS in the background,
# appending the peers it sees to LOG; returns once it listens.
serve() {
	local name=$1 log=$2
	shift 2
	: >"$log"
	n_bg "$name" "$PY" -u "$CONNS" serve "$log" "$@" >"$log.out" 2>&1
	for _ in $(seq 100); do
		grep -q listening "$log.out" && return 0
		sleep 0.1
	done
	cat "$log.out"
	return 1
}

# udp_csum_errors NS: UdpInCsumErrors in namespace NS.
udp_csum_errors() {
	n "$1" nstat -asz UdpInCsumErrors | awk '$1 == "UdpInCsumErrors" { print $2 }'
}

# capture NS IF FILTER COMMAND...: run COMMAND while tcpdump watches IF in
# NS; passes when a packet matching FILTER was seen. Prints it.
capture() {
	local ns=$1 ifc=$2 filter=$3 pcap pid
	shift 3
	pcap=$TESTDIR/capture.$RANDOM.pcap
	n "$ns" timeout 10 tcpdump -q -n -c 1 -i "$ifc" -w "$pcap" "$filter" 2>/dev/null &
	pid=$!
	sleep 1
	"$@" >/dev/null 2>&1
	wait "$pid"
	[ -s "$pcap" ] || return 1
	tcpdump -n -v -r "$pcap" 2>/dev/null | tee /dev/stderr | grep -q .
}

# nat_fabric HV INET IP=UL...: hypervisor HV (ul0 fd00:1::a/64, MTU 1600)
# behind a router rtr (ulA fd00:1::1) that is the NAT router as the kernel
# does it (fd00:f::1: seg6local End.DX4 towards INET) and routes each IP
# back to HV's underlay address UL (seg6 encap.red), and an internet host
# inet at INET/24 behind rtr's inet0 (.1). No reverse-path filter and no
# ICMP error rate limit in rtr and inet: every error goes to one NAT IP.
nat_fabric() {
	local hv=$1 inet=$2 x
	shift 2
	add_hv "$hv"
	add_ns rtr
	add_ns inet
	for x in rtr inet; do
		must n $x sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 net.ipv4.icmp_ratelimit=0
	done
	veth_pair "$hv" ul0 rtr ulA
	veth_pair rtr inet0 inet eth0
	must n "$hv" ip link set dev ul0 mtu 1600
	must n rtr ip link set dev ulA mtu 1600
	must n "$hv" ip -6 addr add fd00:1::a/64 dev ul0 nodad
	must n rtr ip -6 addr add fd00:1::1/64 dev ulA nodad
	must n rtr ip addr add "${inet%.*}.1/24" dev inet0
	must n inet ip addr add "$inet/24" dev eth0
	must n inet ip route add default via "${inet%.*}.1"
	must n "$hv" ip -6 route add default via fd00:1::1
	must n rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	must n rtr ip -6 route add fd00:a::/64 via fd00:1::a
	must n rtr ip sr tunsrc set fd00:f::1
	must n rtr ip -6 route add fd00:f::1/128 encap seg6local action End.DX4 nh4 "$inet" dev inet0
	for x in "$@"; do
		must n rtr ip route add "${x%=*}/32" encap seg6 mode encap.red segs "${x#*=}" dev ulA
	done
}

# ---- the events ring buffer ---------------------------------------------------

# evdump_build: tests/netns/evdump.c compiled into the scratch directory,
# its path in $EVDUMP.
evdump_build() {
	EVDUMP=$TESTDIR/evdump
	# shellcheck disable=SC2046
	must gcc -O2 -Wall -Werror -I"$HADP_SRC/include" -o "$EVDUMP" \
		"$HADP_SRC/tests/netns/evdump.c" $(pkg-config --cflags --libs libbpf)
}

# evdump_start HV OUT: follow HV's ring buffer into OUT (JSON lines); returns
# once nothing produced from now on can be missed. Its pid is in $EVPID.
evdump_start() {
	"$EVDUMP" "$(bpffs "$1")/hadp/${INSTANCE:-default}/events" >"$2" 2>"$2.err" &
	EVPID=$!
	bg_pid "$EVPID"
	for _ in $(seq 50); do
		grep -q '"ready"' "$2" && return 0
		sleep 0.1
	done
	cat "$2.err"
	return 1
}

# evdump_stop OUT: stop the evdump writing OUT; passes when it drained the
# ring and said eof.
evdump_stop() {
	kill -TERM "$EVPID"
	wait "$EVPID"
	local rc=$?
	cat "$1.err"
	tail -n 1 "$1" | grep -q '"eof"' && [ "$rc" -eq 0 ]
}
