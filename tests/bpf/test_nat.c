// SPDX-License-Identifier: GPL-2.0-only
/*
 * NAT: SNAT and VIP translations both ways, ICMP echo and errors, port
 * claims and exhaustion, neighbour-NAT relay, TCP state, deltas, sweep;
 * in the environment of natenv.c.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "harness.h"
#include "natenv.h"

/* ---- SNAT ---------------------------------------------------------- */

START_TEST(snat_new_and_established)
{
	struct pkt in, out, inner;
	uint16_t port;
	struct hadp_conn_key k = { .vni = 100, .proto = 17 };
	struct hadp_conn c;

	nat_setup();
	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17, 4000, 53, 0, 40);
	ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_REDIRECT);
	/* Outer: from the NAT's return address to the router. */
	ck_assert_mem_eq(out.d, ROUTER_MAC, 6);
	ck_assert_mem_eq(out.d + 6, MAC[UL0], 6);
	ck_assert_uint_eq(out.d[20], 4);
	ck_assert_mem_eq(out.d + 22, NAT_UL, 16);
	ck_assert_mem_eq(out.d + 38, ROUTER6, 16);
	/* Inner: source translated, TTL decremented, checksums right. */
	ck_assert(csum_ok(out.d, out.len));
	inner_of(&inner, &out);
	ck_assert_mem_eq(inner.d + 26, &NAT_IP, 4);
	ck_assert_mem_eq(inner.d + 30, &INET, 4);
	ck_assert_uint_eq(inner.d[22], 63);
	port = get16(inner.d + 34);
	ck_assert(port >= 1000 && port <= 1003);
	ck_assert_uint_eq(get16(inner.d + 36), 53);
	ck_assert_mem_eq(inner.d + 42, in.d + 42, 40);

	k.src = V4[VM1];
	k.dst = INET;
	k.sport = htons(4000);
	k.dport = htons(53);
	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.conns),
					     &k, &c), 0);
	ck_assert_uint_eq(ntohs(c.nat_port), port);
	ck_assert_uint_eq(c.nat_ip, NAT_IP);
	ck_assert_uint_eq(c.state, HADP_CONN_OPENING);
	ck_assert_uint_ne(c.version, 0);
	ck_assert_uint_eq(c.ifindex, (uint32_t)E.ifindex[VM1]);

	/* The delta describes it completely, both keys. */
	ck_assert_int_eq(drain_events(), 1);
	ck_assert_uint_eq(ev[0].type, HADP_EV_CONN_NEW);
	ck_assert_uint_eq(ev[0].version, c.version);
	ck_assert_mem_eq(&ev[0].conn.key, &k, sizeof(k));
	ck_assert_uint_eq(ev[0].conn.rkey.src, INET);
	ck_assert_uint_eq(ev[0].conn.rkey.dst, NAT_IP);
	ck_assert_uint_eq(ntohs(ev[0].conn.rkey.sport), 53);
	ck_assert_uint_eq(ntohs(ev[0].conn.rkey.dport), port);
	ck_assert_uint_eq(ev[0].conn.val.nat_port, c.nat_port);

	/* Established: the same port again, no new connection. */
	ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_REDIRECT);
	inner_of(&inner, &out);
	ck_assert_uint_eq(get16(inner.d + 34), port);
	ck_assert_int_eq(count_entries(E.skel->maps.conns), 1);
	ck_assert_int_eq(count_entries(E.skel->maps.conns_rev), 1);
	ck_assert_int_eq(drain_events(), 0);
	ck_assert_uint_eq(STAT(VM1, snat), 2);
	ck_assert_uint_eq(STAT(VM1, conns_created), 1);
}
END_TEST

