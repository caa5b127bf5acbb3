// SPDX-License-Identifier: GPL-2.0-only
/*
 * Connection quotas, userspace side: the per-interface counts rebuilt from
 * the connection table (the datapath's own upkeep is bpf/quota.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "dp.h"
#include "util.h"

struct tally {
	__u32 ifindex;
	struct hadp_conn_count n;
};

static int cmp_ifindex(const void *a, const void *b)
{
	__u32 x = ((const struct tally *)a)->ifindex;
	__u32 y = ((const struct tally *)b)->ifindex;

	return x < y ? -1 : x > y;
}

/* Sorted by ifindex, one per interface holding a connection. */
static int tally(const struct hadp_map *conns, struct tally **out, size_t *nout)
{
	const struct hadp_conn *c;
	struct tally *t, *e;
	void *keys, *vals;
	size_t i, n, cnt = 0;
	int rc;

	rc = hadp_map_entries(conns, &keys, &vals, &n);
	if (rc)
		return rc;
	t = calloc(n ? n : 1, sizeof(*t));
	if (!t) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		c = (const struct hadp_conn *)((char *)vals + i * conns->buf_size);
		t[i].ifindex = c->ifindex;
		t[i].n.conns = 1;
		t[i].n.vip_conns = !!(c->flags & HADP_CONN_INBOUND);
	}
	qsort(t, n, sizeof(*t), cmp_ifindex);
	for (i = 0; i < n; i++) {
		e = cnt ? &t[cnt - 1] : NULL;
		if (e && e->ifindex == t[i].ifindex) {
			e->n.conns++;
			e->n.vip_conns += t[i].n.vip_conns;
		} else {
			t[cnt++] = t[i];
		}
	}
	*out = t;
	*nout = cnt;
out:
	free(keys);
	free(vals);
	return rc;
}

int hadp_conn_counts_rebuild(const struct hadp_inst *i)
{
	const struct hadp_map *m = &i->maps[HADP_MAP_CONN_COUNTS];
	struct hadp_ifindex *keys = NULL;
	struct tally *t = NULL, probe;
	size_t j, n, nkeys = 0;
	int rc;

	rc = tally(&i->maps[HADP_MAP_CONNS], &t, &n);
	rc = rc ?: hadp_map_keys(m, (void **)&keys, &nkeys);
	for (j = 0; !rc && j < n; j++)
		if (bpf_map_update_elem(m->fd, &t[j].ifindex, &t[j].n, BPF_ANY))
			rc = -errno;
	for (j = 0; !rc && j < nkeys; j++) {
		probe.ifindex = keys[j].ifindex;
		if (bsearch(&probe, t, n, sizeof(*t), cmp_ifindex))
			continue;
		if (bpf_map_delete_elem(m->fd, &keys[j]) && errno != ENOENT)
			rc = -errno;
	}
	if (rc)
		hadp_err("rebuilding conn_counts (instance %s): %s", i->name,
			 strerror(-rc));
	free(keys);
	free(t);
	return rc;
}
