#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/vm/run-in-vm.sh: every test that needs Debian's kernel, in one boot.
# Runs INSIDE the VM, as root, from scripts/vmtest.sh (tests/run's `vm`
# suite does exactly that):
#
#   scripts/vmtest.sh -- tests/vm/run-in-vm.sh [PART...]
#
# The parts, in this order (all of them without arguments):
#   smoke   hadp.ko from the module tree: modprobe, the generic netlink
#           family, unload, autoload by family name; veth loads
#   bpf     build/tests/bpf: the fast path's programs load and pass their
#           BPF_PROG_TEST_RUN suite on this kernel (CK_DEFAULT_TIMEOUT: 300)
#   NAME    tests/vm/NAME.sh, for every such file (the module suites): run
#           with bash from the repository's root; each ends with a line
#           "N passed, N failed" as the netns suites do
#
# Each part is framed by "== vm/PART: COMMAND" and "== vm/PART: exit status
# N" lines, which tests/run uses to count each part on its own. Kernel
# messages a part causes that look like trouble (warnings, oopses, ...)
# are shown after it; scripts/vmtest.sh fails the whole run for them.
# Exit status: 0 if every part exited 0.

set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
PART_TIMEOUT=${HADP_VM_PART_TIMEOUT:-600}
BAD='Oops|Kernel panic|kernel BUG|BUG:|WARNING:|general protection fault|Call Trace:|soft lockup|hard LOCKUP|rcu.*(stall|detected stalls)|blocked for more than|UBSAN:|list_(add|del) corruption|Poison overwritten|Redzone overwritten|slab error|double free|refcount_t:'

if [ ! -e /run/hadp-vm/cmd ]; then
	echo "run-in-vm.sh: runs inside scripts/vmtest.sh's VM, not here" >&2
	exit 2
fi

# ---- smoke ---------------------------------------------------------------

smoke() {
	local pass=0 fail=0
	ck() { # description command...
		if "${@:2}" >/dev/null 2>&1; then echo "ok   $1"; pass=$((pass + 1))
		else echo "FAIL $1"; fail=$((fail + 1)); fi
	}
	loaded() { grep -q '^hadp ' /proc/modules; }
	family() { genl ctrl get name hadp 2>/dev/null | grep -q 'hadp'; }
	not() { ! "$@"; }
	ck "kernel is $(uname -r), the one hadp.ko is built for" \
		test "$(modinfo -F vermagic hadp 2>/dev/null | awk '{ print $1 }')" = "$(uname -r)"
	ck "modprobe hadp" modprobe hadp
	ck "hadp is loaded" loaded
	ck "generic netlink family hadp is registered" family
	ck "modprobe -r hadp" modprobe -r hadp
	ck "hadp is unloaded" not loaded
	# The family's alias (MODULE_ALIAS_GENL_FAMILY) loads the module.
	ck "asking for family hadp loads the module" family
	ck "hadp was loaded by its alias" loaded
	modprobe -r hadp 2>/dev/null
	ck "veth pairs can be made (veth.ko loads)" ip link add vmtest0 type veth peer vmtest1
	ip link del vmtest0 2>/dev/null
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

# ---- running the parts ---------------------------------------------------

parts=()
if [ $# -gt 0 ]; then
	parts=("$@")
else
	parts=(smoke bpf)
	for f in tests/vm/*.sh; do
		[ -f "$f" ] || continue
		f=${f##*/}
		[ "$f" = run-in-vm.sh ] || parts+=("${f%.sh}")
	done
fi

statuses=()
failed=0
for part in "${parts[@]}"; do
	case $part in
	smoke) cmd=(smoke) ;;
	bpf) cmd=(env CK_DEFAULT_TIMEOUT="${CK_DEFAULT_TIMEOUT:-300}" "$ROOT/build/tests/bpf") ;;
	*)
		if [ ! -f "tests/vm/$part.sh" ]; then
			echo "== vm/$part: no tests/vm/$part.sh"
			echo "== vm/$part: exit status 127"
			statuses+=("$part 127"); failed=1; continue
		fi
		cmd=(bash "tests/vm/$part.sh") ;;
	esac
	echo "== vm/$part: ${cmd[*]}"
	before=$(dmesg | wc -l)
	start=$(date +%s)
	if [ "$part" = smoke ]; then
		smoke </dev/null 2>&1
	else
		timeout --kill-after=10 "$PART_TIMEOUT" "${cmd[@]}" </dev/null 2>&1
	fi
	rc=$?
	[ "$rc" -eq 124 ] && echo "vm/$part timed out after ${PART_TIMEOUT}s"
	cd "$ROOT" || exit 1
	# What the part made the kernel say, if it looks like trouble.
	if dmesg | tail -n +"$((before + 1))" | grep -Eq "$BAD"; then
		echo "vm/$part: the kernel reported a problem:"
		dmesg | tail -n +"$((before + 1))" | sed 's/^/   /'
	fi
	echo "== vm/$part: exit status $rc ($(($(date +%s) - start))s)"
	statuses+=("$part $rc")
	[ "$rc" -eq 0 ] || failed=1
done

echo "== vm: exit status of each part: ${statuses[*]/%/;}"
exit "$failed"
