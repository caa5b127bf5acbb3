/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hadp_sweep: aging, flushing and eviction of connections, run by the control plane
 * through BPF_PROG_TEST_RUN (never attached, never in the root's array).
 * It lives in BPF so that its deletes are published on the same ring
 * buffer as the datapath's, in the same format: nothing disappears without
 * the HA agent hearing of it. The "packet" it is handed is a struct
 * hadp_sweep request; the counts are written back into it.
 */
#ifndef HADP_BPF_SWEEP_H
#define HADP_BPF_SWEEP_H

#include "dp.h"
#include "conn.h"

struct sweep_ctx {
	__u64 now;
	__u64 scanned;
	__u64 deleted;
	__u32 mode;
	__u32 ifindex;
	__u32 to[HADP_TO_MAX];
};

static long sweep_one(struct bpf_map *map, struct hadp_conn_key *k,
		      struct hadp_conn *c, struct sweep_ctx *sc)
{
	__u64 idle;

	sc->scanned++;
	if (sc->ifindex && c->ifindex != sc->ifindex)
		return 0;
	idle = sc->now > c->last_seen ? sc->now - c->last_seen : 0;
	if (sc->mode == HADP_SWEEP_AGE &&
	    idle < (__u64)conn_timeout(k, c, sc->to) * NSEC)
		return 0;
	/* Near full: the never answered go first, those in a handshake
	 * (idle less than a second) stay. */
	if (sc->mode == HADP_SWEEP_EVICT &&
	    (c->state != HADP_CONN_OPENING ||
	     idle < HADP_EVICT_IDLE_MS * 1000000ULL))
		return 0;
	if (conn_delete(k, c))
		sc->deleted++;
	return 0;
}

/* When a sweep last deleted: the agent's repair of lost deltas asks (a
 * delete the full ring lost needs a full refresh). A global function, so
 * verified on its own: a branch on the count in hadp_sweep() makes the
 * verifier trace the count back through the walk's callback, past its
 * limit of jumps. */
__noinline int hadp_note_swept(__u64 deleted)
{
	struct hadp_ratelimit *rl;

	if (!deleted)
		return 0;
	rl = ratelimit_of(0);
	if (rl)
		rl->swept_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("xdp")
int hadp_sweep(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hadp_sweep *req = data;
	struct sweep_ctx sc = {};
	struct hadp_config *cfg;
	int i;

	if ((void *)(req + 1) > data_end)
		return XDP_ABORTED;
	cfg = config_get();
	if (!cfg || req->mode < HADP_SWEEP_AGE || req->mode > HADP_SWEEP_EVICT)
		return XDP_ABORTED;
	sc.now = bpf_ktime_get_ns();
	sc.mode = req->mode;
	sc.ifindex = req->ifindex;
	for (i = 0; i < HADP_TO_MAX; i++)
		sc.to[i] = cfg->timeout[i];
	bpf_for_each_map_elem(&conns, sweep_one, &sc, 0);
	req->scanned = sc.scanned;
	req->deleted = sc.deleted;
	hadp_note_swept(sc.deleted);
	return XDP_PASS;
}

#endif /* HADP_BPF_SWEEP_H */
