/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where a packet goes once its destination is known: from a VM to another
 * interface on this host (a plain redirect with new L2) or wrapped in an
 * outer IPv6 header towards the route's underlay next hop; from the
 * underlay, unwrapped and handed to its interface.
 */
#ifndef HADP_BPF_FORWARD_H
#define HADP_BPF_FORWARD_H

#include "dp.h"

#define FLOW_SEED	0x9e3779b9u

/*
 * Flow label: a hash of the inner addresses, protocol and ports, so the
 * underlay's ECMP keeps a flow on one path. Documented in
 * docs/datapath.md; the tests carry their own implementation of it.
 */
static __always_inline __u32 flow_mix(__u32 h, __u32 w)
{
	h ^= w;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

static __always_inline __u32 flow_label(__u32 h)
{
	h ^= h >> 16;
	h &= 0xfffff;
	return h ? h : 1;
}

/* First four bytes of a TCP or UDP header (the ports), 0 otherwise. */
static __always_inline __u32 flow_ports(void *l4, void *data_end, __u8 proto)
{
	__u32 ports;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 0;
	if (l4 + 4 > data_end)
		return 0;
	__builtin_memcpy(&ports, l4, 4);
	return ports;
}

static __always_inline __u32 flow_hash4(struct iphdr *ip, void *data_end)
{
	__u32 h = FLOW_SEED ^ ip->protocol;
	__u32 ports = 0;

	/* Fragments of one datagram must hash alike: no ports for any. */
	if (!(ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
		ports = flow_ports((void *)ip + ((ip->ihl & 0xf) << 2),
				   data_end, ip->protocol);
	h = flow_mix(h, ip->saddr);
	h = flow_mix(h, ip->daddr);
	h = flow_mix(h, ports);
	return flow_label(h);
}

static __always_inline __u32 flow_hash6(struct ipv6hdr *ip6, void *data_end)
{
	__u32 h = FLOW_SEED ^ ip6->nexthdr;
	__u32 w[8];
	int i;

	__builtin_memcpy(w, &ip6->saddr, 32);
#pragma unroll
	for (i = 0; i < 8; i++)
		h = flow_mix(h, w[i]);
	h = flow_mix(h, flow_ports(ip6 + 1, data_end, ip6->nexthdr));
	return flow_label(h);
}

/* Hand the packet to interface @t on this host. The inner TTL / hop
 * limit has already been decremented by the caller. */
static __always_inline int deliver_local(struct pkt *p, __u32 ifindex,
					 struct hadp_iface *t)
{
	void *data = (void *)(long)p->ctx->data;
	void *data_end = (void *)(long)p->ctx->data_end;
	struct ethhdr *eth = data;
	struct hadp_stats *tst;

	if (t->mac_state != HADP_MAC_KNOWN)
		return drop(p->st, HADP_DROP_MAC_UNKNOWN);
	if ((void *)(eth + 1) > data_end)
		return drop(p->st, HADP_DROP_MALFORMED);
	__builtin_memcpy(eth->h_dest, t->mac, 6);
	__builtin_memcpy(eth->h_source, t->dev_mac, 6);
	tst = stats_of(ifindex);
	if (tst) {
		tst->tx_packets++;
		tst->tx_bytes += data_end - data;
	}
	return bpf_redirect(ifindex, 0);
}

/*
 * Is @nexthop one of this host's own underlay addresses? Then the packet
 * never needs the wire: deliver it to that interface, provided it lives
 * in the VNI the route names and the destination is its address.
 */
static __always_inline struct hadp_iface *
local_function(const __u8 *nexthop, __u32 target_vni, __u32 *ifindex)
{
	struct hadp_underlay_key k;
	struct hadp_underlay *ul;
	struct hadp_iface *t;

	__builtin_memcpy(k.addr, nexthop, 16);
	ul = bpf_map_lookup_elem(&underlay, &k);
	if (!ul || ul->kind != HADP_UL_IFACE)
		return NULL;
	t = iface_get(ul->ifindex);
	if (!t || t->vni != target_vni)
		return NULL;
	*ifindex = ul->ifindex;
	return t;
}

struct encap_to {
	struct hadp_uplink *up;
	struct hadp_neigh *nb;
	const __u8 *nexthop;
	const __u8 *src;	/* outer source: the function's underlay */
};

/* The uplink and the underlay neighbour of @nexthop, or a drop reason. */
static __always_inline int encap_resolve(struct encap_to *to,
					 const __u8 *nexthop)
{
	__u32 k = 0;
	struct hadp_neigh_key nk;

	to->up = bpf_map_lookup_elem(&uplink, &k);
	if (!to->up || !to->up->ifindex)
		return HADP_DROP_NO_UPLINK;
	__builtin_memcpy(nk.addr, nexthop, 16);
	to->nb = bpf_map_lookup_elem(&neighs, &nk);
	if (!to->nb || to->nb->state != HADP_NEIGH_VALID)
		return HADP_DROP_NO_NEIGH;
	to->nexthop = nexthop;
	to->src = NULL;
	return -1;
}

/*
 * Wrap the inner packet (@inner_len bytes after the Ethernet header) in
 * IPv6 towards to->nexthop and send it out of the uplink.
 */
static __always_inline int encap(struct pkt *p, struct encap_to *to,
				 __u32 inner_len, __u8 proto, __u8 tclass,
				 __u32 label)
{
	struct xdp_md *ctx = p->ctx;
	void *data, *data_end;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	__u32 frame = pkt_len(ctx);

	/* Ethernet padding behind a short packet is not part of it. */
	if (frame > sizeof(*eth) + inner_len &&
	    bpf_xdp_adjust_tail(ctx, (int)(sizeof(*eth) + inner_len) - (int)frame))
		return drop(p->st, HADP_DROP_NO_ROOM);
	if (bpf_xdp_adjust_head(ctx, -HADP_ENCAP_LEN))
		return drop(p->st, HADP_DROP_NO_ROOM);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > data_end)
		return drop(p->st, HADP_DROP_MALFORMED);

	__builtin_memcpy(eth->h_dest, to->nb->mac, 6);
	__builtin_memcpy(eth->h_source, to->up->mac, 6);
	eth->h_proto = bpf_htons(ETH_P_IPV6);
	*(__be32 *)ip6 = bpf_htonl((6u << 28) | ((__u32)tclass << 20) | label);
	ip6->payload_len = bpf_htons(inner_len);
	ip6->nexthdr = proto;
	ip6->hop_limit = ENCAP_HOP_LIMIT;
	__builtin_memcpy(&ip6->saddr, to->src ? to->src : p->ifc->underlay, 16);
	__builtin_memcpy(&ip6->daddr, to->nexthop, 16);
	p->st->encap++;
	return bpf_redirect(to->up->ifindex, 0);
}

/* Strip the outer headers of a tunnel packet and hand it to interface
 * @ifindex (the caller checked its MAC is known). */
static __always_inline int decap_deliver(struct xdp_md *ctx,
					 struct hadp_stats *st, __u32 ifindex,
					 struct hadp_iface *t, __u16 eproto,
					 __u32 frame, __u32 outer)
{
	struct hadp_stats *tst;
	void *data, *data_end;
	struct ethhdr *eth;

	if (frame > outer && bpf_xdp_adjust_tail(ctx, (int)outer - (int)frame))
		return drop(st, HADP_DROP_NO_ROOM);
	if (bpf_xdp_adjust_head(ctx, HADP_ENCAP_LEN))
		return drop(st, HADP_DROP_NO_ROOM);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return drop(st, HADP_DROP_MALFORMED);
	__builtin_memcpy(eth->h_dest, t->mac, 6);
	__builtin_memcpy(eth->h_source, t->dev_mac, 6);
	eth->h_proto = bpf_htons(eproto);
	st->decap++;
	tst = stats_of(ifindex);
	if (tst) {
		tst->tx_packets++;
		tst->tx_bytes += data_end - data;
	}
	return bpf_redirect(ifindex, 0);
}

#endif /* HADP_BPF_FORWARD_H */
