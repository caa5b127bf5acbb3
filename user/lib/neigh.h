/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Keeping an instance's "neighs" map equal to what the kernel knows: each
 * underlay next hop in it is resolved again (its route, then the
 * gateway's neighbour entry) and the entries that changed are rewritten.
 * The CLI does it on `hadp neigh sync` and when the uplink changes; hadpd
 * whenever the kernel reports a neighbour or route change.
 */
#ifndef HADP_NEIGH_H
#define HADP_NEIGH_H

#include <stdbool.h>
#include <stddef.h>

#include "bpfmap.h"
#include "dp.h"

/* An entry rewritten: what it held and what it holds now. */
typedef void (*hadp_neigh_report_fn)(void *ctx, const struct hadp_inst *inst,
				     const struct hadp_neigh_key *key,
				     const struct hadp_neigh *old,
				     const struct hadp_neigh *new);

struct hadp_neigh_resolved;

/* Zero it, set the inputs, call hadp_neigh_refresh() once per instance,
 * then hadp_neigh_refresh_done(). */
struct hadp_neigh_refresh {
	/* How long to wait for an unresolved gateway (hadp_neigh_resolve);
	 * 0 takes the kernel's entry as it is, and its next event does the
	 * rest. */
	unsigned int timeout_ms;
	/* Past an entry that cannot be resolved or written, counting it;
	 * otherwise the first failure ends the walk. */
	bool keep_going;
	hadp_neigh_report_fn report;	/* or NULL */
	void *ctx;

	/* Summed over the calls. */
	unsigned int updated;
	unsigned int errors;		/* entries, or a map that was unreadable */

	/* One resolution per address, however many instances hold it. */
	struct hadp_neigh_resolved *cache;
	size_t ncache;
};

/* Rewrite inst's entries that changed, into t with BPF_EXIST (an entry
 * deleted meanwhile stays deleted). 0 or the first -errno, reported. */
int hadp_neigh_refresh(struct hadp_neigh_refresh *r,
		       const struct hadp_inst *inst, struct hadp_txn *t);
void hadp_neigh_refresh_done(struct hadp_neigh_refresh *r);

#endif /* HADP_NEIGH_H */
