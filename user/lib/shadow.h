/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A BPF hash map's copy in memory, for a writer that is the map's only
 * one (a standby's agent, docs/ha.md): lookups are answered from memory,
 * writes change the copy and are queued, and a commit writes what
 * changed in batches (BPF_MAP_DELETE_BATCH, BPF_MAP_UPDATE_BATCH), each
 * key in its final state: a key set and deleted again between two
 * commits costs nothing, one deleted and set again one update.
 */
#ifndef HADP_SHADOW_H
#define HADP_SHADOW_H

#include <stddef.h>
#include <linux/types.h>

struct hadp_map;
struct shadow;

/* What commits met: writes made, batches, and what went wrong. */
struct shadow_counts {
	__u64 batches;		/* batched map calls */
	__u64 missing;		/* a delete found no key: written behind us */
	__u64 failed;		/* an update or delete the map refused */
};

/* Empty; NULL without memory. */
struct shadow *shadow_new(const struct hadp_map *m);
void shadow_free(struct shadow *s);
/* Forget the copy and the queued writes, and read the map afresh (one
 * batched walk). 0 or -errno (the copy is then empty). */
int shadow_load(struct shadow *s);
/* The value held for @key (value_size bytes), or NULL. */
const void *shadow_get(const struct shadow *s, const void *key);
/* 0 or -ENOMEM (nothing changed). A value held already is no write. */
int shadow_put(struct shadow *s, const void *key, const void *val);
int shadow_del(struct shadow *s, const void *key);
/* Every key held, with its value: *pos from 0; NULL at the end. Keys
 * deleted meanwhile are skipped, the walk stays valid. */
const void *shadow_next(const struct shadow *s, size_t *pos, const void **val);

/* Keys changed since the last commit. */
size_t shadow_queued(const struct shadow *s);

/* A commit in two steps, so that a caller orders several maps' (all
 * deletes, then updates): each writes the queued deletes, or updates,
 * and returns the number of keys that failed (counted in @c too). Then
 * shadow_settle() empties the queue. A failed write leaves the copy
 * wrong about its key: shadow_load() makes it right. */
unsigned int shadow_commit_deletes(struct shadow *s, struct shadow_counts *c);
unsigned int shadow_commit_updates(struct shadow *s, struct shadow_counts *c);
void shadow_settle(struct shadow *s);

#endif /* HADP_SHADOW_H */
