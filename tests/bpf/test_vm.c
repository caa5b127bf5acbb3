// SPDX-License-Identifier: GPL-2.0-only
/* VM side: ARP, isolation, MAC learning, local delivery, TTL, bad headers. */
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "harness.h"

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ZERO6[6];

static void arp_request(struct pkt *p, const uint8_t smac[6], uint32_t sip,
			uint32_t tip)
{
	pkt_eth(p, BCAST, smac, 0x0806);
	pkt_arp(p, 1, smac, sip, ZERO6, tip);
}

START_TEST(arp_gateway_reply)
{
	struct pkt in, out, exp;

	arp_request(&in, MAC[VM1], V4[VM1], GW4);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	pkt_eth(&exp, MAC[VM1], DEVMAC[VM1], 0x0806);
	pkt_arp(&exp, 2, DEVMAC[VM1], GW4, MAC[VM1], V4[VM1]);
	ck_assert_pkt_eq(&out, &exp);
	ck_assert_uint_eq(STAT(VM1, arp_replies), 1);
}
END_TEST

START_TEST(arp_probe_for_gateway_reply)
{
	struct pkt in, out;

	arp_request(&in, MAC[VM1], 0, GW4);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
}
END_TEST

START_TEST(arp_other_target_ignored)
{
	struct pkt in, out;

	/* Never answer for another VM or for the VM's own address. */
	arp_request(&in, MAC[VM1], V4[VM1], V4[VM2]);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	arp_request(&in, MAC[VM1], 0, V4[VM1]);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_ARP_IGNORED), 2);
	ck_assert_uint_eq(STAT(VM1, arp_replies), 0);
}
END_TEST

START_TEST(arp_spoofed_sender)
{
	struct pkt in, out;

	arp_request(&in, MAC[VM1], V4[VM2], GW4);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_SPOOF_IP), 1);
	/* Sender hardware address differing from the frame's source. */
	pkt_eth(&in, BCAST, MAC[VM1], 0x0806);
	pkt_arp(&in, 1, MAC[VM2], V4[VM1], ZERO6, GW4);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_SPOOF_MAC), 1);
}
END_TEST

START_TEST(spoofed_source_mac)
{
	struct pkt in, out;

	pkt_udp4(&in, MAC[VM2], DEVMAC[VM1], V4[VM1], V4[VM2], 64, true, 16);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_SPOOF_MAC), 1);
}
END_TEST

START_TEST(spoofed_source_ip)
{
	struct pkt in, out;

	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM2], REMOTE4, 64, true, 16);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	pkt_udp6(&in, MAC[VM1], DEVMAC[VM1], V6[VM2], REMOTE6, 64, 16);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_SPOOF_IP), 2);
	ck_assert_uint_eq(STAT(VM1, encap), 0);
}
END_TEST

START_TEST(unconfigured_interface)
{
	struct pkt in, out;

	/* ul0 has counters but is no VM interface. */
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], V4[VM2], 64, true, 16);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[UL0], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(UL0, HADP_DROP_NO_IFACE), 1);
}
END_TEST

START_TEST(local_redirect_v4)
{
	struct pkt in, out, exp;

	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], V4[VM2], 64, true, 100);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	pkt_udp4(&exp, DEVMAC[VM2], MAC[VM2], V4[VM1], V4[VM2], 63, true, 100);
	ck_assert_pkt_eq(&out, &exp);
	ck_assert(csum_ok(out.d, out.len));
	ck_assert_uint_eq(STAT(VM2, tx_packets), 1);
	ck_assert_uint_eq(STAT(VM3, tx_packets), 0);
}
END_TEST

START_TEST(local_redirect_v6)
{
	struct pkt in, out, exp;

	pkt_udp6(&in, MAC[VM1], DEVMAC[VM1], V6[VM1], V6[VM2], 64, 100);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	pkt_udp6(&exp, DEVMAC[VM2], MAC[VM2], V6[VM1], V6[VM2], 63, 100);
	ck_assert_pkt_eq(&out, &exp);
	ck_assert_uint_eq(STAT(VM2, tx_packets), 1);
}
END_TEST

START_TEST(route_miss)
{
	struct pkt in, out;

	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], NOROUTE4, 64, true, 16);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_NO_ROUTE), 1);
}
END_TEST

