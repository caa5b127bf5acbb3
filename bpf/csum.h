/* SPDX-License-Identifier: GPL-2.0-only */
/* Internet checksum helpers (RFC 1071, RFC 1624). */
#ifndef HADP_BPF_CSUM_H
#define HADP_BPF_CSUM_H

#include "dp.h"

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Sum of @len bytes at @p (a multiple of 4, at most 512, verified memory). */
static __always_inline __u64 csum_add_mem(__u64 sum, void *p, __u32 len)
{
	return sum + (__u32)bpf_csum_diff(NULL, 0, p, len, 0);
}

/* IPv6 pseudo header: addresses (taken from the header at @ip6), upper
 * layer length and next header. */
static __always_inline __u64 csum_ipv6_pseudo(struct ipv6hdr *ip6, __u32 len,
					      __u8 proto)
{
	__u64 sum = csum_add_mem(0, &ip6->saddr, 32);

	return sum + bpf_htonl(len) + bpf_htonl(proto);
}

/* A router's TTL decrement, updating the header checksum in place
 * (RFC 1624: the TTL is the high byte of its 16-bit word). */
static __always_inline void ipv4_dec_ttl(struct iphdr *ip)
{
	__u32 check = ip->check;

	check += bpf_htons(0x0100);
	ip->check = (__u16)(check + (check >= 0xffff));
	ip->ttl--;
}

/*
 * Incremental update of a checksum field for one changed 32-bit or 16-bit
 * word (RFC 1624, eqn. 3). Byte order does not matter to a one's
 * complement sum as long as old and new values are in the same order.
 */
static __always_inline void csum_replace4(__sum16 *field, __be32 from, __be32 to)
{
	__u32 sum = (__u16)~*field;

	sum += (__u16)~(from & 0xffff) + (__u16)~(from >> 16);
	sum += (to & 0xffff) + (to >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	*field = ~sum;
}

static __always_inline void csum_replace2(__sum16 *field, __be16 from, __be16 to)
{
	__u32 sum = (__u16)~*field;

	sum += (__u16)~from + to;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	*field = ~sum;
}

#endif /* HADP_BPF_CSUM_H */
