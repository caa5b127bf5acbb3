/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * NAT: a VM's IPv4 leaving through a `nat` route gets its VIP (1:1) or its
 * SNAT address and a port of its range, and is encapsulated towards the
 * NAT router; what comes back to a NAT or VIP underlay address is
 * translated back and delivered, or relayed to the host that owns the
 * port. Only IPv4 without options is translated.
 */
#ifndef HADP_BPF_NAT_H
#define HADP_BPF_NAT_H

#include "dp.h"
#include "csum.h"
#include "conn.h"
#include "forward.h"
#include "reply.h"
#include "nat_icmp.h"

/* What NAT reads of a transport header. For ICMP echo the identifier
 * stands in the source port, the destination port is 0. */
struct l4info {
	__be16 sport;
	__be16 dport;
	__u8 tcp_flags;
	__u8 icmp_type;
	bool echo;
};

static __always_inline int l4_parse(struct iphdr *ip, void *data_end,
				    struct l4info *l)
{
	void *l4 = ip + 1;

	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end)
			return HADP_DROP_MALFORMED;
		l->sport = th->source;
		l->dport = th->dest;
		l->tcp_flags = ((__u8 *)th)[13];
		return -1;
	}
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end)
			return HADP_DROP_MALFORMED;
		l->sport = uh->source;
		l->dport = uh->dest;
		return -1;
	}
	if (ip->protocol == IPPROTO_ICMP) {
		struct icmphdr *ic = l4;

		if ((void *)(ic + 1) > data_end)
			return HADP_DROP_MALFORMED;
		l->icmp_type = ic->type;
		l->echo = ic->type == ICMP_ECHO_ || ic->type == ICMP_ECHOREPLY_;
		if (l->echo)
			l->sport = ic->un.echo.id;
		return -1;
	}
	return HADP_DROP_UNSUPPORTED;
}

/*
 * Rewrite the source (@src) or destination address and port of an IPv4
 * packet (IHL 5, transport header already bounds-checked by l4_parse),
 * fixing every checksum incrementally. A zero UDP checksum means "none"
 * and stays zero; ICMP has no pseudo header, only the identifier counts.
 */
static __always_inline void nat_rewrite(struct iphdr *ip, void *data_end,
					bool src, __be32 addr, __be16 port)
{
	__be32 old = src ? ip->saddr : ip->daddr;
	void *l4 = ip + 1;

	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *th = l4;
		__be16 *p;

		if ((void *)(th + 1) > data_end)
			return;
		p = src ? &th->source : &th->dest;
		csum_replace4(&th->check, old, addr);
		csum_replace2(&th->check, *p, port);
		*p = port;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *uh = l4;
		__be16 *p;

		if ((void *)(uh + 1) > data_end)
			return;
		p = src ? &uh->source : &uh->dest;
		if (uh->check) {
			csum_replace4(&uh->check, old, addr);
			csum_replace2(&uh->check, *p, port);
			if (!uh->check)
				uh->check = 0xffff;
		}
		*p = port;
	} else {
		struct icmphdr *ic = l4;

		if ((void *)(ic + 1) > data_end)
			return;
		csum_replace2(&ic->checksum, ic->un.echo.id, port);
		ic->un.echo.id = port;
	}
	csum_replace4(&ip->check, old, addr);
	if (src)
		ip->saddr = addr;
	else
		ip->daddr = addr;
}

/* bpf_loop state for claiming a port of an SNAT range. */
struct claim {
	struct hadp_conn_key key;	/* stored under rkey */
	struct hadp_conn_key rkey;
	__u32 min;
	__u32 size;
	__u32 start;
	int result;			/* 1 claimed, -1 table full, 0 none */
	__be16 port;
};

/* Try one port: whoever inserts the public-side key first owns it, so two
 * CPUs never hand out the same port, and a live one is never reused.
 * Map helpers' errors are kept in an int: before 6.4 the kernel inlines
 * hash updates as calls returning int, so a long would see -EEXIST
 * zero-extended. */