START_TEST(cross_vni_isolated)
{
	struct pkt in, out;

	/* vm3 (VNI 200) shares vm2's address; 10.0.0.1 exists only in 100. */
	pkt_udp4(&in, MAC[VM3], DEVMAC[VM3], V4[VM3], V4[VM1], 64, true, 16);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM3], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM3, HADP_DROP_NO_ROUTE), 1);
	ck_assert_uint_eq(STAT(VM1, tx_packets), 0);
	/* vm3 to "itself" by address in VNI 200 reaches vm3, never vm2. */
	pkt_udp4(&in, MAC[VM3], DEVMAC[VM3], V4[VM3], V4[VM2], 64, true, 16);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM3], &in, &out), XDP_REDIRECT);
	ck_assert_uint_eq(STAT(VM3, tx_packets), 1);
	ck_assert_uint_eq(STAT(VM2, tx_packets), 0);
}
END_TEST

START_TEST(cross_vni_by_route)
{
	struct pkt in, out, exp;

	/* A route in VNI 200 towards vm1's underlay address, target VNI 100:
	 * delivered on this host without touching the wire. */
	route4_add(200, "10.0.0.1/32", HADP_ROUTE_REMOTE, -1, UNDERLAY[VM1], 100);
	pkt_udp4(&in, MAC[VM3], DEVMAC[VM3], V4[VM3], V4[VM1], 64, true, 16);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM3], &in, &out), XDP_REDIRECT);
	pkt_udp4(&exp, DEVMAC[VM1], MAC[VM1], V4[VM3], V4[VM1], 63, true, 16);
	ck_assert_pkt_eq(&out, &exp);
	ck_assert_uint_eq(STAT(VM3, encap), 0);

	/* The wrong target VNI is not a local function: it goes out. */
	route4_add(200, "10.0.0.1/32", HADP_ROUTE_REMOTE, -1, UNDERLAY[VM1], 300);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM3], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM3, HADP_DROP_NO_NEIGH), 1);
}
END_TEST

static int on_event(void *ctx, void *data, size_t size)
{
	ck_assert_uint_eq(size, sizeof(struct hadp_event));
	memcpy(ctx, data, size);
	return 0;
}

START_TEST(mac_learning)
{
	struct hadp_ifindex k = { .ifindex = E.ifindex[VM4] };
	struct ring_buffer *rb;
	struct hadp_event ev = { 0 };
	struct hadp_iface v;
	struct pkt in, out;

	/* Unknown MAC: inbound traffic for vm4 cannot be delivered. */
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], V4[VM4], 64, true, 16);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_MAC_UNKNOWN), 1);

	/* First frame from vm4 teaches its MAC, once. */
	arp_request(&in, MAC[VM4], V4[VM4], GW4);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM4], &in, &out), XDP_REDIRECT);
	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.ifaces),
					     &k, &v), 0);
	ck_assert_uint_eq(v.mac_state, HADP_MAC_KNOWN);
	ck_assert_mem_eq(v.mac, MAC[VM4], 6);

	rb = ring_buffer__new(bpf_map__fd(E.skel->maps.events), on_event,
			      &ev, NULL);
	ck_assert_ptr_nonnull(rb);
	ck_assert_int_eq(ring_buffer__consume(rb), 1);
	ring_buffer__free(rb);
	ck_assert_uint_eq(ev.type, HADP_EV_MAC_LEARNED);
	ck_assert_uint_eq(ev.ifindex, (uint32_t)E.ifindex[VM4]);
	ck_assert_mem_eq(ev.mac, MAC[VM4], 6);
	/* versioned as a new connection is: by the clock, never 0 */
	ck_assert_uint_ne(v.mac_version, 0);
	ck_assert_uint_eq(ev.version, v.mac_version);

	/* Locked: another source MAC is now spoofing. */
	arp_request(&in, MAC[VM2], V4[VM4], GW4);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM4], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM4, HADP_DROP_SPOOF_MAC), 1);

	/* And vm1's traffic now reaches it. */
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], V4[VM4], 64, true, 16);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
}
END_TEST

START_TEST(mac_never_learned_from_group)
{
	static const uint8_t mcast[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	struct pkt in, out;

	arp_request(&in, mcast, V4[VM4], GW4);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM4], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM4, HADP_DROP_SPOOF_MAC), 1);
}
END_TEST

START_TEST(ttl_expired_v4)
{
	struct pkt in, out, exp;
	size_t ip;

	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], REMOTE4, 1, true, 64);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	/* Time exceeded from the gateway quoting header + 8 bytes. */
	pkt_eth(&exp, MAC[VM1], DEVMAC[VM1], 0x0800);
	ip = pkt_ip4(&exp, GW4, V4[VM1], 1, 64, false, 8 + 28);
	exp.d[ip + 1] = 0xc0;			/* TOS: network control */
	exp.d[ip + 4] = exp.d[ip + 5] = 0;	/* id 0 */
	exp.d[ip + 10] = exp.d[ip + 11] = 0;
	uint16_t c = csum_ref(exp.d + ip, 20, 0);
	exp.d[ip + 10] = c >> 8;
	exp.d[ip + 11] = c;
	memset(exp.d + exp.len, 0, 8);
	exp.d[exp.len] = 11;
	memcpy(exp.d + exp.len + 8, in.d + 14, 28);
	c = csum_ref(exp.d + exp.len, 36, 0);
	exp.d[exp.len + 2] = c >> 8;
	exp.d[exp.len + 3] = c;
	exp.len += 36;
	ck_assert_pkt_eq(&out, &exp);
	ck_assert(csum_ok(out.d, out.len));
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_TTL_EXPIRED), 1);
	ck_assert_uint_eq(STAT(VM1, icmp_errors), 1);
}
END_TEST

