/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ICMP errors through NAT, both ways: an error from outside about a
 * packet NAT sent is matched through the packet it quotes and translated
 * back to the VM; an error a VM sends about a packet it received through
 * NAT leaves from the NAT address. IPv4 only, quotes without options.
 */
#ifndef HADP_BPF_NAT_ICMP_H
#define HADP_BPF_NAT_ICMP_H

#include "dp.h"
#include "csum.h"
#include "conn.h"

/*
 * The packet an ICMP error quotes (IHL 5, at least 8 bytes of its
 * transport header). For a quoted ICMP echo both ports are the identifier.
 */
struct quote {
	struct icmphdr *ic;
	struct iphdr *q;
	__be16 *sport;
	__be16 *dport;
};

static __always_inline int quote_parse(struct iphdr *ip, void *data_end,
				       struct quote *qt)
{
	struct icmphdr *ic = (void *)(ip + 1);
	struct iphdr *q = (void *)(ic + 1);
	__u8 *ql4 = (void *)(q + 1);

	if ((void *)(ql4 + 8) > data_end)
		return HADP_DROP_MALFORMED;
	if (ic->type != ICMP_DEST_UNREACH_ && ic->type != ICMP_TIME_EXCEEDED_ &&
	    ic->type != 12 /* parameter problem */)
		return HADP_DROP_NO_CONN;
	if (q->ihl != 5)
		return HADP_DROP_MALFORMED;
	qt->ic = ic;
	qt->q = q;
	if (q->protocol == IPPROTO_ICMP) {
		qt->sport = (__be16 *)(ql4 + 4);
		qt->dport = qt->sport;
	} else if (q->protocol == IPPROTO_TCP || q->protocol == IPPROTO_UDP) {
		qt->sport = (__be16 *)ql4;
		qt->dport = (__be16 *)(ql4 + 2);
	} else {
		return HADP_DROP_NO_CONN;
	}
	return -1;
}

/* The connection key of the side that received the quoted packet: its
 * destination is that side's address. */
static __always_inline void quote_key(struct hadp_conn_key *k,
				      const struct quote *qt, __u32 vni)
{
	k->vni = vni;
	k->src = qt->q->daddr;
	k->dst = qt->q->saddr;
	k->sport = *qt->dport;
	k->dport = qt->q->protocol == IPPROTO_ICMP ? 0 : *qt->sport;
	k->proto = qt->q->protocol;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

/* Rewrite one address and one port of the quote, keeping its header
 * checksum and the ICMP checksum (which covers the quote) right. The
 * quoted transport checksum is left alone: receivers do not check it. */
static __always_inline void quote_rewrite(struct quote *qt, __be32 *addr,
					  __be16 *port, __be32 to_addr,
					  __be16 to_port)
{
	__sum16 qcheck = qt->q->check;

	csum_replace4(&qt->q->check, *addr, to_addr);
	csum_replace4(&qt->ic->checksum, *addr, to_addr);
	csum_replace2(&qt->ic->checksum, qcheck, qt->q->check);
	*addr = to_addr;
	csum_replace2(&qt->ic->checksum, *port, to_port);
	*port = to_port;
}

/*
 * ICMP error from outside about a packet NAT sent: find the connection
 * from the quoted packet and translate the error and the quote back, so
 * path MTU discovery and traceroute work through NAT. @natport returns
 * the quoted NAT port, for the relay to its owner when no local
 * connection holds it.
 */
static __always_inline int nat_icmp_error_in(struct iphdr *ip, void *data_end,
					     struct hadp_conn **cp,
					     struct hadp_conn_key *kout,
					     __be16 *natport)
{
	struct hadp_conn_key rk, *k;
	struct hadp_conn *c;
	struct quote qt;
	int why;

	why = quote_parse(ip, data_end, &qt);
	if (why >= 0)
		return why;
	if (qt.q->saddr != ip->daddr)
		return HADP_DROP_MALFORMED;
	quote_key(&rk, &qt, 0);
	*natport = *qt.sport;
	k = bpf_map_lookup_elem(&conns_rev, &rk);
	if (!k)
		return HADP_DROP_NO_CONN;
	*kout = *k;
	c = bpf_map_lookup_elem(&conns, kout);
	if (!c)
		return HADP_DROP_NO_CONN;
	quote_rewrite(&qt, &qt.q->saddr, qt.sport, kout->src, kout->sport);
	csum_replace4(&ip->check, ip->daddr, kout->src);
	ip->daddr = kout->src;
	*cp = c;
	return -1;
}

/*
 * ICMP error from a VM about a packet it received through NAT (a closed
 * port behind a VIP, say): the outside must see it from the NAT address,
 * quoting the packet as it was sent to the NAT address.
 */
static __always_inline int nat_icmp_error_out(struct pkt *p, struct iphdr *ip,
					      void *data_end)
{
	struct hadp_conn_key k;
	struct hadp_conn *c;
	struct quote qt;
	int why;

	why = quote_parse(ip, data_end, &qt);
	if (why >= 0)
		return why;
	if (qt.q->daddr != ip->saddr)
		return HADP_DROP_MALFORMED;
	quote_key(&k, &qt, p->ifc->vni);
	c = bpf_map_lookup_elem(&conns, &k);
	if (!c)
		return HADP_DROP_NO_CONN;
	quote_rewrite(&qt, &qt.q->daddr, qt.dport, c->nat_ip, c->nat_port);
	csum_replace4(&ip->check, ip->saddr, c->nat_ip);
	ip->saddr = c->nat_ip;
	return -1;
}

#endif /* HADP_BPF_NAT_ICMP_H */
