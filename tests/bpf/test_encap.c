// SPDX-License-Identifier: GPL-2.0-only
/* VM to remote: IPv4/IPv6-in-IPv6, flow label, MTU, neighbour misses. */
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "harness.h"

/* Expected outer header in front of @inner (an IP packet). */
static void expect_encap(struct pkt *exp, const uint8_t *inner, size_t len,
			 uint8_t proto, uint8_t tclass, uint32_t label)
{
	uint32_t w = (6u << 28) | ((uint32_t)tclass << 20) | label;

	pkt_eth(exp, NH_MAC, MAC[UL0], 0x86dd);
	pkt_ip6(exp, UNDERLAY[VM1], NH_B, proto, 64, len);
	exp->d[14] = w >> 24;
	exp->d[15] = w >> 16;
	exp->d[16] = w >> 8;
	exp->d[17] = w;
	memcpy(exp->d + exp->len, inner, len);
	exp->len += len;
}

static uint32_t ports_of(const struct pkt *p, size_t l4)
{
	uint32_t v;

	memcpy(&v, p->d + l4, 4);
	return v;
}

START_TEST(encap_v4)
{
	struct pkt in, out, exp, inner;

	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], REMOTE4, 64, true, 200);
	in.d[15] = 0x28;	/* TOS AF11: copied to the traffic class */
	in.d[24] = in.d[25] = 0;
	uint16_t ic = csum_ref(in.d + 14, 20, 0);
	in.d[24] = ic >> 8;
	in.d[25] = ic;
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);

	/* The inner packet as a router forwards it: TTL 63, new checksum. */
	pkt_eth(&inner, DEVMAC[VM1], MAC[VM1], 0x0800);
	size_t ip = pkt_ip4(&inner, V4[VM1], REMOTE4, 17, 63, true, 208);
	inner.d[ip + 1] = 0x28;
	inner.d[ip + 10] = inner.d[ip + 11] = 0;
	uint16_t c = csum_ref(inner.d + ip, 20, 0);
	inner.d[ip + 10] = c >> 8;
	inner.d[ip + 11] = c;
	memcpy(inner.d + inner.len, in.d + 34, 208);
	inner.len += 208;

	expect_encap(&exp, inner.d + 14, inner.len - 14, 4, 0x28,
		     flow_label_ref4(V4[VM1], REMOTE4, 17, ports_of(&in, 34)));
	ck_assert_pkt_eq(&out, &exp);
	ck_assert(csum_ok(out.d, out.len));
	ck_assert_uint_eq(STAT(VM1, encap), 1);
}
END_TEST

START_TEST(encap_v6)
{
	struct pkt in, out, exp;

	pkt_udp6(&in, MAC[VM1], DEVMAC[VM1], V6[VM1], REMOTE6, 64, 300);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	in.d[14 + 7] = 63;	/* hop limit: no checksum in IPv6 */
	expect_encap(&exp, in.d + 14, in.len - 14, 41, 0,
		     flow_label_ref6(V6[VM1], REMOTE6, 17, ports_of(&in, 54)));
	ck_assert_pkt_eq(&out, &exp);
	ck_assert(csum_ok(out.d, out.len));
}
END_TEST

START_TEST(flow_label_follows_ports)
{
	struct pkt in, out;
	uint32_t l1, l2;

	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], REMOTE4, 64, true, 16);
	run(E.vm_fd, E.ifindex[VM1], &in, &out);
	l1 = (out.d[15] & 0xf) << 16 | out.d[16] << 8 | out.d[17];
	in.d[34] ^= 1;		/* another source port */
	run(E.vm_fd, E.ifindex[VM1], &in, &out);
	l2 = (out.d[15] & 0xf) << 16 | out.d[16] << 8 | out.d[17];
	ck_assert_uint_ne(l1, l2);
	ck_assert_uint_ne(l1, 0);
}
END_TEST

START_TEST(encap_trims_padding)
{
	struct pkt in, out;

	/* A 60-byte minimum frame around a 28-byte IP packet. */
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], REMOTE4, 64, true, 0);
	memset(in.d + in.len, 0xee, 60 - in.len);
	in.len = 60;
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	ck_assert_uint_eq(out.len, 14 + 40 + 28);
	ck_assert_uint_eq(out.d[18] << 8 | out.d[19], 28);
}
END_TEST

START_TEST(no_neighbour)
{
	struct pkt in, out;

	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], NONEIGH4, 64, true, 16);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_NO_NEIGH), 1);
	ck_assert_uint_eq(STAT(VM1, encap), 0);
}
END_TEST

