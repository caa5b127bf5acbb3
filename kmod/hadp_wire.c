// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HA wire codec of include/hadp/, compiled into the module unchanged:
 * the same parser the agent and the fuzzed unit tests use.
 */
#include <linux/string.h>
#include <linux/types.h>

#include "../include/hadp/blake2s.c"
#include "../include/hadp/wire.c"
