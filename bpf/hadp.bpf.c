// SPDX-License-Identifier: GPL-2.0-only
/*
 * The instance's datapath: hadp_vm runs on VM-facing interfaces, hadp_uplink
 * on the underlay NIC. Neither is attached directly: the per-host root
 * (root.bpf.c) tail-calls them through its program array.
 *
 * VM side:  ARP/NS for the gateway answered, source MAC/IP checked, route
 *           looked up in the interface's VNI, then a local redirect or an
 *           IPv4/IPv6-in-IPv6 encapsulation towards the route's next hop.
 * Uplink:   IP-in-IPv6 addressed to one of this host's underlay addresses
 *           is decapsulated and redirected to its interface; everything
 *           else is passed to the host stack untouched.
 */
#include "dp.h"
#include "csum.h"
#include "reply.h"
#include "forward.h"
#include "nat.h"
#include "sweep.h"

static __always_inline void publish_mac(struct pkt *p, __u32 ifindex)
{
	struct hadp_event *ev;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		p->st->events_lost++;
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = HADP_EV_MAC_LEARNED;
	ev->ifindex = ifindex;
	ev->version = p->ifc->mac_version;
	__builtin_memcpy(ev->mac, p->ifc->mac, 6);
	bpf_ringbuf_submit(ev, 0);
}

/*
 * The source MAC must be the VM's. When the operator gave none, the first
 * frame's source is learned and locked; the compare-and-swap makes exactly
 * one CPU the learner. Returns -1 to go on, or a verdict.
 */
static __always_inline int check_src_mac(struct pkt *p, struct ethhdr *eth)
{
	struct hadp_iface *ifc = p->ifc;
	__u32 state = ifc->mac_state;

	if (state == HADP_MAC_KNOWN)
		return mac_eq(eth->h_source, ifc->mac) ?
			-1 : drop(p->st, HADP_DROP_SPOOF_MAC);
	/* Never learn a group or all-zero address. */
	if ((eth->h_source[0] & 1) ||
	    !(eth->h_source[0] | eth->h_source[1] | eth->h_source[2] |
	      eth->h_source[3] | eth->h_source[4] | eth->h_source[5]))
		return drop(p->st, HADP_DROP_SPOOF_MAC);
	if (state != HADP_MAC_UNKNOWN ||
	    __sync_val_compare_and_swap(&ifc->mac_state, HADP_MAC_UNKNOWN,
					HADP_MAC_LEARNING) != HADP_MAC_UNKNOWN)
		return drop(p->st, HADP_DROP_MAC_LEARNING);
	__builtin_memcpy(ifc->mac, eth->h_source, 6);
	/* Versioned as a new connection is: a MAC learned again after the
	 * interface was made anew ranks above its earlier one. */
	ifc->mac_version = conn_first_version();
	__sync_val_compare_and_swap(&ifc->mac_state, HADP_MAC_LEARNING,
				    HADP_MAC_KNOWN);
	publish_mac(p, p->ctx->ingress_ifindex);
	return -1;
}

static __always_inline int vm_arp(struct pkt *p)
{
	void *data = (void *)(long)p->ctx->data;
	void *data_end = (void *)(long)p->ctx->data_end;
	struct hadp_iface *ifc = p->ifc;
	struct hadp_arp *arp = data + sizeof(struct ethhdr);
	__be32 sip, tip;

	if ((void *)(arp + 1) > data_end)
		return drop(p->st, HADP_DROP_MALFORMED);
	if (arp->htype != bpf_htons(1) || arp->ptype != bpf_htons(ETH_P_IP) ||
	    arp->hlen != 6 || arp->plen != 4)
		return drop(p->st, HADP_DROP_MALFORMED);
	if (!mac_eq(arp->sha, ifc->mac))
		return drop(p->st, HADP_DROP_SPOOF_MAC);
	__builtin_memcpy(&sip, arp->sip, 4);
	__builtin_memcpy(&tip, arp->tip, 4);
	/* 0.0.0.0 is an address probe (RFC 5227), not a claim. */
	if (sip && (!(ifc->flags & HADP_IFACE_IPV4) || sip != ifc->ipv4))
		return drop(p->st, HADP_DROP_SPOOF_IP);
	if (arp->op != bpf_htons(1) || tip != p->cfg->gw4)
		return drop(p->st, HADP_DROP_ARP_IGNORED);
	return reply_arp(p, arp);
}

