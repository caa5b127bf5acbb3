// SPDX-License-Identifier: GPL-2.0-only
/* Uplink: decapsulation to local interfaces; everything else passes. */
#include <string.h>
#include "harness.h"

/* Wrap the IP packet of @inner (a frame) for underlay address @dst. */
static void tunnel(struct pkt *p, const struct pkt *inner,
		   const uint8_t dst[16], uint8_t proto)
{
	pkt_eth(p, MAC[UL0], NH_MAC, 0x86dd);
	pkt_ip6(p, NH_B, dst, proto, 64, inner->len - 14);
	memcpy(p->d + p->len, inner->d + 14, inner->len - 14);
	p->len += inner->len - 14;
}

START_TEST(decap_v4)
{
	struct pkt inner, in, out, exp;

	pkt_udp4(&inner, NH_MAC, MAC[UL0], REMOTE4, V4[VM1], 63, true, 120);
	tunnel(&in, &inner, UNDERLAY[VM1], 4);
	ck_assert_int_eq(run(E.ul_fd, E.ifindex[UL0], &in, &out), XDP_REDIRECT);
	pkt_udp4(&exp, DEVMAC[VM1], MAC[VM1], REMOTE4, V4[VM1], 63, true, 120);
	ck_assert_pkt_eq(&out, &exp);
	ck_assert(csum_ok(out.d, out.len));
	ck_assert_uint_eq(STAT(UL0, decap), 1);
	ck_assert_uint_eq(STAT(VM1, tx_packets), 1);
}
END_TEST

START_TEST(decap_v6)
{
	struct pkt inner, in, out, exp;

	pkt_udp6(&inner, NH_MAC, MAC[UL0], REMOTE6, V6[VM2], 63, 90);
	tunnel(&in, &inner, UNDERLAY[VM2], 41);
	ck_assert_int_eq(run(E.ul_fd, E.ifindex[UL0], &in, &out), XDP_REDIRECT);
	pkt_udp6(&exp, DEVMAC[VM2], MAC[VM2], REMOTE6, V6[VM2], 63, 90);
	ck_assert_pkt_eq(&out, &exp);
	ck_assert_uint_eq(STAT(VM2, tx_packets), 1);
}
END_TEST

START_TEST(decap_wrong_inner_destination)
{
	struct pkt inner, in, out;

	/* vm2's address sent to vm1's underlay address: not delivered,
	 * even though vm2 exists. */
	pkt_udp4(&inner, NH_MAC, MAC[UL0], REMOTE4, V4[VM2], 63, true, 20);
	tunnel(&in, &inner, UNDERLAY[VM1], 4);
	ck_assert_int_eq(run(E.ul_fd, E.ifindex[UL0], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(UL0, HADP_DROP_WRONG_DST), 1);
	ck_assert_uint_eq(STAT(VM2, tx_packets), 0);
}
END_TEST

START_TEST(decap_mac_unknown)
{
	struct pkt inner, in, out;

	pkt_udp4(&inner, NH_MAC, MAC[UL0], REMOTE4, V4[VM4], 63, true, 20);
	tunnel(&in, &inner, UNDERLAY[VM4], 4);
	ck_assert_int_eq(run(E.ul_fd, E.ifindex[UL0], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(UL0, HADP_DROP_MAC_UNKNOWN), 1);
}
END_TEST

START_TEST(decap_not_a_tunnel)
{
	struct pkt in, out;

	/* UDP straight to an interface's underlay address. */
	pkt_udp6(&in, NH_MAC, MAC[UL0], NH_B, UNDERLAY[VM1], 64, 10);
	ck_assert_int_eq(run(E.ul_fd, E.ifindex[UL0], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(UL0, HADP_DROP_NOT_TUNNEL), 1);
}
END_TEST

START_TEST(decap_truncated)
{
	struct pkt inner, in, out;

	pkt_udp4(&inner, NH_MAC, MAC[UL0], REMOTE4, V4[VM1], 63, true, 20);
	tunnel(&in, &inner, UNDERLAY[VM1], 4);
	in.len -= 1;		/* payload length now beyond the frame */
	ck_assert_int_eq(run(E.ul_fd, E.ifindex[UL0], &in, &out), XDP_DROP);
	/* Inner total length beyond the outer payload. */
	tunnel(&in, &inner, UNDERLAY[VM1], 4);
	in.d[14 + 40 + 3] += 4;
	ck_assert_int_eq(run(E.ul_fd, E.ifindex[UL0], &in, &out), XDP_DROP);
	/* Inner header cut short. */
	inner.len = 14 + 12;
	tunnel(&in, &inner, UNDERLAY[VM1], 4);
	ck_assert_int_eq(run(E.ul_fd, E.ifindex[UL0], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(UL0, HADP_DROP_MALFORMED), 3);
	ck_assert_uint_eq(STAT(VM1, tx_packets), 0);
}
END_TEST

START_TEST(host_traffic_passes_untouched)
{
	static const uint8_t host_b[16] = { 0xfd, 0, [15] = 0xb };
	static const uint8_t host_a[16] = { 0xfd, 0, [15] = 0xa };
	struct pkt in, out;

	/* The hypervisor's own IPv6, IPv4 and ARP. */
	pkt_udp6(&in, NH_MAC, MAC[UL0], host_b, host_a, 64, 10);
	ck_assert_int_eq(run(E.ul_fd, E.ifindex[UL0], &in, &out), XDP_PASS);
	ck_assert_pkt_eq(&out, &in);
	pkt_udp4(&in, NH_MAC, MAC[UL0], REMOTE4, V4[VM1], 64, true, 10);
	ck_assert_int_eq(run(E.ul_fd, E.ifindex[UL0], &in, &out), XDP_PASS);
	ck_assert_pkt_eq(&out, &in);
	/* Even a tunnel packet for an address that is not ours. */
	struct pkt inner;

	pkt_udp4(&inner, NH_MAC, MAC[UL0], REMOTE4, V4[VM1], 63, true, 20);
	tunnel(&in, &inner, NH_C, 4);
	ck_assert_int_eq(run(E.ul_fd, E.ifindex[UL0], &in, &out), XDP_PASS);
	ck_assert_pkt_eq(&out, &in);
	ck_assert_uint_eq(STAT(UL0, rx_packets), 0);
}
END_TEST

TCase *tcase_uplink(void)
{
	TCase *tc = tcase_create("uplink");

	tcase_add_checked_fixture(tc, env_setup, env_teardown);
	tcase_add_test(tc, decap_v4);
	tcase_add_test(tc, decap_v6);
	tcase_add_test(tc, decap_wrong_inner_destination);
	tcase_add_test(tc, decap_mac_unknown);
	tcase_add_test(tc, decap_not_a_tunnel);
	tcase_add_test(tc, decap_truncated);
	tcase_add_test(tc, host_traffic_passes_untouched);
	return tc;
}