static long claim_port(__u32 i, void *data)
{
	struct claim *cl = data;
	__be16 port = bpf_htons(cl->min + (cl->start + i) % cl->size);
	int err;

	if (cl->key.proto == IPPROTO_ICMP)
		cl->rkey.sport = port;
	else
		cl->rkey.dport = port;
	err = bpf_map_update_elem(&conns_rev, &cl->rkey, &cl->key, BPF_NOEXIST);
	if (!err) {
		cl->result = 1;
		cl->port = port;
		return 1;
	}
	if (err != -EEXIST) {
		cl->result = -1;
		return 1;
	}
	return 0;
}

/*
 * Insert a new connection: its public-side key @rk (already claimed by
 * the caller) and then its VM-side key. If the second insert fails the
 * first is undone, so no half entry stays. Losing a race to another CPU
 * creating the same connection yields the winner's record; *@created
 * says which.
 */
static __always_inline struct hadp_conn *
conn_insert(struct pkt *p, struct hadp_conn_key *k, struct hadp_conn_key *rk,
	    struct hadp_conn *c, int *why, bool *created)
{
	struct hadp_stats *st = p->st;
	int err;

	err = bpf_map_update_elem(&conns, k, c, BPF_NOEXIST);
	if (err) {
		bpf_map_delete_elem(&conns_rev, rk);
		if (err == -EEXIST)
			return bpf_map_lookup_elem(&conns, k);
		conn_table_full(st);
		*why = HADP_DROP_CONN_TABLE_FULL;
		return NULL;
	}
	*created = true;
	st->conns_created++;
	conn_publish(HADP_EV_CONN_NEW, k, c, st);
	return bpf_map_lookup_elem(&conns, k);
}

/*
 * Only what opens a connection creates one: a TCP SYN alone, an ICMP
 * echo request, any UDP datagram. A TCP segment without SYN for an
 * unknown connection is dropped, not picked up (docs/nat.md): through
 * SNAT it would get a new port the far end does not know anyway, and a
 * connection carried over by failover or an agent restart has its entry.
 */
static __always_inline bool conn_opens(__u8 proto, const struct l4info *l)
{
	if (proto == IPPROTO_TCP)
		return tcp_opens(l->tcp_flags);
	if (proto == IPPROTO_ICMP)
		return l->icmp_type == ICMP_ECHO_;
	return true;
}

/* A new connection from the VM: VIP 1:1, or a free port of its range. */
static __always_inline struct hadp_conn *
conn_open_out(struct pkt *p, struct hadp_conn_key *k, struct hadp_vip *vip,
	      struct hadp_snat *sn, __u64 now, int *why, bool *created)
{
	struct hadp_conn c = {
		.last_seen = now,
		.version = conn_first_version(),
		.ifindex = p->ctx->ingress_ifindex,
		.state = HADP_CONN_OPENING,
		.opened_ms = conn_ms(now),
	};
	struct claim cl = { .key = *k };
	int err;

	if (vip) {
		c.nat_ip = vip->ip;
		c.nat_port = k->sport;
		c.flags = HADP_CONN_VIP;
		conn_rkey(&cl.rkey, k, &c);
		err = bpf_map_update_elem(&conns_rev, &cl.rkey, k, BPF_NOEXIST);
		if (err == -EEXIST)
			return bpf_map_lookup_elem(&conns, k);
		if (err) {
			conn_table_full(p->st);
			*why = HADP_DROP_CONN_TABLE_FULL;
			return NULL;
		}
	} else {
		c.nat_ip = sn->ip;
		conn_rkey(&cl.rkey, k, &c);
		cl.min = sn->port_min;
		cl.size = sn->port_max >= sn->port_min ?
			  sn->port_max - sn->port_min + 1 : 1;
		/* Random start (RFC 6056): ports are not predictable. */
		cl.start = bpf_get_prandom_u32() % cl.size;
		bpf_loop(cl.size, claim_port, &cl, 0);
		if (cl.result <= 0) {
			if (cl.result < 0)
				conn_table_full(p->st);
			*why = cl.result < 0 ? HADP_DROP_CONN_TABLE_FULL :
					       HADP_DROP_NAT_EXHAUSTED;
			return NULL;
		}
		c.nat_port = cl.port;
	}
	return conn_insert(p, k, &cl.rkey, &c, why, created);
}