static __always_inline int vm_ipv4(struct pkt *p)
{
	void *data = (void *)(long)p->ctx->data;
	void *data_end = (void *)(long)p->ctx->data_end;
	struct hadp_iface *ifc = p->ifc, *t;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct hadp_route4_key key;
	struct encap_to to;
	struct hadp_route *rt;
	__u32 hlen, tot, ifindex;
	int why;

	if ((void *)(ip + 1) > data_end)
		return drop(p->st, HADP_DROP_MALFORMED);
	hlen = (ip->ihl & 0xf) << 2;
	tot = bpf_ntohs(ip->tot_len);
	/* Linux 6.1's verifier forgets the bounds of a byte swap: restore
	 * them with a mask the compiler cannot drop. */
	asm volatile("%[t] &= 0xffff" : [t] "+r"(tot));
	if (ip->version != 4 || hlen < sizeof(*ip) || tot < hlen ||
	    (void *)ip + tot > data_end)
		return drop(p->st, HADP_DROP_MALFORMED);
	if (!(ifc->flags & HADP_IFACE_IPV4) || ip->saddr != ifc->ipv4)
		return drop(p->st, HADP_DROP_SPOOF_IP);

	key.prefixlen = 32 + 32;
	key.vni = ifc->vni;
	key.addr = ip->daddr;
	rt = bpf_map_lookup_elem(&routes4, &key);
	if (!rt)
		return drop(p->st, HADP_DROP_NO_ROUTE);
	if (ip->ttl <= 1)
		return reply_icmp4(p, ICMP_TIME_EXCEEDED_, 0, 0,
				   HADP_DROP_TTL_EXPIRED);

	if (rt->type == HADP_ROUTE_NAT)
		return nat_outbound(p, ip, data_end, tot);
	if (rt->type == HADP_ROUTE_LOCAL) {
		ifindex = rt->ifindex;
		t = iface_get(ifindex);
	} else {
		t = local_function(rt->nexthop, rt->target_vni, &ifindex);
		if (!t) {
			why = encap_resolve(&to, rt->nexthop);
			if (why >= 0)
				return drop(p->st, why);
			if (tot + HADP_ENCAP_LEN > to.up->mtu) {
				if (!(ip->frag_off & bpf_htons(IP_DF)))
					return drop(p->st, HADP_DROP_TOO_BIG_NO_DF);
				return reply_icmp4(p, ICMP_DEST_UNREACH_,
						   ICMP_FRAG_NEEDED_,
						   to.up->mtu - HADP_ENCAP_LEN,
						   HADP_DROP_TOO_BIG);
			}
			__u32 label = flow_hash4(ip, data_end);
			__u8 tos = ip->tos;

			ipv4_dec_ttl(ip);
			return encap(p, &to, tot, IPPROTO_IPIP_, tos, label);
		}
	}
	if (!t || !(t->flags & HADP_IFACE_IPV4) || t->ipv4 != ip->daddr)
		return drop(p->st, HADP_DROP_WRONG_DST);
	ipv4_dec_ttl(ip);
	return deliver_local(p, ifindex, t);
}

/* Neighbour solicitation: answered for the gateway, and only that. */
static __always_inline int vm_ns(struct pkt *p, struct ipv6hdr *ip6,
				 void *data_end)
{
	struct hadp_iface *ifc = p->ifc;
	struct hadp_nd *ns = (void *)(ip6 + 1);

	/* The option is optional: require the fixed part only. */
	if ((void *)ns + offsetof(struct hadp_nd, opt_type) > data_end)
		return drop(p->st, HADP_DROP_MALFORMED);
	/* DAD for the VM's own address: never answered. */
	if (addr6_unspecified((__u8 *)&ip6->saddr))
		return drop(p->st, HADP_DROP_LINK_LOCAL);
	if (!addr6_link_local((__u8 *)&ip6->saddr) &&
	    (!(ifc->flags & HADP_IFACE_IPV6) ||
	     !addr6_eq(&ip6->saddr, ifc->ipv6)))
		return drop(p->st, HADP_DROP_SPOOF_IP);
	if (ip6->hop_limit != 255 || ns->code)
		return drop(p->st, HADP_DROP_MALFORMED);
	if (!addr6_eq(ns->target, p->cfg->gw6))
		return drop(p->st, HADP_DROP_LINK_LOCAL);
	return reply_na(p);
}

