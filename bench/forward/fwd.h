/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fwd.h: what the forwarding benchmark's BPF programs and their loader
 * share.
 */
#ifndef HADP_BENCH_FWD_H
#define HADP_BENCH_FWD_H

/*
 * Every generated frame is this long (Ethernet + IPv4 + UDP + 22 bytes of
 * payload, no FCS): the classic 64-byte frame, where per-packet costs
 * dominate. gen.bpf.c rewrites the whole frame from the template on every
 * run, so it is a compile-time constant.
 */
#define FWD_FRAME_LEN 64

/* Slots of the sink's per-CPU counter array. */
enum fwd_sink_slot {
	FWD_SINK_OK,	/* IPv4-in-IPv6 to the expected outer and inner addresses */
	FWD_SINK_WRONG, /* IPv4-in-IPv6, but addressed otherwise */
	FWD_SINK_MAX,
};

#endif
