/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packets the datapath answers itself, sent back to the VM: ARP replies
 * and neighbour advertisements for the virtual gateway, and the ICMP
 * errors a router owes (time exceeded, fragmentation needed, packet too
 * big), rate limited per CPU.
 *
 * They leave through a redirect to the ingress interface, not XDP_TX: on a
 * veth, XDP_TX wakes the VM's end only when that end runs an XDP program
 * itself, while a redirect flushes to it whenever it has NAPI (GRO on).
 * A tap takes either the same way.
 */
#ifndef HADP_BPF_REPLY_H
#define HADP_BPF_REPLY_H

#include "dp.h"
#include "csum.h"

struct hadp_arp {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[6];
	__u8 sip[4];
	__u8 tha[6];
	__u8 tip[4];
} __attribute__((packed));

/* RFC 4861 neighbour solicitation / advertisement with one link-layer
 * address option. */
struct hadp_nd {
	__u8 type;
	__u8 code;
	__sum16 check;
	__be32 flags;
	__u8 target[16];
	__u8 opt_type;
	__u8 opt_len;
	__u8 opt_mac[6];
};

#define ND_NA_FLAGS	bpf_htonl(0xe0000000)	/* router, solicited, override */
#define ND_OPT_TLLA	2

/* Quoted part of the offending packet: its header plus 8 bytes, enough
 * for the receiver to find the socket (ports, ICMP id). */
#define QUOTE4_LEN	28
#define QUOTE6_LEN	48
#define ICMP4_FRAME	(14 + 20 + 8 + QUOTE4_LEN)
#define ICMP6_FRAME	(14 + 40 + 8 + QUOTE6_LEN)
#define NA_FRAME	(14 + 40 + 32)

/* The ICMP error bucket of the interface the packet came in on, per CPU:
 * one VM sending TTL=1 or oversized DF packets empties its own, never
 * another VM's (their PMTU discovery depends on it). */
static __always_inline bool icmp_allowed(struct pkt *p)
{
	struct hadp_ratelimit *rl = ratelimit_of(p->ctx->ingress_ifindex);

	return rl && bucket_take(&rl->icmp, p->cfg->icmp_rate,
				 p->cfg->icmp_burst);
}

/* Resize the frame to @len bytes; returns false if the driver refuses. */
static __always_inline bool frame_resize(struct xdp_md *ctx, __u32 len)
{
	return bpf_xdp_adjust_tail(ctx, (int)len - (int)pkt_len(ctx)) == 0;
}

static __always_inline int back_to_vm(struct pkt *p)
{
	return bpf_redirect(p->ctx->ingress_ifindex, 0);
}

static __always_inline void eth_to_vm(struct ethhdr *eth,
				      struct hadp_iface *ifc, __u16 proto)
{
	__builtin_memcpy(eth->h_dest, ifc->mac, 6);
	__builtin_memcpy(eth->h_source, ifc->dev_mac, 6);
	eth->h_proto = bpf_htons(proto);
}

/* ARP request from the VM (already checked: sender is the VM). */
static __always_inline int reply_arp(struct pkt *p, struct hadp_arp *arp)
{
	struct hadp_iface *ifc = p->ifc;
	struct ethhdr *eth = (void *)arp - sizeof(*eth);
	__u8 sip[4];

	__builtin_memcpy(sip, arp->sip, 4);
	arp->op = bpf_htons(2);
	__builtin_memcpy(arp->tha, arp->sha, 6);
	__builtin_memcpy(arp->tip, sip, 4);
	__builtin_memcpy(arp->sha, ifc->dev_mac, 6);
	__builtin_memcpy(arp->sip, &p->cfg->gw4, 4);
	eth_to_vm(eth, ifc, ETH_P_ARP);
	p->st->arp_replies++;
	return back_to_vm(p);
}

/* Neighbour solicitation for the gateway: answer with a solicited
 * router advertisement-free NA carrying the gateway's MAC. */
static __always_inline int reply_na(struct pkt *p)
{
	struct hadp_iface *ifc = p->ifc;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	struct hadp_nd *na;
	void *data, *data_end;
	__u8 dst[16];

	data = (void *)(long)p->ctx->data;
	data_end = (void *)(long)p->ctx->data_end;
	ip6 = data + sizeof(*eth);
	if ((void *)(ip6 + 1) > data_end)
		return drop(p->st, HADP_DROP_MALFORMED);
	__builtin_memcpy(dst, &ip6->saddr, 16);

	if (!frame_resize(p->ctx, NA_FRAME))
		return drop(p->st, HADP_DROP_MALFORMED);
	data = (void *)(long)p->ctx->data;
	data_end = (void *)(long)p->ctx->data_end;
	eth = data;
	ip6 = data + sizeof(*eth);
	na = (void *)(ip6 + 1);
	if ((void *)(na + 1) > data_end)
		return drop(p->st, HADP_DROP_MALFORMED);

	eth_to_vm(eth, ifc, ETH_P_IPV6);
	*(__be32 *)ip6 = bpf_htonl(0x60000000);
	ip6->payload_len = bpf_htons(sizeof(*na));
	ip6->nexthdr = IPPROTO_ICMPV6_;
	ip6->hop_limit = 255;
	__builtin_memcpy(&ip6->saddr, p->cfg->gw6, 16);
	__builtin_memcpy(&ip6->daddr, dst, 16);
	na->type = NDISC_NA;
	na->code = 0;
	na->check = 0;
	na->flags = ND_NA_FLAGS;
	__builtin_memcpy(na->target, p->cfg->gw6, 16);
	na->opt_type = ND_OPT_TLLA;
	na->opt_len = 1;
	__builtin_memcpy(na->opt_mac, ifc->dev_mac, 6);
	na->check = csum_fold(csum_add_mem(csum_ipv6_pseudo(ip6, sizeof(*na),
							    IPPROTO_ICMPV6_),
					   na, sizeof(*na)));
	p->st->nd_replies++;
	return back_to_vm(p);
}

