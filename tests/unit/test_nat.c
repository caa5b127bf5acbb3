// SPDX-License-Identifier: GPL-2.0-only
/* The port ranges of a NAT IP: overlap, sorted insert, removal. */
#include <errno.h>
#include <string.h>

#include "nat_ranges.h"
#include "unit.h"

static struct hadp_nat_range R(__u16 min, __u16 max, __u32 ifindex)
{
	struct hadp_nat_range r = {
		.port_min = min, .port_max = max, .ifindex = ifindex,
	};

	r.underlay[15] = ifindex ? ifindex : 99;
	return r;
}

static void assert_ranges(const struct hadp_nat_ip *ip, const __u16 *mm,
			  unsigned int n)
{
	unsigned int i;

	ck_assert_uint_eq(ip->count, n);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(ip->range[i].port_min, mm[2 * i]);
		ck_assert_uint_eq(ip->range[i].port_max, mm[2 * i + 1]);
	}
	ck_assert(hadp_nat_ip_valid(ip));
}

START_TEST(test_overlap)
{
	ck_assert(hadp_ports_overlap(1, 10, 10, 20));
	ck_assert(hadp_ports_overlap(10, 20, 1, 10));
	ck_assert(hadp_ports_overlap(1, 100, 50, 50));
	ck_assert(hadp_ports_overlap(50, 50, 1, 100));
	ck_assert(hadp_ports_overlap(5, 5, 5, 5));
	ck_assert(hadp_ports_overlap(1, 65535, 65535, 65535));
	ck_assert(!hadp_ports_overlap(1, 10, 11, 20));
	ck_assert(!hadp_ports_overlap(11, 20, 1, 10));
	ck_assert(!hadp_ports_overlap(1, 1, 2, 2));
	ck_assert(!hadp_ports_overlap(65535, 65535, 1, 65534));
}
END_TEST

START_TEST(test_add_sorted)
{
	struct hadp_nat_ip ip = { 0 };
	struct hadp_nat_range r;
	unsigned int at = 99;

	r = R(2048, 4095, 5);
	ck_assert_int_eq(hadp_nat_range_add(&ip, &r, &at), 0);
	ck_assert_uint_eq(at, 0);
	r = R(1024, 2047, 0);
	ck_assert_int_eq(hadp_nat_range_add(&ip, &r, &at), 0);
	ck_assert_uint_eq(at, 0);
	r = R(8192, 65535, 6);
	ck_assert_int_eq(hadp_nat_range_add(&ip, &r, &at), 0);
	ck_assert_uint_eq(at, 2);
	r = R(4096, 8191, 0);
	ck_assert_int_eq(hadp_nat_range_add(&ip, &r, &at), 0);
	ck_assert_uint_eq(at, 2);
	r = R(1, 1, 7);
	ck_assert_int_eq(hadp_nat_range_add(&ip, &r, NULL), 0);
	{
		static const __u16 want[] = { 1, 1, 1024, 2047, 2048, 4095,
					      4096, 8191, 8192, 65535 };

		assert_ranges(&ip, want, 5);
	}
	/* What moved kept its owner. */
	ck_assert_uint_eq(ip.range[2].ifindex, 5);
	ck_assert_uint_eq(ip.range[2].underlay[15], 5);
	ck_assert_uint_eq(ip.range[1].ifindex, 0);
	ck_assert_uint_eq(ip.range[1].underlay[15], 99);
	ck_assert_uint_eq(ip.range[4].ifindex, 6);
}
END_TEST

START_TEST(test_add_refused)
{
	struct hadp_nat_ip ip = { 0 }, before;
	struct hadp_nat_range r;
	unsigned int at;
	static const struct { __u16 min, max; unsigned int at; } clash[] = {
		{ 1000, 1000, 0 },	/* inside */
		{ 900, 1000, 0 },	/* over the start */
		{ 1999, 2100, 0 },	/* over the end */
		{ 1, 65535, 0 },	/* around everything: the first */
		{ 1500, 3000, 0 },	/* both: the first it meets */
		{ 3000, 3000, 1 },	/* exactly the second */
		{ 2999, 3001, 1 },
	};
	size_t i;

	r = R(1000, 1999, 5);
	ck_assert_int_eq(hadp_nat_range_add(&ip, &r, NULL), 0);
	r = R(3000, 3000, 0);
	ck_assert_int_eq(hadp_nat_range_add(&ip, &r, NULL), 0);
	before = ip;
	for (i = 0; i < sizeof(clash) / sizeof(clash[0]); i++) {
		r = R(clash[i].min, clash[i].max, 6);
		at = 99;
		ck_assert_int_eq(hadp_nat_range_add(&ip, &r, &at), -EEXIST);
		ck_assert_uint_eq(at, clash[i].at);
		ck_assert_mem_eq(&ip, &before, sizeof(ip));
	}
	/* Adjacent on both sides fits. */
	r = R(2000, 2999, 6);
	ck_assert_int_eq(hadp_nat_range_add(&ip, &r, &at), 0);
	ck_assert_uint_eq(at, 1);
	ck_assert_uint_eq(ip.count, 3);

	/* Not a range. */
	before = ip;
	r = R(10, 9, 6);
	ck_assert_int_eq(hadp_nat_range_add(&ip, &r, NULL), -EINVAL);
	ck_assert_mem_eq(&ip, &before, sizeof(ip));
}
END_TEST