/* The interface's quota first: a refused connection writes nothing. */
static __always_inline struct hadp_conn *
conn_new_out(struct pkt *p, struct hadp_conn_key *k, struct hadp_vip *vip,
	     struct hadp_snat *sn, __u64 now, int *why)
{
	__u32 ifindex = p->ctx->ingress_ifindex;
	bool created = false;
	struct hadp_conn *c;

	if (!quota_take(ifindex, p->cfg, NULL)) {
		*why = HADP_DROP_CONN_QUOTA;
		return NULL;
	}
	c = conn_open_out(p, k, vip, sn, now, why, &created);
	if (!created)
		quota_put(ifindex, 0);
	return c;
}

/* VM -> outside through a `nat` route. @tot is the IPv4 total length. */
static __always_inline int nat_outbound(struct pkt *p, struct iphdr *ip,
					void *data_end, __u32 tot)
{
	struct hadp_ifindex ik = { .ifindex = p->ctx->ingress_ifindex };
	struct hadp_conn_key k = { .vni = p->ifc->vni };
	struct hadp_snat *sn = NULL;
	struct l4info l = {};
	struct hadp_conn *c;
	struct hadp_vip *vip;
	struct encap_to to;
	__u64 now;
	__u32 label;
	__u8 tos;
	int why;

	if (ip->ihl != 5)
		return drop(p->st, HADP_DROP_UNSUPPORTED);
	if (ip->frag_off & bpf_htons(IP_OFFSET))
		return drop(p->st, HADP_DROP_FRAGMENT);
	vip = bpf_map_lookup_elem(&vips, &ik);
	if (!vip) {
		sn = bpf_map_lookup_elem(&snat, &ik);
		if (!sn)
			return drop(p->st, HADP_DROP_NO_NAT);
	}
	why = encap_resolve(&to, p->cfg->nat_router);
	if (why >= 0)
		return drop(p->st, why);
	to.src = vip ? vip->underlay : sn->underlay;
	if (tot + HADP_ENCAP_LEN > to.up->mtu) {
		if (!(ip->frag_off & bpf_htons(IP_DF)))
			return drop(p->st, HADP_DROP_TOO_BIG_NO_DF);
		return reply_icmp4(p, ICMP_DEST_UNREACH_, ICMP_FRAG_NEEDED_,
				   to.up->mtu - HADP_ENCAP_LEN, HADP_DROP_TOO_BIG);
	}
	why = l4_parse(ip, data_end, &l);
	if (why >= 0)
		return drop(p->st, why);
	if (ip->protocol == IPPROTO_ICMP && !l.echo) {
		why = nat_icmp_error_out(p, ip, data_end);
		if (why >= 0)
			return drop(p->st, why);
		goto out;
	}

	k.src = ip->saddr;
	k.dst = ip->daddr;
	k.sport = l.sport;
	k.dport = l.dport;
	k.proto = ip->protocol;
	now = bpf_ktime_get_ns();
	c = bpf_map_lookup_elem(&conns, &k);
	if (c) {
		if (conn_track(c, k.proto, l.tcp_flags, true, now))
			conn_publish(HADP_EV_CONN_UPDATE, &k, c, p->st);
	} else {
		if (!conn_opens(k.proto, &l))
			return drop(p->st, HADP_DROP_NO_CONN);
		c = conn_new_out(p, &k, vip, sn, now, &why);
		if (!c)
			return drop(p->st, why);
	}

	nat_rewrite(ip, data_end, true, c->nat_ip, c->nat_port);
out:
	label = flow_hash4(ip, data_end);
	tos = ip->tos;
	ipv4_dec_ttl(ip);
	p->st->snat++;
	return encap(p, &to, tot, IPPROTO_IPIP_, tos, label);
}

/*
 * Return traffic for a port of a NAT IP that another host owns: send it
 * on to the owner's underlay address, from the address it came to.
 */
static __always_inline int nat_relay(struct xdp_md *ctx, struct hadp_stats *st,
				     struct ipv6hdr *ip6, const __u8 *owner)
{
	struct ethhdr *eth = (void *)ip6 - sizeof(*eth);
	struct encap_to to;
	int why;

