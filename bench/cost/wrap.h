/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the benchmark loader tells the wrapper program (cost.bpf.c) through
 * its global data: the frame to restore before every run of the datapath,
 * and how to vary its flow from one run to the next.
 */
#ifndef HADP_BENCH_WRAP_H
#define HADP_BENCH_WRAP_H

/* Every benchmark frame has this length: the wrapper restores it with one
 * fixed-size copy, the same work for every path and for the baseline. */
#define BENCH_FRAME	128

/*
 * Run i of a test run uses flow j = (i * stride) % flows. Field a, a 16-bit
 * big-endian word at offset a_off, becomes a_base + j % a_mod; field b, a
 * 32-bit big-endian word at b_off, becomes b_base + j / b_div. A stride of
 * 1 walks the flows in order (a new connection every run); an odd stride
 * prime to flows walks them scattered, so that no cache line is hot
 * because its neighbour was.
 */
struct bench_cfg {
	__u8 frame[BENCH_FRAME];
	__u64 stride;
	__u64 flows;
	__u32 a_off;
	__u32 a_base;
	__u32 a_mod;
	__u32 b_off;
	__u32 b_base;
	__u32 b_div;
};

#endif
