// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HA wire codec of include/hadp/, compiled into the module unchanged:
 * the same parser the agent and the fuzzed unit tests use. Its MAC is the
 * kernel's BLAKE2s (<crypto/blake2s.h>); include/hadp/blake2s.c is
 * userspace's only.
 */
#include <linux/string.h>
#include <linux/types.h>

#include "../include/hadp/wire.c"
