// SPDX-License-Identifier: GPL-2.0-only
/*
 * A BPF hash map's copy in memory (shadow.h). Chained hashing over a pool
 * of nodes that never move (index links), so that the queue of changed
 * keys can name them; a node deleted from the copy stays until the
 * commit that deletes it from the map.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bpfmap.h"
#include "shadow.h"
#include "util.h"

#define NIL		0xffffffffu
#define ALIGN8(x)	(((x) + 7) & ~(size_t)7)

enum {
	N_PRESENT = 1,	/* in the copy */
	N_MAPPED = 2,	/* in the map, as of the last commit */
	N_QUEUED = 4,	/* changed since: in the queue */
};

struct node {
	__u32 next;	/* in its bucket's chain, or the free list */
	__u8 flags;	/* 0: free */
	/* key at KEY_OFF, value at s->voff */
};

#define KEY_OFF	ALIGN8(sizeof(struct node))

struct shadow {
	const struct hadp_map *map;
	size_t ks, vs, voff, stride;
	char *pool;
	__u32 used, cap, free;	/* nodes ever taken, allocated, free list */
	__u32 live;		/* nodes in chains */
	__u32 *bucket;
	__u32 mask;
	__u32 *queue;		/* changed nodes */
	__u32 nq, capq;
	char *kbuf, *vbuf;	/* a commit's keys and values */
	size_t nbuf;
};

static struct node *node_at(const struct shadow *s, __u32 i)
{
	return (struct node *)(s->pool + (size_t)i * s->stride);
}

static void *key_of(const struct node *n)
{
	return (char *)n + KEY_OFF;
}

static void *val_of(const struct shadow *s, const struct node *n)
{
	return (char *)n + s->voff;
}

struct shadow *shadow_new(const struct hadp_map *m)
{
	struct shadow *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->map = m;
	s->ks = m->key_size;
	s->vs = m->buf_size;
	s->voff = KEY_OFF + ALIGN8(s->ks);
	s->stride = s->voff + ALIGN8(s->vs);
	s->free = NIL;
	return s;
}

void shadow_free(struct shadow *s)
{
	if (!s)
		return;
	free(s->pool);
	free(s->bucket);
	free(s->queue);
	free(s->kbuf);
	free(s->vbuf);
	free(s);
}

/* Buckets for @n nodes (load at most 1), the chains rebuilt. */
static int rehash(struct shadow *s, size_t n)
{
	size_t nb = 64, j;
	__u32 *b, i;

	while (nb < n)
		nb *= 2;
	b = malloc(nb * sizeof(*b));
	if (!b)
		return -ENOMEM;
	memset(b, 0xff, nb * sizeof(*b));
	for (i = 0; i < s->used; i++) {
		struct node *x = node_at(s, i);

		if (!x->flags)
			continue;
		j = hadp_hash(key_of(x), s->ks) & (nb - 1);
		x->next = b[j];
		b[j] = i;
	}
	free(s->bucket);
	s->bucket = b;
	s->mask = nb - 1;
	return 0;
}

static __u32 find(const struct shadow *s, const void *key, __u32 **link)
{
	__u32 *l, i;

	if (!s->bucket)
		return NIL;
	l = &s->bucket[hadp_hash(key, s->ks) & s->mask];
	for (i = *l; i != NIL; l = &node_at(s, i)->next, i = *l)
		if (!memcmp(key_of(node_at(s, i)), key, s->ks))
			break;
	if (link)
		*link = l;
	return i;
}

/* A new node in its chain (flags 0 yet), or NIL without memory. */
static __u32 node_new(struct shadow *s, const void *key)
{
	struct node *x;
	__u32 i, j;

	if (s->live + 1 > s->mask + 1 || !s->bucket) {
		if (rehash(s, 2 * (size_t)(s->live + 1)))
			return NIL;
	}
	if (s->free != NIL) {
		i = s->free;
		s->free = node_at(s, i)->next;
	} else {
		if (s->used == s->cap) {
			size_t cap = s->cap ? 2 * (size_t)s->cap : 64;
			char *p = realloc(s->pool, cap * s->stride);

			if (!p)
				return NIL;
			s->pool = p;
			s->cap = cap;
		}
		i = s->used++;
	}
	x = node_at(s, i);
	memset(x, 0, s->stride);
	memcpy(key_of(x), key, s->ks);
	j = hadp_hash(key, s->ks) & s->mask;
	x->next = s->bucket[j];
	s->bucket[j] = i;
	s->live++;
	return i;
}

/* Room in the queue for one more node, asked before anything changes. */
static int queue_room(struct shadow *s)
{
	size_t cap;
	__u32 *q;

	if (s->nq < s->capq)
		return 0;
	cap = s->capq ? 2 * (size_t)s->capq : 256;
	q = realloc(s->queue, cap * sizeof(*q));
	if (!q)
		return -ENOMEM;
	s->queue = q;
	s->capq = cap;
	return 0;
}

static void enqueue(struct shadow *s, __u32 i)
{
	struct node *x = node_at(s, i);

	if (!(x->flags & N_QUEUED))
		s->queue[s->nq++] = i;
	x->flags |= N_QUEUED;
}

static void clear(struct shadow *s)
{
	s->used = s->live = s->nq = 0;
	s->free = NIL;
	if (s->bucket)
		memset(s->bucket, 0xff, ((size_t)s->mask + 1) * sizeof(*s->bucket));
}

