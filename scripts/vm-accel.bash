# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# scripts/vm-accel.bash: which accelerator scripts/vmtest.sh boots with.
# Sourced by it, not run.
#
# KVM is chosen only when the very kernel the VM boots reaches an init of
# its own under it. A /dev/kvm that opens proves nothing: on some hosts
# (nested virtualization) qemu's BIOS runs under KVM while Linux stops
# right after "Probing EDD" and never prints another word. The probe
# boots the kernel with a two-line init that writes PROBE_WORD to the
# serial port, and waits at most HADP_VM_PROBE_TIMEOUT seconds for it.
#
# The verdict is kept in $cache/.kvm-probe under a key made of the host's
# boot id, the kernel (version, size, mtime), qemu (path, mtime) and the
# KVM device: another kernel, another qemu or another boot of the host
# probes again.
#
# Sets, for the caller: accel (kvm or tcg) and accel_why (one phrase).

PROBE_WORD=hadp-vm-probe:init-reached

# The probe's initramfs: the static busybox and an init that says the
# word and powers off.
probe_initrd() { # dir
	local d=$1/root
	mkdir -p "$d/bin" "$d/dev" "$d/proc"
	cp /bin/busybox "$d/bin/busybox"
	cat >"$d/init" <<-EOF
		#!/bin/busybox sh
		/bin/busybox mount -t devtmpfs dev /dev
		echo "$PROBE_WORD" >/dev/ttyS0
		/bin/busybox poweroff -f
	EOF
	chmod 755 "$d/init"
	(cd "$d" && find . | cpio -o -H newc --quiet) >"$1/initrd"
}

# Boot the kernel under KVM with that init; 0 if the word came in time.
# Sets probe_why either way.
probe_boot() { # vmlinuz
	local dir pid t0 t1 ms=0 limit=$((probe_timeout * 10)) i last
	dir=$(mktemp -d /tmp/hadp-vmprobe.XXXXXX)
	probe_initrd "$dir"
	: >"$dir/console"
	t0=$(date +%s%N)
	qemu-system-x86_64 -name hadp-vm-probe -machine pc -accel kvm -cpu host -smp 1 -m 256 \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$1" -initrd "$dir/initrd" \
		-append "console=ttyS0,115200 earlyprintk=serial,ttyS0,115200 panic=-1 rdinit=/init" \
		-serial file:"$dir/console" </dev/null >"$dir/qemu.err" 2>&1 &
	pid=$!
	for ((i = 0; i < limit; i++)); do
		grep -q "$PROBE_WORD" "$dir/console" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	t1=$(date +%s%N)
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	ms=$(((t1 - t0) / 1000000))
	if grep -q "$PROBE_WORD" "$dir/console"; then
		probe_why="under KVM its init ran after $((ms / 1000)).$((ms % 1000 / 100)) s"
		rm -rf "$dir"
		return 0
	fi
	last=$(tr -d '\r' <"$dir/console" | grep -v '^\s*$' | tail -n 1 | cut -c1-80)
	if [ "$i" -lt "$limit" ]; then
		probe_why="under KVM qemu stopped before its init: $(tail -n 1 "$dir/qemu.err" | cut -c1-120)"
	elif [ -z "$last" ]; then
		probe_why="under KVM it printed nothing within ${probe_timeout} s"
	else
		probe_why="under KVM it did not reach its init within ${probe_timeout} s (last words: '$last')"
	fi
	rm -rf "$dir"
	return 1
}

probe_key() { # vmlinuz
	local boot qemu
	boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
	qemu=$(command -v qemu-system-x86_64)
	printf 'boot=%s kernel=%s:%s qemu=%s:%s kvm=%s\n' "$boot" "$kver" \
		"$(stat -L -c %s.%Y "$1")" "$qemu" "$(stat -L -c %Y "$qemu")" "$kvm_dev"
}

# Remember a verdict: the probe's, or a boot's that the watchdog stopped.
probe_remember() { # vmlinuz verdict why
	{ probe_key "$1"; echo "$2"; echo "$3"; } >"$cache/.kvm-probe.tmp" &&
		mv "$cache/.kvm-probe.tmp" "$cache/.kvm-probe"
}

choose_accel() { # vmlinuz
	local key
	accel=tcg
	if [ ! -e "$kvm_dev" ]; then
		accel_why="no $kvm_dev"
		return
	fi
	if [ ! -r "$kvm_dev" ] || [ ! -w "$kvm_dev" ]; then
		accel_why="$kvm_dev is not readable and writable"
		return
	fi
	key=$(probe_key "$1")
	if [ -f "$cache/.kvm-probe" ] && [ "$(head -n 1 "$cache/.kvm-probe")" = "$key" ]; then
		accel=$(sed -n 2p "$cache/.kvm-probe")
		accel_why="$kver: $(sed -n 3p "$cache/.kvm-probe") (probed earlier on this host's boot)"
		[ "$accel" = kvm ] || accel=tcg
		return
	fi
	if probe_boot "$1"; then accel=kvm; fi
	probe_remember "$1" "$accel" "$probe_why"
	accel_why="$kver: $probe_why"
}