static __always_inline int vm_ipv6(struct pkt *p)
{
	void *data = (void *)(long)p->ctx->data;
	void *data_end = (void *)(long)p->ctx->data_end;
	struct hadp_iface *ifc = p->ifc, *t;
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
	struct hadp_route6_key key;
	struct hadp_route *rt;
	struct encap_to to;
	__u32 len, ifindex;
	__u8 *daddr;
	int why;

	if ((void *)(ip6 + 1) > data_end)
		return drop(p->st, HADP_DROP_MALFORMED);
	len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if (ip6->version != 6 || (void *)ip6 + len > data_end)
		return drop(p->st, HADP_DROP_MALFORMED);
	if (ip6->nexthdr == IPPROTO_ICMPV6_) {
		__u8 *type = (void *)(ip6 + 1);

		if ((void *)(type + 1) > data_end)
			return drop(p->st, HADP_DROP_MALFORMED);
		if (*type == NDISC_NS)
			return vm_ns(p, ip6, data_end);
	}
	/* DAD, router solicitations, MLD: link control, not spoofing. */
	if (addr6_unspecified((__u8 *)&ip6->saddr) ||
	    addr6_link_local((__u8 *)&ip6->saddr))
		return drop(p->st, HADP_DROP_LINK_LOCAL);
	if (!(ifc->flags & HADP_IFACE_IPV6) || !addr6_eq(&ip6->saddr, ifc->ipv6))
		return drop(p->st, HADP_DROP_SPOOF_IP);
	daddr = (__u8 *)&ip6->daddr;
	if (daddr[0] == 0xff || addr6_link_local(daddr))
		return drop(p->st, HADP_DROP_LINK_LOCAL);

	key.prefixlen = 32 + 128;
	key.vni = ifc->vni;
	__builtin_memcpy(key.addr, daddr, 16);
	rt = bpf_map_lookup_elem(&routes6, &key);
	if (!rt)
		return drop(p->st, HADP_DROP_NO_ROUTE);
	if (ip6->hop_limit <= 1)
		return reply_icmp6(p, ICMPV6_TIME_EXCEED_, 0,
				   HADP_DROP_TTL_EXPIRED);

	if (rt->type == HADP_ROUTE_LOCAL) {
		ifindex = rt->ifindex;
		t = iface_get(ifindex);
	} else {
		t = local_function(rt->nexthop, rt->target_vni, &ifindex);
		if (!t) {
			why = encap_resolve(&to, rt->nexthop);
			if (why >= 0)
				return drop(p->st, why);
			/* IPv6 never fragments on the way: always tell. */
			if (len + HADP_ENCAP_LEN > to.up->mtu)
				return reply_icmp6(p, ICMPV6_PKT_TOOBIG_,
						   to.up->mtu - HADP_ENCAP_LEN,
						   HADP_DROP_TOO_BIG);
			__u32 label = flow_hash6(ip6, data_end);
			__u8 tclass = bpf_ntohl(*(__be32 *)ip6) >> 20;

			ip6->hop_limit--;
			return encap(p, &to, len, IPPROTO_IPV6_, tclass, label);
		}
	}
	if (!t || !(t->flags & HADP_IFACE_IPV6) ||
	    !addr6_eq(t->ipv6, &ip6->daddr))
		return drop(p->st, HADP_DROP_WRONG_DST);
	ip6->hop_limit--;
	return deliver_local(p, ifindex, t);
}

