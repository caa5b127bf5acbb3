#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/harness/vmtest.sh: how scripts/vmtest.sh chooses its accelerator
# and what it does when a guest never speaks (scripts/vm-accel.bash). On
# the host, with the real qemu, the real kernel image and a stand-in for
# KVM: HADP_VM_KVM_DEV points at a file of our own, and a qemu-system-x86_64
# earlier on PATH plays a KVM that runs firmware but not Linux:
#
#   FAKE_KVM=hang      a boot with KVM asked for prints nothing, forever
#   FAKE_KVM=probe-ok  the probe's boot runs (under TCG, passed on to the
#                      real qemu), the real boot with KVM prints nothing
#
# Every call of the stand-in is logged (its accelerator), so that the
# checks see which boots were tried. The verdict cache is a directory of
# our own whose kernel entry links to the real cache (no second download).

set -u
cd "$(dirname "$0")/../.." || exit 1
REPO=$PWD
T=$(mktemp -d /tmp/hadp-vmtest-harness.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); [ -n "${2:-}" ] && sed 's/^/     /' "$2"; }
check() { # description command... (output of a failure shown from $T/out)
	if "${@:2}"; then ok "$1"; else bad "$1" "$T/out"; fi
}

REAL_QEMU=$(command -v qemu-system-x86_64) || { echo "no qemu-system-x86_64"; echo "0 passed, 1 failed"; exit 1; }
# The kernel, fetched once by a first real call (it is the cache's job).
scripts/vmtest.sh --accel tcg --probe >/dev/null || { echo "vmtest.sh cannot start"; echo "0 passed, 1 failed"; exit 1; }
CACHE=${HADP_VM_CACHE:-/var/cache/hadp-vm}
kdir=$(find "$CACHE" -mindepth 1 -maxdepth 1 -type d -name '*-amd64' | head -n 1)

mkdir -p "$T/bin" "$T/cache"
ln -s "$kdir" "$T/cache/$(basename "$kdir")"
cat >"$T/bin/qemu-system-x86_64" <<STUB
#!/bin/bash
kvm=0 probe=0 args=()
prev=
for a in "\$@"; do
	case \$prev/\$a in
	-accel/kvm) kvm=1 a=tcg ;;
	-cpu/host) a=max ;;
	esac
	case \$a in
	*accel=kvm*) kvm=1 a=\${a/accel=kvm/accel=tcg} ;;
	-name) ;;
	esac
	[ "\$prev" = -name ] && [ "\$a" = hadp-vm-probe ] && probe=1
	args+=("\$a")
	prev=\$a
done
echo "kvm=\$kvm probe=\$probe" >>"$T/calls"
if [ "\$kvm" -eq 1 ]; then
	case \${FAKE_KVM:-}/\$probe in
	probe-ok/1) exec "$REAL_QEMU" "\${args[@]}" ;;
	*) exec sleep 3600 ;;
	esac
fi
exec "$REAL_QEMU" "\$@"
STUB
chmod 755 "$T/bin/qemu-system-x86_64"
: >"$T/kvm"

# vmtest.sh with the stand-ins; its standard output in $T/out, stderr in $T/err
vmt() {
	env PATH="$T/bin:$PATH" HADP_VM_CACHE="$T/cache" HADP_VM_KVM_DEV="$T/kvm" \
		"$REPO/scripts/vmtest.sh" "$@" >"$T/out" 2>"$T/err"
}
calls() { [ -f "$T/calls" ] && wc -l <"$T/calls" || echo 0; }
has() { grep -q -- "$2" "$1"; }

echo "---- no KVM device"
env HADP_VM_CACHE="$T/cache" HADP_VM_KVM_DEV="$T/none" scripts/vmtest.sh --probe >"$T/out" 2>&1
check "without a KVM device the probe says tcg, naming the device" grep -qx "tcg: no $T/none" "$T/out"
env HADP_VM_CACHE="$T/cache" HADP_VM_KVM_DEV="$T/none" scripts/vmtest.sh -t 300 -- echo hello-from-the-guest >"$T/out" 2>"$T/err"
rc=$?
cat "$T/err" >>"$T/out"
check "a boot without KVM runs the command (status $rc)" eval '[ "$rc" -eq 0 ] && has "$T/out" hello-from-the-guest'
check "... and says it boots under tcg, and why" has "$T/err" "vmtest: accelerator: tcg (no $T/none)"

