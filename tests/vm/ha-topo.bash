# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Helpers are called through check and command substitutions:
# shellcheck disable=SC2317
#
# tests/vm/ha-topo.bash: the HA pair on one hypervisor, its VMs, a router,
# the internet and a remote hypervisor, with the helpers that drive them.
# Sourced by tests/vm/failover.sh (the suite) and scripts/demo-ha.sh (the
# demo); both run inside scripts/vmtest.sh's VM, where hadp.ko loads. Not
# a suite itself (run-in-vm.sh runs tests/vm/*.sh only). Builds on
# tests/netns/lib.bash (namespaces, checks, cleanup on exit).
#
#   vmS 10.0.0.1                vmV 10.0.0.2                     vmR 10.0.0.9
#   SNAT 203.0.113.1            VIP 203.0.113.10                  (VNI 100)
#    ports 10000-10999           ul fd00:a::200                    eth0
#    ul fd00:a::100                                                 |
#    eth0                        eth0                              vm1 ul fd00:b::1
#     |                           |                          +-- hvR: one instance --+
#    vm1 ul fd00:a::1            vm2 ul fd00:a::2            | (hadp dp load), no    |
#  +-- hv: instances a and b: one configuration, one lock --+ | agent                 |
#  | hadpd a (127.0.0.1:9101)     hadpd b (127.0.0.1:9102)  | | ul0 fd00:2::b/64      |
#  |   group a in netns hsa         group b in netns hsb    | +----------|------------+
#  |   (--sync-netns)               (--sync-netns)          |            |
#  | ul0 fd00:1::a/64                                        |            |
#  +---------|-----------------------------------------------+            |
#            |        +-------------- rtr (Linux, no hadp) -------------+ |
#            +--------| ulA fd00:1::1                    fd00:2::1 ulR  |-+
#                     | fd00:a::/64 via hv, fd00:b::/64 via hvR         |
#                     | fd00:f::1: seg6local End.DX4 (the NAT router)   |
#                     | 203.0.113.1, .10: encap.red to fd00:a::100, ::200|
#                     | inet0 198.51.100.1/24                            |
#                     +---|----------------------------------------------+
#                         |
#                inet 198.51.100.2: tests/vm/streams.py servers
#
#  hsa 10.77.0.1 sync0 ====== the sync link (veth) ====== sync0 10.77.0.2 hsb
#      hadp.ko group a, UDP 6749                 hadp.ko group b, UDP 6749
#
# Instances a and b are the same datapath twice (each its own programs and
# maps under <bpffs>/hadp/a and /b), behind the one per-host root
# (<bpffs>/hadp/_root): the agent holding the lock file's flock is active
# and its instance is the root's active entry. The agents run in hv; each
# one's netlink socket to hadp.ko is opened in its sync namespace, so that
# the two groups are the two ends of the veth between hsa and hsb, where
# nftables can drop sync packets. Every veth end has transmit checksum
# offload off and GRO on (lib.bash).

# shellcheck source=tests/netns/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/../netns/lib.bash"

HADPD=${HADPD:-$HADP_SRC/build/hadpd}
STREAMS=$HADP_SRC/tests/vm/streams.py
HAPKT=$HADP_SRC/tests/vm/hapkt.py