SEC("xdp")
int hadp_vm(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct pkt p = { .ctx = ctx };
	int verdict;

	/* The loader creates stats[0] and config[0]; without them the
	 * instance is half-loaded and must not forward anything. */
	p.st = stats_of(ctx->ingress_ifindex);
	p.cfg = config_get();
	if (!p.st || !p.cfg)
		return XDP_DROP;
	p.ifc = iface_get(ctx->ingress_ifindex);
	if (!p.ifc)
		return drop(p.st, HADP_DROP_NO_IFACE);
	p.st->rx_packets++;
	p.st->rx_bytes += data_end - data;
	if ((void *)(eth + 1) > data_end)
		return drop(p.st, HADP_DROP_MALFORMED);
	verdict = check_src_mac(&p, eth);
	if (verdict >= 0)
		return verdict;

	switch (eth->h_proto) {
	case bpf_htons(ETH_P_ARP):
		return vm_arp(&p);
	case bpf_htons(ETH_P_IP):
		return vm_ipv4(&p);
	case bpf_htons(ETH_P_IPV6):
		return vm_ipv6(&p);
	}
	return drop(p.st, HADP_DROP_UNSUPPORTED);
}

/*
 * Inner packet of a tunnel packet carrying @plen bytes of payload: it must
 * fit that payload and be addressed to interface @t.
 */
static __always_inline int decap_check(void *inner, void *data_end, __u8 proto,
				       __u32 plen, struct hadp_iface *t,
				       __u16 *eproto)
{
	if (proto == IPPROTO_IPIP_) {
		struct iphdr *ip = inner;

		if ((void *)(ip + 1) > data_end || ip->version != 4 ||
		    bpf_ntohs(ip->tot_len) > plen)
			return HADP_DROP_MALFORMED;
		if (!(t->flags & HADP_IFACE_IPV4) || ip->daddr != t->ipv4)
			return HADP_DROP_WRONG_DST;
		*eproto = ETH_P_IP;
		return -1;
	}
	if (proto == IPPROTO_IPV6_) {
		struct ipv6hdr *ip6 = inner;

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6 ||
		    sizeof(*ip6) + bpf_ntohs(ip6->payload_len) > plen)
			return HADP_DROP_MALFORMED;
		if (!(t->flags & HADP_IFACE_IPV6) ||
		    !addr6_eq(&ip6->daddr, t->ipv6))
			return HADP_DROP_WRONG_DST;
		*eproto = ETH_P_IPV6;
		return -1;
	}
	return HADP_DROP_NOT_TUNNEL;
}

SEC("xdp")
int hadp_uplink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct hadp_underlay_key uk;
	struct hadp_underlay *ul;
	struct hadp_stats *st;
	struct hadp_iface *t;
	__u32 ifindex, frame, outer, plen;
	__u16 eproto = 0;
	int why;

	if ((void *)(ip6 + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	__builtin_memcpy(uk.addr, &ip6->daddr, 16);
	ul = bpf_map_lookup_elem(&underlay, &uk);
	if (!ul)
		return XDP_PASS;	/* the hypervisor's own traffic */

	/* From here on the packet is addressed to one of our functions: it is
	 * delivered or dropped, never handed to the host stack. */
	st = stats_of(ctx->ingress_ifindex);
	if (!st)
		return XDP_DROP;
	frame = data_end - data;
	st->rx_packets++;
	st->rx_bytes += frame;
	plen = bpf_ntohs(ip6->payload_len);
	outer = sizeof(*eth) + sizeof(*ip6) + plen;
	if (ip6->version != 6 || outer > frame)
		return drop(st, HADP_DROP_MALFORMED);
	if (ul->kind == HADP_UL_NAT || ul->kind == HADP_UL_VIP)
		return nat_inbound(ctx, st, ul, ip6, plen, frame, outer);
	ifindex = ul->ifindex;
	t = iface_get(ifindex);
	if (ul->kind != HADP_UL_IFACE || !t)
		return drop(st, HADP_DROP_WRONG_DST);
	why = decap_check(ip6 + 1, data_end, ip6->nexthdr, plen, t, &eproto);
	if (why >= 0)
		return drop(st, why);
	if (t->mac_state != HADP_MAC_KNOWN)
		return drop(st, HADP_DROP_MAC_UNKNOWN);
	return decap_deliver(ctx, st, ifindex, t, eproto, frame, outer);
}

char LICENSE[] SEC("license") = "GPL";
