// SPDX-License-Identifier: GPL-2.0-only
/*
 * A store for the mirroring engine (mirror.h) in memory, for tests and
 * bench/sync/applybench: a plain array; it serves a few thousand entries.
 * Like the maps store it keeps an age, never a clock: last_seen is the
 * "now" it was set with.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mirror_mem.h"

#define NSEC	1000000000ull
#define MEM_IFINDEX_MAX	4096

struct mem_conn {
	struct hadp_wire_conn c;
	__u64 last_seen;
};

struct mem_mac {
	__u8 mac[6];
	bool set;
	__u32 version;
};

struct mirror_mem {
	struct mem_conn *conns;
	unsigned int n, max;
	struct mem_mac macs[MEM_IFINDEX_MAX];
	struct hadp_conn_key *snap;	/* dump */
	unsigned int nsnap, pos, mpos;
};

static struct mem_conn *mem_find(const struct mirror_mem *mm,
				 const struct hadp_conn_key *key)
{
	unsigned int i;

	for (i = 0; i < mm->n; i++)
		if (!memcmp(&mm->conns[i].c.key, key, sizeof(*key)))
			return &mm->conns[i];
	return NULL;
}

static int mem_conn_version(void *ctx, const struct hadp_conn_key *key,
			    __u32 *version)
{
	struct mem_conn *e = mem_find(ctx, key);

	if (!e)
		return -ENOENT;
	*version = e->c.version;
	return 0;
}

static int mem_conn_set(void *ctx, const struct hadp_wire_conn *c, __u64 now_ns)
{
	struct mirror_mem *mm = ctx;
	struct mem_conn *e = mem_find(mm, &c->key);

	if (!e) {
		if (mm->n == mm->max)
			return -ENOSPC;
		e = &mm->conns[mm->n++];
	}
	e->c = *c;
	e->c.age = 0;
	e->last_seen = now_ns;
	return 0;
}

static int mem_conn_del(void *ctx, const struct hadp_conn_key *key)
{
	struct mirror_mem *mm = ctx;
	struct mem_conn *e = mem_find(mm, key);

	if (e)
		*e = mm->conns[--mm->n];
	return 0;
}

static int mem_mac_version(void *ctx, __u32 ifindex, __u32 *version)
{
	struct mirror_mem *mm = ctx;

	if (ifindex >= MEM_IFINDEX_MAX || !mm->macs[ifindex].set)
		return -ENOENT;
	*version = mm->macs[ifindex].version;
	return 0;
}

static int mem_mac_set(void *ctx, const struct hadp_wire_mac_entry *mac)
{
	struct mirror_mem *mm = ctx;

	if (mac->ifindex >= MEM_IFINDEX_MAX)
		return -ERANGE;
	memcpy(mm->macs[mac->ifindex].mac, mac->mac, 6);
	mm->macs[mac->ifindex].set = true;
	mm->macs[mac->ifindex].version = mac->version;
	return 0;
}

static int mem_dump_start(void *ctx, __u64 since_ns, __u32 *count)
{
	struct mirror_mem *mm = ctx;
	unsigned int i;

	mm->nsnap = 0;
	for (i = 0; i < mm->n; i++)
		if (mm->conns[i].last_seen >= since_ns)
			mm->snap[mm->nsnap++] = mm->conns[i].c.key;
	mm->pos = mm->mpos = 0;
	*count = mm->nsnap;
	return 0;
}