NAT=203.0.113.1
NAT_MIN=10000
NAT_MAX=10999
VIP=203.0.113.10
INET=198.51.100.2
VMR=10.0.0.9
SYNC_PORT=6749
LOCK=$TESTDIR/active.lock
KEY=$TESTDIR/sync.key
# Traffic: per-connection chunk interval and datagram rates, modest for
# BPF under emulation (15-20 times slower than on the host): 200
# connections sending every 0.2 s saturate the VM's two emulated CPUs
# (echoes wait 10 s, datagrams drop in the stacks), which measures the
# emulator, not the failover.
TCP_INTERVAL=${TCP_INTERVAL:-1}
UDP_RATE=${UDP_RATE:-25}
declare -A PORT=([a]=9101 [b]=9102) PID=() SYNCNS=([a]=hsa [b]=hsb)
declare -A SYNCIP=([a]=10.77.0.1 [b]=10.77.0.2)
# Agent options every start uses (the tests may add more).
# The active sends a keepalive when it has sent nothing for a second: the
# standby's readiness lag (time since the peer was heard) must stay well
# above that, with emulation's stalls on top.
AGENT_OPTS=(--age-interval 1 --refresh-interval 10 --retransmit-ms 200 --ready-lag-ms 5000)
# HADP_HA_NOSYNC=1: no hadp.ko (a kernel that cannot load it): the agents
# run with --no-sync. Only for working on the topology and the traffic
# on such a host; every check that needs mirroring fails.
NOSYNC=${HADP_HA_NOSYNC:-}

other() { [ "$1" = a ] && echo b || echo a; }

# ---- topology --------------------------------------------------------------------

