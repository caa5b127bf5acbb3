/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One code path for text and JSON output, in the manner of iproute2's
 * json_print: every value is printed with both a JSON key and a text
 * format, and the mode picks one. In text mode the containers print
 * nothing; in JSON mode the text formats and print_text()/print_nl() print
 * nothing. In JSON mode a value in an array takes no key, and a value
 * with a NULL key in an object is not printed; in text mode a NULL format
 * prints nothing.
 */
#ifndef HADP_PRINT_H
#define HADP_PRINT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

void print_init(FILE *f, bool json, bool pretty);
bool print_is_json(void);

/* Containers; the key is ignored inside an array and at the top level. */
void open_object(const char *key);
void close_object(void);
void open_array(const char *key);
void close_array(void);

void print_string(const char *key, const char *fmt, const char *value);
/* fmt takes %llu. */
void print_uint(const char *key, const char *fmt, __u64 value);
/* JSON true/false; in text mode fmt is printed (as is) only when true. */
void print_bool(const char *key, const char *fmt, bool value);
void print_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void print_nl(void);

#endif /* HADP_PRINT_H */