START_TEST(snat_reply_translated_back)
{
	struct pkt in, out, inner, reply, tun, exp;
	uint64_t v0;
	uint16_t port;
	struct hadp_conn_key k = { .vni = 100, .proto = 17 };
	struct hadp_conn c;

	nat_setup();
	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17, 4000, 53, 0, 40);
	vm_send(VM1, &in, &out);
	inner_of(&inner, &out);
	port = get16(inner.d + 34);
	ck_assert_int_eq(drain_events(), 1);
	v0 = ev[0].version;

	l4_packet(&reply, MAC[UL0], ROUTER_MAC, INET, NAT_IP, 17, 53, port, 0, 30);
	from_router(&tun, &reply, NAT_UL);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_REDIRECT);
	/* Exactly the reply as the VM expects it, built independently. */
	l4_packet(&exp, MAC[VM1], DEVMAC[VM1], INET, V4[VM1], 17, 53, 4000, 0, 30);
	ck_assert_pkt_eq(&out, &exp);
	ck_assert_uint_eq(STAT(UL0, dnat), 1);
	ck_assert_uint_eq(STAT(VM1, tx_packets), 1);

	/* The reply moved the connection on, and said so. */
	k.src = V4[VM1];
	k.dst = INET;
	k.sport = htons(4000);
	k.dport = htons(53);
	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.conns),
					     &k, &c), 0);
	ck_assert_uint_eq(c.state, HADP_CONN_ESTABLISHED);
	ck_assert_uint_eq(c.version, v0 + 1);
	ck_assert_int_eq(drain_events(), 1);
	ck_assert_uint_eq(ev[0].type, HADP_EV_CONN_UPDATE);
	ck_assert_uint_eq(ev[0].version, v0 + 1);
}
END_TEST

START_TEST(zero_udp_checksum_stays_zero)
{
	struct pkt in, out, inner;

	nat_setup();
	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17, 4000, 53, 0, 8);
	in.d[40] = in.d[41] = 0;
	ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_REDIRECT);
	inner_of(&inner, &out);
	ck_assert_uint_eq(get16(inner.d + 40), 0);
	ck_assert(csum_ok(inner.d, inner.len));
}
END_TEST

START_TEST(unknown_inbound_dropped)
{
	struct pkt reply, tun, out;

	nat_setup();
	l4_packet(&reply, MAC[UL0], ROUTER_MAC, INET, NAT_IP, 17, 53, 1001, 0, 10);
	from_router(&tun, &reply, NAT_UL);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_DROP);
	/* A port outside every range too. */
	l4_packet(&reply, MAC[UL0], ROUTER_MAC, INET, NAT_IP, 17, 53, 5000, 0, 10);
	from_router(&tun, &reply, NAT_UL);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(UL0, HADP_DROP_NO_CONN), 2);
	/* To the NAT underlay, but not to the NAT IP. */
	l4_packet(&reply, MAC[UL0], ROUTER_MAC, INET, VIP_IP, 17, 53, 1001, 0, 10);
	from_router(&tun, &reply, NAT_UL);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(UL0, HADP_DROP_WRONG_DST), 1);
	ck_assert_uint_eq(STAT(VM1, tx_packets), 0);
}
END_TEST

START_TEST(neighbour_nat_relay)
{
	struct pkt reply, tun, out, exp;

	nat_setup();
	l4_packet(&reply, MAC[UL0], ROUTER_MAC, INET, NAT_IP, 6, 443, 2500,
		  0x12, 0);
	from_router(&tun, &reply, NAT_UL);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_REDIRECT);
	/* Same packet, re-addressed to the owner, from where it came to. */
	pkt_eth(&exp, NH_MAC, MAC[UL0], 0x86dd);
	pkt_ip6(&exp, NAT_UL, PEER_UL, 4, 63, reply.len - 14);
	memcpy(exp.d + exp.len, reply.d + 14, reply.len - 14);
	exp.len += reply.len - 14;
	ck_assert_pkt_eq(&out, &exp);
	ck_assert_uint_eq(STAT(UL0, nat_relayed), 1);
	ck_assert_int_eq(count_entries(E.skel->maps.conns), 0);
}
END_TEST

START_TEST(port_exhaustion)
{
	struct pkt in, out, inner;
	int seen[4] = { 0 }, i;

	nat_setup();
	for (i = 0; i < 4; i++) {
		l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17,
			  4000 + i, 53, 0, 8);
		ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_REDIRECT);
		inner_of(&inner, &out);
		seen[get16(inner.d + 34) - 1000]++;
	}
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(seen[i], 1);
	/* Every port is live: the fifth flow is refused, none reused. */
	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17, 4100, 53, 0, 8);
	ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_NAT_EXHAUSTED), 1);
	ck_assert_int_eq(count_entries(E.skel->maps.conns), 4);
	ck_assert_int_eq(count_entries(E.skel->maps.conns_rev), 4);
	/* Another remote endpoint has its own port space. */
	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17, 4100, 54, 0, 8);
	ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_REDIRECT);
}
END_TEST

