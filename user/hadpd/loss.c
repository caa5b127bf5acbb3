// SPDX-License-Identifier: GPL-2.0-only
/*
 * The active's watch over its delta ring (docs/ha.md, "Lost deltas"). A
 * delta the full ring refuses is counted by the datapath in the
 * interface's events_lost, and is otherwise gone: the standby would be
 * wrong until the next periodic refresh. So the agent reads the sum of
 * those counters every LOSS_CHECK_MS, and when it grew, repairs the gap:
 *
 * - a creation or change sets the entry's last_seen to the time of its
 *   delta: every conn last seen since the previous check (less a margin
 *   for a delta whose clock was read just before the counter) is sent
 *   again (hadp_mirror_repair), and the standby's version check makes
 *   those it holds no-ops;
 * - a delete comes only from a sweep (aging, eviction, `hadp flow
 *   flush`), which notes when it last deleted: if that is within the
 *   window, a full refresh follows, whose end makes the standby sweep the
 *   zombie.
 *
 * A learned MAC has no time: a repair sends them all (one an interface).
 * What the per-interface event budget refused (events_throttled) is left
 * to the periodic refresh, as intended: it is a VM's excess, not a loss.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hadpd.h"

#define LOSS_CHECK_MS	100
#define LOSS_MARGIN_NS	(500 * 1000000ull)

/* The sum over interfaces and CPUs of events_lost: 0 or -errno. */
static int lost_sum(const struct hadp_inst *inst, __u64 *lost)
{
	const struct hadp_map *m = &inst->maps[HADP_MAP_STATS];
	__u32 stride = (m->value_size + 7) & ~7u;
	void *keys, *vals;
	size_t i, n;
	int cpu, rc;

	if (m->value_size < sizeof(struct hadp_stats))
		return -EPROTO;
	rc = hadp_map_entries(m, &keys, &vals, &n);
	if (rc)
		return rc;
	*lost = 0;
	for (i = 0; i < n; i++)
		for (cpu = 0; cpu < hadp_possible_cpus(); cpu++) {
			const struct hadp_stats *s = (const void *)
				((char *)vals + i * m->buf_size + cpu * stride);

			*lost += s->events_lost;
		}
	free(keys);
	free(vals);
	return 0;
}

/* When a sweep last deleted (the latest of the CPUs'); 0: never. An
 * instance of an older layout does not say: any time may have seen one. */
static __u64 swept_at(const struct hadp_inst *inst)
{
	const struct hadp_map *m = &inst->maps[HADP_MAP_RATELIMIT];
	__u32 stride = (m->value_size + 7) & ~7u;
	struct hadp_ifindex key = { 0 };
	__u64 last = 0;
	char *buf;
	int cpu;

	if (m->value_size < sizeof(struct hadp_ratelimit))
		return UINT64_MAX;
	buf = hadp_map_zero_value(m);
	if (!buf)
		return UINT64_MAX;
	if (hadp_map_lookup(m, &key, buf)) {
		free(buf);
		return 0;	/* no sweep ever deleted, nor was it full */
	}
	for (cpu = 0; cpu < hadp_possible_cpus(); cpu++) {
		const struct hadp_ratelimit *rl = (const void *)(buf + cpu * stride);

		if (rl->swept_ns > last)
			last = rl->swept_ns;
	}
	free(buf);
	return last;
}

void hadpd_loss_check(struct hadpd *d)
{
	uint64_t ms = now_ms();
	__u64 ns, lost, since;
	bool refresh;

	if (atomic_load(&d->role) != HADP_ROLE_ACTIVE || !d->sync) {
		d->loss_known = false;	/* a new baseline when active */
		return;
	}
	if (ms < d->loss_next_ms)
		return;
	d->loss_next_ms = ms + LOSS_CHECK_MS;
	ns = now_ns();
	if (lost_sum(&d->inst, &lost))
		return;
	/* A sum that fell lost an interface's counters (iface del): it is
	 * the new baseline. */
	if (d->loss_known && lost > d->lost_read) {
		since = d->loss_checked_ns > LOSS_MARGIN_NS ?
			d->loss_checked_ns - LOSS_MARGIN_NS : 0;
		refresh = swept_at(&d->inst) >= since;
		d->lost_seen += lost - d->lost_read;
		d->repair_refreshes += refresh;
		hlog(LOG_INFO_P, "sync: the datapath lost %llu deltas (ring full): resending what changed in the last %llu ms%s",
		     (unsigned long long)(lost - d->lost_read),
		     (unsigned long long)((ns - since) / 1000000),
		     refresh ? ", then a full refresh (a sweep deleted meanwhile)" : "");
		hadpd_sync_repair(d, since, refresh);
	}
	d->lost_read = lost;
	d->loss_checked_ns = ns;
	d->loss_known = true;
}
