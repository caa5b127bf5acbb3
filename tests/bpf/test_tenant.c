// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tenant isolation in the fast path (docs/nat.md): connection quotas per
 * interface and per VIP, what may open a connection, ICMP error limits
 * per interface, the unanswered's timeout and eviction, state flips and
 * the event budget; in the environment of natenv.c (vm1 behind SNAT, vm2
 * with a VIP).
 */
#include <errno.h>
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
	static const uint32_t age_udp[HADP_TO_MAX] = { 100, 100, 100, 100, 100, 0 };
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

/* TTL=1 from vm1 until its bucket is empty: vm2 still gets its errors. */
START_TEST(icmp_limits_per_interface)
{
	struct pkt in, out;
	int i;

	env_setup();
	config_set_rate(1, 2);
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], REMOTE4, 1, true, 16);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out),
				 XDP_REDIRECT);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_ICMP_RATELIMIT), 1);

	pkt_udp4(&in, MAC[VM2], DEVMAC[VM2], V4[VM2], REMOTE4, 1, true, 16);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM2], &in, &out),
				 XDP_REDIRECT);
	ck_assert_uint_eq(STAT(VM2, icmp_errors), 2);
	ck_assert_uint_eq(stat_drop(VM2, HADP_DROP_ICMP_RATELIMIT), 0);
}
END_TEST

/* ---- unanswered entries, eviction ---------------------------------- */

static struct hadp_conn_key vm1_key(uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct hadp_conn_key k = { .vni = 100, .proto = proto, .src = V4[VM1],
				   .dst = INET, .sport = htons(sport),
				   .dport = htons(dport) };
	return k;
}

static struct hadp_conn conn_get(const struct hadp_conn_key *k)
{
	struct hadp_conn c;

	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.conns),
					     k, &c), 0);
	return c;
}

/* Make @k's entry look @ms older: idle, and opened, that long ago. */
static void conn_age_by(const struct hadp_conn_key *k, uint32_t ms)
{
	struct hadp_conn c = conn_get(k);

	c.last_seen -= ms * 1000000ull;
	c.opened_ms -= ms;
	ck_assert_int_eq(bpf_map_update_elem(bpf_map__fd(E.skel->maps.conns),
					     k, &c, BPF_EXIST), 0);
}

/* The reply to vm1's UDP flow to INET:@dport. */
static int udp_reply(uint16_t dport)
{
	struct hadp_conn_key k = vm1_key(17, 4000, dport);
	struct hadp_conn c = conn_get(&k);
	struct pkt in, tun, out;

	l4_packet(&in, MAC[UL0], ROUTER_MAC, INET, NAT_IP, 17, dport,
		  ntohs(c.nat_port), 0, 8);
	from_router(&tun, &in, NAT_UL);
	return ul_recv(&tun, &out);
}

START_TEST(unreplied_short_timeout)
{
	static const uint32_t unreplied_now[HADP_TO_MAX] = {
		100, 100, 100, 100, 100, 0,
	};
	struct hadp_sweep res;

	nat_setup();
	ck_assert_int_eq(vm1_udp(53), XDP_REDIRECT);
	ck_assert_int_eq(vm1_udp(54), XDP_REDIRECT);
	ck_assert_int_eq(udp_reply(53), XDP_REDIRECT);
	drain_events();
	set_timeouts(unreplied_now);
	ck_assert_int_eq(sweep(HADP_SWEEP_AGE, 0, &res), 1);
	ck_assert_int_eq(drain_events(), 1);
	ck_assert_uint_eq(ev[0].type, HADP_EV_CONN_DELETE);
	ck_assert_uint_eq(ntohs(ev[0].conn.key.dport), 54);
	ck_assert_int_eq(held(VM1).conns, 1);
}
END_TEST

START_TEST(eviction_takes_the_unanswered)
{
	struct hadp_conn_key k53, k54, k55;
	struct hadp_sweep res;

	nat_setup();
	k53 = vm1_key(17, 4000, 53);
	k54 = vm1_key(17, 4000, 54);
	k55 = vm1_key(17, 4000, 55);
	ck_assert_int_eq(vm1_udp(53), XDP_REDIRECT);
	ck_assert_int_eq(vm1_udp(54), XDP_REDIRECT);
	ck_assert_int_eq(vm1_udp(55), XDP_REDIRECT);
	ck_assert_int_eq(udp_reply(53), XDP_REDIRECT);
	/* 53 answered and idle, 54 unanswered and idle, 55 unanswered and
	 * fresh (a handshake under way): 54 alone goes. */
	conn_age_by(&k53, 5000);
	conn_age_by(&k54, 5000);
	drain_events();
	ck_assert_int_eq(sweep(HADP_SWEEP_EVICT, 0, &res), 1);
	ck_assert_uint_eq(res.scanned, 3);
	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.conns),
					     &k54, &(struct hadp_conn){ 0 }), -ENOENT);
	conn_get(&k53);
	conn_get(&k55);
	/* Published as a delete, and the slot given back. */
	ck_assert_int_eq(drain_events(), 1);
	ck_assert_uint_eq(ev[0].type, HADP_EV_CONN_DELETE);
	ck_assert_mem_eq(&ev[0].conn.key, &k54, sizeof(k54));
	ck_assert_int_eq(held(VM1).conns, 2);
	ck_assert_int_eq(count_entries(E.skel->maps.conns_rev), 2);
}
END_TEST