START_TEST(no_nat_configured)
{
	struct pkt in, out;

	nat_setup();
	/* vm4 has neither SNAT nor VIP. */
	{
		struct hadp_ifindex k = { .ifindex = E.ifindex[VM4] };
		struct hadp_iface v;

		bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.ifaces), &k, &v);
		v.mac_state = HADP_MAC_KNOWN;
		memcpy(v.mac, MAC[VM4], 6);
		update_elem(E.skel->maps.ifaces, &k, &v);
	}
	l4_packet(&in, DEVMAC[VM4], MAC[VM4], V4[VM4], INET, 17, 4000, 53, 0, 8);
	ck_assert_int_eq(vm_send(VM4, &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM4, HADP_DROP_NO_NAT), 1);
}
END_TEST

START_TEST(fragments_through_nat)
{
	struct pkt in, out;

	nat_setup();
	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17, 4000, 53, 0, 8);
	put16(in.d + 20, 0x0010);	/* offset 128 bytes, not first */
	in.d[24] = in.d[25] = 0;
	uint16_t c = csum_ref(in.d + 14, 20, 0);
	put16(in.d + 24, c);
	ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_FRAGMENT), 1);
}
END_TEST

/* ---- VIP ------------------------------------------------------------ */

START_TEST(vip_outbound_and_back)
{
	struct pkt in, out, inner, reply, tun, exp;

	nat_setup();
	l4_packet(&in, DEVMAC[VM2], MAC[VM2], V4[VM2], INET, 6, 40000, 443,
		  0x02, 0);
	ck_assert_int_eq(vm_send(VM2, &in, &out), XDP_REDIRECT);
	ck_assert_mem_eq(out.d + 22, VIP_UL, 16);
	ck_assert(csum_ok(out.d, out.len));
	inner_of(&inner, &out);
	ck_assert_mem_eq(inner.d + 26, &VIP_IP, 4);
	ck_assert_uint_eq(get16(inner.d + 34), 40000);	/* 1:1, port kept */

	l4_packet(&reply, MAC[UL0], ROUTER_MAC, INET, VIP_IP, 6, 443, 40000,
		  0x12, 0);
	from_router(&tun, &reply, VIP_UL);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_REDIRECT);
	l4_packet(&exp, MAC[VM2], DEVMAC[VM2], INET, V4[VM2], 6, 443, 40000,
		  0x12, 0);
	ck_assert_pkt_eq(&out, &exp);
}
END_TEST

/* An entry that names an interface not owning its VM side (as a bad
 * peer entry could: VM3 is VNI 200's 10.0.0.2, the connection VNI 100's)
 * is not delivered there, and the drop is counted. */
START_TEST(conn_delivered_only_to_owner)
{
	struct pkt in, out, reply, tun;
	struct hadp_conn_key k = { .vni = 100, .sport = htons(40000),
				   .dport = htons(443), .proto = 6 };
	struct hadp_conn c;
	int fd;

	nat_setup();
	fd = bpf_map__fd(E.skel->maps.conns);
	k.src = V4[VM2];
	k.dst = INET;
	l4_packet(&in, DEVMAC[VM2], MAC[VM2], V4[VM2], INET, 6, 40000, 443,
		  0x02, 0);
	ck_assert_int_eq(vm_send(VM2, &in, &out), XDP_REDIRECT);
	ck_assert_int_eq(bpf_map_lookup_elem(fd, &k, &c), 0);
	c.ifindex = E.ifindex[VM3];
	update_elem(E.skel->maps.conns, &k, &c);

	l4_packet(&reply, MAC[UL0], ROUTER_MAC, INET, VIP_IP, 6, 443, 40000,
		  0x12, 0);
	from_router(&tun, &reply, VIP_UL);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(UL0, HADP_DROP_CONN_NOT_OWNED), 1);
	ck_assert_uint_eq(STAT(VM3, tx_packets), 0);
	ck_assert_uint_eq(STAT(UL0, dnat), 0);

	/* named right again, the same reply goes through */
	c.ifindex = E.ifindex[VM2];
	update_elem(E.skel->maps.conns, &k, &c);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_REDIRECT);
	ck_assert_uint_eq(STAT(UL0, dnat), 1);
}
END_TEST

