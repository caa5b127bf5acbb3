// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>

#include "print.h"
#include "unit.h"

static char *out;
static size_t out_len;
static FILE *f;

static void start(bool json, bool pretty)
{
	f = open_memstream(&out, &out_len);
	ck_assert_ptr_nonnull(f);
	print_init(f, json, pretty);
}

static const char *finish(void)
{
	fclose(f);
	return out;
}

/* What every show does: the same calls whatever the mode. */
static void sample(void)
{
	open_array(NULL);
	open_object(NULL);
	print_string("name", "%s:", "vm\"1\\");
	print_uint("vni", " vni %llu", 100);
	print_bool("active", " active", true);
	print_bool("static", " static", false);
	print_text(" text-only");
	open_object("drops");
	print_uint("no_route", " no_route %llu", 18446744073709551615ull);
	close_object();
	open_array("list");
	print_string(NULL, NULL, "item");
	print_uint("key ignored", NULL, 3);
	print_string(NULL, "%s", "text");
	close_array();
	print_nl();
	close_object();
	open_object(NULL);
	print_string("ctl", NULL, "a\tb");
	close_object();
	close_array();
}

START_TEST(test_text)
{
	start(false, false);
	sample();
	ck_assert_str_eq(finish(),
			 "vm\"1\\: vni 100 active text-only "
			 "no_route 18446744073709551615text\n");
	free(out);
}
END_TEST

START_TEST(test_json)
{
	start(true, false);
	sample();
	ck_assert_str_eq(finish(),
			 "[{\"name\":\"vm\\\"1\\\\\",\"vni\":100,"
			 "\"active\":true,\"static\":false,"
			 "\"drops\":{\"no_route\":18446744073709551615},"
			 "\"list\":[\"item\",3,\"text\"]},{\"ctl\":\"a\\u0009b\"}]\n");
	free(out);
}
END_TEST

START_TEST(test_pretty)
{
	start(true, true);
	open_array(NULL);
	open_object(NULL);
	print_uint("a", NULL, 1);
	open_object("o");
	close_object();
	open_array("l");
	print_uint(NULL, NULL, 2);
	close_array();
	close_object();
	close_array();
	ck_assert_str_eq(finish(),
			 "[\n"
			 "    {\n"
			 "        \"a\": 1,\n"
			 "        \"o\": {},\n"
			 "        \"l\": [\n"
			 "            2\n"
			 "        ]\n"
			 "    }\n"
			 "]\n");
	free(out);
}
END_TEST

START_TEST(test_empty)
{
	start(true, false);
	open_array(NULL);
	close_array();
	ck_assert_str_eq(finish(), "[]\n");
	free(out);
	start(false, false);
	open_array(NULL);
	close_array();
	ck_assert_str_eq(finish(), "");
	free(out);
}
END_TEST

Suite *print_suite(void)
{
	Suite *s = suite_create("print");
	TCase *tc = tcase_create("print");

	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_pretty);
	tcase_add_test(tc, test_empty);
	suite_add_tcase(s, tc);
	return s;
}
