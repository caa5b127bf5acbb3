// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "hadp/maps.h"
#include "names.h"
#include "parse.h"
#include "unit.h"

/* A refusal is exactly one message, on one line, naming the argument and
 * quoting the value. */
static void assert_refused(int ret, const char *what, const char *value)
{
	char quoted[256];

	ck_assert_int_eq(ret, -EINVAL);
	ck_assert_int_eq(log_count, 1);
	ck_assert_ptr_null(strchr(log_last, '\n'));
	ck_assert_msg(!strncmp(log_last, "invalid ", 8) &&
		      !strncmp(log_last + 8, what, strlen(what)),
		      "message does not name %s: %s", what, log_last);
	snprintf(quoted, sizeof(quoted), "\"%s\"", value);
	ck_assert_msg(strstr(log_last, quoted), "value missing: %s", log_last);
}

START_TEST(test_u32)
{
	__u32 v = 7;

	log_capture();
	ck_assert_int_eq(parse_u32("n", "0", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(parse_u32("n", "4294967295", 0, 0xffffffff, &v), 0);
	ck_assert_uint_eq(v, 0xffffffff);
	ck_assert_int_eq(log_count, 0);
	assert_refused(parse_u32("n", "4294967296", 0, 0xffffffff, &v), "n",
		       "4294967296");
	log_capture();
	assert_refused(parse_u32("n", "-1", 0, 10, &v), "n", "-1");
	log_capture();
	assert_refused(parse_u32("n", " 1", 0, 10, &v), "n", " 1");
	log_capture();
	assert_refused(parse_u32("n", "1x", 0, 10, &v), "n", "1x");
	log_capture();
	assert_refused(parse_u32("n", "", 0, 10, &v), "n", "");
	log_capture();
	assert_refused(parse_u32("n", "11", 0, 10, &v), "n", "11");
}
END_TEST

START_TEST(test_vni)
{
	__u32 v;

	log_capture();
	ck_assert_int_eq(parse_vni("vni", "16777215", &v), 0);
	ck_assert_uint_eq(v, 16777215);
	assert_refused(parse_vni("vni", "x", &v), "vni", "x");
	ck_assert_str_eq(log_last, "invalid vni \"x\": expected 1-16777215");
	log_capture();
	assert_refused(parse_vni("vni", "0", &v), "vni", "0");
	log_capture();
	assert_refused(parse_vni("vni", "16777216", &v), "vni", "16777216");
}
END_TEST

START_TEST(test_addrs)
{
	__u8 a6[16], want6[16];
	__be32 a4;

	log_capture();
	ck_assert_int_eq(parse_ipv4_host("ipv4", "10.0.0.1", &a4), 0);
	ck_assert_uint_eq(a4, htonl(0x0a000001));
	ck_assert_int_eq(parse_ipv6_host("ipv6", "2001:db8::1", a6), 0);
	inet_pton(AF_INET6, "2001:db8::1", want6);
	ck_assert_mem_eq(a6, want6, 16);
	ck_assert_int_eq(parse_ipv4("gateway4", "169.254.0.1", &a4), 0);
	ck_assert_int_eq(parse_ipv6("gateway6", "fe80::1", a6), 0);
	ck_assert_int_eq(log_count, 0);

	static const char *const bad4[] = {
		"0.0.0.0", "255.255.255.255", "127.0.0.1", "224.0.0.1",
		"169.254.0.1", "10.0.0", "10.0.0.256", "::1", "",
	};
	static const char *const bad6[] = {
		"::", "::1", "ff02::1", "fe80::1", "::ffff:10.0.0.1",
		"2001:db8::g", "10.0.0.1", "",
	};
	size_t i;

	for (i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++) {
		log_capture();
		assert_refused(parse_ipv4_host("ipv4", bad4[i], &a4), "ipv4",
			       bad4[i]);
	}
	for (i = 0; i < sizeof(bad6) / sizeof(bad6[0]); i++) {
		log_capture();
		assert_refused(parse_ipv6_host("underlay", bad6[i], a6),
			       "underlay", bad6[i]);
	}
}
END_TEST

START_TEST(test_prefix)
{
	struct hadp_prefix p;
	__u8 want6[16];

	log_capture();
	ck_assert_int_eq(parse_prefix("prefix", "10.1.0.0/16", &p), 0);
	ck_assert_int_eq(p.addr.family, AF_INET);
	ck_assert_uint_eq(p.len, 16);
	ck_assert_uint_eq(p.addr.v4, htonl(0x0a010000));
	ck_assert_int_eq(parse_prefix("prefix", "10.1.2.3", &p), 0);
	ck_assert_uint_eq(p.len, 32);
	ck_assert_int_eq(parse_prefix("prefix", "0.0.0.0/0", &p), 0);
	ck_assert_uint_eq(p.len, 0);
	ck_assert_int_eq(parse_prefix("prefix", "fd00:1::/33", &p), 0);
	ck_assert_int_eq(p.addr.family, AF_INET6);
	ck_assert_uint_eq(p.len, 33);
	inet_pton(AF_INET6, "fd00:1::", want6);
	ck_assert_mem_eq(p.addr.v6, want6, 16);
	ck_assert_int_eq(parse_prefix("prefix", "fd00::1", &p), 0);
	ck_assert_uint_eq(p.len, 128);
	ck_assert_int_eq(log_count, 0);

	assert_refused(parse_prefix("prefix", "10.1.0.1/16", &p), "prefix",
		       "10.1.0.1/16");
	ck_assert_ptr_nonnull(strstr(log_last, "host bits"));
	log_capture();
	/* The 33rd bit is the prefix's, the 34th is host part. */
	ck_assert_int_eq(parse_prefix("prefix", "fd00:1:8000::/33", &p), 0);
	assert_refused(parse_prefix("prefix", "fd00:1:4000::/33", &p),
		       "prefix", "fd00:1:4000::/33");
	log_capture();
	assert_refused(parse_prefix("prefix", "10.0.0.0/33", &p), "prefix",
		       "10.0.0.0/33");
	log_capture();
	assert_refused(parse_prefix("prefix", "10.0.0.0/", &p), "prefix",
		       "10.0.0.0/");
	log_capture();
	assert_refused(parse_prefix("prefix", "fd00::/129", &p), "prefix",
		       "fd00::/129");
	log_capture();
	assert_refused(parse_prefix("prefix", "x/8", &p), "prefix", "x/8");
}
END_TEST

START_TEST(test_mac)
{
	static const __u8 want[6] = { 0x02, 0xab, 0, 0, 0, 0x01 };
	__u8 mac[6];
	char buf[HADP_MAC_STRLEN];

	log_capture();
	ck_assert_int_eq(parse_mac("mac", "02:AB:00:00:00:01", mac), 0);
	ck_assert_mem_eq(mac, want, 6);
	ck_assert_str_eq(fmt_mac(mac, buf), "02:ab:00:00:00:01");
	assert_refused(parse_mac("mac", "01:00:5e:00:00:01", mac), "mac",
		       "01:00:5e:00:00:01");
	log_capture();
	assert_refused(parse_mac("mac", "00:00:00:00:00:00", mac), "mac",
		       "00:00:00:00:00:00");
	log_capture();
	assert_refused(parse_mac("mac", "02:00:00:00:00", mac), "mac",
		       "02:00:00:00:00");
	log_capture();
	assert_refused(parse_mac("mac", "02:00:00:00:00:01:", mac), "mac",
		       "02:00:00:00:00:01:");
	log_capture();
	assert_refused(parse_mac("mac", "2:00:00:00:00:01", mac), "mac",
		       "2:00:00:00:00:01");
}
END_TEST

START_TEST(test_endpoint)
{
	struct hadp_endpoint e;
	__u8 want6[16];

	log_capture();
	ck_assert_int_eq(parse_endpoint("peer", "[2001:db8::1]:4789", &e), 0);
	ck_assert_int_eq(e.addr.family, AF_INET6);
	ck_assert_uint_eq(e.port, 4789);
	inet_pton(AF_INET6, "2001:db8::1", want6);
	ck_assert_mem_eq(e.addr.v6, want6, 16);
	ck_assert_int_eq(parse_endpoint("peer", "192.0.2.1:1", &e), 0);
	ck_assert_int_eq(e.addr.family, AF_INET);
	ck_assert_uint_eq(e.addr.v4, htonl(0xc0000201));
	ck_assert_uint_eq(e.port, 1);

	static const char *const bad[] = {
		"2001:db8::1:4789", "[2001:db8::1]", "[2001:db8::1]:0",
		"[2001:db8::1]:65536", "192.0.2.1", "192.0.2.1:x",
		"[192.0.2.1]:80", "host:80",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		log_capture();
		assert_refused(parse_endpoint("peer", bad[i], &e), "peer",
			       bad[i]);
	}
}
END_TEST

START_TEST(test_port_range)
{
	__u16 min = 7, max = 7;

	log_capture();
	ck_assert_int_eq(parse_port_range("ports", "1-65535", &min, &max), 0);
	ck_assert_uint_eq(min, 1);
	ck_assert_uint_eq(max, 65535);
	ck_assert_int_eq(parse_port_range("ports", "1024-2047", &min, &max),
			 0);
	ck_assert_uint_eq(min, 1024);
	ck_assert_uint_eq(max, 2047);
	/* One port is a range of one. */
	ck_assert_int_eq(parse_port_range("ports", "80-80", &min, &max), 0);
	ck_assert_uint_eq(min, 80);
	ck_assert_uint_eq(max, 80);
	/* Leading zeros, as parse_u32 takes them. */
	ck_assert_int_eq(parse_port_range("ports", "0080-081", &min, &max), 0);
	ck_assert_uint_eq(min, 80);
	ck_assert_uint_eq(max, 81);
	ck_assert_int_eq(log_count, 0);

	static const char *const bad[] = {
		"0-10", "10-5", "1-65536", "65536-65537", "-5", "5-", "-",
		"", "5", "a-b", "1-2x", "1--2", "+1-2", "1-+2", " 1-2",
		"1-2 ", "1 -2", "1-2-3", "99999999999999999999-1",
		"2047-1024",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		min = max = 7;
		log_capture();
		assert_refused(parse_port_range("ports", bad[i], &min, &max),
			       "ports", bad[i]);
		/* Nothing written on a refusal. */
		ck_assert_uint_eq(min, 7);
		ck_assert_uint_eq(max, 7);
	}
}
END_TEST

START_TEST(test_name)
{
	log_capture();
	ck_assert_int_eq(parse_name("instance", "default"), 0);
	ck_assert_int_eq(parse_name("instance", "a-b_c9"), 0);
	ck_assert_int_eq(parse_name("instance", "123456789012345"), 0);
	assert_refused(parse_name("instance", "1234567890123456"),
		       "instance", "1234567890123456");
	log_capture();
	assert_refused(parse_name("instance", "_root"), "instance", "_root");
	log_capture();
	/* bpffs refuses dots in pin names. */
	assert_refused(parse_name("instance", "a.b"), "instance", "a.b");
	log_capture();
	assert_refused(parse_name("instance", "a/b"), "instance", "a/b");
	log_capture();
	assert_refused(parse_name("instance", ""), "instance", "");
}
END_TEST

START_TEST(test_names)
{
	unsigned int i, j;

	for (i = 0; i < HADP_DROP_MAX; i++) {
		ck_assert_ptr_nonnull(hadp_drop_name(i));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(hadp_drop_name(i), hadp_drop_name(j));
	}
	ck_assert_ptr_null(hadp_drop_name(HADP_DROP_MAX));
	ck_assert_str_eq(hadp_drop_name(HADP_DROP_NO_ROUTE), "no_route");
	ck_assert_str_eq(hadp_drop_name(HADP_DROP_SPOOF_MAC), "spoof_mac");
	ck_assert_str_eq(hadp_stats_fields[0].name, "rx_packets");
	ck_assert_str_eq(hadp_drop_name(HADP_DROP_NO_NAT), "no_nat");
	ck_assert_str_eq(hadp_drop_name(HADP_DROP_NAT_EXHAUSTED),
			 "nat_exhausted");
	ck_assert_str_eq(hadp_drop_name(HADP_DROP_CONN_TABLE_FULL),
			 "conn_table_full");
	ck_assert_str_eq(hadp_drop_name(HADP_DROP_NO_CONN), "no_conn");
	ck_assert_str_eq(hadp_drop_name(HADP_DROP_FRAGMENT), "fragment");

	/* The counters are named in struct order, one after the other. */
	for (i = 0; i < hadp_nr_stats_fields; i++) {
		ck_assert_uint_eq(hadp_stats_fields[i].offset, i * 8);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(hadp_stats_fields[i].name,
					 hadp_stats_fields[j].name);
	}
	ck_assert_uint_eq(hadp_stats_fields[9].offset,
			  offsetof(struct hadp_stats, snat));
	ck_assert_str_eq(hadp_stats_fields[9].name, "snat");
	ck_assert_str_eq(hadp_stats_fields[hadp_nr_stats_fields - 1].name,
			 "events_throttled");

	ck_assert_str_eq(hadp_route_type_name(HADP_ROUTE_LOCAL), "local");
	ck_assert_str_eq(hadp_route_type_name(HADP_ROUTE_REMOTE), "remote");
	ck_assert_str_eq(hadp_route_type_name(HADP_ROUTE_NAT), "nat");
	ck_assert_str_eq(hadp_underlay_kind_name(HADP_UL_NAT), "nat");
	ck_assert_str_eq(hadp_underlay_kind_name(HADP_UL_VIP), "vip");
	ck_assert_str_eq(hadp_event_name(HADP_EV_MAC_LEARNED), "mac_learned");
	ck_assert_str_eq(hadp_event_name(HADP_EV_CONN_DELETE), "conn_delete");
	ck_assert_str_eq(hadp_event_name(HADP_EV_CONN_TABLE_FULL),
			 "conn_table_full");
	ck_assert_str_eq(hadp_event_name(0), "unknown");
	ck_assert_str_eq(hadp_event_name(99), "unknown");
	ck_assert_str_eq(hadp_conn_state_name(HADP_CONN_ESTABLISHED),
			 "established");
	ck_assert_str_eq(hadp_conn_state_name(HADP_CONN_CLOSED), "closed");
	ck_assert_str_eq(hadp_timeout_name(HADP_TO_TCP_ESTABLISHED),
			 "tcp-established");
	ck_assert_str_eq(hadp_timeout_name(HADP_TO_ICMP), "icmp");
	ck_assert_ptr_null(hadp_timeout_name(HADP_TO_MAX));
	/* Every flag bit named once. */
	for (i = 0; i < hadp_nr_conn_flag_names; i++)
		for (j = 0; j < i; j++)
			ck_assert_uint_eq(hadp_conn_flag_names[i].flag &
					  hadp_conn_flag_names[j].flag, 0);
}
END_TEST

Suite *parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_u32);
	tcase_add_test(tc, test_vni);
	tcase_add_test(tc, test_addrs);
	tcase_add_test(tc, test_prefix);
	tcase_add_test(tc, test_mac);
	tcase_add_test(tc, test_endpoint);
	tcase_add_test(tc, test_port_range);
	tcase_add_test(tc, test_name);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}
