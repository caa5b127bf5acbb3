// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stores for the mirroring engine (mirror.h): an instance's maps (the
 * dump and learned MACs; the connections applied are mirror_maps.c's),
 * and memory for tests and tools.
 *
 * Synced entries carry an age, never a clock: a store sets last_seen to
 * its own "now", as a promoted standby treats every entry as just seen
 * (docs/nat.md). A dump walks a snapshot of the keys taken at its start,
 * looking each up as it goes, so that deletes during the walk neither
 * skip nor repeat live entries; entries created after the snapshot
 * reach the peer as live deltas.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bpfmap.h"
#include "mirror_priv.h"

#define NSEC	1000000000ull
#define MEM_IFINDEX_MAX	4096

/* An entry as the datapath holds it, back into its wire form (with its
 * age). -ERANGE for what the wire cannot carry (a VNI of 2^24 or more). */
static int conn_to_wire(struct hadp_wire_conn *c, const struct hadp_conn_key *key,
			const struct hadp_conn *val, __u64 now_ns)
{
	struct hadp_event_conn ev = { .key = *key, .val = *val };

	return hadp_wire_conn_from_event(c, &ev, now_ns) ? -ERANGE : 0;
}

/* ---------------------------------------------------------------------- */
/* Maps                                                                   */
/* ---------------------------------------------------------------------- */

static int maps_mac_version(void *ctx, __u32 ifindex, __u32 *version)
{
	struct hadp_mirror_maps *mm = ctx;
	struct hadp_ifindex key = { ifindex };
	struct hadp_iface ifc;
	int rc = hadp_map_lookup(mm->ifaces, &key, &ifc);

	if (rc)
		return rc;
	if (ifc.mac_state != HADP_MAC_KNOWN)
		return -ENOENT;
	*version = ifc.mac_version;
	return 0;
}

/* The standby's datapath runs no program, so nothing races the write;
 * a MAC the operator configured is configuration and stays. */
static int maps_mac_set(void *ctx, const struct hadp_wire_mac_entry *mac)
{
	struct hadp_mirror_maps *mm = ctx;
	struct hadp_ifindex key = { mac->ifindex };
	struct hadp_iface ifc;
	int rc = hadp_map_lookup(mm->ifaces, &key, &ifc);

	if (rc)
		return rc;
	if (ifc.flags & HADP_IFACE_MAC_STATIC)
		return 0;
	memcpy(ifc.mac, mac->mac, sizeof(ifc.mac));
	ifc.mac_state = HADP_MAC_KNOWN;
	ifc.mac_version = mac->version;
	if (bpf_map_update_elem(mm->ifaces->fd, &key, &ifc, BPF_EXIST))
		return -errno;
	return 0;
}

void hadp_mirror_maps_release(struct hadp_mirror_maps *mm)
{
	mirror_maps_apply_free(mm);
	free(mm->keys);
	mm->keys = NULL;
	mm->nkeys = mm->pos = 0;
	mm->macs = false;
}

/* Connections first, then learned MACs; the count given covers the
 * connections. */
static int maps_dump_start(void *ctx)
{
	struct hadp_mirror_maps *mm = ctx;
	int rc;

	hadp_mirror_maps_release(mm);
	rc = hadp_map_keys(mm->conns, &mm->keys, &mm->nkeys);
	return rc ? rc : (int)mm->nkeys;
}

static int maps_dump_next(void *ctx, struct hadp_wire_entry *e, __u64 now_ns)
{
	struct hadp_mirror_maps *mm = ctx;
	struct hadp_iface ifc;
	struct hadp_conn val;
	const void *key;
	int rc;

	for (;;) {
		if (mm->pos == mm->nkeys) {
			if (mm->macs || !mm->ifaces) {
				hadp_mirror_maps_release(mm);
				return 0;
			}
			free(mm->keys);
			mm->keys = NULL;
			mm->pos = mm->nkeys = 0;
			mm->macs = true;
			rc = hadp_map_keys(mm->ifaces, &mm->keys, &mm->nkeys);
			if (rc)
				return rc;
			continue;
		}
		key = (const char *)mm->keys + mm->pos++ *
		      (mm->macs ? sizeof(struct hadp_ifindex) :
				  sizeof(struct hadp_conn_key));
		memset(e, 0, sizeof(*e));
		if (mm->macs) {
			if (hadp_map_lookup(mm->ifaces, key, &ifc) ||
			    ifc.mac_state != HADP_MAC_KNOWN ||
			    (ifc.flags & HADP_IFACE_MAC_STATIC))
				continue;
			e->kind = HADP_WIRE_K_MAC;
			e->mac.version = ifc.mac_version;
			e->mac.ifindex = ((const struct hadp_ifindex *)key)->ifindex;
			memcpy(e->mac.mac, ifc.mac, sizeof(e->mac.mac));
			return 1;
		}
		rc = hadp_map_lookup(mm->conns, key, &val);
		if (rc == -ENOENT)
			continue;	/* deleted since the snapshot */
		if (rc)
			return rc;
		e->kind = HADP_WIRE_K_CONN;
		if (!conn_to_wire(&e->conn, key, &val, now_ns))
			return 1;
	}
}