START_TEST(vip_inbound_new_connection)
{
	struct pkt syn, tun, out, exp, synack, inner;
	struct hadp_conn_key k = { .vni = 100, .proto = 6 };
	struct hadp_conn c;

	nat_setup();
	l4_packet(&syn, MAC[UL0], ROUTER_MAC, INET, VIP_IP, 6, 55555, 80,
		  0x02, 0);
	from_router(&tun, &syn, VIP_UL);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_REDIRECT);
	l4_packet(&exp, MAC[VM2], DEVMAC[VM2], INET, V4[VM2], 6, 55555, 80,
		  0x02, 0);
	ck_assert_pkt_eq(&out, &exp);

	k.src = V4[VM2];
	k.dst = INET;
	k.sport = htons(80);
	k.dport = htons(55555);
	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.conns),
					     &k, &c), 0);
	ck_assert_uint_eq(c.flags, HADP_CONN_VIP | HADP_CONN_INBOUND);
	ck_assert_uint_eq(c.state, HADP_CONN_OPENING);

	/* The VM's SYN-ACK leaves from the VIP and establishes it. */
	l4_packet(&synack, DEVMAC[VM2], MAC[VM2], V4[VM2], INET, 6, 80, 55555,
		  0x12, 0);
	ck_assert_int_eq(vm_send(VM2, &synack, &out), XDP_REDIRECT);
	inner_of(&inner, &out);
	ck_assert_mem_eq(inner.d + 26, &VIP_IP, 4);
	ck_assert(csum_ok(inner.d, inner.len));
	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.conns),
					     &k, &c), 0);
	ck_assert_uint_eq(c.state, HADP_CONN_ESTABLISHED);
	ck_assert_int_eq(count_entries(E.skel->maps.conns), 1);
}
END_TEST

/* ---- ICMP ----------------------------------------------------------- */

START_TEST(icmp_echo_by_identifier)
{
	struct pkt in, out, inner, reply, tun, exp;
	uint16_t id;

	nat_setup();
	icmp_echo(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 8, 0x4242);
	ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_REDIRECT);
	inner_of(&inner, &out);
	ck_assert(csum_ok(inner.d, inner.len));
	id = get16(inner.d + 38);
	ck_assert(id >= 1000 && id <= 1003);

	icmp_echo(&reply, MAC[UL0], ROUTER_MAC, INET, NAT_IP, 0, id);
	from_router(&tun, &reply, NAT_UL);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_REDIRECT);
	icmp_echo(&exp, MAC[VM1], DEVMAC[VM1], INET, V4[VM1], 0, 0x4242);
	ck_assert_pkt_eq(&out, &exp);

	/* An echo reply from the VM opens nothing. */
	icmp_echo(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 0, 0x5151);
	ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_NO_CONN), 1);
}
END_TEST

/* An ICMP error from the internet quoting what NAT sent. */
static void icmp_error(struct pkt *p, const struct pkt *sent_inner,
		       uint8_t type, uint8_t code, uint16_t mtu)
{
	size_t qlen = 28;
	uint8_t *ic;
	uint16_t c;

	pkt_eth(p, MAC[UL0], ROUTER_MAC, 0x0800);
	pkt_ip4(p, inet_addr("192.0.2.254"), NAT_IP, 1, 64, false, 8 + qlen);
	ic = p->d + p->len;
	memset(ic, 0, 8);
	ic[0] = type;
	ic[1] = code;
	put16(ic + 6, mtu);
	memcpy(ic + 8, sent_inner->d + 14, qlen);
	c = csum_ref(ic, 8 + qlen, 0);
	put16(ic + 2, c);
	p->len += 8 + qlen;
}