ha_topology() {
	command -v nft >/dev/null || die "no nft (scripts/install-deps.sh installs nftables)"
	[ -x "$HADP" ] || die "no $HADP: run make"
	[ -x "$HADPD" ] || die "no $HADPD: run make"
	[ -n "$NOSYNC" ] || modprobe hadp 2>/dev/null || grep -q '^hadp ' /proc/modules ||
		die "modprobe hadp"

	add_hv hv
	add_hv hvR
	add_ns rtr
	add_ns inet
	add_ns hsa
	add_ns hsb
	local x
	for x in rtr inet; do
		must n $x sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
			net.ipv4.icmp_ratelimit=0
	done
	veth_pair hv ul0 rtr ulA
	veth_pair hvR ul0 rtr ulR
	veth_pair rtr inet0 inet eth0
	veth_pair hsa sync0 hsb sync0
	for x in "hv ul0" "hvR ul0" "rtr ulA" "rtr ulR"; do
		# shellcheck disable=SC2086
		must n ${x% *} ip link set dev ${x#* } mtu 1600
	done
	must n hv ip -6 addr add fd00:1::a/64 dev ul0 nodad
	must n hvR ip -6 addr add fd00:2::b/64 dev ul0 nodad
	must n rtr ip -6 addr add fd00:1::1/64 dev ulA nodad
	must n rtr ip -6 addr add fd00:2::1/64 dev ulR nodad
	must n rtr ip addr add 198.51.100.1/24 dev inet0
	must n inet ip addr add $INET/24 dev eth0
	must n inet ip route add default via 198.51.100.1
	must n hv ip -6 route add default via fd00:1::1
	must n hvR ip -6 route add default via fd00:2::1
	must n hsa ip addr add ${SYNCIP[a]}/24 dev sync0
	must n hsb ip addr add ${SYNCIP[b]}/24 dev sync0

	# rtr: the fabric, and the NAT router as the kernel does it.
	must n rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	must n rtr ip -6 route add fd00:a::/64 via fd00:1::a
	must n rtr ip -6 route add fd00:b::/64 via fd00:2::b
	must n rtr ip sr tunsrc set fd00:f::1
	must n rtr ip -6 route add fd00:f::1/128 encap seg6local action End.DX4 nh4 $INET dev inet0
	must n rtr ip route add $NAT/32 encap seg6 mode encap.red segs fd00:a::100 dev ulA
	must n rtr ip route add $VIP/32 encap seg6 mode encap.red segs fd00:a::200 dev ulA

	add_vm hv vmS vm1 10.0.0.1
	add_vm hv vmV vm2 10.0.0.2
	add_vm hvR vmR vm1 $VMR
	# The underlay next hops in the kernel's tables before hadp looks.
	must n hv ping -n -c 1 -W 2 fd00:1::1
	must n hvR ping -n -c 1 -W 2 fd00:2::1

	# The remote hypervisor: one instance, no agent.
	hadp_must hvR dp load
	hadp_must hvR uplink set dev ul0
	hadp_must hvR iface add vm1 dev vm1 vni 100 mac "$(mac vmR eth0)" ipv4 $VMR underlay fd00:b::1
	hadp_must hvR route add 10.0.0.1/32 vni 100 via fd00:a::1
	hadp_must hvR route add 10.0.0.2/32 vni 100 via fd00:a::2

	# The sync groups, one per instance, each in its sync namespace.
	head -c 32 /dev/urandom >"$KEY"
	[ -n "$NOSYNC" ] && return 0
	must ha_cli a ha add a local ${SYNCIP[a]}:$SYNC_PORT peer ${SYNCIP[b]}:$SYNC_PORT key "$KEY"
	must ha_cli b ha add b local ${SYNCIP[b]}:$SYNC_PORT peer ${SYNCIP[a]}:$SYNC_PORT key "$KEY"
}

# ha_configure: hv's configuration, written by the CLI to every instance
# loaded on hv (a and b alike: the agents must have loaded both).
ha_configure() {
	hadp_must hv uplink set dev ul0
	hadp_must hv nat router fd00:f::1
	hadp_must hv route add 0.0.0.0/0 vni 100 nat
	hadp_must hv iface add vm1 dev vm1 vni 100 mac "$(mac vmS eth0)" ipv4 10.0.0.1 underlay fd00:a::1
	hadp_must hv iface add vm2 dev vm2 vni 100 mac "$(mac vmV eth0)" ipv4 10.0.0.2 underlay fd00:a::2
	hadp_must hv nat add iface vm1 ip $NAT ports $NAT_MIN-$NAT_MAX underlay fd00:a::100
	hadp_must hv vip add iface vm2 ip $VIP underlay fd00:a::200
	hadp_must hv route add $VMR/32 vni 100 via fd00:b::1
}

# ha_start: the topology, both agents and the configuration: a active and
# ready, b standby and ready (its bulk sync complete), the root naming a.
# With A_LOAD (an array), a is loaded with those `hadp dp load` arguments
# before its agent starts (which adopts it).
ha_start() {
	ha_topology
	[ -z "${A_LOAD+x}" ] || hadp_must hv -I a dp load "${A_LOAD[@]}"
	start_agent a
	check "hadpd a is ready (active)" wait_ready a
	start_agent b
	check "hadpd b answers /livez" wait_live b
	ha_configure
	check "hadpd b is ready (standby, bulk sync complete)" wait_ready b
	check_eq "the root's active entry names a" "$(active)" a
}

# ha_cli INST ARGS...: the CLI in INST's sync namespace (where its group
# lives), with hv's pin root (ha show reads the agent's status there).
ha_cli() {
	local inst=$1
	shift
	nsenter --net="/run/netns/$(ns "${SYNCNS[$inst]}")" "$HADP" --bpffs "$(bpffs hv)" "$@"
}

# ---- agents ------------------------------------------------------------------------

# start_agent INST [OPTIONS...]: hadpd for instance INST on hv, in the
# background, its log in $TESTDIR/hadpd-INST.log.
start_agent() {
	local inst=$1
	shift
	echo "---- start $(date +%T.%N)" >>"$TESTDIR/hadpd-$inst.log"
	nsenter --net="/run/netns/$(ns hv)" "$HADPD" --bpffs "$(bpffs hv)" \
		--instance "$inst" --active-lockfile "$LOCK" \
		$([ -n "$NOSYNC" ] && echo --no-sync || echo "--group $inst --sync-netns $(ns "${SYNCNS[$inst]}")") \
		--http "127.0.0.1:${PORT[$inst]}" "${AGENT_OPTS[@]}" "$@" \
		>>"$TESTDIR/hadpd-$inst.log" 2>&1 &
	PID[$inst]=$!
	bg_pid "${PID[$inst]}"
}

# stop_agent INST SIGNAL: signal the agent and wait for it; returns its
# exit status.
stop_agent() {
	local rc=0
	kill "-$2" "${PID[$1]}" 2>/dev/null
	wait "${PID[$1]}" 2>/dev/null || rc=$?
	PID[$1]=
	return $rc
}

alive() { [ -n "${PID[$1]:-}" ] && kill -0 "${PID[$1]}" 2>/dev/null; }

# http INST PATH: the status code of GET PATH on INST's agent (000: none).
http() {
	n hv curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[$1]}$2" 2>/dev/null
}

