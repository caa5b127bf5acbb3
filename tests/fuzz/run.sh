#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/fuzz/run.sh [SECONDS]: the libFuzzer target over the HA wire codec
# (tests/fuzz/fuzz_wire.c, built as build/tests/fuzz_wire with ASan and
# UBSan) for a bounded time, 60 s unless told (or HADP_FUZZ_SECONDS).
# Starts from the seed corpus in tests/fuzz/corpus/ (read only: what the
# run discovers goes to a temporary directory); any crash, leak, timeout
# or sanitizer report fails the run and its input is kept and printed.
# Last line: "N passed, N failed", as tests/run expects.
set -u
cd "$(dirname "$0")/../.." || exit 1

secs=${1:-${HADP_FUZZ_SECONDS:-60}}
bin=build/tests/fuzz_wire
seeds=tests/fuzz/corpus
pass=0
fail=0

ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }

if [ -z "${HADP_TEST_NOBUILD:-}" ] || [ ! -x "$bin" ]; then
	make -s "$bin" >&2
fi
if [ -x "$bin" ]; then ok "$bin is built"; else bad "$bin is built"; finish; fi

size=$(du -sb "$seeds" | cut -f1)
if [ "$(ls "$seeds" | wc -l)" -gt 0 ] && [ "$size" -lt 1048576 ]; then
	ok "seed corpus: $(ls "$seeds" | wc -l) files, $size bytes (< 1 MB)"
else
	bad "seed corpus: $(ls "$seeds" | wc -l) files, $size bytes (want some, < 1 MB)"
fi

work=$(mktemp -d /tmp/hadp-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/art"

# Artifacts outlive the run: copy them where the log says.
keep() { # log
	local dst
	dst=$(mktemp -d /tmp/hadp-fuzz-crash.XXXXXX)
	cp -a "$work/art/." "$dst/" 2>/dev/null
	grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ .* in ' "$1" | head -n 30
	for f in "$dst"/*; do
		[ -e "$f" ] || continue
		echo "   input kept: $f (reproduce: $bin $f)"
		od -A d -t x1 "$f" | head -n 12
	done
}

# Every seed on its own: a seed that crashes is a regression.
if "$bin" "$seeds"/* >"$work/seeds.log" 2>&1; then
	ok "every seed runs clean"
else
	bad "every seed runs clean"
	keep "$work/seeds.log"
fi

"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
	-print_final_stats=1 -artifact_prefix="$work/art/" \
	"$work/corpus" "$seeds" >"$work/fuzz.log" 2>&1
rc=$?
runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$work/fuzz.log" | tail -n 1)
if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$work/art")" ] && [ -n "$runs" ]; then
	ok "fuzzed ${secs}s: $runs inputs, no crash, leak or sanitizer report"
else
	bad "fuzzed ${secs}s: exit status $rc, ${runs:-?} inputs"
	keep "$work/fuzz.log"
fi
finish