START_TEST(icmp_errors_translated_back)
{
	static const struct { uint8_t type, code; uint16_t mtu; } kinds[] = {
		{ 3, 3, 0 },	/* port unreachable */
		{ 3, 4, 1400 },	/* fragmentation needed */
		{ 11, 0, 0 },	/* time exceeded */
	};
	struct pkt in, out, inner, err, tun;
	size_t i;

	nat_setup();
	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17, 4000, 53, 0, 40);
	vm_send(VM1, &in, &out);
	inner_of(&inner, &out);

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		icmp_error(&err, &inner, kinds[i].type, kinds[i].code,
			   kinds[i].mtu);
		from_router(&tun, &err, NAT_UL);
		ck_assert_int_eq(ul_recv(&tun, &out), XDP_REDIRECT);
		/* To the VM, quoting the packet as the VM sent it. */
		ck_assert_mem_eq(out.d, MAC[VM1], 6);
		ck_assert_mem_eq(out.d + 30, &V4[VM1], 4);
		ck_assert_uint_eq(out.d[34], kinds[i].type);
		ck_assert_uint_eq(get16(out.d + 40), kinds[i].mtu);
		ck_assert_mem_eq(out.d + 42 + 12, &V4[VM1], 4);
		ck_assert_mem_eq(out.d + 42 + 16, &INET, 4);
		ck_assert_uint_eq(get16(out.d + 42 + 20), 4000);
		ck_assert_uint_eq(get16(out.d + 42 + 22), 53);
		/* IPv4, ICMP and the quoted header's checksums. */
		ck_assert(csum_ok(out.d, out.len));
		ck_assert_uint_eq(csum_ref(out.d + 42, 20, 0), 0);
	}
	/* An error quoting a connection nobody holds. */
	inner.d[14 + 20 + 1] ^= 0x55;
	icmp_error(&err, &inner, 3, 3, 0);
	from_router(&tun, &err, NAT_UL);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(UL0, HADP_DROP_NO_CONN), 1);
}
END_TEST

START_TEST(icmp_error_for_neighbour_port_relayed)
{
	struct pkt sent, err, tun, out;

	nat_setup();
	/* What the host owning 2000-2999 sent out, quoted back to us. */
	l4_packet(&sent, ROUTER_MAC, MAC[UL0], NAT_IP, INET, 17, 2500, 53, 0, 8);
	icmp_error(&err, &sent, 3, 4, 1400);
	from_router(&tun, &err, NAT_UL);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_REDIRECT);
	ck_assert_mem_eq(out.d + 22, NAT_UL, 16);
	ck_assert_mem_eq(out.d + 38, PEER_UL, 16);
	ck_assert_mem_eq(out.d + 54, tun.d + 54, tun.len - 54);
	ck_assert_uint_eq(STAT(UL0, nat_relayed), 1);
}
END_TEST

START_TEST(icmp_error_from_vm_translated)
{
	struct pkt udp, tun, out, got, err, inner;
	size_t qlen = 28;
	uint8_t *ic;
	uint16_t c;

	nat_setup();
	/* Inbound to a closed port behind the VIP... */
	l4_packet(&udp, MAC[UL0], ROUTER_MAC, INET, VIP_IP, 17, 5555, 7999, 0, 8);
	from_router(&tun, &udp, VIP_UL);
	ck_assert_int_eq(ul_recv(&tun, &got), XDP_REDIRECT);
	/* ...the VM answers port unreachable, quoting what it received. */
	pkt_eth(&err, DEVMAC[VM2], MAC[VM2], 0x0800);
	pkt_ip4(&err, V4[VM2], INET, 1, 64, false, 8 + qlen);
	ic = err.d + err.len;
	memset(ic, 0, 8);
	ic[0] = 3;
	ic[1] = 3;
	memcpy(ic + 8, got.d + 14, qlen);
	c = csum_ref(ic, 8 + qlen, 0);
	put16(ic + 2, c);
	err.len += 8 + qlen;
	ck_assert_int_eq(vm_send(VM2, &err, &out), XDP_REDIRECT);
	inner_of(&inner, &out);
	/* The outside sees it from the VIP, about its packet to the VIP. */
	ck_assert_mem_eq(inner.d + 26, &VIP_IP, 4);
	ck_assert_mem_eq(inner.d + 42 + 12, &INET, 4);
	ck_assert_mem_eq(inner.d + 42 + 16, &VIP_IP, 4);
	ck_assert_uint_eq(get16(inner.d + 42 + 22), 7999);
	ck_assert(csum_ok(inner.d, inner.len));
	ck_assert_uint_eq(csum_ref(inner.d + 42, 20, 0), 0);
	/* An error about nothing NAT holds is dropped. */
	err.d[14 + 20 + 8 + 20 + 1] ^= 0x33;
	ck_assert_int_eq(vm_send(VM2, &err, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM2, HADP_DROP_NO_CONN), 1);
}
END_TEST

/* ---- TCP state and deltas ------------------------------------------ */

static struct hadp_conn tcp_conn(void)
{
	struct hadp_conn_key k = { .vni = 100, .proto = 6,
				   .src = V4[VM1], .dst = INET,
				   .sport = htons(33000), .dport = htons(80) };
	struct hadp_conn c;

	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.conns),
					     &k, &c), 0);
	return c;
}

