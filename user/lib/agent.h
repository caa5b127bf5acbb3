/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's status, where the CLI and bpftool can read it: a one-entry
 * array map that hadpd creates and pins beside its instance's maps as
 * <bpffs>/hadp/<instance>/agent, rewritten every 100 ms by its main
 * loop. It outlives the agent (a pinned map does), so a reader tells a
 * dead agent by its pid and heartbeat, not by the map's presence.
 * `hadp ha show` joins it to the module's group of the same name.
 */
#ifndef HADP_AGENT_H
#define HADP_AGENT_H

#include <stdbool.h>
#include <linux/types.h>

#include "hadp/maps.h"
#include "uapi/linux/hadp.h"
#include "mirror.h"

#define HADP_AGENT_MAP		"agent"
/* An agent whose heartbeat is older than this is reported as not alive. */
#define HADP_AGENT_STALE_MS	3000

enum hadp_agent_flags {
	HADP_AGENT_F_READY	= 1 << 0,	/* what /readyz answers */
	HADP_AGENT_F_REGISTERED	= 1 << 1,	/* the module's group agent */
	HADP_AGENT_F_ORCHESTRATED = 1 << 2,	/* role set by `hadp ha role` */
	HADP_AGENT_F_STOPPING	= 1 << 3,	/* planned handover under way */
};

struct hadp_agent_status {
	__u32 pid;
	__u32 role;		/* enum hadp_role: active or standby */
	__u32 flags;		/* enum hadp_agent_flags */
	__u32 sync_state;	/* enum hadp_mirror_sync */
	__u64 started_ms;	/* CLOCK_MONOTONIC */
	__u64 heartbeat_ms;	/* CLOCK_MONOTONIC, each main loop turn */
	__u64 promoted_ms;	/* 0: never promoted */
	__u64 promotions;
	__u64 lag_entries;	/* sender: entries not acked yet */
	__u64 lag_ms;		/* receiver: since the peer was last heard */
	__u64 queued;		/* batches in the resend queue */
	__u64 reconciled;	/* entries taken from the old active's maps */
	__u64 clashes;		/* NAT port clashes resolved at promotion */
	__u64 pruned;		/* deleted at promotion: gone from the old active */
	__u64 neigh_updates;	/* underlay neighbours rewritten */
	__u64 audit_runs;
	__u64 audit_findings;
	__u64 events_lost;	/* deltas the ring lost while active, as read */
	__u64 repair_refreshes;	/* full refreshes for deletes among them */
	char group[HADP_NAME_LEN];	/* the module's sync group */
	struct hadp_mirror_stats mirror;
};

/* Create (or adopt, when one of the same layout is pinned) and pin the
 * status map of instance dir <hadp dir>/<name>; the fd, or -errno. */
int hadp_agent_status_create(const char *hadp_dir, const char *name);
int hadp_agent_status_write(int fd, const struct hadp_agent_status *st);
/* Read instance name's status: 0, -ENOENT silently when no agent ever
 * ran for it, or another -errno. */
int hadp_agent_status_read(const char *hadp_dir, const char *name,
			   struct hadp_agent_status *st);
/* Alive: its process exists and its heartbeat is recent (now_ms is
 * CLOCK_MONOTONIC). */
bool hadp_agent_alive(const struct hadp_agent_status *st, __u64 now_ms);

#endif /* HADP_AGENT_H */