START_TEST(test_full)
{
	struct hadp_nat_ip ip = { 0 }, before;
	struct hadp_nat_range r;
	unsigned int i;

	/* Added in reverse: every insert goes to the front. */
	for (i = HADP_NAT_RANGES; i > 0; i--) {
		r = R(i * 100, i * 100 + 9, i);
		ck_assert_int_eq(hadp_nat_range_add(&ip, &r, NULL), 0);
	}
	ck_assert_uint_eq(ip.count, HADP_NAT_RANGES);
	ck_assert(hadp_nat_ip_valid(&ip));
	for (i = 0; i < HADP_NAT_RANGES; i++)
		ck_assert_uint_eq(ip.range[i].port_min, (i + 1) * 100);
	before = ip;
	r = R(60000, 60001, 1);
	ck_assert_int_eq(hadp_nat_range_add(&ip, &r, NULL), -ENOSPC);
	/* An overlap is the better answer even when full. */
	r = R(100, 100, 1);
	ck_assert_int_eq(hadp_nat_range_add(&ip, &r, NULL), -EEXIST);
	ck_assert_mem_eq(&ip, &before, sizeof(ip));
}
END_TEST

START_TEST(test_find_remove)
{
	struct hadp_nat_ip ip = { 0 };
	struct hadp_nat_range r;
	static const __u16 after_mid[] = { 1, 10, 30, 40 };
	static const __u16 after_first[] = { 30, 40 };

	r = R(1, 10, 1);
	hadp_nat_range_add(&ip, &r, NULL);
	r = R(11, 20, 2);
	hadp_nat_range_add(&ip, &r, NULL);
	r = R(30, 40, 0);
	hadp_nat_range_add(&ip, &r, NULL);
	ck_assert_int_eq(hadp_nat_range_find(&ip, 11, 20), 1);
	ck_assert_int_eq(hadp_nat_range_find(&ip, 30, 40), 2);
	/* Exact only. */
	ck_assert_int_eq(hadp_nat_range_find(&ip, 11, 19), -ENOENT);
	ck_assert_int_eq(hadp_nat_range_find(&ip, 1, 20), -ENOENT);

	hadp_nat_range_remove(&ip, 1);
	assert_ranges(&ip, after_mid, 2);
	ck_assert_uint_eq(ip.range[1].ifindex, 0);
	/* The freed slot is zero, so equal sets compare equal. */
	ck_assert_uint_eq(ip.range[2].port_min, 0);
	ck_assert_uint_eq(ip.range[2].underlay[15], 0);
	hadp_nat_range_remove(&ip, 5);		/* out of range: nothing */
	ck_assert_uint_eq(ip.count, 2);
	hadp_nat_range_remove(&ip, 0);
	assert_ranges(&ip, after_first, 1);
	hadp_nat_range_remove(&ip, 0);
	ck_assert_uint_eq(ip.count, 0);
	ck_assert_int_eq(hadp_nat_range_find(&ip, 30, 40), -ENOENT);
	/* Empty again: the same bytes as never used. */
	{
		struct hadp_nat_ip zero = { 0 };

		ck_assert_mem_eq(&ip, &zero, sizeof(ip));
	}
}
END_TEST

START_TEST(test_valid)
{
	struct hadp_nat_ip ip = { 0 };

	ck_assert(hadp_nat_ip_valid(&ip));
	ip.count = 2;
	ip.range[0] = R(1, 10, 1);
	ip.range[1] = R(5, 20, 2);		/* overlaps */
	ck_assert(!hadp_nat_ip_valid(&ip));
	ip.range[1] = R(11, 20, 2);
	ck_assert(hadp_nat_ip_valid(&ip));
	ip.range[0] = R(12, 13, 1);		/* unsorted */
	ip.range[1] = R(1, 10, 2);
	ck_assert(!hadp_nat_ip_valid(&ip));
	ip.range[0] = R(10, 1, 1);		/* not a range */
	ip.count = 1;
	ck_assert(!hadp_nat_ip_valid(&ip));
	ip.count = HADP_NAT_RANGES + 1;
	ck_assert(!hadp_nat_ip_valid(&ip));
	/* An entry that is not valid is never added to. */
	{
		struct hadp_nat_range r = R(60000, 60000, 1);

		ck_assert_int_eq(hadp_nat_range_add(&ip, &r, NULL), -EINVAL);
		ck_assert_int_eq(hadp_nat_range_find(&ip, 60000, 60000),
				 -ENOENT);
	}
}
END_TEST

Suite *nat_suite(void)
{
	Suite *s = suite_create("nat");
	TCase *tc = tcase_create("nat");

	tcase_add_test(tc, test_overlap);
	tcase_add_test(tc, test_add_sorted);
	tcase_add_test(tc, test_add_refused);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_find_remove);
	tcase_add_test(tc, test_valid);
	suite_add_tcase(s, tc);
	return s;
}
