// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tenant isolation in the fast path (docs/nat.md): connection quotas per
 * interface and per VIP, and what may open a connection; in the
 * environment of natenv.c (vm1 behind SNAT, vm2 with a VIP).
 */
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "harness.h"
#include "natenv.h"

static void config_limits(uint32_t conn_limit, uint32_t vip_conn_limit)
{
	struct hadp_config c;
	uint32_t zero = 0;

	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.config),
					     &zero, &c), 0);
	c.conn_limit = conn_limit;
	c.vip_conn_limit = vip_conn_limit;
	update_elem(E.skel->maps.config, &zero, &c);
}

static void iface_limit(int dev, uint32_t limit)
{
	struct hadp_ifindex k = { .ifindex = E.ifindex[dev] };
	struct hadp_quota q = { .conn_limit = limit };

	update_elem(E.skel->maps.quotas, &k, &q);
}

static struct hadp_conn_count held(int dev)
{
	struct hadp_ifindex k = { .ifindex = E.ifindex[dev] };
	struct hadp_conn_count n = { 0 };

	bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.conn_counts), &k, &n);
	return n;
}

/* A UDP datagram from vm1 to INET:@dport. */
static int vm1_udp(uint16_t dport)
{
	struct pkt in, out;

	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17, 4000, dport,
		  0, 8);
	return vm_send(VM1, &in, &out);
}

/* From INET:@sport to the VIP's port 80, TCP with @flags or UDP (0). */
static int to_vip(uint16_t sport, uint8_t proto, uint8_t flags)
{
	struct pkt in, tun, out;

	l4_packet(&in, MAC[UL0], ROUTER_MAC, INET, VIP_IP, proto, sport, 80,
		  flags, 0);
	from_router(&tun, &in, VIP_UL);
	return ul_recv(&tun, &out);
}

START_TEST(iface_quota_refuses_and_counts)
{
	struct hadp_sweep res;
	struct pkt in, out;

	nat_setup();
	config_limits(1000, 1000);
	iface_limit(VM1, 2);
	ck_assert_int_eq(vm1_udp(53), XDP_REDIRECT);
	ck_assert_int_eq(vm1_udp(54), XDP_REDIRECT);
	/* An established one still flows; a third new one does not. */
	ck_assert_int_eq(vm1_udp(53), XDP_REDIRECT);
	ck_assert_int_eq(vm1_udp(55), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_CONN_QUOTA), 1);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_CONN_TABLE_FULL), 0);
	ck_assert_int_eq(held(VM1).conns, 2);
	/* Nothing written for it: no half entry, no delta. */
	ck_assert_int_eq(count_entries(E.skel->maps.conns), 2);
	ck_assert_int_eq(count_entries(E.skel->maps.conns_rev), 2);
	ck_assert_int_eq(drain_events(), 2);

	/* The other interface is not touched. */
	l4_packet(&in, DEVMAC[VM2], MAC[VM2], V4[VM2], INET, 17, 4000, 55, 0, 8);
	ck_assert_int_eq(vm_send(VM2, &in, &out), XDP_REDIRECT);
	ck_assert_uint_eq(stat_drop(VM2, HADP_DROP_CONN_QUOTA), 0);
	ck_assert_int_eq(held(VM2).conns, 1);

	/* A delete gives the slot back: the sweep's, here a flush. */
	ck_assert_int_eq(sweep(HADP_SWEEP_FLUSH, E.ifindex[VM1], &res), 2);
	ck_assert_int_eq(held(VM1).conns, 0);
	ck_assert_int_eq(held(VM2).conns, 1);
	ck_assert_int_eq(vm1_udp(55), XDP_REDIRECT);
	ck_assert_int_eq(held(VM1).conns, 1);
}
END_TEST

START_TEST(default_limit_from_config)
{
	static const uint32_t age_udp[HADP_TO_MAX] = { 100, 100, 100, 0, 100 };
	struct hadp_sweep res;

	nat_setup();
	config_limits(1, 1);	/* set_timeouts keeps them */
	ck_assert_int_eq(vm1_udp(53), XDP_REDIRECT);
	ck_assert_int_eq(vm1_udp(54), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_CONN_QUOTA), 1);
	/* The interface's own limit wins over the default. */
	iface_limit(VM1, 2);
	ck_assert_int_eq(vm1_udp(54), XDP_REDIRECT);
	/* Aging gives the slots back. */
	set_timeouts(age_udp);
	ck_assert_int_eq(sweep(HADP_SWEEP_AGE, 0, &res), 2);
	ck_assert_int_eq(held(VM1).conns, 0);
}
END_TEST