echo "---- a KVM whose guest never prints"
t0=$SECONDS
FAKE_KVM=hang HADP_VM_PROBE_TIMEOUT=3 vmt --probe
cat "$T/err" >>"$T/out"
check "the probe says tcg: the kernel printed nothing under KVM" \
	grep -q "^tcg: .*under KVM it printed nothing within 3 s" "$T/out"
check "the probe gives up within its bound ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 8
check "the probe booted once, with KVM" test "$(cat "$T/calls" 2>/dev/null)" = "kvm=1 probe=1"
n=$(calls)
FAKE_KVM=hang HADP_VM_PROBE_TIMEOUT=3 vmt --probe
check "its verdict is cached: asked again, no new boot" test "$(calls)" -eq "$n"
check "... and the answer says it was probed earlier" grep -q "^tcg: .*probed earlier" "$T/out"
touch -d '+1 minute' "$T/bin/qemu-system-x86_64"
FAKE_KVM=hang HADP_VM_PROBE_TIMEOUT=3 vmt --probe
check "another qemu probes again" test "$(calls)" -eq $((n + 1))

echo "---- a KVM that runs the probe"
touch -d '+2 minutes' "$T/bin/qemu-system-x86_64"
FAKE_KVM=probe-ok HADP_VM_PROBE_TIMEOUT=120 vmt --probe
cat "$T/err" >>"$T/out"
check "the probe says kvm once the kernel's init has spoken" grep -q "^kvm: .*under KVM its init ran after" "$T/out"

echo "---- the watchdog: KVM chosen automatically, its boot hangs"
: >"$T/calls"
FAKE_KVM=probe-ok HADP_VM_WATCHDOG=15 vmt -t 300 -- echo hello-after-the-retry
rc=$?
cat "$T/err" >>"$T/out"
check "the command ran and its status is the script's ($rc)" test "$rc" -eq 0
check "... its output came through once" test "$(grep -c hello-after-the-retry "$T/out")" -eq 1
check "the first boot said kvm" has "$T/err" "vmtest: accelerator: kvm ("
check "the watchdog named the accelerator and what it waited for" \
	has "$T/err" "did not speak on its console within 15s under kvm (expected vm-init's 'hadp-vm: stage 1' on ttyS0): trying once more under tcg"
check "the second boot said tcg" has "$T/err" "vmtest: accelerator: tcg (KVM was chosen, but its boot was stopped by the watchdog)"
check "exactly two boots: kvm, then tcg" test "$(tr '\n' ' ' <"$T/calls")" = "kvm=1 probe=0 kvm=0 probe=0 "
FAKE_KVM=probe-ok vmt --probe
check "the cached verdict is now tcg" grep -q "^tcg: .*stopped by the watchdog" "$T/out"

echo "---- the watchdog: --accel kvm asked for, its boot hangs"
: >"$T/calls"
t0=$SECONDS
FAKE_KVM=hang HADP_VM_WATCHDOG=5 vmt --accel kvm -t 600 -- echo never
rc=$?
cat "$T/err" >>"$T/out"
check "it fails with status 125 ($rc)" test "$rc" -eq 125
check "it fails fast ($((SECONDS - t0)) s, watchdog 5 s)" test $((SECONDS - t0)) -le 20
check "one line says why, naming kvm" \
	grep -qx "vmtest: FAIL: no boot: the guest's init did not speak on its console within 5s under kvm (expected vm-init's 'hadp-vm: stage 1' on ttyS0)" "$T/err"
check "no retry under tcg" test "$(cat "$T/calls")" = "kvm=1 probe=0"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