START_TEST(tcp_fin_and_rst)
{
	struct pkt in, out, inner, reply, tun;
	uint32_t v0;
	uint16_t port;

	nat_setup();
	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 6, 33000, 80, 0x02, 0);
	vm_send(VM1, &in, &out);
	inner_of(&inner, &out);
	port = get16(inner.d + 34);
	ck_assert_uint_eq(tcp_conn().state, HADP_CONN_OPENING);
	v0 = tcp_conn().version;

	l4_packet(&reply, MAC[UL0], ROUTER_MAC, INET, NAT_IP, 6, 80, port, 0x12, 0);
	from_router(&tun, &reply, NAT_UL);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_REDIRECT);
	ck_assert_uint_eq(tcp_conn().state, HADP_CONN_ESTABLISHED);

	/* Data does not change the state. */
	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 6, 33000, 80, 0x10, 100);
	vm_send(VM1, &in, &out);
	ck_assert_uint_eq(tcp_conn().version, v0 + 1);

	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 6, 33000, 80, 0x11, 0);
	vm_send(VM1, &in, &out);
	ck_assert_uint_eq(tcp_conn().state, HADP_CONN_CLOSING);
	ck_assert(tcp_conn().flags & HADP_CONN_FIN_OUT);

	l4_packet(&reply, MAC[UL0], ROUTER_MAC, INET, NAT_IP, 6, 80, port, 0x04, 0);
	from_router(&tun, &reply, NAT_UL);
	ck_assert_int_eq(ul_recv(&tun, &out), XDP_REDIRECT);
	ck_assert_uint_eq(tcp_conn().state, HADP_CONN_CLOSED);
	ck_assert_uint_eq(tcp_conn().version, v0 + 3);

	/* NEW, then an UPDATE per change, versions in order. */
	ck_assert_int_eq(drain_events(), 4);
	ck_assert_uint_eq(ev[0].type, HADP_EV_CONN_NEW);
	for (int i = 1; i < 4; i++) {
		ck_assert_uint_eq(ev[i].type, HADP_EV_CONN_UPDATE);
		ck_assert_uint_eq(ev[i].version, v0 + i);
	}
	ck_assert_uint_eq(ev[3].conn.val.state, HADP_CONN_CLOSED);

	/* A RST never opens a connection. */
	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 6, 33001, 80, 0x04, 0);
	ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_DROP);
}
END_TEST

static struct hadp_event born[4];

/* The creation version of the connection a delete event is about. */
static uint64_t version_born(const struct hadp_event *del)
{
	for (int i = 0; i < 4; i++)
		if (!memcmp(&born[i].conn.key, &del->conn.key, sizeof(del->conn.key)))
			return born[i].version;
	ck_abort_msg("a delete for a connection never created");
	return 0;
}

/* When a sweep last deleted, as ifindex 0's ratelimit entry notes it
 * (the latest of the CPUs'); 0 when none did. */
static uint64_t swept_ns(void)
{
	int fd = bpf_map__fd(E.skel->maps.ratelimit), ncpu = libbpf_num_possible_cpus();
	struct hadp_ratelimit v[ncpu];
	struct hadp_ifindex k = { 0 };
	uint64_t last = 0;
	int i;

	if (bpf_map_lookup_elem(fd, &k, v))
		return 0;
	for (i = 0; i < ncpu; i++)
		if (v[i].swept_ns > last)
			last = v[i].swept_ns;
	return last;
}

