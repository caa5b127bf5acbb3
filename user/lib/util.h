/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Error reporting shared by everything in libhadp. A library function that
 * fails reports exactly one message through hadp_err() at the place that
 * knows what went wrong, and its callers only pass the error code up. That
 * keeps the CLI's promise of one line per failure. Functions documented as
 * "silent on -ENOENT" leave that one case to the caller.
 */
#ifndef HADP_UTIL_H
#define HADP_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum hadp_log_level {
	HADP_LOG_ERR,
	HADP_LOG_WARN,
	HADP_LOG_DEBUG,
};

typedef void (*hadp_log_fn)(enum hadp_log_level level, const char *msg);

/* Replace the sink (default: "<prog>: msg" on stderr, debug only with
 * HADP_DEBUG set in the environment). NULL restores the default. */
void hadp_set_log(hadp_log_fn fn);

void hadp_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hadp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hadp_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Route libbpf's and libxdp's own messages through the sink: their
 * warnings (a verifier log, say) as warnings, the rest as debug. */
void hadp_libs_log_init(void);

/* A hash of @n bytes, for tables in memory keyed by map keys. */
unsigned int hadp_hash(const void *p, size_t n);

#endif /* HADP_UTIL_H */
