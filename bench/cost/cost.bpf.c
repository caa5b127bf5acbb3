// SPDX-License-Identifier: GPL-2.0-only
/*
 * The benchmark wrapper: BPF_PROG_TEST_RUN with repeat N runs a program N
 * times on one buffer, so a program that rewrites its packet (encapsulates,
 * decapsulates, answers) would see its own output from the second run on
 * and measure its failure path. bench_wrap puts the frame back (bytes and
 * head offset), gives it the next flow, and tail-calls the program under
 * test from `target`. The baseline, bench_macswap, is reached the same
 * way, so the wrapper and the tail call are in both and cancel in the ratio.
 *
 * Loaded like the root (XDP, expected attach type BPF_XDP, no frags): the
 * instance's programs go into `target`, and a program array only takes
 * programs loaded like its owner.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "wrap.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

struct bench_cfg cfg;
/* Runs so far; the loader keeps to one CPU, so a plain counter will do. */
__u64 runs;

SEC("xdp")
int bench_wrap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 *dst, j;
	__be16 *a;
	__be32 *b;
	int i;

	/* The paths under test only move the head (encapsulation -40,
	 * decapsulation +40) and never the tail of a frame without padding:
	 * data_end still marks the end of the original frame. Called on
	 * every run, moved or not, so that every path pays the same. */
	if (bpf_xdp_adjust_head(ctx, (int)(data_end - data) - BENCH_FRAME))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + BENCH_FRAME > data_end)
		return XDP_ABORTED;
	dst = data;
#pragma unroll
	for (i = 0; i < BENCH_FRAME / 8; i++)
		dst[i] = ((__u64 *)cfg.frame)[i];

	if (!cfg.flows || !cfg.a_mod || !cfg.b_div ||
	    cfg.a_off > BENCH_FRAME - 2 || cfg.b_off > BENCH_FRAME - 4)
		return XDP_ABORTED;
	j = (runs++ * cfg.stride) % cfg.flows;
	a = data + cfg.a_off;
	b = data + cfg.b_off;
	if ((void *)(a + 1) > data_end || (void *)(b + 1) > data_end)
		return XDP_ABORTED;
	*a = bpf_htons(cfg.a_base + j % cfg.a_mod);
	*b = bpf_htonl(cfg.b_base + j / cfg.b_div);

	bpf_tail_call(ctx, &target, 0);
	return XDP_ABORTED;
}

/* The baseline: the least an XDP_TX program can do. */
SEC("xdp")
int bench_macswap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 tmp[6];

	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(tmp, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, tmp, 6);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