int shadow_load(struct shadow *s)
{
	char *keys, *vals;
	size_t i, n;
	int rc;

	clear(s);
	rc = hadp_map_entries(s->map, (void **)&keys, (void **)&vals, &n);
	if (rc)
		return rc;
	rc = rehash(s, n);
	for (i = 0; i < n && !rc; i++) {
		__u32 j = node_new(s, keys + i * s->ks);

		if (j == NIL) {
			rc = -ENOMEM;
			break;
		}
		memcpy(val_of(s, node_at(s, j)), vals + i * s->vs, s->vs);
		node_at(s, j)->flags = N_PRESENT | N_MAPPED;
	}
	free(keys);
	free(vals);
	if (rc)
		clear(s);
	return rc;
}

const void *shadow_get(const struct shadow *s, const void *key)
{
	__u32 i = find(s, key, NULL);

	if (i == NIL || !(node_at(s, i)->flags & N_PRESENT))
		return NULL;
	return val_of(s, node_at(s, i));
}

int shadow_put(struct shadow *s, const void *key, const void *val)
{
	__u32 i = find(s, key, NULL);
	struct node *x;

	if (i != NIL && (node_at(s, i)->flags & N_PRESENT) &&
	    !memcmp(val_of(s, node_at(s, i)), val, s->vs))
		return 0;	/* held so already */
	if (queue_room(s))
		return -ENOMEM;
	if (i == NIL) {
		i = node_new(s, key);
		if (i == NIL)
			return -ENOMEM;
	}
	enqueue(s, i);
	x = node_at(s, i);
	memcpy(val_of(s, x), val, s->vs);
	x->flags |= N_PRESENT;
	return 0;
}

int shadow_del(struct shadow *s, const void *key)
{
	__u32 i = find(s, key, NULL);

	if (i == NIL || !(node_at(s, i)->flags & N_PRESENT))
		return 0;
	if (queue_room(s))
		return -ENOMEM;
	enqueue(s, i);
	node_at(s, i)->flags &= ~N_PRESENT;
	return 0;
}

const void *shadow_next(const struct shadow *s, size_t *pos, const void **val)
{
	while (*pos < s->used) {
		const struct node *x = node_at(s, (*pos)++);

		if (x->flags & N_PRESENT) {
			*val = val_of(s, x);
			return key_of(x);
		}
	}
	return NULL;
}

size_t shadow_queued(const struct shadow *s)
{
	return s->nq;
}

/* The queued keys (and values) of nodes with flags & mask == want into
 * the commit buffers: their number, or 0 without memory (counted). */
static size_t gather(struct shadow *s, __u8 mask, __u8 want, bool vals,
		     struct shadow_counts *c)
{
	size_t n = 0, i;

	if (s->nbuf < s->nq) {
		char *k = realloc(s->kbuf, s->nq * s->ks);
		char *v = k ? realloc(s->vbuf, s->nq * s->vs) : NULL;

		if (k)
			s->kbuf = k;
		if (!v) {
			c->failed += s->nq;
			return 0;
		}
		s->vbuf = v;
		s->nbuf = s->nq;
	}
	for (i = 0; i < s->nq; i++) {
		const struct node *x = node_at(s, s->queue[i]);

		if ((x->flags & mask) != want)
			continue;
		memcpy(s->kbuf + n * s->ks, key_of(x), s->ks);
		if (vals)
			memcpy(s->vbuf + n * s->vs, val_of(s, x), s->vs);
		n++;
	}
	return n;
}

/*
 * @n keys in one call, or as few as errors allow: a batch stops at the
 * first key that fails, its count saying how many went before. A delete
 * of a missing key is only counted; any other failure is tried once on
 * its own (a kernel without batches for the map takes every key so) and
 * counted if that fails too. Then the batch goes on after the key.
 */
static unsigned int commit(struct shadow *s, bool del, size_t n,
			   struct shadow_counts *c)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	unsigned int failed = 0;
	size_t done = 0;

	while (done < n) {
		char *k = s->kbuf + done * s->ks, *v = s->vbuf + done * s->vs;
		__u32 cnt = n - done;
		int rc, err;

		rc = del ? bpf_map_delete_batch(s->map->fd, k, &cnt, &opts) :
			   bpf_map_update_batch(s->map->fd, k, v, &cnt, &opts);
		err = errno;
		c->batches++;
		if (!rc || cnt >= n - done)
			break;
		done += cnt;
		k = s->kbuf + done * s->ks;
		v = s->vbuf + done * s->vs;
		if (del && err == ENOENT) {
			c->missing++;
		} else if (del ? bpf_map_delete_elem(s->map->fd, k) && errno != ENOENT :
				 bpf_map_update_elem(s->map->fd, k, v, BPF_ANY)) {
			c->failed++;
			failed++;
		}
		done++;
	}
	return failed;
}

unsigned int shadow_commit_deletes(struct shadow *s, struct shadow_counts *c)
{
	size_t n = gather(s, N_PRESENT | N_MAPPED, N_MAPPED, false, c);

	return n ? commit(s, true, n, c) : 0;
}

unsigned int shadow_commit_updates(struct shadow *s, struct shadow_counts *c)
{
	size_t n = gather(s, N_PRESENT, N_PRESENT, true, c);

	return n ? commit(s, false, n, c) : 0;
}

void shadow_settle(struct shadow *s)
{
	__u32 *link, i, q;

	for (q = 0; q < s->nq; q++) {
		struct node *x = node_at(s, s->queue[q]);

		if (x->flags & N_PRESENT) {
			x->flags = N_PRESENT | N_MAPPED;
			continue;
		}
		i = find(s, key_of(x), &link);
		*link = x->next;
		x->flags = 0;
		x->next = s->free;
		s->free = i;
		s->live--;
	}
	s->nq = 0;
}
