#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install every Debian package that building hadp and running its tests
# needs. Idempotent: asks dpkg first, runs apt-get (update, then install)
# only for what is missing, and prints nothing when everything is there.
#
#   scripts/install-deps.sh [--bench]          install what is missing (as root)
#   scripts/install-deps.sh [--bench] --check  list what is missing, exit 1 if any
#
# --bench adds what only the benchmark suite needs (bench/run).

set -euo pipefail

PKGS=(
	# build: BPF objects, skeletons, CLI, unit tests
	clang llvm libbpf-dev libxdp-dev libmnl-dev check bpftool
	pkg-config make gcc libelf-dev zlib1g-dev
	# the fuzz suite: clang's libFuzzer and sanitizer runtimes
	libclang-rt-14-dev
	# build: hadpd's /livez /readyz /metrics
	libmicrohttpd-dev
	# build: hadp.ko against Debian's kernel headers
	linux-headers-amd64
	# integration tests and the demo
	iproute2 ethtool iputils-ping socat netcat-openbsd tcpdump jq python3
	util-linux procps coreutils kmod curl
	# the kmod suite: hadp.ko's uapi and policies against kmod/hadp.yaml
	python3-yaml
	# the HA failover suite (tests/vm/failover.sh): sync packets dropped on the link
	nftables
	# the VM suite (scripts/vmtest.sh): qemu, the initramfs's busybox, cpio
	qemu-system-x86 busybox-static cpio
)
BENCH_PKGS=(
	# bench/report.py's plot
	python3-matplotlib
	# bench/sync's baseline: conntrackd (FTFW) and the conntrack tool
	conntrackd conntrack
)

check=
for a in "$@"; do
	case $a in
	--bench) PKGS+=("${BENCH_PKGS[@]}") ;;
	--check) check=1 ;;
	*) echo "install-deps: unknown argument \"$a\"" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${PKGS[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ -n "$check" ]; then
	echo "missing: ${missing[*]}"
	exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root to install: ${missing[*]}" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "install-deps: apt-get failed" >&2
	exit 1
fi