START_TEST(sweep_ages_and_flushes)
{
	static const uint32_t keep[HADP_TO_MAX] = { 100, 100, 100, 100, 100, 100 };
	/* The UDP ones were never answered: "unreplied" is theirs. */
	static const uint32_t udp_now[HADP_TO_MAX] = { 100, 100, 100, 100, 100, 0 };
	struct pkt in, out;
	struct hadp_sweep res;
	int i, del = 0;

	nat_setup();
	for (i = 0; i < 3; i++) {
		l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17,
			  5000 + i, 53, 0, 8);
		vm_send(VM1, &in, &out);
	}
	l4_packet(&in, DEVMAC[VM2], MAC[VM2], V4[VM2], INET, 6, 6000, 80, 0x02, 0);
	vm_send(VM2, &in, &out);
	/* The versions the four connections were created with. */
	ck_assert_int_eq(drain_events(), 4);
	memcpy(born, ev, sizeof(born));

	set_timeouts(keep);
	ck_assert_int_eq(sweep(HADP_SWEEP_AGE, 0, &res), 0);
	ck_assert_uint_eq(res.scanned, 4);
	ck_assert_uint_eq(swept_ns(), 0);	/* nothing deleted: not noted */
	set_timeouts(udp_now);
	ck_assert_int_eq(sweep(HADP_SWEEP_AGE, 0, &res), 3);
	ck_assert_uint_ne(swept_ns(), 0);	/* for the agent's repair */
	ck_assert_int_eq(count_entries(E.skel->maps.conns), 1);
	ck_assert_int_eq(count_entries(E.skel->maps.conns_rev), 1);
	/* Every delete published, with a version past the last one. */
	ck_assert_int_eq(drain_events(), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(ev[i].type, HADP_EV_CONN_DELETE);
		ck_assert_uint_eq(ev[i].conn.key.proto, 17);
		ck_assert_uint_eq(ev[i].version, version_born(&ev[i]) + 1);
		del++;
	}
	ck_assert_int_eq(del, 3);

	/* Flush of another interface leaves vm2's; then vm2's goes. */
	ck_assert_int_eq(sweep(HADP_SWEEP_FLUSH, E.ifindex[VM1], &res), 0);
	ck_assert_int_eq(sweep(HADP_SWEEP_FLUSH, E.ifindex[VM2], &res), 1);
	ck_assert_int_eq(count_entries(E.skel->maps.conns), 0);
	ck_assert_int_eq(count_entries(E.skel->maps.conns_rev), 0);
	ck_assert_int_eq(drain_events(), 1);
	ck_assert_uint_eq(ev[0].conn.key.proto, 6);
}
END_TEST

START_TEST(reopened_connection_ranks_above_its_past)
{
	struct pkt in, out;
	struct hadp_sweep res;
	uint32_t deleted;

	nat_setup();
	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17, 4000, 53, 0, 8);
	vm_send(VM1, &in, &out);
	ck_assert_int_eq(sweep(HADP_SWEEP_FLUSH, 0, &res), 1);
	ck_assert_int_eq(drain_events(), 2);
	ck_assert_uint_eq(ev[1].type, HADP_EV_CONN_DELETE);
	deleted = ev[1].version;
	/* A standby holding the old incarnation, or its tombstone, must
	 * take the new one as newer (wrap-safe comparison). */
	usleep(1000);
	vm_send(VM1, &in, &out);
	ck_assert_int_eq(drain_events(), 1);
	ck_assert_uint_eq(ev[0].type, HADP_EV_CONN_NEW);
	ck_assert_int_gt((int32_t)((uint32_t)ev[0].version - deleted), 0);
}
END_TEST

/* ---- concurrency --------------------------------------------------- */

#define FLOWS_PER_CPU 1500

struct worker {
	int cpu;
	int ok;
};

static void *create_flows(void *arg)
{
	struct worker *w = arg;
	cpu_set_t set;
	struct pkt in, out;
	int i;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (i = 0; i < FLOWS_PER_CPU; i++) {
		/* Same remote endpoint for all: they compete for ports. */
		l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17,
			  10000 + w->cpu * FLOWS_PER_CPU + i, 53, 0, 8);
		struct xdp_md ctx = { .data_end = in.len,
				      .ingress_ifindex = E.ifindex[VM1] };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in.d,
			    .data_size_in = in.len, .data_out = out.d,
			    .data_size_out = sizeof(out.d), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);
		if (!bpf_prog_test_run_opts(E.vm_fd, &o) &&
		    o.retval == XDP_REDIRECT)
			w->ok++;
	}
	return NULL;
}

