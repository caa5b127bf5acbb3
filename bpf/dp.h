/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Maps, constants and small helpers shared by the instance's programs.
 * Included by hadp.bpf.c only; split out so that each concern of the
 * datapath reads on its own.
 */
#ifndef HADP_BPF_DP_H
#define HADP_BPF_DP_H

/* vmlinux.h carries a zlib "typedef ... config;" that would shadow the
 * map of that name, whose name is also its pin name. */
#define config vmlinux_config
#include "vmlinux.h"
#undef config
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "hadp/maps.h"

#define ETH_P_IP	0x0800
#define ETH_P_ARP	0x0806
#define ETH_P_IPV6	0x86DD
#define IPPROTO_IPIP_	4
#define IPPROTO_IPV6_	41
#define IPPROTO_ICMPV6_	58
#define ICMP_TIME_EXCEEDED_	11
#define ICMP_DEST_UNREACH_	3
#define ICMP_FRAG_NEEDED_	4
#define ICMPV6_PKT_TOOBIG_	2
#define ICMPV6_TIME_EXCEED_	3
#define NDISC_NS	135
#define NDISC_NA	136
#define IP_DF		0x4000
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff
#define ENCAP_HOP_LIMIT	64
#define EEXIST		17

/* Table sizes are defaults; the loader sets them with
 * bpf_map__set_max_entries() before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hadp_ifindex);
	__type(value, struct hadp_iface);
} ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hadp_underlay_key);
	__type(value, struct hadp_underlay);
} underlay SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct hadp_route4_key);
	__type(value, struct hadp_route);
} routes4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct hadp_route6_key);
	__type(value, struct hadp_route);
} routes6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct hadp_neigh_key);
	__type(value, struct hadp_neigh);
} neighs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hadp_uplink);
} uplink SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hadp_config);
} config SEC(".maps");

/* Per interface (ifindex 0: the host's); sized like "stats". */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1026);
	__type(key, struct hadp_ifindex);
	__type(value, struct hadp_ratelimit);
} ratelimit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1026);	/* ifaces, the uplink, ifindex 0 */
	__type(key, struct hadp_ifindex);
	__type(value, struct hadp_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hadp_ifindex);
	__type(value, struct hadp_snat);
} snat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hadp_ifindex);
	__type(value, struct hadp_vip);
} vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hadp_nat_ip_key);
	__type(value, struct hadp_nat_ip);
} nat_ips SEC(".maps");

/* Preallocated, never LRU: an entry must not vanish without a delta. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct hadp_conn_key);
	__type(value, struct hadp_conn);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct hadp_conn_key);
	__type(value, struct hadp_conn_key);
} conns_rev SEC(".maps");

/* Sized like "ifaces" by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hadp_ifindex);
	__type(value, struct hadp_quota);
} quotas SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hadp_ifindex);
	__type(value, struct hadp_conn_count);
} conn_counts SEC(".maps");

/* Sized by the loader from conns, or as `hadp dp load events` says. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Everything a handler needs about the packet in hand. */
struct pkt {
	struct xdp_md *ctx;
	struct hadp_iface *ifc;		/* ingress VM interface (VM side) */
	struct hadp_stats *st;		/* its counters, or ifindex 0's */
	struct hadp_config *cfg;
};

static __always_inline struct hadp_stats *stats_of(__u32 ifindex)
{
	struct hadp_ifindex k = { .ifindex = ifindex };
	struct hadp_stats *s;

	s = bpf_map_lookup_elem(&stats, &k);
	if (!s) {
		k.ifindex = 0;
		s = bpf_map_lookup_elem(&stats, &k);
	}
	return s;
}

/* The value of @key in hash @map, inserted as @init when missing (by
 * whichever CPU gets there first). */
static __always_inline void *lookup_or_init(void *map, const void *key,
					    const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* This CPU's rate limiting state of @ifindex, created on first use. */
static __always_inline struct hadp_ratelimit *ratelimit_of(__u32 ifindex)
{
	struct hadp_ifindex k = { .ifindex = ifindex };
	struct hadp_ratelimit zero = {};

	return lookup_or_init(&ratelimit, &k, &zero);
}

/* One token of @b, refilled at @rate a second up to @burst. */
static __always_inline bool bucket_take(struct hadp_bucket *b, __u32 rate,
					__u32 burst)
{
	__u64 now = bpf_ktime_get_ns(), elapsed = now - b->last_ns, add;

	if (elapsed >= 1000000000ULL) {
		b->tokens = burst;
		b->last_ns = now;
	} else {
		add = elapsed * rate / 1000000000ULL;
		if (add) {
			b->tokens += add;
			if (b->tokens > burst)
				b->tokens = burst;
			b->last_ns = now;
		}
	}
	if (!b->tokens)
		return false;
	b->tokens--;
	return true;
}

static __always_inline void count_drop(struct hadp_stats *st,
				       enum hadp_drop_reason r)
{
	if (st && r < HADP_DROP_MAX)
		st->drops[r]++;
}

static __always_inline int drop(struct hadp_stats *st, enum hadp_drop_reason r)
{
	count_drop(st, r);
	return XDP_DROP;
}

static __always_inline struct hadp_config *config_get(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&config, &k);
}

static __always_inline struct hadp_iface *iface_get(__u32 ifindex)
{
	struct hadp_ifindex k = { .ifindex = ifindex };

	return bpf_map_lookup_elem(&ifaces, &k);
}

static __always_inline __u32 pkt_len(struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data;
}

/* Packet headers carry no alignment promise (the IP header sits 14 bytes
 * into the frame), so addresses are copied into locals and compared as
 * two 64-bit words. */
static __always_inline bool addr6_eq(const void *a, const void *b)
{
	__u64 a0, a1, b0, b1;

	__builtin_memcpy(&a0, a, 8);
	__builtin_memcpy(&a1, (const __u8 *)a + 8, 8);
	__builtin_memcpy(&b0, b, 8);
	__builtin_memcpy(&b1, (const __u8 *)b + 8, 8);
	return a0 == b0 && a1 == b1;
}

static __always_inline bool mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] &&
	       a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

/* fe80::/10 */
static __always_inline bool addr6_link_local(const __u8 *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static __always_inline bool addr6_unspecified(const __u8 *a)
{
	__u64 w0, w1;

	__builtin_memcpy(&w0, a, 8);
	__builtin_memcpy(&w1, a + 8, 8);
	return !(w0 | w1);
}

#endif /* HADP_BPF_DP_H */