START_TEST(no_uplink)
{
	struct pkt in, out;
	struct hadp_uplink none = { 0 };
	uint32_t zero = 0;

	ck_assert_int_eq(bpf_map_update_elem(bpf_map__fd(E.skel->maps.uplink),
					     &zero, &none, BPF_ANY), 0);
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], REMOTE4, 64, true, 16);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_NO_UPLINK), 1);
}
END_TEST

/* 1500-byte IPv4 with DF over a 1500-byte underlay: frag needed, 1460. */
START_TEST(too_big_v4_df)
{
	struct pkt in, out, exp;
	size_t ip;
	uint16_t c;

	uplink_set_mtu(1500);
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], REMOTE4, 64, true,
		 1500 - 28);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	pkt_eth(&exp, MAC[VM1], DEVMAC[VM1], 0x0800);
	ip = pkt_ip4(&exp, GW4, V4[VM1], 1, 64, false, 36);
	exp.d[ip + 1] = 0xc0;
	exp.d[ip + 4] = exp.d[ip + 5] = 0;
	exp.d[ip + 10] = exp.d[ip + 11] = 0;
	c = csum_ref(exp.d + ip, 20, 0);
	exp.d[ip + 10] = c >> 8;
	exp.d[ip + 11] = c;
	memset(exp.d + exp.len, 0, 8);
	exp.d[exp.len] = 3;
	exp.d[exp.len + 1] = 4;
	exp.d[exp.len + 6] = 1460 >> 8;
	exp.d[exp.len + 7] = 1460 & 0xff;
	memcpy(exp.d + exp.len + 8, in.d + 14, 28);
	c = csum_ref(exp.d + exp.len, 36, 0);
	exp.d[exp.len + 2] = c >> 8;
	exp.d[exp.len + 3] = c;
	exp.len += 36;
	ck_assert_pkt_eq(&out, &exp);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_TOO_BIG), 1);

	/* 1460 fits exactly. */
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], REMOTE4, 64, true,
		 1460 - 28);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	ck_assert_uint_eq(out.len, 14 + 1500);
}
END_TEST

START_TEST(too_big_v4_no_df)
{
	struct pkt in, out;

	uplink_set_mtu(1500);
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], REMOTE4, 64, false,
		 1500 - 28);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_TOO_BIG_NO_DF), 1);
	ck_assert_uint_eq(STAT(VM1, icmp_errors), 0);
}
END_TEST

START_TEST(too_big_v6)
{
	struct pkt in, out;

	uplink_set_mtu(1500);
	pkt_udp6(&in, MAC[VM1], DEVMAC[VM1], V6[VM1], REMOTE6, 64, 1500 - 48);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	ck_assert_uint_eq(out.len, 14 + 40 + 8 + 48);
	ck_assert_mem_eq(out.d + 22, GW6, 16);
	ck_assert_mem_eq(out.d + 38, V6[VM1], 16);
	ck_assert_uint_eq(out.d[54], 2);	/* packet too big */
	ck_assert_uint_eq((uint32_t)out.d[58] << 24 | out.d[59] << 16 |
			  out.d[60] << 8 | out.d[61], 1460);
	ck_assert_mem_eq(out.d + 62, in.d + 14, 48);
	ck_assert(csum_ok(out.d, out.len));
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_TOO_BIG), 1);
}
END_TEST

START_TEST(icmp_errors_rate_limited)
{
	struct pkt in, out;

	config_set_rate(1, 2);
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], REMOTE4, 1, true, 16);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_ICMP_RATELIMIT), 1);
	ck_assert_uint_eq(STAT(VM1, icmp_errors), 2);
}
END_TEST

TCase *tcase_encap(void)
{
	TCase *tc = tcase_create("encap");

	tcase_add_checked_fixture(tc, env_setup, env_teardown);
	tcase_add_test(tc, encap_v4);
	tcase_add_test(tc, encap_v6);
	tcase_add_test(tc, flow_label_follows_ports);
	tcase_add_test(tc, encap_trims_padding);
	tcase_add_test(tc, no_neighbour);
	tcase_add_test(tc, no_uplink);
	tcase_add_test(tc, too_big_v4_df);
	tcase_add_test(tc, too_big_v4_no_df);
	tcase_add_test(tc, too_big_v6);
	tcase_add_test(tc, icmp_errors_rate_limited);
	return tc;
}
