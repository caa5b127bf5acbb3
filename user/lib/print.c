// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <string.h>

#include "print.h"

#define MAX_DEPTH	16

static struct {
	FILE *f;
	bool json;
	bool pretty;
	int depth;
	char kind[MAX_DEPTH];		/* '{' or '[' per open container */
	bool members[MAX_DEPTH];	/* the container has a member */
} P = { .f = NULL };

void print_init(FILE *f, bool json, bool pretty)
{
	memset(&P, 0, sizeof(P));
	P.f = f;
	P.json = json;
	P.pretty = pretty;
}

bool print_is_json(void)
{
	return P.json;
}

/* Inside an array values have no key; inside an object they need one. */
static bool json_skip(const char *key)
{
	return !key && !(P.depth && P.kind[P.depth - 1] == '[');
}

static void indent(void)
{
	int i;

	fputc('\n', P.f);
	for (i = 0; i < P.depth; i++)
		fputs("    ", P.f);
}

static void json_str(const char *s)
{
	fputc('"', P.f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(P.f, "\\%c", c);
		else if (c < 0x20)
			fprintf(P.f, "\\u%04x", c);
		else
			fputc(c, P.f);
	}
	fputc('"', P.f);
}

/* Separator, indentation and key of the next member of the innermost
 * container. */
static void json_member(const char *key)
{
	if (P.depth) {
		if (P.members[P.depth - 1])
			fputc(',', P.f);
		P.members[P.depth - 1] = true;
		if (P.pretty)
			indent();
	}
	if (P.depth && P.kind[P.depth - 1] == '{') {
		json_str(key ? key : "");
		fputs(P.pretty ? ": " : ":", P.f);
	}
}

static void json_open(const char *key, char kind)
{
	json_member(key);
	fputc(kind, P.f);
	if (P.depth < MAX_DEPTH) {
		P.kind[P.depth] = kind;
		P.members[P.depth] = false;
	}
	P.depth++;
}

static void json_close(char kind)
{
	if (!P.depth)
		return;
	P.depth--;
	if (P.pretty && P.depth < MAX_DEPTH && P.members[P.depth])
		indent();
	fputc(kind, P.f);
	if (!P.depth)
		fputc('\n', P.f);
}

void open_object(const char *key)
{
	if (P.json)
		json_open(key, '{');
}

void close_object(void)
{
	if (P.json)
		json_close('}');
}

void open_array(const char *key)
{
	if (P.json)
		json_open(key, '[');
}

void close_array(void)
{
	if (P.json)
		json_close(']');
}

void print_string(const char *key, const char *fmt, const char *value)
{
	if (P.json) {
		if (json_skip(key))
			return;
		json_member(key);
		json_str(value);
	} else if (fmt) {
		fprintf(P.f, fmt, value);
	}
}

void print_uint(const char *key, const char *fmt, __u64 value)
{
	if (P.json) {
		if (json_skip(key))
			return;
		json_member(key);
		fprintf(P.f, "%llu", (unsigned long long)value);
	} else if (fmt) {
		fprintf(P.f, fmt, (unsigned long long)value);
	}
}

void print_bool(const char *key, const char *fmt, bool value)
{
	if (P.json) {
		if (json_skip(key))
			return;
		json_member(key);
		fputs(value ? "true" : "false", P.f);
	} else if (fmt && value) {
		fputs(fmt, P.f);
	}
}

void print_text(const char *fmt, ...)
{
	va_list ap;

	if (P.json)
		return;
	va_start(ap, fmt);
	vfprintf(P.f, fmt, ap);
	va_end(ap);
}

void print_nl(void)
{
	if (!P.json)
		fputc('\n', P.f);
}