/* ---- deltas: flips, budget ------------------------------------------ */

static int vm1_tcp(uint8_t flags)
{
	struct pkt in, out;

	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 6, 33000, 80,
		  flags, 0);
	return vm_send(VM1, &in, &out);
}

static int inet_tcp(uint16_t nat_port, uint8_t flags)
{
	struct pkt in, tun, out;

	l4_packet(&in, MAC[UL0], ROUTER_MAC, INET, NAT_IP, 6, 80, nat_port,
		  flags, 0);
	from_router(&tun, &in, NAT_UL);
	return ul_recv(&tun, &out);
}

START_TEST(closed_is_terminal)
{
	struct hadp_conn_key k;
	uint16_t port;
	int i;

	nat_setup();
	k = vm1_key(6, 33000, 80);
	ck_assert_int_eq(vm1_tcp(0x02), XDP_REDIRECT);
	port = ntohs(conn_get(&k).nat_port);
	ck_assert_int_eq(inet_tcp(port, 0x12), XDP_REDIRECT);
	ck_assert_int_eq(vm1_tcp(0x04), XDP_REDIRECT);
	ck_assert_uint_eq(conn_get(&k).state, HADP_CONN_CLOSED);
	ck_assert_int_eq(drain_events(), 3);	/* NEW, established, closed */
	/* RST and FIN alternating, both ways: nothing flips, nothing goes
	 * out; a SYN within a second of the opening does not reopen. */
	for (i = 0; i < 50; i++) {
		vm1_tcp(i & 1 ? 0x04 : 0x11);
		inet_tcp(port, i & 1 ? 0x11 : 0x04);
	}
	ck_assert_int_eq(vm1_tcp(0x02), XDP_REDIRECT);
	ck_assert_uint_eq(conn_get(&k).state, HADP_CONN_CLOSED);
	ck_assert_int_eq(drain_events(), 0);
	/* A new SYN a second later opens it again: one update. */
	conn_age_by(&k, 1000);
	ck_assert_int_eq(vm1_tcp(0x02), XDP_REDIRECT);
	ck_assert_uint_eq(conn_get(&k).state, HADP_CONN_OPENING);
	ck_assert_int_eq(drain_events(), 1);
	ck_assert_uint_eq(ev[0].type, HADP_EV_CONN_UPDATE);
	ck_assert_uint_eq(ev[0].conn.val.state, HADP_CONN_OPENING);
}
END_TEST

START_TEST(event_budget_per_interface)
{
	struct hadp_config c;
	uint32_t zero = 0;
	struct pkt in, out;
	int i, vm1 = 0, vm2 = 0;

	nat_setup();
	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.config),
					     &zero, &c), 0);
	c.event_rate = 1;
	c.event_burst = 3;
	update_elem(E.skel->maps.config, &zero, &c);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(vm1_udp(100 + i), XDP_REDIRECT);
	l4_packet(&in, DEVMAC[VM2], MAC[VM2], V4[VM2], INET, 17, 4000, 53, 0, 8);
	ck_assert_int_eq(vm_send(VM2, &in, &out), XDP_REDIRECT);
	drain_events();
	for (i = 0; i < nev; i++) {
		vm1 += ev[i].ifindex == (uint32_t)E.ifindex[VM1];
		vm2 += ev[i].ifindex == (uint32_t)E.ifindex[VM2];
	}
	/* vm1's burst, and vm2's own delta all the same. */
	ck_assert_int_eq(vm1, 3);
	ck_assert_int_eq(vm2, 1);
	ck_assert_uint_eq(STAT(VM1, events_throttled), 7);
	ck_assert_uint_eq(STAT(VM2, events_throttled), 0);
	/* Deletes are never refused. */
	struct hadp_sweep res;

	ck_assert_int_eq(sweep(HADP_SWEEP_FLUSH, E.ifindex[VM1], &res), 10);
	ck_assert_int_eq(drain_events(), 10);
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
	tcase_add_test(tc, icmp_limits_per_interface);
	tcase_add_test(tc, unreplied_short_timeout);
	tcase_add_test(tc, eviction_takes_the_unanswered);
	tcase_add_test(tc, closed_is_terminal);
	tcase_add_test(tc, event_budget_per_interface);
	return tc;
}