	why = encap_resolve(&to, owner);
	if (why >= 0)
		return drop(st, why);
	/* A misconfigured pair relaying to each other dies out here. */
	if (ip6->hop_limit <= 1)
		return drop(st, HADP_DROP_TTL_EXPIRED);
	ip6->hop_limit--;
	__builtin_memcpy(&ip6->saddr, &ip6->daddr, 16);
	__builtin_memcpy(&ip6->daddr, owner, 16);
	__builtin_memcpy(eth->h_dest, to.nb->mac, 6);
	__builtin_memcpy(eth->h_source, to.up->mac, 6);
	st->nat_relayed++;
	return bpf_redirect(to.up->ifindex, 0);
}

/* The neighbour's range of NAT IP @ip holding @port, if any. */
static __always_inline const __u8 *nat_owner(__be32 ip, __be16 port)
{
	struct hadp_nat_ip_key k = { .ip = ip };
	struct hadp_nat_ip *n;
	__u16 hp = bpf_ntohs(port);
	int i;

	n = bpf_map_lookup_elem(&nat_ips, &k);
	if (!n)
		return NULL;
	for (i = 0; i < HADP_NAT_RANGES; i++) {
		if (i >= n->count)
			break;
		if (hp >= n->range[i].port_min && hp <= n->range[i].port_max)
			return n->range[i].ifindex ? NULL : n->range[i].underlay;
	}
	return NULL;
}

/* A new connection from outside to the VIP @vip of interface @ifindex
 * (@t): TCP SYN, UDP, ICMP echo, within the interface's and the VIP's
 * quotas. */
static __always_inline struct hadp_conn *
conn_new_in(struct pkt *p, struct iphdr *ip, struct l4info *l, __u32 ifindex,
	    struct hadp_iface *t, const struct hadp_vip *vip, __u64 now, int *why)
{
	struct hadp_conn_key k = {
		.vni = t->vni,
		.src = t->ipv4,
		.dst = ip->saddr,
		.sport = l->echo ? l->sport : l->dport,
		.dport = l->echo ? 0 : l->sport,
		.proto = ip->protocol,
	};
	struct hadp_conn c = {
		.last_seen = now,
		.version = conn_first_version(),
		.ifindex = ifindex,
		.nat_ip = ip->daddr,
		.nat_port = k.sport,
		.state = HADP_CONN_OPENING,
		.flags = HADP_CONN_VIP | HADP_CONN_INBOUND,
		.opened_ms = conn_ms(now),
	};
	struct hadp_conn_key rk, *won;
	struct hadp_conn *n = NULL;
	bool created = false;
	int err;

	*why = HADP_DROP_NO_CONN;
	if (!conn_opens(ip->protocol, l))
		return NULL;
	if (!quota_take(ifindex, p->cfg, vip)) {
		*why = HADP_DROP_CONN_QUOTA;
		return NULL;
	}
	conn_rkey(&rk, &k, &c);
	err = bpf_map_update_elem(&conns_rev, &rk, &k, BPF_NOEXIST);
	if (err == -EEXIST) {
		won = bpf_map_lookup_elem(&conns_rev, &rk);
		if (won)
			n = bpf_map_lookup_elem(&conns, won);
	} else if (err) {
		conn_table_full(p->st);
		*why = HADP_DROP_CONN_TABLE_FULL;
	} else {
		n = conn_insert(p, &k, &rk, &c, why, &created);
	}
	if (!created)
		quota_put(ifindex, c.flags);
	return n;
}

/*
 * The interface a connection's packets from outside go into: the one its
 * entry names, if that one owns the VM side (VNI and address). An entry
 * the standby took from its peer names an ifindex another host chose;
 * whatever wrote it, one tenant's traffic never goes into another's VM.
 */
static __always_inline struct hadp_iface *
nat_deliver_iface(const struct hadp_conn *c, const struct hadp_conn_key *k,
		  int *why)
{
	struct hadp_iface *t = iface_get(c->ifindex);

	*why = HADP_DROP_WRONG_DST;
	if (!t)
		return NULL;
	*why = HADP_DROP_CONN_NOT_OWNED;
	return hadp_iface_owns(t, k) ? t : NULL;
}

/*
 * Uplink: a tunnel packet for a NAT or VIP underlay address (@ul). The
 * inner packet is at @ip, @plen bytes of outer payload.
 */
