#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/vmtest.sh: run a command as root inside Debian's kernel, the one
# the installed linux-headers-amd64 is for (hadp.ko is built against it),
# under qemu. This machine's own kernel cannot load modules.
#
#   scripts/vmtest.sh [OPTIONS] [--] COMMAND [ARG...]
#   scripts/vmtest.sh [OPTIONS]            an interactive shell (needs a tty)
#
# The guest sees the host's root read-only over virtio-9p, under an overlay
# whose upper layer is a tmpfs: every path is the host's, writes stay in the
# guest. COMMAND runs in the current directory with a clean environment
# (PATH, HOME=/root, and the host's CK_*, HADP_*, VERBOSE variables), on
# fresh /tmp, /run, bpffs, debugfs; no network device (make veths). Its
# output is streamed here (standard output, stderr merged in) and its exit
# status is this script's.
# hadp.ko (kmod/hadp.ko, build it first with `make kmod`) is installed as
# /lib/modules/VERSION/extra/hadp.ko and depmod'ed: `modprobe hadp` works.
#
# The run fails, with the kernel's console log shown, when the kernel
# reports an oops, panic, BUG, WARNING, lockup or stall, or when the guest
# does not finish in time (exit status 124), or gives no status (125).
#
# Options (and the environment variables that set their defaults):
#   -t, --timeout SEC   whole run, boot included (HADP_VM_TIMEOUT, 600)
#   -k, --ko FILE       a module to install into extra/ (repeatable; default
#                       kmod/hadp.ko if it exists)
#       --no-ko         install no module
#   -a, --append ARGS   more kernel parameters, e.g. slub_debug=FZPU
#                       (HADP_VM_APPEND)
#   -c, --console       stream the kernel's console to stderr too
#       --console-log FILE   keep the console log there
#       --accel kvm|tcg (HADP_VM_ACCEL; default: kvm if this kernel
#                       reaches an init under it, else tcg, software
#                       emulation: scripts/vm-accel.bash)
#       --probe         print the accelerator a boot would use and why
#                       ("kvm: REASON" or "tcg: REASON"), and exit
#       --cpus N        (HADP_VM_CPUS, 2)     --mem MIB   (HADP_VM_MEM, 2048)
#
# Every boot says which accelerator it uses and why. A watchdog stops a
# guest whose init has not spoken on the console within HADP_VM_WATCHDOG
# seconds (180): a boot under an accelerator chosen automatically is then
# tried once more under tcg; one asked for with --accel fails (status 125).
# HADP_VM_PROBE_TIMEOUT (10) bounds the KVM probe, HADP_VM_KVM_DEV
# (/dev/kvm) names the device it looks for.
#
# Cache (outside git): HADP_VM_CACHE (/var/cache/hadp-vm)/VERSION/ holds the
# kernel package's vmlinuz and module tree, fetched once with
# `apt-get download linux-image-VERSION` and extracted with dpkg-deb.
# Needs qemu-system-x86, busybox-static and cpio (scripts/install-deps.sh).

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=vmtest

timeout=${HADP_VM_TIMEOUT:-600}
append=${HADP_VM_APPEND:-}
accel=${HADP_VM_ACCEL:-}
accel_why=${accel:+set by HADP_VM_ACCEL}
kvm_dev=${HADP_VM_KVM_DEV:-/dev/kvm}
probe_timeout=${HADP_VM_PROBE_TIMEOUT:-10}
watchdog=${HADP_VM_WATCHDOG:-180}
probe_only=0
cpus=${HADP_VM_CPUS:-2}
mem=${HADP_VM_MEM:-2048}
cache=${HADP_VM_CACHE:-/var/cache/hadp-vm}
console=0
console_log=
kos=()
default_ko=1

err() { echo "$PROG: $*" >&2; }
die() { err "$*"; exit 125; }
usage() { sed -n '/^#   scripts\/vmtest.sh/,/^# Needs/s/^# \{0,1\}//p' "$0" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	-t | --timeout) timeout=$2; shift 2 ;;
	-k | --ko) kos+=("$2"); default_ko=0; shift 2 ;;
	--no-ko) default_ko=0; kos=(); shift ;;
	-a | --append) append="$append $2"; shift 2 ;;
	-c | --console) console=1; shift ;;
	--console-log) console_log=$2; shift 2 ;;
	--accel) accel=$2; accel_why="asked for with --accel"; shift 2 ;;
	--probe) probe_only=1; shift ;;
	--cpus) cpus=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) err "unknown option $1"; usage ;;
	*) break ;;
	esac
