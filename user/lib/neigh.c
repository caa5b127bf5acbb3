// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "neigh.h"
#include "nl.h"

struct hadp_neigh_resolved {
	struct hadp_neigh_key key;
	struct hadp_neigh val;
};

static int resolve(struct hadp_neigh_refresh *r,
		   const struct hadp_neigh_key *key, struct hadp_neigh *out)
{
	struct hadp_neigh_resolved *c;
	size_t i;
	int err;

	for (i = 0; i < r->ncache; i++) {
		if (!memcmp(&r->cache[i].key, key, sizeof(*key))) {
			*out = r->cache[i].val;
			return 0;
		}
	}
	err = hadp_neigh_resolve(key->addr, out, r->timeout_ms);
	if (err)
		return err;
	c = realloc(r->cache, (r->ncache + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	c[r->ncache].key = *key;
	c[r->ncache].val = *out;
	r->cache = c;
	r->ncache++;
	return 0;
}

static bool neigh_same(const struct hadp_neigh *a, const struct hadp_neigh *b)
{
	return a->state == b->state && a->ifindex == b->ifindex &&
	       !memcmp(a->mac, b->mac, 6) && !memcmp(a->gateway, b->gateway, 16);
}

int hadp_neigh_refresh(struct hadp_neigh_refresh *r,
		       const struct hadp_inst *inst, struct hadp_txn *t)
{
	const struct hadp_map *m = &inst->maps[HADP_MAP_NEIGHS];
	struct hadp_neigh_key *keys;
	struct hadp_neigh old, new;
	int err, first = 0;
	size_t i, n;

	err = hadp_map_keys(m, (void **)&keys, &n);
	if (err) {
		r->errors++;
		return err;
	}
	for (i = 0; i < n; i++) {
		/* Deleted since the walk by a route del: nothing to do. */
		if (hadp_map_lookup(m, &keys[i], &old))
			continue;
		err = resolve(r, &keys[i], &new);
		if (!err && neigh_same(&old, &new))
			continue;
		if (!err) {
			err = hadp_txn_update(t, m, &keys[i], &new, BPF_EXIST);
			if (err == -ENOENT)
				continue;
		}
		if (err) {
			r->errors++;
			first = first ?: err;
			if (!r->keep_going)
				break;
			continue;
		}
		r->updated++;
		if (r->report)
			r->report(r->ctx, inst, &keys[i], &old, &new);
	}
	free(keys);
	return first;
}

void hadp_neigh_refresh_done(struct hadp_neigh_refresh *r)
{
	free(r->cache);
	r->cache = NULL;
	r->ncache = 0;
}
