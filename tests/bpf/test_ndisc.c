// SPDX-License-Identifier: GPL-2.0-only
/* Neighbour discovery towards the virtual gateway, and link-local noise. */
#include <string.h>
#include "harness.h"

START_TEST(ns_gateway_answered)
{
	struct pkt in, out, exp;
	size_t ip;
	uint8_t *na;
	uint16_t c;

	pkt_ns(&in, MAC[VM1], LL_VM1, GW6, 255, true);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);

	pkt_eth(&exp, MAC[VM1], DEVMAC[VM1], 0x86dd);
	ip = pkt_ip6(&exp, GW6, LL_VM1, 58, 255, 32);
	na = exp.d + exp.len;
	memset(na, 0, 32);
	na[0] = 136;
	na[4] = 0xe0;		/* router, solicited, override */
	memcpy(na + 8, GW6, 16);
	na[24] = 2;		/* target link-layer address */
	na[25] = 1;
	memcpy(na + 26, DEVMAC[VM1], 6);
	c = csum_ref(na, 32, csum_pseudo6_ref(exp.d + ip + 8, exp.d + ip + 24,
					       32, 58));
	na[2] = c >> 8;
	na[3] = c;
	exp.len += 32;
	ck_assert_pkt_eq(&out, &exp);
	ck_assert_uint_eq(STAT(VM1, nd_replies), 1);
}
END_TEST

START_TEST(ns_from_global_without_option)
{
	struct pkt in, out;

	pkt_ns(&in, MAC[VM1], V6[VM1], GW6, 255, false);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	ck_assert(csum_ok(out.d, out.len));
	ck_assert_uint_eq(out.d[54], 136);
}
END_TEST

START_TEST(ns_dad_not_answered)
{
	static const uint8_t unspec[16];
	struct pkt in, out;

	/* DAD for the VM's own address, and even for the gateway's. */
	pkt_ns(&in, MAC[VM1], unspec, V6[VM1], 255, false);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	pkt_ns(&in, MAC[VM1], unspec, GW6, 255, false);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_LINK_LOCAL), 2);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_SPOOF_IP), 0);
	ck_assert_uint_eq(STAT(VM1, nd_replies), 0);
}
END_TEST

START_TEST(ns_other_target_ignored)
{
	struct pkt in, out;

	pkt_ns(&in, MAC[VM1], LL_VM1, V6[VM2], 255, true);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_LINK_LOCAL), 1);
}
END_TEST

START_TEST(ns_spoofed_or_forwarded)
{
	struct pkt in, out;

	/* From another VM's global address. */
	pkt_ns(&in, MAC[VM1], V6[VM2], GW6, 255, true);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_SPOOF_IP), 1);
	/* Hop limit below 255: it crossed a router, RFC 4861 says drop. */
	pkt_ns(&in, MAC[VM1], LL_VM1, GW6, 254, true);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_MALFORMED), 1);
}
END_TEST

START_TEST(router_solicitation_not_spoofing)
{
	static const uint8_t allrouters[16] = { 0xff, 0x02, [15] = 2 };
	struct pkt in, out;
	size_t ip;

	pkt_eth(&in, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 2 }, MAC[VM1],
		0x86dd);
	ip = pkt_ip6(&in, LL_VM1, allrouters, 58, 255, 8);
	memset(in.d + in.len, 0, 8);
	in.d[in.len] = 133;
	uint16_t c = csum_ref(in.d + in.len, 8,
			      csum_pseudo6_ref(in.d + ip + 8, in.d + ip + 24, 8, 58));
	in.d[in.len + 2] = c >> 8;
	in.d[in.len + 3] = c;
	in.len += 8;
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_LINK_LOCAL), 1);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_SPOOF_IP), 0);
}
END_TEST

TCase *tcase_ndisc(void)
{
	TCase *tc = tcase_create("ndisc");

	tcase_add_checked_fixture(tc, env_setup, env_teardown);
	tcase_add_test(tc, ns_gateway_answered);
	tcase_add_test(tc, ns_from_global_without_option);
	tcase_add_test(tc, ns_dad_not_answered);
	tcase_add_test(tc, ns_other_target_ignored);
	tcase_add_test(tc, ns_spoofed_or_forwarded);
	tcase_add_test(tc, router_solicitation_not_spoofing);
	return tc;
}