START_TEST(hop_limit_expired_v6)
{
	struct pkt in, out;

	pkt_udp6(&in, MAC[VM1], DEVMAC[VM1], V6[VM1], REMOTE6, 1, 64);
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_REDIRECT);
	ck_assert_uint_eq(out.len, 14 + 40 + 8 + 48);
	ck_assert_mem_eq(out.d, MAC[VM1], 6);
	ck_assert_mem_eq(out.d + 6, DEVMAC[VM1], 6);
	ck_assert_uint_eq(out.d[14 + 6], 58);
	ck_assert_mem_eq(out.d + 14 + 8, GW6, 16);
	ck_assert_mem_eq(out.d + 14 + 24, V6[VM1], 16);
	ck_assert_uint_eq(out.d[54], 3);	/* time exceeded */
	ck_assert_uint_eq(out.d[55], 0);
	ck_assert_mem_eq(out.d + 62, in.d + 14, 48);
	ck_assert(csum_ok(out.d, out.len));
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_TTL_EXPIRED), 1);
}
END_TEST

START_TEST(truncated_and_malformed)
{
	struct pkt in, out;
	uint64_t n = 0;

	/* IPv4 header cut short. */
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], V4[VM2], 64, true, 16);
	in.len = 14 + 12;
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_MALFORMED), ++n);
	/* Total length beyond the frame. */
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], V4[VM2], 64, true, 16);
	in.len -= 4;
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_MALFORMED), ++n);
	/* IHL below 5. */
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], V4[VM2], 64, true, 16);
	in.d[14] = 0x44;
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_MALFORMED), ++n);
	/* Wrong version in an IPv4 frame. */
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], V4[VM2], 64, true, 16);
	in.d[14] = 0x65;
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_MALFORMED), ++n);
	/* IPv6 payload length beyond the frame, and a short header. */
	pkt_udp6(&in, MAC[VM1], DEVMAC[VM1], V6[VM1], V6[VM2], 64, 16);
	in.len -= 1;
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_MALFORMED), ++n);
	in.len = 14 + 39;
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_MALFORMED), ++n);
	/* ARP cut short. */
	arp_request(&in, MAC[VM1], V4[VM1], GW4);
	in.len -= 2;
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_MALFORMED), ++n);
	/* VLAN-tagged and other ethertypes are not ours. */
	pkt_udp4(&in, MAC[VM1], DEVMAC[VM1], V4[VM1], V4[VM2], 64, true, 16);
	in.d[12] = 0x81;
	in.d[13] = 0x00;
	ck_assert_int_eq(run(E.vm_fd, E.ifindex[VM1], &in, &out), XDP_DROP);
	ck_assert_uint_eq(stat_drop(VM1, HADP_DROP_UNSUPPORTED), 1);
	ck_assert_uint_eq(STAT(VM2, tx_packets), 0);
}
END_TEST

TCase *tcase_vm(void)
{
	TCase *tc = tcase_create("vm");

	tcase_add_checked_fixture(tc, env_setup, env_teardown);
	tcase_add_test(tc, arp_gateway_reply);
	tcase_add_test(tc, arp_probe_for_gateway_reply);
	tcase_add_test(tc, arp_other_target_ignored);
	tcase_add_test(tc, arp_spoofed_sender);
	tcase_add_test(tc, spoofed_source_mac);
	tcase_add_test(tc, spoofed_source_ip);
	tcase_add_test(tc, unconfigured_interface);
	tcase_add_test(tc, local_redirect_v4);
	tcase_add_test(tc, local_redirect_v6);
	tcase_add_test(tc, route_miss);
	tcase_add_test(tc, cross_vni_isolated);
	tcase_add_test(tc, cross_vni_by_route);
	tcase_add_test(tc, mac_learning);
	tcase_add_test(tc, mac_never_learned_from_group);
	tcase_add_test(tc, ttl_expired_v4);
	tcase_add_test(tc, hop_limit_expired_v6);
	tcase_add_test(tc, truncated_and_malformed);
	return tc;
}
