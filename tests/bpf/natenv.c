// SPDX-License-Identifier: GPL-2.0-only
/*
 * The NAT tests' environment, shared by test_nat.c and test_tenant.c:
 *
 *   vm1 (10.0.0.1, VNI 100): SNAT 198.51.100.1 ports 1000-1003, return
 *                            underlay fd00:a::11
 *   vm2 (10.0.0.2, VNI 100): VIP 203.0.113.2, underlay fd00:a::12
 *   198.51.100.1 ports 2000-2999 belong to the host at fd00:b::11
 *   VNI 100 0.0.0.0/0 -> nat; NAT router fd00:ff::1 (MAC 02:cc:...)
 */
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "harness.h"
#include "natenv.h"

const uint8_t NAT_UL[16] = { 0xfd, 0, 0, 0xa, [15] = 0x11 };
const uint8_t VIP_UL[16] = { 0xfd, 0, 0, 0xa, [15] = 0x12 };
const uint8_t PEER_UL[16] = { 0xfd, 0, 0, 0xb, [15] = 0x11 };
const uint8_t ROUTER6[16] = { 0xfd, 0, 0, 0xff, [15] = 1 };
const uint8_t ROUTER_MAC[6] = { 0x02, 0xcc, 0, 0, 0, 1 };
uint32_t NAT_IP, VIP_IP, INET;

void neigh_add(const uint8_t addr[16], const uint8_t mac[6])
{
	struct hadp_neigh_key k;
	struct hadp_neigh n = { .state = HADP_NEIGH_VALID,
				.ifindex = E.ifindex[UL0] };

	memcpy(k.addr, addr, 16);
	memcpy(n.mac, mac, 6);
	memcpy(n.gateway, addr, 16);
	update_elem(E.skel->maps.neighs, &k, &n);
}

void set_timeouts(const uint32_t to[HADP_TO_MAX])
{
	struct hadp_config c;
	uint32_t zero = 0;

	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.config),
					     &zero, &c), 0);
	memcpy(c.nat_router, ROUTER6, 16);
	memcpy(c.timeout, to, sizeof(c.timeout));
	update_elem(E.skel->maps.config, &zero, &c);
}

void nat_setup(void)
{
	static const uint32_t to[HADP_TO_MAX] = HADP_DEFAULT_TIMEOUTS;
	struct hadp_ifindex k1 = { .ifindex = E.ifindex[VM1] };
	struct hadp_ifindex k2 = { .ifindex = E.ifindex[VM2] };
	struct hadp_snat sn = { .port_min = 1000, .port_max = 1003 };
	struct hadp_vip vip = { 0 };
	struct hadp_underlay_key uk;
	struct hadp_underlay ul = { .kind = HADP_UL_NAT,
				    .ifindex = E.ifindex[VM1] };
	struct hadp_nat_ip_key nk;
	struct hadp_nat_ip nip = { .count = 2 };

	env_setup();
	NAT_IP = inet_addr("198.51.100.1");
	VIP_IP = inet_addr("203.0.113.2");
	INET = inet_addr("192.0.2.9");
	set_timeouts(to);
	neigh_add(ROUTER6, ROUTER_MAC);
	neigh_add(PEER_UL, NH_MAC);
	route4_add(100, "0.0.0.0/0", HADP_ROUTE_NAT, -1, NULL, 100);

	sn.ip = NAT_IP;
	memcpy(sn.underlay, NAT_UL, 16);
	update_elem(E.skel->maps.snat, &k1, &sn);
	memcpy(uk.addr, NAT_UL, 16);
	update_elem(E.skel->maps.underlay, &uk, &ul);

	vip.ip = VIP_IP;
	memcpy(vip.underlay, VIP_UL, 16);
	update_elem(E.skel->maps.vips, &k2, &vip);
	memcpy(uk.addr, VIP_UL, 16);
	ul.kind = HADP_UL_VIP;
	ul.ifindex = E.ifindex[VM2];
	update_elem(E.skel->maps.underlay, &uk, &ul);

	nk.ip = NAT_IP;
	nip.range[0] = (struct hadp_nat_range){ .port_min = 1000, .port_max = 1003,
						 .ifindex = E.ifindex[VM1] };
	memcpy(nip.range[0].underlay, NAT_UL, 16);
	nip.range[1] = (struct hadp_nat_range){ .port_min = 2000, .port_max = 2999 };
	memcpy(nip.range[1].underlay, PEER_UL, 16);
	update_elem(E.skel->maps.nat_ips, &nk, &nip);
}

