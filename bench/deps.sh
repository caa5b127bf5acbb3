#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Debian packages the benchmark suite needs beyond scripts/install-deps.sh:
# matplotlib for bench/report.py's plot. Idempotent like install-deps.sh:
# installs only what dpkg does not have, and prints nothing otherwise.
#
#   bench/deps.sh          install what is missing (as root)
#   bench/deps.sh --check  list what is missing, exit 1 if any

set -euo pipefail

PKGS=(python3 python3-matplotlib)

missing=()
for p in "${PKGS[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${1:-}" = --check ]; then
	echo "missing: ${missing[*]}"
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "bench/deps.sh: run as root to install: ${missing[*]}" >&2
	exit 1
fi
echo "bench/deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