done

[ "$(id -u)" -eq 0 ] || die "must run as root (qemu exports / over 9p as root)"
for tool in qemu-system-x86_64 cpio dpkg-deb depmod; do
	command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh"
done
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
	die "/bin/busybox (static) is missing: run scripts/install-deps.sh"

# ---- the kernel: Debian's package matching linux-headers-amd64 ------------

# linux-headers-amd64 depends on exactly one linux-headers-VERSION (= PKGVER).
deps=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null) ||
	die "linux-headers-amd64 is not installed: run scripts/install-deps.sh"
kver=$(sed -nE 's/.*linux-headers-([^ ,]+-amd64).*/\1/p' <<<"$deps")
pkgver=$(sed -nE 's/.*linux-headers-[^ ,]+-amd64 \(= ([^)]+)\).*/\1/p' <<<"$deps")
[ -n "$kver" ] || die "cannot tell the kernel version from linux-headers-amd64's Depends: $deps"
kdir=$cache/$kver

fetch_kernel() {
	local tmp pkg=linux-image-$kver
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
	err "fetching $pkg${pkgver:+ $pkgver} into $kdir"
	if ! (cd "$tmp" && apt-get download -q "$pkg${pkgver:+=$pkgver}" >download.log 2>&1); then
		err "apt-get download failed; apt-get update, then again"
		apt-get update -qq >/dev/null 2>&1 || true
		(cd "$tmp" && apt-get download -q "$pkg${pkgver:+=$pkgver}" >download.log 2>&1) ||
			{ cat "$tmp/download.log" >&2; rm -rf "$tmp"; die "cannot download $pkg"; }
	fi
	dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root" || { rm -rf "$tmp"; die "cannot extract $pkg"; }
	rm -f "$tmp"/*.deb "$tmp/download.log"
	[ -f "$tmp/root/boot/vmlinuz-$kver" ] && [ -d "$tmp/root/lib/modules/$kver" ] ||
		{ rm -rf "$tmp"; die "$pkg has no vmlinuz-$kver or /lib/modules/$kver"; }
	depmod -b "$tmp/root" "$kver" || { rm -rf "$tmp"; die "depmod failed"; }
	echo "$pkg ${pkgver:-?}" >"$tmp/package"
	rm -rf "$kdir"
	mv "$tmp" "$kdir"
}

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
[ -f "$kdir/package" ] || fetch_kernel
flock -u 9
exec 9>&-
kmods=$kdir/root/lib/modules/$kver
vmlinuz=$kdir/root/boot/vmlinuz-$kver

# ---- the accelerator -------------------------------------------------------

# shellcheck source=scripts/vm-accel.bash
. "$REPO/scripts/vm-accel.bash"
accel_auto=0
if [ -z "$accel" ]; then
	choose_accel "$vmlinuz"
	accel_auto=1
fi
case $accel in
kvm | tcg) ;;
*) die "--accel: kvm or tcg, not $accel" ;;
esac
if [ "$probe_only" -eq 1 ]; then
	echo "$accel: $accel_why"
	exit 0
fi

# ---- this run's files ----------------------------------------------------

run=$(mktemp -d /tmp/hadp-vm.XXXXXX)
qpid=
tpid=
wpid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	[ -n "$wpid" ] && kill "$wpid" 2>/dev/null
	[ -n "$tpid" ] && kill "$tpid" 2>/dev/null
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
share=$run/share
mkdir -p "$share"

# The initramfs: busybox, the modules that mounting a 9p root under an
# overlay needs (with their dependencies, in load order), stage 1 of vm-init.
declare -A seen=()
order=()
add_module() { # name as modules.dep has it, e.g. kernel/fs/9p/9p.ko
	local m=$1 line d deps=()
	[ -n "${seen[$m]:-}" ] && return
	seen[$m]=1
	line=$(grep -m1 "^$m:" "$kmods/modules.dep") || die "$m is not in $kver's modules.dep"
	read -r -a deps <<<"${line#*:}"
	# modules.dep lists what a module needs in reverse load order
	for ((d = ${#deps[@]} - 1; d >= 0; d--)); do add_module "${deps[d]}"; done
	order+=("$m")
}
for name in virtio_pci 9pnet_virtio 9p overlay; do
	if grep -qE "/$name\.ko\$" "$kmods/modules.builtin"; then continue; fi
	path=$(grep -m1 -oE "^[^:]*/$name\.ko:" "$kmods/modules.dep") || die "no module $name in $kver"
	add_module "${path%:}"
done
ird=$run/initramfs
mkdir -p "$ird/bin" "$ird/modules" "$ird/proc" "$ird/sys" "$ird/dev" "$ird/lower" "$ird/rw" "$ird/newroot"
cp /bin/busybox "$ird/bin/busybox"
ln -s busybox "$ird/bin/sh"
cp "$REPO/scripts/vm-init" "$ird/init"
chmod 755 "$ird/init"
for m in "${order[@]}"; do
	cp "$kmods/$m" "$ird/modules/"
	basename "$m" >>"$ird/modules.list"
done
(cd "$ird" && find . | cpio -o -H newc --quiet) >"$run/initrd"

# The guest's /lib/modules/$kver: the package's tree (through a symlink,
# the guest sees the same path over 9p), plus the modules to test.
[ "$default_ko" -eq 1 ] && [ -f "$REPO/kmod/hadp.ko" ] && kos=("$REPO/kmod/hadp.ko")
[ "$default_ko" -eq 1 ] && [ ${#kos[@]} -eq 0 ] && err "no kmod/hadp.ko (make kmod): booting without it"
mtree=$share/lib/modules/$kver
mkdir -p "$mtree/extra"
ln -s "$kmods/kernel" "$mtree/kernel"
cp "$kmods"/modules.builtin* "$kmods"/modules.order "$mtree/"
for ko in "${kos[@]}"; do
	[ -f "$ko" ] || die "no module $ko"
	vm=$(modinfo -F vermagic "$ko" 2>/dev/null | awk '{ print $1 }')
	[ "$vm" = "$kver" ] || die "$ko is built for '${vm:-?}', the VM runs $kver: rebuild it (make kmod)"
	cp "$ko" "$mtree/extra/"
done
depmod -b "$share" "$kver" || die "depmod failed on the guest's module tree"

# The command, run by vm-init's stage 2 with bash in a clean environment.
case $PWD/ in
"$REPO"/*) ;;
/tmp/* | /var/tmp/* | /run/*) err "warning: $PWD is not the host's in the guest (fresh /tmp, /var/tmp, /run)" ;;
esac
{
	echo "cd $(printf '%q' "$PWD") 2>/dev/null || cd /"
	while IFS='=' read -r name _; do
		case $name in
		CK_* | HADP_* | VERBOSE) printf 'export %s=%q\n' "$name" "${!name}" ;;
		esac
	done < <(env)
	if [ $# -gt 0 ]; then
		printf 'exec'
		printf ' %q' "$@"
		printf '\n'
	else
		echo 'exec bash -i'
	fi
} >"$share/cmd"
if [ $# -eq 0 ]; then
	[ -t 0 ] || die "no command, and standard input is not a terminal for a shell"
	touch "$share/interactive"
fi

# ---- boot ----------------------------------------------------------------

cmdline="console=ttyS0,115200 panic=-1 oops=panic rdinit=/init net.ifnames=0"
cmdline+=" random.trust_cpu=on mitigations=off tsc=reliable hadpvm_init=$REPO/scripts/vm-init"
cmdline+=" hadpvm_repo=$REPO $append"

console_file=$run/console.log
: >"$console_file"
if [ "$console" -eq 1 ]; then
	tail -n +1 -f "$console_file" >&2 &
	tpid=$!
fi

# The first words of vm-init's stage 1 (scripts/vm-init): the kernel has
# booted and run the init. Under TCG that takes seconds, under KVM less.
STAGE1_WORDS='hadp-vm: stage 1'

# Stop a boot whose init has not spoken within $watchdog seconds.
watch_boot() { # pid (timeout's, which passes the signal on to qemu)
	local i
	for ((i = 0; i < watchdog * 2; i++)); do
		sleep 0.5
		grep -q "$STAGE1_WORDS" "$console_file" && return 0
		kill -0 "$1" 2>/dev/null || return 0
	done
	: >"$run/hung"
	kill -TERM "$1" 2>/dev/null
}

# One boot under $accel. Sets rc (timeout's status: 124 when time is up)
# and hung (1 when the watchdog stopped it).
boot() {
	local cpu qemu
	case $accel in
	kvm) cpu=host ;;
	tcg) cpu=max,la57=off ;;
	esac
	qemu=(qemu-system-x86_64 -name hadp-vm -machine pc,accel="$accel" -cpu "$cpu"
		-smp "$cpus" -m "$mem" -nodefaults -no-user-config -display none -no-reboot
		-kernel "$vmlinuz" -initrd "$run/initrd" -append "$cmdline"
		-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
		-fsdev local,id=share,path="$share",security_model=none,multidevs=remap
		-device virtio-9p-pci,fsdev=share,mount_tag=hadpvm
		-serial file:"$console_file")
	if [ -f "$share/interactive" ]; then
		qemu+=(-chardev stdio,id=out,signal=off -serial chardev:out)
	else
		qemu+=(-chardev stdio,id=out -serial chardev:out)
	fi
	err "accelerator: $accel ($accel_why)"
	: >"$console_file"
	rm -f "$run/hung"
	rc=0
	# The guest powers off when the command is done; timeout stops it
	# when time is up (124). In the background, so that a signal to this
	# script stops qemu at once (cleanup); stdin stays the terminal's for
	# a shell.
	timeout --foreground "$timeout" "${qemu[@]}" <&0 &
	qpid=$!
	watch_boot "$qpid" &
	wpid=$!
	wait "$qpid" || rc=$?
	qpid=
	kill "$wpid" 2>/dev/null || true
	wait "$wpid" 2>/dev/null || true
	wpid=
	hung=0
	[ -f "$run/hung" ] && hung=1
	return 0
}

start=$(date +%s)
boot
speechless="the guest's init did not speak on its console within ${watchdog}s under $accel (expected vm-init's '$STAGE1_WORDS' on ttyS0)"
if [ "$hung" -eq 1 ] && [ "$accel" = kvm ] && [ "$accel_auto" -eq 1 ]; then
	err "$speechless: trying once more under tcg"
	probe_remember "$vmlinuz" tcg "a boot under KVM was stopped by the watchdog (its init did not speak within ${watchdog}s)"
	accel=tcg
	accel_why="KVM was chosen, but its boot was stopped by the watchdog"
	speechless="the guest's init did not speak on its console within ${watchdog}s under $accel (expected vm-init's '$STAGE1_WORDS' on ttyS0)"
	boot
fi
[ -n "$tpid" ] && { sleep 0.2; kill "$tpid" 2>/dev/null; tpid=; }
elapsed=$(($(date +%s) - start))
[ -n "$console_log" ] && cp "$console_file" "$console_log"

problem=
if [ "$hung" -eq 1 ]; then
	problem="no boot: $speechless"
	status=125
elif [ "$rc" -eq 124 ]; then
	problem="the guest did not finish within ${timeout}s"
	status=124
elif [ ! -f "$share/rc" ]; then
	if [ "$rc" -ne 0 ]; then problem="qemu exited with status $rc and the command gave no status"
	else problem="the guest stopped without the command's exit status"; fi
	status=125
else
	status=$(cat "$share/rc")
fi
# What the kernel must never say during a test.
bad='Oops|Kernel panic|kernel BUG|BUG:|WARNING:|general protection fault|Call Trace:|soft lockup|hard LOCKUP|rcu.*(stall|detected stalls)|blocked for more than|UBSAN:|list_add corruption|list_del corruption|Poison overwritten|Object padding overwritten|Redzone overwritten|slab error|double free|refcount_t:'
if grep -Eq "$bad" "$console_file"; then
	problem="${problem:+$problem; }the kernel reported a problem: $(grep -Em1 "$bad" "$console_file" | tr -d '\r')"
	[ "$status" -eq 0 ] && status=1
fi
if [ -n "$problem" ]; then
	{
		echo "$PROG: ---- kernel console ($kver, $accel, ${elapsed}s) ----"
		tr -d '\r' <"$console_file"
		echo "$PROG: ---- end of console ----"
		echo "$PROG: FAIL: $problem"
	} >&2
fi
exit "$status"