/*
 * ICMPv4 error back to the VM from the gateway address. The frame is cut
 * (or grown) to a fixed size quoting QUOTE4_LEN bytes of the original.
 * @info is the 32-bit "rest of header" (next-hop MTU for frag needed).
 */
static __always_inline int reply_icmp4(struct pkt *p, __u8 type, __u8 code,
				       __u32 info, enum hadp_drop_reason why)
{
	struct hadp_iface *ifc = p->ifc;
	__u8 quote[QUOTE4_LEN];
	void *data, *data_end;
	struct icmphdr *icmp;
	struct ethhdr *eth;
	struct iphdr *ip;

	if (!icmp_allowed(p))
		return drop(p->st, HADP_DROP_ICMP_RATELIMIT);
	data = (void *)(long)p->ctx->data;
	data_end = (void *)(long)p->ctx->data_end;
	if (data + sizeof(*eth) + QUOTE4_LEN > data_end)
		return drop(p->st, why);
	__builtin_memcpy(quote, data + sizeof(*eth), QUOTE4_LEN);

	if (!frame_resize(p->ctx, ICMP4_FRAME))
		return drop(p->st, why);
	data = (void *)(long)p->ctx->data;
	data_end = (void *)(long)p->ctx->data_end;
	eth = data;
	ip = data + sizeof(*eth);
	icmp = (void *)(ip + 1);
	if ((void *)(icmp + 1) + QUOTE4_LEN > data_end)
		return drop(p->st, why);

	eth_to_vm(eth, ifc, ETH_P_IP);
	*(__u16 *)ip = bpf_htons(0x45c0);	/* version, ihl, tos CS6 */
	ip->tot_len = bpf_htons(20 + 8 + QUOTE4_LEN);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->check = 0;
	ip->saddr = p->cfg->gw4;
	ip->daddr = ifc->ipv4;
	ip->check = csum_fold(csum_add_mem(0, ip, 20));

	icmp->type = type;
	icmp->code = code;
	icmp->checksum = 0;
	*(__be32 *)&icmp->un = bpf_htonl(info);
	__builtin_memcpy(icmp + 1, quote, QUOTE4_LEN);
	icmp->checksum = csum_fold(csum_add_mem(0, icmp, 8 + QUOTE4_LEN));

	p->st->icmp_errors++;
	/* The original is dropped for @why even though an answer leaves. */
	count_drop(p->st, why);
	return back_to_vm(p);
}

/* ICMPv6 error back to the VM from the IPv6 gateway address. */
static __always_inline int reply_icmp6(struct pkt *p, __u8 type, __u32 info,
				       enum hadp_drop_reason why)
{
	struct hadp_iface *ifc = p->ifc;
	__u8 quote[QUOTE6_LEN];
	void *data, *data_end;
	struct icmp6hdr *icmp;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	__u32 len = 8 + QUOTE6_LEN;

	if (!icmp_allowed(p))
		return drop(p->st, HADP_DROP_ICMP_RATELIMIT);
	data = (void *)(long)p->ctx->data;
	data_end = (void *)(long)p->ctx->data_end;
	if (data + sizeof(*eth) + QUOTE6_LEN > data_end)
		return drop(p->st, why);
	__builtin_memcpy(quote, data + sizeof(*eth), QUOTE6_LEN);

	if (!frame_resize(p->ctx, ICMP6_FRAME))
		return drop(p->st, why);
	data = (void *)(long)p->ctx->data;
	data_end = (void *)(long)p->ctx->data_end;
	eth = data;
	ip6 = data + sizeof(*eth);
	icmp = (void *)(ip6 + 1);
	if ((void *)(icmp + 1) + QUOTE6_LEN > data_end)
		return drop(p->st, why);

	eth_to_vm(eth, ifc, ETH_P_IPV6);
	*(__be32 *)ip6 = bpf_htonl(0x60000000);
	ip6->payload_len = bpf_htons(len);
	ip6->nexthdr = IPPROTO_ICMPV6_;
	ip6->hop_limit = 64;
	__builtin_memcpy(&ip6->saddr, p->cfg->gw6, 16);
	__builtin_memcpy(&ip6->daddr, ifc->ipv6, 16);

	icmp->icmp6_type = type;
	icmp->icmp6_code = 0;
	icmp->icmp6_cksum = 0;
	icmp->icmp6_dataun.un_data32[0] = bpf_htonl(info);
	__builtin_memcpy(icmp + 1, quote, QUOTE6_LEN);
	icmp->icmp6_cksum = csum_fold(csum_add_mem(
		csum_ipv6_pseudo(ip6, len, IPPROTO_ICMPV6_), icmp, len));

	p->st->icmp_errors++;
	/* The original is dropped for @why even though an answer leaves. */
	count_drop(p->st, why);
	return back_to_vm(p);
}

#endif /* HADP_BPF_REPLY_H */
