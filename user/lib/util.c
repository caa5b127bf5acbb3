// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE	/* program_invocation_short_name */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "util.h"

static void default_log(enum hadp_log_level level, const char *msg)
{
	if (level == HADP_LOG_DEBUG && !getenv("HADP_DEBUG"))
		return;
	fprintf(stderr, "%s: %s%s\n", program_invocation_short_name,
		level == HADP_LOG_WARN ? "warning: " : "", msg);
}

static hadp_log_fn log_fn = default_log;

void hadp_set_log(hadp_log_fn fn)
{
	log_fn = fn ? fn : default_log;
}

static void vlog(enum hadp_log_level level, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_fn(level, msg);
}

void hadp_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(HADP_LOG_ERR, fmt, ap);
	va_end(ap);
}

void hadp_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(HADP_LOG_WARN, fmt, ap);
	va_end(ap);
}

void hadp_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(HADP_LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/* The libraries hand over lines that name themselves ("libbpf: ...") and
 * end in a newline; strip it, since the sink adds its own. */
static void lib_vlog(enum hadp_log_level level, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_fn(level, msg);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	lib_vlog(level == LIBBPF_WARN ? HADP_LOG_WARN : HADP_LOG_DEBUG, fmt, ap);
	return 0;
}

/* libxdp warns about every program it did not load itself (no dispatcher
 * metadata); for hadp that is the normal case, so it is only debug. */
static int libxdp_log(enum libxdp_print_level level, const char *fmt,
		      va_list ap)
{
	lib_vlog(HADP_LOG_DEBUG, fmt, ap);
	return 0;
}

void hadp_libs_log_init(void)
{
	libbpf_set_print(libbpf_log);
	libxdp_set_print(libxdp_log);
}

unsigned int hadp_hash(const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned int h = 2166136261u, w;
	size_t i;

	/* 32 bits at a time (map keys are words), each mixed in by a
	 * multiply and a shift; murmur3's finalizer spreads the result
	 * over the low bits a table's mask keeps. */
	for (i = 0; i + 4 <= n; i += 4) {
		memcpy(&w, b + i, 4);
		h = (h ^ w) * 0x85ebca6bu;
		h ^= h >> 15;
	}
	for (; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	h ^= h >> 16;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}