# metrics INST: the agent's /metrics text.
metrics() { n hv curl -s -m 3 "http://127.0.0.1:${PORT[$1]}/metrics" 2>/dev/null; }

# metric INST NAME [LABELMATCH]: one sample's value (the first matching).
metric() {
	metrics "$1" | awk -v n="$2" -v l="${3:-}" '$1 ~ "^"n"({|$)" && index($1, l) { print $2; exit }'
}

# metric_sum INST NAME: the sum of a metric over its labels (0 if absent).
metric_sum() {
	metrics "$1" | awk -v n="$2" '$1 ~ "^"n"({|$)" { s += $2 } END { printf "%d\n", s }'
}

role() {
	if [ "$(metric "$1" hadp_role 'role="active"')" = 1 ]; then echo active
	elif [ "$(metric "$1" hadp_role 'role="standby"')" = 1 ]; then echo standby
	else echo unknown; fi
}

# agent_json INST: the "agent" object of `hadp -j ha show INST`.
agent_json() { ha_cli "$1" -j ha show "$1" 2>/dev/null | jq -c '.[0].agent // empty'; }

# bulk_state INST: none, requested, running or complete (ha show's agent).
bulk_state() { agent_json "$1" | jq -r '.bulk_sync // "unknown"'; }

# deadline SECONDS: a time SECONDS from now (for until_deadline).
deadline() { echo $(($(date +%s%N) + $1 * 1000000000)); }
# before DEADLINE: not past it (loops count time, not turns: a turn can
# take a second under emulation).
before() { [ "$(date +%s%N)" -lt "$1" ]; }

# agent_logs: with VERBOSE or a failed check, the last 30 lines of each
# agent's log (a suite's last words before finish).
agent_logs() {
	local i
	[ -n "${VERBOSE:-}" ] || [ "$failed" -gt 0 ] || return 0
	for i in a b; do
		echo "---- hadpd-$i.log: the last 30 lines"
		tail -n 30 "$TESTDIR/hadpd-$i.log"
	done
}

# agent_tail INST: the last lines of INST's agent log.
agent_tail() { tail -n 12 "$TESTDIR/hadpd-$1.log" | sed "s/^/hadpd-$1: /"; }

# wait_ready INST [SECONDS]: /readyz answers 200 within SECONDS (60).
wait_ready() {
	local end
	end=$(deadline "${2:-60}")
	while before "$end"; do
		[ "$(http "$1" /readyz)" = 200 ] && return 0
		alive "$1" || { echo "hadpd $1 exited"; agent_tail "$1"; return 1; }
		sleep 0.2
	done
	echo "hadpd $1 not ready after ${2:-60} s"
	metrics "$1" | grep -E '^hadp_(role|ready|sync_(registered|bulk|lag))'
	agent_tail "$1"
	return 1
}

# wait_live INST: /livez answers 200 within 30 s.
wait_live() {
	local end
	end=$(deadline 30)
	while before "$end"; do
		[ "$(http "$1" /livez)" = 200 ] && return 0
		alive "$1" || { echo "hadpd $1 exited"; return 1; }
		sleep 0.2
	done
	return 1
}

# agent_is INST JQ: ha show's agent object of INST satisfies JQ; prints it.
agent_is() {
	local j
	j=$(agent_json "$1")
	echo "agent: $j"
	[ -n "$j" ] && jq -e "$2" <<<"$j" >/dev/null
}

# active: the instance the root's active entry names.
active() {
	hadp hv -j dp show 2>/dev/null | jq -r '.. | objects | select(has("active_index")) | .active' | head -n1
}