START_TEST(ports_never_handed_out_twice)
{
	struct hadp_ifindex k1 = { .ifindex = E.ifindex[VM1] };
	struct hadp_snat sn = { .port_min = 20000, .port_max = 29999 };
	struct worker w[2] = { { .cpu = 0 }, { .cpu = 1 } };
	pthread_t th[2];
	struct hadp_conn_key k, next, *prev = NULL;
	static uint8_t used[65536];
	struct hadp_conn c;
	int i, n = 0, fd;

	nat_setup();
	sn.ip = NAT_IP;
	memcpy(sn.underlay, NAT_UL, 16);
	update_elem(E.skel->maps.snat, &k1, &sn);
	for (i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, create_flows, &w[i]);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(w[0].ok + w[1].ok, 2 * FLOWS_PER_CPU);

	fd = bpf_map__fd(E.skel->maps.conns);
	memset(used, 0, sizeof(used));
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		ck_assert_int_eq(bpf_map_lookup_elem(fd, &k, &c), 0);
		ck_assert_msg(!used[ntohs(c.nat_port)], "port %u twice",
			      ntohs(c.nat_port));
		used[ntohs(c.nat_port)] = 1;
		ck_assert(ntohs(c.nat_port) >= 20000 && ntohs(c.nat_port) <= 29999);
		n++;
	}
	ck_assert_int_eq(n, 2 * FLOWS_PER_CPU);
	ck_assert_int_eq(count_entries(E.skel->maps.conns_rev), n);
}
END_TEST

/* The kernel's own accounting of a map, from its fdinfo. */
static uint64_t memlock_of(struct bpf_map *m)
{
	char path[64], line[128];
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", bpf_map__fd(m));
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lu", &v) == 1)
			break;
	fclose(f);
	return v;
}

START_TEST(connection_memory_budget)
{
	uint64_t n, bytes;

	nat_setup();
	n = bpf_map__max_entries(E.skel->maps.conns);
	bytes = memlock_of(E.skel->maps.conns) + memlock_of(E.skel->maps.conns_rev);
	ck_assert_uint_gt(bytes, 0);
	ck_assert_msg(bytes / n <= 256, "%lu bytes per connection", bytes / n);
}
END_TEST

TCase *tcase_nat(void)
{
	TCase *tc = tcase_create("nat");

	tcase_add_checked_fixture(tc, NULL, env_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, snat_new_and_established);
	tcase_add_test(tc, snat_reply_translated_back);
	tcase_add_test(tc, zero_udp_checksum_stays_zero);
	tcase_add_test(tc, unknown_inbound_dropped);
	tcase_add_test(tc, neighbour_nat_relay);
	tcase_add_test(tc, port_exhaustion);
	tcase_add_test(tc, no_nat_configured);
	tcase_add_test(tc, fragments_through_nat);
	tcase_add_test(tc, vip_outbound_and_back);
	tcase_add_test(tc, conn_delivered_only_to_owner);
	tcase_add_test(tc, vip_inbound_new_connection);
	tcase_add_test(tc, icmp_echo_by_identifier);
	tcase_add_test(tc, icmp_errors_translated_back);
	tcase_add_test(tc, icmp_error_for_neighbour_port_relayed);
	tcase_add_test(tc, icmp_error_from_vm_translated);
	tcase_add_test(tc, tcp_fin_and_rst);
	tcase_add_test(tc, sweep_ages_and_flushes);
	tcase_add_test(tc, reopened_connection_ranks_above_its_past);
	tcase_add_test(tc, ports_never_handed_out_twice);
	tcase_add_test(tc, connection_memory_budget);
	return tc;
}

/* ---- a full table -------------------------------------------------- */

static void small_table_setup(void)
{
	env_conns_max = 2;
}

START_TEST(full_table_counted_and_signalled)
{
	struct pkt in, out;
	int i, full = 0;

	nat_setup();
	env_conns_max = 0;
	for (i = 0; i < 2; i++) {
		l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17,
			  4000 + i, 53, 0, 8);
		ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_REDIRECT);
	}
	drain_events();
	l4_packet(&in, DEVMAC[VM1], MAC[VM1], V4[VM1], INET, 17, 4002, 53, 0, 8);
	ck_assert_int_eq(vm_send(VM1, &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_CONN_TABLE_FULL), 1);
	/* Nothing evicted, no half entry left. */
	ck_assert_int_eq(count_entries(E.skel->maps.conns), 2);
	ck_assert_int_eq(count_entries(E.skel->maps.conns_rev), 2);
	drain_events();
	for (i = 0; i < nev; i++)
		full += ev[i].type == HADP_EV_CONN_TABLE_FULL;
	ck_assert_int_eq(full, 1);
}
END_TEST

TCase *tcase_nat_table(void)
{
	TCase *tc = tcase_create("nat_table");

	tcase_add_checked_fixture(tc, small_table_setup, env_teardown);
	tcase_add_test(tc, full_table_counted_and_signalled);
	return tc;
}