static int mem_dump_next(void *ctx, struct hadp_wire_entry *e, __u64 now_ns)
{
	struct mirror_mem *mm = ctx;
	struct mem_conn *c;

	memset(e, 0, sizeof(*e));
	while (mm->pos < mm->nsnap) {
		c = mem_find(mm, &mm->snap[mm->pos++]);
		if (!c)
			continue;
		e->kind = HADP_WIRE_K_CONN;
		e->conn = c->c;
		e->conn.age = now_ns > c->last_seen ?
			      (__u16)((now_ns - c->last_seen) / NSEC) : 0;
		return 1;
	}
	while (mm->mpos < MEM_IFINDEX_MAX) {
		__u32 i = mm->mpos++;

		if (!mm->macs[i].set)
			continue;
		e->kind = HADP_WIRE_K_MAC;
		e->mac.version = mm->macs[i].version;
		e->mac.ifindex = i;
		memcpy(e->mac.mac, mm->macs[i].mac, 6);
		return 1;
	}
	return 0;
}

static int mem_conn_sweep(void *ctx, __u64 before_ns)
{
	struct mirror_mem *mm = ctx;
	unsigned int i = 0, gone = 0;

	while (i < mm->n) {
		if (mm->conns[i].last_seen < before_ns) {
			mm->conns[i] = mm->conns[--mm->n];
			gone++;
		} else {
			i++;
		}
	}
	return (int)gone;
}

/* Nothing is queued, nothing is copied. */
static int mem_flush(void *ctx)
{
	return 0;
}

static void mem_own(void *ctx, bool alone)
{
}

static const struct hadp_mirror_store_ops mem_ops = {
	.conn_version	= mem_conn_version,
	.conn_set	= mem_conn_set,
	.conn_del	= mem_conn_del,
	.mac_version	= mem_mac_version,
	.mac_set	= mem_mac_set,
	.dump_start	= mem_dump_start,
	.dump_next	= mem_dump_next,
	.conn_sweep	= mem_conn_sweep,
	.flush		= mem_flush,
	.own		= mem_own,
};

struct mirror_mem *mirror_mem_new(unsigned int max)
{
	struct mirror_mem *mm = calloc(1, sizeof(*mm));

	if (!mm)
		return NULL;
	mm->max = max;
	mm->conns = calloc(max ? max : 1, sizeof(*mm->conns));
	mm->snap = calloc(max ? max : 1, sizeof(*mm->snap));
	if (!mm->conns || !mm->snap) {
		mirror_mem_free(mm);
		return NULL;
	}
	return mm;
}

void mirror_mem_free(struct mirror_mem *mm)
{
	if (!mm)
		return;
	free(mm->conns);
	free(mm->snap);
	free(mm);
}

struct hadp_mirror_store mirror_mem_store(struct mirror_mem *mm)
{
	return (struct hadp_mirror_store){ &mem_ops, mm };
}

int mirror_mem_conn(const struct mirror_mem *mm,
		    const struct hadp_conn_key *key, struct hadp_wire_conn *c,
		    __u64 *last_seen)
{
	const struct mem_conn *e = mem_find(mm, key);

	if (!e)
		return -ENOENT;
	*c = e->c;
	if (last_seen)
		*last_seen = e->last_seen;
	return 0;
}

unsigned int mirror_mem_count(const struct mirror_mem *mm)
{
	return mm->n;
}

int mirror_mem_mac(const struct mirror_mem *mm, __u32 ifindex, __u8 mac[6])
{
	if (ifindex >= MEM_IFINDEX_MAX || !mm->macs[ifindex].set)
		return -ENOENT;
	memcpy(mac, mm->macs[ifindex].mac, 6);
	return 0;
}

bool mirror_mem_equal(const struct mirror_mem *a, const struct mirror_mem *b)
{
	unsigned int i;

	if (a->n != b->n || memcmp(a->macs, b->macs, sizeof(a->macs)))
		return false;
	for (i = 0; i < a->n; i++) {
		const struct mem_conn *x = &a->conns[i];
		const struct mem_conn *y = mem_find(b, &x->c.key);

		if (!y || x->c.version != y->c.version ||
		    x->c.ifindex != y->c.ifindex || x->c.nat_ip != y->c.nat_ip ||
		    x->c.nat_port != y->c.nat_port || x->c.state != y->c.state ||
		    x->c.flags != y->c.flags)
			return false;
	}
	return true;
}
