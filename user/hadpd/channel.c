// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HA channel's health as hadp.ko sees it. A peer whose packets the
 * module keeps refusing because their epoch has no session (the module's
 * challenges go unanswered: another key, a peer that cannot reach us, a
 * peer that keeps starting over) would otherwise just look quiet: the
 * agent reads the group's counters every CHANNEL_POLL_MS and warns while
 * no_session rises and nothing is accepted, once when it starts and every
 * CHANNEL_REPEAT_MS while it lasts, and says when packets are accepted
 * again. docs/protocol.md, "Sessions".
 */
#include "ha.h"
#include "hadpd.h"

#define CHANNEL_POLL_MS		1000
#define CHANNEL_REPEAT_MS	30000

static int group_cb(const struct hadp_ha_group *g, void *data)
{
	*(struct hadp_ha_group *)data = *g;
	return 1;
}

void hadpd_channel_check(struct hadpd_channel *c, struct hadp_ha *ha,
			 const char *group, uint64_t now_ms)
{
	struct hadp_ha_group g;
	__u64 refused, accepted;
	bool refusing;

	if (now_ms < c->next_ms)
		return;
	c->next_ms = now_ms + CHANNEL_POLL_MS;
	if (hadp_ha_group_list(ha, group, group_cb, &g) <= 0)
		return;
	refused = g.stats[HADP_STAT_DROP_NO_SESSION];
	accepted = g.stats[HADP_STAT_RX_PACKETS];
	if (c->polled) {
		refusing = refused > c->refused && accepted == c->accepted;
		if (refusing && (!c->refusing ||
				 now_ms >= c->warned_ms + CHANNEL_REPEAT_MS)) {
			hlog(LOG_WARN_P, "sync: hadp.ko refuses the peer's packets: "
			     "%llu refused (no session for their epoch) since %llu s, "
			     "none accepted; %llu challenges sent, unanswered",
			     (unsigned long long)(refused - c->refused_since),
			     (unsigned long long)((now_ms - c->since_ms) / 1000),
			     (unsigned long long)g.stats[HADP_STAT_CHALLENGES]);
			c->warned_ms = now_ms;
		} else if (!refusing && c->refusing && accepted > c->accepted) {
			hlog(LOG_INFO_P, "sync: the peer's packets are accepted again "
			     "(its epoch %u)", g.rx_epoch);
		}
		if (refusing && !c->refusing) {
			c->since_ms = now_ms - CHANNEL_POLL_MS;
			c->refused_since = c->refused;
		}
		if (refusing || accepted > c->accepted)
			c->refusing = refusing;
	}
	c->polled = true;
	c->refused = refused;
	c->accepted = accepted;
}
