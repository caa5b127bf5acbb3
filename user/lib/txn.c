// SPDX-License-Identifier: GPL-2.0-only
/*
 * The journal behind every composite change. An update is first tried with
 * BPF_NOEXIST, which tells exactly whether the key was there: a plain
 * lookup cannot, since an LPM trie answers it with the longest matching
 * prefix. When the key was there, the lookup just before did return its
 * value (the longest match of a present key is the key itself).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bpfmap.h"
#include "util.h"

struct hadp_txn_op {
	const struct hadp_map *map;
	void *key;
	void *old;		/* NULL: the key was absent */
};

static int record(struct hadp_txn *t, const struct hadp_map *m,
		  const void *key, const void *old)
{
	struct hadp_txn_op *op;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct hadp_txn_op *ops = realloc(t->ops, cap * sizeof(*ops));

		if (!ops)
			return -ENOMEM;
		t->ops = ops;
		t->cap = cap;
	}
	op = &t->ops[t->n];
	op->map = m;
	op->key = malloc(m->key_size);
	op->old = old ? malloc(m->buf_size) : NULL;
	if (!op->key || (old && !op->old)) {
		free(op->key);
		free(op->old);
		return -ENOMEM;
	}
	memcpy(op->key, key, m->key_size);
	if (old)
		memcpy(op->old, old, m->buf_size);
	t->n++;
	return 0;
}

int hadp_txn_update(struct hadp_txn *t, const struct hadp_map *m,
		    const void *key, const void *val, __u64 flags)
{
	bool had_old;
	void *old;
	int err;

	old = hadp_map_zero_value(m);
	if (!old)
		return -ENOMEM;
	had_old = !hadp_map_lookup(m, key, old);
	if (flags != BPF_EXIST) {
		if (!bpf_map_update_elem(m->fd, key, val, BPF_NOEXIST)) {
			err = record(t, m, key, NULL);
			if (err)
				bpf_map_delete_elem(m->fd, key);
			goto out;
		}
		err = -errno;
		if (err != -EEXIST || flags == BPF_NOEXIST)
			goto fail;
	}
	if (!had_old) {
		err = -ENOENT;
		goto fail;
	}
	if (bpf_map_update_elem(m->fd, key, val, BPF_EXIST)) {
		err = -errno;
		goto fail;
	}
	err = record(t, m, key, old);
	if (err)
		bpf_map_update_elem(m->fd, key, old, BPF_EXIST);
	goto out;
fail:
	if ((err == -EEXIST && flags == BPF_NOEXIST) ||
	    (err == -ENOENT && flags == BPF_EXIST))
		goto out;
	if (err == -E2BIG)
		hadp_err("%s is full (%u entries; hadp dp load sizes it)",
			 m->name, m->max_entries);
	else
		hadp_err("updating %s: %s", m->name, strerror(-err));
out:
	free(old);
	return err;
}

int hadp_txn_delete(struct hadp_txn *t, const struct hadp_map *m,
		    const void *key)
{
	void *old;
	int err;

	old = hadp_map_zero_value(m);
	if (!old)
		return -ENOMEM;
	err = hadp_map_lookup(m, key, old);
	if (err)
		goto out;
	/* Journal first: a delete cannot be recorded after the fact if
	 * memory runs out, but an entry can be dropped from the journal. */
	err = record(t, m, key, old);
	if (err)
		goto out;
	if (bpf_map_delete_elem(m->fd, key)) {
		err = -errno;
		t->n--;
		free(t->ops[t->n].key);
		free(t->ops[t->n].old);
		if (err != -ENOENT)
			hadp_err("deleting from %s: %s", m->name,
				 strerror(-err));
	}
out:
	free(old);
	return err;
}

static void txn_free(struct hadp_txn *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->ops[i].key);
		free(t->ops[i].old);
	}
	free(t->ops);
	t->ops = NULL;
	t->n = t->cap = 0;
}

void hadp_txn_rollback(struct hadp_txn *t)
{
	size_t i = t->n;

	while (i--) {
		struct hadp_txn_op *op = &t->ops[i];
		int err;

		if (op->old)
			err = bpf_map_update_elem(op->map->fd, op->key,
						  op->old, BPF_ANY);
		else
			err = bpf_map_delete_elem(op->map->fd, op->key);
		if (err && !(errno == ENOENT && !op->old))
			hadp_err("rollback of %s failed: %s", op->map->name,
				 strerror(errno));
	}
	txn_free(t);
}

void hadp_txn_commit(struct hadp_txn *t)
{
	txn_free(t);
}