static __always_inline int nat_inbound(struct xdp_md *ctx, struct hadp_stats *st,
				       struct hadp_underlay *ul,
				       struct ipv6hdr *ip6, __u32 plen,
				       __u32 frame, __u32 outer)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct hadp_ifindex ik = { .ifindex = ul->ifindex };
	struct iphdr *ip = (void *)(ip6 + 1);
	struct pkt p = { .ctx = ctx, .st = st };
	struct hadp_vip *vip = NULL;
	struct hadp_conn *c = NULL;
	struct hadp_conn_key rk = {}, k, *kp;
	const __u8 *owner;
	struct hadp_iface *t;
	struct l4info l = {};
	__be16 natport = 0;
	__be32 pub;
	__u64 now;
	int why;

	if (ul->kind == HADP_UL_VIP) {
		vip = bpf_map_lookup_elem(&vips, &ik);
		if (!vip)
			return drop(st, HADP_DROP_WRONG_DST);
		pub = vip->ip;
	} else {
		struct hadp_snat *s = bpf_map_lookup_elem(&snat, &ik);

		if (!s)
			return drop(st, HADP_DROP_WRONG_DST);
		pub = s->ip;
	}
	if (ip6->nexthdr != IPPROTO_IPIP_)
		return drop(st, HADP_DROP_NOT_TUNNEL);
	if ((void *)(ip + 1) > data_end || ip->version != 4 ||
	    bpf_ntohs(ip->tot_len) > plen)
		return drop(st, HADP_DROP_MALFORMED);
	if (ip->daddr != pub)
		return drop(st, HADP_DROP_WRONG_DST);
	if (ip->ihl != 5)
		return drop(st, HADP_DROP_UNSUPPORTED);
	if (ip->frag_off & bpf_htons(IP_OFFSET))
		return drop(st, HADP_DROP_FRAGMENT);
	why = l4_parse(ip, data_end, &l);
	if (why >= 0)
		return drop(st, why);

	if (ip->protocol == IPPROTO_ICMP && !l.echo) {
		why = nat_icmp_error_in(ip, data_end, &c, &k, &natport);
		if (why < 0)
			goto deliver;
		/* About a connection of the host owning that port? */
		if (why == HADP_DROP_NO_CONN && natport &&
		    ul->kind == HADP_UL_NAT) {
			owner = nat_owner(ip->daddr, natport);
			if (owner)
				return nat_relay(ctx, st, ip6, owner);
		}
		return drop(st, why);
	}

	rk.src = ip->saddr;
	rk.dst = ip->daddr;
	rk.sport = l.sport;
	rk.dport = l.dport;	/* 0 for ICMP echo */
	rk.proto = ip->protocol;
	now = bpf_ktime_get_ns();
	kp = bpf_map_lookup_elem(&conns_rev, &rk);
	if (kp) {
		k = *kp;
		c = bpf_map_lookup_elem(&conns, &k);
	}
	if (c) {
		if (conn_track(c, k.proto, l.tcp_flags, false, now))
			conn_publish(HADP_EV_CONN_UPDATE, &k, c, st);
	} else if (vip) {
		t = iface_get(ul->ifindex);
		p.cfg = config_get();
		if (!t || !(t->flags & HADP_IFACE_IPV4) || !p.cfg)
			return drop(st, HADP_DROP_WRONG_DST);
		/* What the VIP refuses is counted as the interface's. */
		p.st = stats_of(ul->ifindex);
		if (!p.st)
			return XDP_DROP;
		c = conn_new_in(&p, ip, &l, ul->ifindex, t, vip, now, &why);
		if (!c)
			return drop(p.st, why);
		k.vni = t->vni;
		k.src = t->ipv4;
		k.sport = c->nat_port;
	} else {
		owner = nat_owner(ip->daddr, l.echo ? l.sport : l.dport);
		if (owner)
			return nat_relay(ctx, st, ip6, owner);
		return drop(st, HADP_DROP_NO_CONN);
	}
	nat_rewrite(ip, data_end, false, k.src, k.sport);

deliver:
	t = nat_deliver_iface(c, &k, &why);
	if (!t)
		return drop(st, why);
	if (t->mac_state != HADP_MAC_KNOWN)
		return drop(st, HADP_DROP_MAC_UNKNOWN);
	st->dnat++;
	return decap_deliver(ctx, st, c->ifindex, t, ETH_P_IP, frame, outer);
}

#endif /* HADP_BPF_NAT_H */
