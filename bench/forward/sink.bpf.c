// SPDX-License-Identifier: GPL-2.0-only
/*
 * sink.bpf.c: the far end of the forwarding benchmark (the underlay peer,
 * or the NAT router). It counts what the path under test delivered and
 * drops it there, so that the figure is what was forwarded, not what the
 * receiving namespace's own stack could absorb.
 *
 * A packet counts only if it is IPv4-in-IPv6 addressed as the path must
 * address it: outer destination (the remote underlay address, or the NAT
 * router) and inner source (the VM, or the NAT IP after SNAT). Anything
 * else tunnelled is counted as wrong; everything else (neighbour
 * discovery) passes. For the calibration run (generator straight into the
 * sink) every frame counts.
 *
 * Two attachments, one check: XDP for hadp, which hands over xdp_frames
 * (XDP_REDIRECT into a veth needs a program or GRO at the far end), and
 * tc ingress for the kernel, which hands over skbs: with an XDP program on
 * the far end, veth would copy every forwarded skb into a page first (too
 * little headroom after the encapsulation), a cost the kernel's path does
 * not have on a real NIC.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "fwd.h"

#define ETH_P_IPV6 0x86DD
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

const volatile __u8 want_outer_dst[16];
const volatile __u32 want_inner_src; /* network order */
/* Calibration: the generator straight into the sink; count every frame. */
const volatile bool count_all;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FWD_SINK_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* 1: counted, drop it; 0: not ours, let it through. */
static __always_inline int sink(void *data, void *end)
{
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct iphdr *ip = (void *)(ip6 + 1);
	__u32 slot = FWD_SINK_OK;
	__u64 *n;
	int i;

	if (count_all)
		goto count;
	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IPV6) ||
	    ip6->nexthdr != IPPROTO_IPIP)
		return 0;
#pragma unroll
	for (i = 0; i < 16; i++)
		if (ip6->daddr.in6_u.u6_addr8[i] != want_outer_dst[i])
			slot = FWD_SINK_WRONG;
	if (ip->saddr != want_inner_src || ip->protocol != IPPROTO_UDP)
		slot = FWD_SINK_WRONG;
count:
	n = bpf_map_lookup_elem(&counts, &slot);
	if (n)
		(*n)++;
	return 1;
}

SEC("xdp")
int sink_xdp(struct xdp_md *ctx)
{
	return sink((void *)(long)ctx->data, (void *)(long)ctx->data_end) ?
		       XDP_DROP : XDP_PASS;
}

SEC("tc")
int sink_tc(struct __sk_buff *skb)
{
	return sink((void *)(long)skb->data, (void *)(long)skb->data_end) ?
		       TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
