/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Connection quotas: one tenant cannot fill the connection table that all
 * share. A new connection takes a slot of its VM interface (and, opened
 * from outside, one of its VIP's inbound share) before any table is
 * written; every delete gives it back (conn_delete). The count is an
 * atomic add on an entry per interface: what the check costs is paid on
 * new connections only, never on an established one's packets.
 */
#ifndef HADP_BPF_QUOTA_H
#define HADP_BPF_QUOTA_H

#include "dp.h"

/* The interface's counts, created on its first connection. */
static __always_inline struct hadp_conn_count *quota_counts(__u32 ifindex)
{
	struct hadp_ifindex k = { .ifindex = ifindex };
	struct hadp_conn_count zero = {};

	return lookup_or_init(&conn_counts, &k, &zero);
}

/* Add one to @n unless it holds @limit already (0: no limit). A count
 * below zero (a rebuild raced with deletes) grants, it does not wrap. */
static __always_inline bool quota_add(__s32 *n, __u32 limit)
{
	__s32 old = __sync_fetch_and_add(n, 1);

	if (!limit || old < 0 || (__u32)old < limit)
		return true;
	__sync_fetch_and_add(n, -1);
	return false;
}

/*
 * Take a slot for a new connection of @ifindex; @in_vip is the VIP of one
 * opened from outside, NULL otherwise. False: refused, nothing is held.
 */
static __always_inline bool quota_take(__u32 ifindex, const struct hadp_config *cfg,
				       const struct hadp_vip *in_vip)
{
	struct hadp_ifindex k = { .ifindex = ifindex };
	struct hadp_conn_count *n = quota_counts(ifindex);
	struct hadp_quota *q = bpf_map_lookup_elem(&quotas, &k);
	__u32 limit = q && q->conn_limit ? q->conn_limit : cfg->conn_limit;

	if (!n || !quota_add(&n->conns, limit))
		return false;
	if (in_vip && !quota_add(&n->vip_conns, in_vip->conn_limit ?
				 in_vip->conn_limit : cfg->vip_conn_limit)) {
		__sync_fetch_and_add(&n->conns, -1);
		return false;
	}
	return true;
}

/* Give back the slot of a connection deleted or never inserted. */
static __always_inline void quota_put(__u32 ifindex, __u8 flags)
{
	struct hadp_ifindex k = { .ifindex = ifindex };
	struct hadp_conn_count *n = bpf_map_lookup_elem(&conn_counts, &k);

	if (!n)
		return;
	__sync_fetch_and_add(&n->conns, -1);
	if (flags & HADP_CONN_INBOUND)
		__sync_fetch_and_add(&n->vip_conns, -1);
}

#endif /* HADP_BPF_QUOTA_H */