/* ---- packets ------------------------------------------------------- */

void put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v;
}

uint16_t get16(const uint8_t *b)
{
	return b[0] << 8 | b[1];
}

/* IPv4 + UDP or TCP (20-byte header, flags) from @vm's point of view. */
void l4_packet(struct pkt *p, const uint8_t dmac[6],
		      const uint8_t smac[6], uint32_t saddr, uint32_t daddr,
		      uint8_t proto, uint16_t sport, uint16_t dport,
		      uint8_t tcp_flags, size_t payload)
{
	size_t ip, l4 = 14 + 20, len = proto == 6 ? 20 : 8, i;
	uint8_t *h;
	uint32_t sum;
	uint16_t c;

	pkt_eth(p, dmac, smac, 0x0800);
	ip = pkt_ip4(p, saddr, daddr, proto, 64, true, len + payload);
	h = p->d + l4;
	memset(h, 0, len);
	put16(h, sport);
	put16(h + 2, dport);
	if (proto == 6) {
		h[12] = 5 << 4;
		h[13] = tcp_flags;
		put16(h + 14, 65535);
	} else {
		put16(h + 4, len + payload);
	}
	for (i = 0; i < payload; i++)
		h[len + i] = (uint8_t)(i * 13 + 1);
	sum = csum_partial_ref(p->d + ip + 12, 8, 0) + proto + len + payload;
	c = csum_ref(h, len + payload, sum);
	put16(h + (proto == 6 ? 16 : 6), c ? c : 0xffff);
	p->len = l4 + len + payload;
}

void icmp_echo(struct pkt *p, const uint8_t dmac[6],
		      const uint8_t smac[6], uint32_t saddr, uint32_t daddr,
		      uint8_t type, uint16_t id)
{
	pkt_eth(p, dmac, smac, 0x0800);
	pkt_ip4(p, saddr, daddr, 1, 64, true, 8 + 16);
	pkt_icmp_echo4(p, id, 16);
	if (type != 8) {
		p->d[34] = type;
		p->d[36] = p->d[37] = 0;
		uint16_t c = csum_ref(p->d + 34, 24, 0);
		put16(p->d + 36, c);
	}
}

/* The frame as the router would send it to @ul: IPv4-in-IPv6. */
void from_router(struct pkt *out, const struct pkt *inner,
			const uint8_t ul[16])
{
	pkt_eth(out, MAC[UL0], ROUTER_MAC, 0x86dd);
	pkt_ip6(out, ROUTER6, ul, 4, 64, inner->len - 14);
	memcpy(out->d + out->len, inner->d + 14, inner->len - 14);
	out->len += inner->len - 14;
}

/* The inner IPv4 frame of an encapsulated packet, as an Ethernet frame. */
void inner_of(struct pkt *inner, const struct pkt *outer)
{
	memcpy(inner->d, outer->d, 14);
	memcpy(inner->d + 14, outer->d + 54, outer->len - 54);
	inner->len = outer->len - 40;
}

int vm_send(int vm, const struct pkt *in, struct pkt *out)
{
	return run(E.vm_fd, E.ifindex[vm], in, out);
}

int ul_recv(const struct pkt *in, struct pkt *out)
{
	return run(E.ul_fd, E.ifindex[UL0], in, out);
}

/* ---- the connection table and its deltas -------------------------- */

int count_entries(struct bpf_map *m)
{
	struct hadp_conn_key k, next;
	int n = 0, fd = bpf_map__fd(m);
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

struct hadp_event ev[MAX_EV];
int nev;

static int on_event(void *ctx, void *data, size_t size)
{
	ck_assert_uint_eq(size, sizeof(struct hadp_event));
	if (nev < MAX_EV)
		memcpy(&ev[nev++], data, size);
	return 0;
}

int drain_events(void)
{
	struct ring_buffer *rb;

	nev = 0;
	rb = ring_buffer__new(bpf_map__fd(E.skel->maps.events), on_event,
			      NULL, NULL);
	ck_assert_ptr_nonnull(rb);
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return nev;
}

int sweep(uint32_t mode, uint32_t ifindex, struct hadp_sweep *res)
{
	struct pkt in = { .len = 64 }, out;
	struct hadp_sweep req = { .mode = mode, .ifindex = ifindex };

	memcpy(in.d, &req, sizeof(req));
	ck_assert_int_eq(run(bpf_program__fd(E.skel->progs.hadp_sweep), 0,
			     &in, &out), XDP_PASS);
	memcpy(res, out.d, sizeof(*res));
	return res->deleted;
}