START_TEST(vip_quota_inbound)
{
	struct pkt in, out;

	nat_setup();
	config_limits(3, 2);
	ck_assert_int_eq(to_vip(40000, 17, 0), XDP_REDIRECT);
	ck_assert_int_eq(to_vip(40001, 6, 0x02), XDP_REDIRECT);
	/* The VIP's inbound share is held: refused, counted on vm2. */
	ck_assert_int_eq(to_vip(40002, 17, 0), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM2, HADP_DROP_CONN_QUOTA), 1);
	ck_assert_uint_eq(stat_drop(UL0, HADP_DROP_CONN_QUOTA), 0);
	ck_assert_int_eq(held(VM2).conns, 2);
	ck_assert_int_eq(held(VM2).vip_conns, 2);
	/* The VM itself still opens one of its own. */
	l4_packet(&in, DEVMAC[VM2], MAC[VM2], V4[VM2], INET, 17, 4000, 53, 0, 8);
	ck_assert_int_eq(vm_send(VM2, &in, &out), XDP_REDIRECT);
	ck_assert_int_eq(held(VM2).conns, 3);
	ck_assert_int_eq(held(VM2).vip_conns, 2);
	/* The VIP's own limit wins over the default. */
	struct hadp_ifindex k = { .ifindex = E.ifindex[VM2] };
	struct hadp_vip vip;

	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.vips),
					     &k, &vip), 0);
	vip.conn_limit = 10;
	update_elem(E.skel->maps.vips, &k, &vip);
	config_limits(10, 2);
	ck_assert_int_eq(to_vip(40002, 17, 0), XDP_REDIRECT);
	ck_assert_int_eq(held(VM2).vip_conns, 3);
}
END_TEST

START_TEST(tcp_without_syn_opens_nothing)
{
	struct hadp_conn_key k = { .vni = 100, .proto = 6, .src = 0,
				   .sport = htons(33000), .dport = htons(80) };
	struct hadp_conn c = { .version = 7, .nat_port = htons(1001),
			       .state = HADP_CONN_ESTABLISHED };
	struct hadp_conn_key rk = { .proto = 6, .sport = htons(80),
				    .dport = htons(1001) };
	struct pkt in, out;
	static const uint8_t no_syn[] = { 0x10, 0x11, 0x18, 0x01, 0x12, 0x03 };
	unsigned int i;

	nat_setup();
	for (i = 0; i < sizeof(no_syn); i++) {
		l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 6, 33000,
			  80, no_syn[i], 0);
		ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_DROP);
		ck_assert_int_eq(to_vip(40000 + i, 6, no_syn[i]), XDP_DROP);
	}
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_NO_CONN), sizeof(no_syn));
	ck_assert_uint_eq(stat_drop(VM2, HADP_DROP_NO_CONN), sizeof(no_syn));
	ck_assert_int_eq(count_entries(E.skel->maps.conns), 0);
	ck_assert_int_eq(drain_events(), 0);

	/* A connection carried over (written as the mirror or a promotion
	 * writes it) keeps flowing on bare ACKs both ways. */
	k.src = V4[VM1];
	k.dst = INET;
	c.ifindex = E.ifindex[VM1];
	c.nat_ip = NAT_IP;
	rk.src = INET;
	rk.dst = NAT_IP;
	update_elem(E.skel->maps.conns, &k, &c);
	update_elem(E.skel->maps.conns_rev, &rk, &k);
	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 6, 33000, 80,
		  0x10, 10);
	ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_REDIRECT);
	l4_packet(&in, MAC[UL0], ROUTER_MAC, INET, NAT_IP, 6, 80, 1001, 0x10, 10);
	from_router(&out, &in, NAT_UL);
	ck_assert_int_eq(ul_recv(&out, &in), XDP_REDIRECT);
}
END_TEST

TCase *tcase_tenant(void)
{
	TCase *tc = tcase_create("tenant");

	tcase_add_checked_fixture(tc, NULL, env_teardown);
	tcase_add_test(tc, iface_quota_refuses_and_counts);
	tcase_add_test(tc, default_limit_from_config);
	tcase_add_test(tc, vip_quota_inbound);
	tcase_add_test(tc, tcp_without_syn_opens_nothing);
	return tc;
}