static const struct hadp_mirror_store_ops maps_ops = {
	.conn_version	= mirror_maps_conn_version,
	.conn_set	= mirror_maps_conn_set,
	.conn_del	= mirror_maps_conn_del,
	.mac_version	= maps_mac_version,
	.mac_set	= maps_mac_set,
	.dump_start	= maps_dump_start,
	.dump_next	= maps_dump_next,
	.conn_sweep	= mirror_maps_conn_sweep,
	.flush		= mirror_maps_flush,
	.own		= mirror_maps_own,
};

struct hadp_mirror_store hadp_mirror_maps_store(struct hadp_mirror_maps *mm)
{
	return (struct hadp_mirror_store){ &maps_ops, mm };
}

/* ---------------------------------------------------------------------- */
/* Memory: a plain array; it serves tests of a few thousand entries.      */
/* ---------------------------------------------------------------------- */

struct mem_conn {
	struct hadp_wire_conn c;
	__u64 last_seen;
};

struct mem_mac {
	__u8 mac[6];
	bool set;
	__u32 version;
};

struct hadp_mirror_mem {
	struct mem_conn *conns;
	unsigned int n, max;
	struct mem_mac macs[MEM_IFINDEX_MAX];
	struct hadp_conn_key *snap;	/* dump */
	unsigned int nsnap, pos, mpos;
};

static struct mem_conn *mem_find(const struct hadp_mirror_mem *mm,
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
	struct hadp_mirror_mem *mm = ctx;
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
	struct hadp_mirror_mem *mm = ctx;
	struct mem_conn *e = mem_find(mm, key);

	if (e)
		*e = mm->conns[--mm->n];
	return 0;
}

static int mem_mac_version(void *ctx, __u32 ifindex, __u32 *version)
{
	struct hadp_mirror_mem *mm = ctx;

	if (ifindex >= MEM_IFINDEX_MAX || !mm->macs[ifindex].set)
		return -ENOENT;
	*version = mm->macs[ifindex].version;
	return 0;
}

static int mem_mac_set(void *ctx, const struct hadp_wire_mac_entry *mac)
{
	struct hadp_mirror_mem *mm = ctx;

	if (mac->ifindex >= MEM_IFINDEX_MAX)
		return -ERANGE;
	memcpy(mm->macs[mac->ifindex].mac, mac->mac, 6);
	mm->macs[mac->ifindex].set = true;
	mm->macs[mac->ifindex].version = mac->version;
	return 0;
}

static int mem_dump_start(void *ctx)
{
	struct hadp_mirror_mem *mm = ctx;
	unsigned int i;

	for (i = 0; i < mm->n; i++)
		mm->snap[i] = mm->conns[i].c.key;
	mm->nsnap = mm->n;
	mm->pos = mm->mpos = 0;
	return (int)mm->n;
}

static int mem_dump_next(void *ctx, struct hadp_wire_entry *e, __u64 now_ns)
{
	struct hadp_mirror_mem *mm = ctx;
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
	struct hadp_mirror_mem *mm = ctx;
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

struct hadp_mirror_mem *hadp_mirror_mem_new(unsigned int max)
{
	struct hadp_mirror_mem *mm = calloc(1, sizeof(*mm));

	if (!mm)
		return NULL;
	mm->max = max;
	mm->conns = calloc(max ? max : 1, sizeof(*mm->conns));
	mm->snap = calloc(max ? max : 1, sizeof(*mm->snap));
	if (!mm->conns || !mm->snap) {
		hadp_mirror_mem_free(mm);
		return NULL;
	}
	return mm;
}

void hadp_mirror_mem_free(struct hadp_mirror_mem *mm)
{
	if (!mm)
		return;
	free(mm->conns);
	free(mm->snap);
	free(mm);
}

struct hadp_mirror_store hadp_mirror_mem_store(struct hadp_mirror_mem *mm)
{
	return (struct hadp_mirror_store){ &mem_ops, mm };
}

int hadp_mirror_mem_conn(const struct hadp_mirror_mem *mm,
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

unsigned int hadp_mirror_mem_count(const struct hadp_mirror_mem *mm)
{
	return mm->n;
}

int hadp_mirror_mem_mac(const struct hadp_mirror_mem *mm, __u32 ifindex,
			__u8 mac[6])
{
	if (ifindex >= MEM_IFINDEX_MAX || !mm->macs[ifindex].set)
		return -ENOENT;
	memcpy(mac, mm->macs[ifindex].mac, 6);
	return 0;
}

bool hadp_mirror_mem_equal(const struct hadp_mirror_mem *a,
			   const struct hadp_mirror_mem *b)
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
