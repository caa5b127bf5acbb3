// SPDX-License-Identifier: GPL-2.0-only
/*
 * gen.bpf.c: the packet generator. fwdbench runs this program with
 * bpf_prog_test_run_opts() and BPF_F_TEST_XDP_LIVE_FRAMES, its context's
 * ingress_ifindex set to the VM end of a veth: every XDP_TX then leaves
 * through that veth into the hypervisor end, as if the VM had sent it.
 *
 * Live frames are recycled through a page pool, and whatever the receiving
 * side did to a frame (hadp's encapsulation writes over the Ethernet
 * header, NAT rewrites the addresses, the kernel decrements the TTL) is
 * still in the page when the generator gets it back. So the whole frame
 * is written from the template on every run, not only the fields that
 * change.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "fwd.h"

/* Filled by fwdbench before load; the UDP checksum in it is right for
 * source port sport_base (host order). */
const volatile __u8 tmpl[FWD_FRAME_LEN];
const volatile __u16 sport_base;
/* Distinct source ports, one flow each: 1 to 65535 - sport_base. */
const volatile __u32 nflows = 1;

/* Frames sent: the flow index, and fwdbench's "offered" count. One
 * generator thread runs this program: plain variables are enough. */
__u64 seq;

/*
 * Pacing, set by fwdbench while it runs: one frame per gap_ns (0: as fast
 * as possible). An unpaced generator overruns the veth ring many times
 * over, and every frame dropped goes back to the page pool through its
 * locked ring, where the forwarding CPU returns the delivered ones: the
 * forwarding CPU then spends a good part of its time on that lock. So
 * frames are not dropped here to keep the pace either: the program waits
 * for its slot, spinning on the generator's own CPU. The test run flushes
 * a batch (64 frames) at its end, so the receiving NAPI still gets them
 * 64 at a time. fwdbench keeps the pace a little above what gets through.
 */
__u64 gap_ns;
__u64 next_ns;

static long past(__u64 i, void *until)
{
	return bpf_ktime_get_ns() >= *(__u64 *)until;
}

SEC("xdp")
int gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct udphdr *udp = data + sizeof(struct ethhdr) + sizeof(struct iphdr);
	__u32 flow, sum;
	__u16 port;
	int i;

	if (data + FWD_FRAME_LEN > end)
		return XDP_ABORTED;
	if (gap_ns) {
		__u64 now = bpf_ktime_get_ns(), until;

		/* Time the generator was not running earns no burst. */
		if (next_ns + 64 * gap_ns < now)
			next_ns = now;
		until = next_ns;
		if (now < until)
			bpf_loop(1 << 20, past, &until, 0);
		next_ns += gap_ns;
	}
#pragma unroll
	for (i = 0; i < FWD_FRAME_LEN / 8; i++)
		((__u64 *)data)[i] = ((const volatile __u64 *)tmpl)[i];

	flow = nflows > 1 ? seq % nflows : 0;
	seq++;
	if (!flow)
		return XDP_TX;
	port = bpf_htons(sport_base + flow);
	udp->source = port;
	/* RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m'), in network order like
	 * the checksum itself. UDP over IPv4 sends a computed 0 as 0xffff
	 * (0 means "no checksum"). */
	sum = (__u16)~udp->check + (__u16)~bpf_htons(sport_base) + port;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	udp->check = (__u16)~sum ?: 0xffff;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