# wait_active INST [SECONDS]: the active entry names INST within SECONDS
# (10); prints the milliseconds it took, or "never".
wait_active() {
	local t0 end
	t0=$(date +%s%N)
	end=$(deadline "${2:-10}")
	while before "$end"; do
		if [ "$(active)" = "$1" ]; then
			echo $((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		sleep 0.02
	done
	echo never
	return 1
}

# rx INST: packets taken in by INST's programs (every interface and CPU).
rx() { INSTANCE=$1 stat_sum hv rx_packets; }

# switched NEW OLD: while traffic flows, NEW's counters rise and OLD's stay
# flat over 2 s.
switched() {
	local n0 o0 n1 o1
	n0=$(rx "$1")
	o0=$(rx "$2")
	sleep 2
	n1=$(rx "$1")
	o1=$(rx "$2")
	echo "rx_packets $1: $n0 -> $n1, $2: $o0 -> $o1"
	[ "$n1" -gt "$n0" ] 2>/dev/null && [ "$o1" = "$o0" ]
}

# nconns INST: entries in INST's conns map.
nconns() { bpftool -j map dump pinned "$(bpffs hv)/hadp/$1/conns" 2>/dev/null | jq length; }

# wait_empty INST: INST's conns map is empty within 10 s.
wait_empty() {
	local end
	end=$(deadline 15)
	while before "$end"; do
		[ "$(nconns "$1")" = 0 ] && return 0
		sleep 0.1
	done
	echo "$1 still holds $(nconns "$1") connections"
	return 1
}

# keys INST: INST's connection keys with their public side, sorted, one a
# line ("proto src:sport dst:dport nat_ip:nat_port").
keys() {
	hadp hv -I "$1" -j flow show 2>/dev/null |
		jq -r '.[] | "\(.proto) \(.src):\(.sport) \(.dst):\(.dport) \(.nat_ip):\(.nat_port)"' | sort
}

# records INST: keys() with each connection's state and version.
records() {
	hadp hv -I "$1" -j flow show 2>/dev/null |
		jq -r '.[] | "\(.proto) \(.src):\(.sport) \(.dst):\(.dport) \(.nat_ip):\(.nat_port) \(.state) \(.version)"' | sort
}

# converged A B [SECONDS]: B's connection table holds exactly A's (keys,
# public addresses, states and versions) within SECONDS (30); prints how
# long it took.
converged() {
	local t0 end ka kb
	t0=$(date +%s%N)
	end=$(deadline "${3:-30}")
	while before "$end"; do
		ka=$(records "$1")
		kb=$(records "$2")
		if [ -n "$ka" ] && [ "$ka" = "$kb" ]; then
			echo "$2 holds $1's $(wc -l <<<"$ka") connections after $((($(date +%s%N) - t0) / 1000000)) ms"
			return 0
		fi
		sleep 0.5
	done
	echo "$1: $(wc -l <<<"$ka") connections, $2: $(wc -l <<<"$kb"); differing:"
	echo "$ka" >"$TESTDIR/converged.a"
	echo "$kb" >"$TESTDIR/converged.b"
	diff "$TESTDIR/converged.a" "$TESTDIR/converged.b" | head -n 20
	return 1
}

# mappings_changed OLD_SNAPSHOT NEW_SNAPSHOT: keys present in both whose
# public address or port differs, and keys of OLD missing from NEW.
# Prints "changed missing".
mappings_changed() {
	awk 'NR == FNR { m[$1" "$2" "$3] = $4; next }
	     ($1" "$2" "$3) in m { seen[$1" "$2" "$3] = 1; if (m[$1" "$2" "$3] != $4) c++ }
	     END { for (k in m) if (!(k in seen)) miss++; printf "%d %d\n", c, miss }' "$1" "$2"
}

# ---- traffic ------------------------------------------------------------------------

streams() { local name=$1; shift; n "$name" "$PY" -u "$STREAMS" "$@"; }

declare -A TPID=()
TRAFFIC=

# traffic_start TAG [NTCP]: the servers, then NTCP (200) TCP connections
# from vmS through SNAT, each sending a chunk every $TCP_INTERVAL s; a UDP
# stream vmS -> the internet through SNAT, echoed (the server checks the
# NAT address and port); a UDP stream from the internet to the VIP (vmV);
# a UDP stream vmR -> vmS across the underlay. Returns once every TCP
# connection is open.
traffic_start() {
	local tag=$1 ntcp=${2:-200} d f end
	d=$TESTDIR/traffic.$tag
	TRAFFIC=$d
	mkdir -p "$d"
	n_bg inet "$PY" -u "$STREAMS" serve --report "$d/inet.json" --tcp 7000 --udp 7001 --echo >"$d/inet.out" 2>&1
	TPID[srv_inet]=$BG
	n_bg vmV "$PY" -u "$STREAMS" serve --report "$d/vmV.json" --udp 7101 >"$d/vmV.out" 2>&1
	TPID[srv_vmV]=$BG
	n_bg vmS "$PY" -u "$STREAMS" serve --report "$d/vmS.json" --udp 7201 >"$d/vmS.out" 2>&1
	TPID[srv_vmS]=$BG
	for f in inet vmV vmS; do
		end=$(deadline 60)
		while before "$end"; do grep -q listening "$d/$f.out" && break; sleep 0.1; done
		grep -q listening "$d/$f.out" || { cat "$d/$f.out"; echo "the server in $f did not start"; return 1; }
	done
	n_bg vmS "$PY" -u "$STREAMS" udp $INET 7001 --echo --rate "$UDP_RATE" --report "$d/out.json" >"$d/out.out" 2>&1
	TPID[udp_out]=$BG
	n_bg inet "$PY" -u "$STREAMS" udp $VIP 7101 --rate "$UDP_RATE" --report "$d/in.json" >"$d/in.out" 2>&1
	TPID[udp_in]=$BG
	n_bg vmR "$PY" -u "$STREAMS" udp 10.0.0.1 7201 --rate "$UDP_RATE" --report "$d/ov.json" >"$d/ov.out" 2>&1
	TPID[udp_ov]=$BG
	TPID[tcp]=
	if [ "$ntcp" -gt 0 ]; then
		n_bg vmS "$PY" -u "$STREAMS" tcp $INET 7000 -n "$ntcp" --interval "$TCP_INTERVAL" \
			--report "$d/tcp.json" >"$d/tcp.out" 2>&1
		TPID[tcp]=$BG
		end=$(deadline 120)
		while before "$end"; do grep -q '^connected' "$d/tcp.out" && break; sleep 0.2; done
		grep '^connected' "$d/tcp.out" || { cat "$d/tcp.out"; return 1; }
		grep -q "^connected $ntcp/$ntcp" "$d/tcp.out" || return 1
	fi
	NTCP=$ntcp
	return 0
}

# traffic_stop_senders: stop the senders (the TCP connections close
# cleanly, checking their last echo); T_CLOSED_NS: when they were gone.
traffic_stop_senders() {
	local p
	for p in tcp udp_out udp_in udp_ov; do
		[ -n "${TPID[$p]:-}" ] && kill -TERM "${TPID[$p]}" 2>/dev/null
	done
	for p in tcp udp_out udp_in udp_ov; do
		[ -n "${TPID[$p]:-}" ] && wait "${TPID[$p]}" 2>/dev/null
		TPID[$p]=
	done
	T_CLOSED_NS=$(date +%s%N)
}

# traffic_stop: stop the senders, then the servers; sets the T_* results.
traffic_stop() {
	local p
	[ -n "${TPID[udp_out]:-}" ] && traffic_stop_senders
	sleep 0.5
	for p in srv_inet srv_vmV srv_vmS; do kill -TERM "${TPID[$p]}" 2>/dev/null; done
	for p in srv_inet srv_vmV srv_vmS; do wait "${TPID[$p]}" 2>/dev/null; done
	TPID=()
	traffic_results
}

# jqf FILE FILTER: a number from a report (an error tag if unreadable, so
# that a check on it fails).
jqf() {
	local v
	v=$(jq -r "$2" "$1" 2>/dev/null)
	if [[ $v =~ ^[0-9]+(\.[0-9]+)?$ ]]; then echo "$v"; else echo "unreadable:${1##*/}:$2"; fi
}

# traffic_results: T_TCP_OPENED, T_TCP_BROKEN, T_NAT_CHANGED (datagrams the
# servers saw from another address or port than their flow's first),
# and per UDP stream (OUT: vmS -> internet and back, counted on the echoes;
# IN: internet -> VIP; OV: vmR -> vmS) _SENT, _LOST, _HOLES, _GAP (ms).
traffic_results() {
	local d=$TRAFFIC
	if [ -n "${NTCP:-}" ] && [ "$NTCP" -gt 0 ]; then
		T_TCP_OPENED=$(jqf "$d/tcp.json" .opened)
		T_TCP_BROKEN=$(jqf "$d/tcp.json" .broken)
		T_TCP_CHUNKS=$(jqf "$d/tcp.json" .chunks)
		T_TCP_WAIT=$(jqf "$d/tcp.json" .max_wait_ms)
	else
		T_TCP_OPENED=0 T_TCP_BROKEN=0 T_TCP_CHUNKS=0 T_TCP_WAIT=0
	fi
	T_NAT_CHANGED=$(jq -s '[.[].flows // {} | .[] | .changed] | add // 0' "$d/inet.json" "$d/vmV.json" "$d/vmS.json" 2>/dev/null)
	[[ $T_NAT_CHANGED =~ ^[0-9]+$ ]] || T_NAT_CHANGED=unreadable
	T_OUT_SENT=$(jqf "$d/out.json" .sent)
	T_OUT_LOST=$(jqf "$d/out.json" .echo.lost)
	T_OUT_HOLES=$(jqf "$d/out.json" .echo.holes)
	T_OUT_GAP=$(jqf "$d/out.json" .echo.gap_ms)
	T_OUT_FWD_LOST=$(_rx_lost "$d/out.json" "$d/inet.json")
	T_OUT_PEERS=$(jq -r '[.flows[] | .peer] | join(",")' "$d/inet.json" 2>/dev/null)
	read -r T_IN_SENT T_IN_LOST T_IN_HOLES T_IN_GAP <<<"$(_stream "$d/in.json" "$d/vmV.json")"
	read -r T_OV_SENT T_OV_LOST T_OV_HOLES T_OV_GAP <<<"$(_stream "$d/ov.json" "$d/vmS.json")"
}

# _stream SENDER RECEIVER: "sent lost holes gap_ms" of one stream, the
# receiver's flow matched by the sender's flow id; lost includes what never
# came after the last arrival.
_stream() {
	local fid sent
	fid=$(jq -r .flow "$1" 2>/dev/null)
	sent=$(jq -r .sent "$1" 2>/dev/null)
	jq -r --arg f "$fid" --argjson s "${sent:-0}" '
		.flows[$f] as $r |
		if $r == null then "\($s) \($s) unreadable unreadable"
		else "\($s) \($s - $r.received) \($r.holes) \($r.gap_ms)" end' "$2" 2>/dev/null ||
		echo "unreadable unreadable unreadable unreadable"
}

_rx_lost() { read -r _ l _ _ <<<"$(_stream "$1" "$2")"; echo "$l"; }

# uptime: now, in the clock of the streams' arrival times.
uptime() { cut -d' ' -f1 /proc/uptime; }

# window_gaps FROM TO: the longest silence (ms) of each UDP stream around
# an event: the longest time between two arrivals with the interval
# touching [FROM, TO] (uptime seconds). Sets W_OUT, W_IN, W_OV.
window_gaps() {
	local d=$TRAFFIC q
	q='[range(1; length) as $i | select(.[$i] >= $a and .[$i - 1] <= $b) | .[$i] - .[$i - 1]] | (max // 0) * 1000 | round'
	W_OUT=$(jq --argjson a "$1" --argjson b "$2" ".echo.arrivals | $q" "$d/out.json" 2>/dev/null)
	W_IN=$(jq --argjson a "$1" --argjson b "$2" --arg f "$(jq -r .flow "$d/in.json" 2>/dev/null)" \
		".flows[\$f].arrivals | $q" "$d/vmV.json" 2>/dev/null)
	W_OV=$(jq --argjson a "$1" --argjson b "$2" --arg f "$(jq -r .flow "$d/ov.json" 2>/dev/null)" \
		".flows[\$f].arrivals | $q" "$d/vmS.json" 2>/dev/null)
	: "${W_OUT:=unreadable}" "${W_IN:=unreadable}" "${W_OV:=unreadable}"
}

# traffic_summary: one line for the log.
traffic_summary() {
	echo "tcp opened=$T_TCP_OPENED broken=$T_TCP_BROKEN chunks=$T_TCP_CHUNKS max_wait_ms=$T_TCP_WAIT;" \
		"udp out sent=$T_OUT_SENT lost=$T_OUT_LOST (forward $T_OUT_FWD_LOST) holes=$T_OUT_HOLES gap_ms=$T_OUT_GAP" \
		"nat=$T_OUT_PEERS; in sent=$T_IN_SENT lost=$T_IN_LOST holes=$T_IN_HOLES gap_ms=$T_IN_GAP;" \
		"overlay sent=$T_OV_SENT lost=$T_OV_LOST holes=$T_OV_HOLES gap_ms=$T_OV_GAP; nat_changed=$T_NAT_CHANGED"
}

# traffic_details: where the streams lost datagrams and stalled: holes
# [first missing seq, count, uptime when seen] and the 3 longest silences
# [ms, seq after, uptime at the end], in /proc/uptime's clock.
traffic_details() {
	local d=$TRAFFIC
	echo "out (echoes at vmS): $(jq -c '.echo | {hole_list, gaps}' "$d/out.json" 2>/dev/null) errors $(jq -c .errors "$d/out.json" 2>/dev/null)"
	echo "out (at the server): $(jq -c --arg f "$(jq -r .flow "$d/out.json" 2>/dev/null)" '.flows[$f] | {hole_list, gaps}' "$d/inet.json" 2>/dev/null)"
	echo "in (at vmV): $(jq -c --arg f "$(jq -r .flow "$d/in.json" 2>/dev/null)" '.flows[$f] | {hole_list, gaps}' "$d/vmV.json" 2>/dev/null)"
	echo "overlay (at vmS): $(jq -c --arg f "$(jq -r .flow "$d/ov.json" 2>/dev/null)" '.flows[$f] | {hole_list, gaps}' "$d/vmS.json" 2>/dev/null)"
	echo "tcp: longest wait for an echo $(jq -r '"\(.max_wait_ms) ms, ending at \(.max_wait_at)"' "$d/tcp.json" 2>/dev/null)"
}

# result SCENARIO [MORE]: the scenario's machine-readable line. The
# udp_*_gap_ms are the longest silences around the event (window_gaps),
# udp_*_worst_ms the longest over the whole run (emulator stalls too).
result() {
	echo "RESULT scenario=$1 tcp=$T_TCP_OPENED tcp_broken=$T_TCP_BROKEN nat_changed=$T_NAT_CHANGED" \
		"udp_out_lost=$T_OUT_LOST udp_out_gap_ms=${W_OUT:-none} udp_in_lost=$T_IN_LOST udp_in_gap_ms=${W_IN:-none}" \
		"udp_overlay_lost=$T_OV_LOST udp_overlay_gap_ms=${W_OV:-none}" \
		"udp_out_worst_ms=$T_OUT_GAP udp_in_worst_ms=$T_IN_GAP udp_overlay_worst_ms=$T_OV_GAP${2:+ $2}" |
		tee -a "$TESTDIR/results"
}
