// SPDX-License-Identifier: GPL-2.0-only
/*
 * The walk of an instance's maps that a dump or a repair streams
 * (mirror.h, dump_start and dump_next of hadp_mirror_maps_store): conns
 * read in chunks with BPF_MAP_LOOKUP_BATCH, a system call per chunk, not
 * per entry; then the learned MACs.
 *
 * A chunk is read when the engine needs its entries, never ahead: a dump
 * paced by the peer's acks takes minutes over a million entries, and an
 * entry read long before it is sent could be one deleted since, whose
 * tombstone the peer no longer keeps.
 *
 * A hash map's batch walks its buckets in order, each read whole under
 * its lock, and the token says where the next chunk starts. So none is
 * given twice, and an entry deleted before the walk reads its bucket is
 * not given. One deleted after is given as the chunk read it: the
 * delete's delta has a newer version, and wins at the peer whichever
 * arrives first (a tombstone); the same holds for a change since the
 * read. What the walk may miss is an entry created, or created again, in
 * a bucket it has passed: the delta of that creation reaches the peer as
 * any other, and were it lost, the agent's watch of the ring's losses
 * repairs it (docs/ha.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "bpfmap.h"
#include "mirror_priv.h"
#include "mirror_walk.h"

/* Entries per system call: a dump's window of the peer's acks (64
 * batches of up to 64 entries) is sent from one or two chunks. */
#define CHUNK	2048

static void walk_reset(struct hadp_mirror_maps *mm)
{
	free(mm->keys);
	free(mm->vals);
	mm->keys = mm->vals = NULL;
	mm->n = mm->pos = 0;
	mm->started = mm->conns_done = mm->macs = false;
}

/* The walk's buffers and the standby's copy (mirror_maps.c). */
void hadp_mirror_maps_release(struct hadp_mirror_maps *mm)
{
	walk_reset(mm);
	mirror_maps_apply_free(mm);
}

int mirror_maps_dump_start(void *ctx, __u64 since_ns, __u32 *count)
{
	struct hadp_mirror_maps *mm = ctx;

	walk_reset(mm);
	mm->since_ns = since_ns;
	mm->keys = malloc(CHUNK * mm->conns->key_size);
	mm->vals = malloc(CHUNK * mm->conns->buf_size);
	if (!mm->keys || !mm->vals) {
		walk_reset(mm);
		return -ENOMEM;
	}
	(void)count;	/* a hash map does not say how many it holds */
	return 0;
}

/* The next chunk of conns into keys and vals: 0 (mm->n may be 0 at the
 * end), or -errno. */
static int read_chunk(struct hadp_mirror_maps *mm)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 n = CHUNK;
	int rc;

	rc = bpf_map_lookup_batch(mm->conns->fd, mm->started ? mm->token : NULL,
				  mm->token, mm->keys, mm->vals, &n, &opts);
	rc = rc ? -errno : 0;
	mm->started = true;
	mm->n = n;
	mm->pos = 0;
	if (rc == -ENOENT)
		mm->conns_done = true;
	else if (rc)
		return rc;
	return 0;
}

/* Every interface at once (a table of at most 65534): their keys and
 * values replace the chunk. */
static int read_ifaces(struct hadp_mirror_maps *mm)
{
	void *keys, *vals;
	size_t n;
	int rc = hadp_map_entries(mm->ifaces, &keys, &vals, &n);

	if (rc)
		return rc;
	free(mm->keys);
	free(mm->vals);
	mm->keys = keys;
	mm->vals = vals;
	mm->n = n;
	mm->pos = 0;
	mm->macs = true;
	return 0;
}

static bool next_mac(struct hadp_mirror_maps *mm, struct hadp_wire_entry *e)
{
	while (mm->pos < mm->n) {
		const struct hadp_ifindex *key =
			(const void *)((char *)mm->keys + mm->pos * mm->ifaces->key_size);
		const struct hadp_iface *ifc =
			(const void *)((char *)mm->vals + mm->pos * mm->ifaces->buf_size);

		mm->pos++;
		if (ifc->mac_state != HADP_MAC_KNOWN ||
		    (ifc->flags & HADP_IFACE_MAC_STATIC))
			continue;
		memset(e, 0, sizeof(*e));
		e->kind = HADP_WIRE_K_MAC;
		e->mac.version = ifc->mac_version;
		e->mac.ifindex = key->ifindex;
		memcpy(e->mac.mac, ifc->mac, sizeof(e->mac.mac));
		return true;
	}
	return false;
}

/* The next conn of the chunk in hand that the walk gives. */
static bool next_conn(struct hadp_mirror_maps *mm, struct hadp_wire_entry *e,
		      __u64 now_ns)
{
	while (mm->pos < mm->n) {
		const struct hadp_conn_key *key =
			(const void *)((char *)mm->keys + mm->pos * mm->conns->key_size);
		const struct hadp_conn *val =
			(const void *)((char *)mm->vals + mm->pos * mm->conns->buf_size);
		struct hadp_event_conn ev = { .key = *key, .val = *val };

		mm->pos++;
		if (val->last_seen < mm->since_ns)
			continue;
		memset(e, 0, sizeof(*e));
		e->kind = HADP_WIRE_K_CONN;
		/* what the wire cannot carry (a VNI of 2^24 or more) is not
		 * given */
		if (!hadp_wire_conn_from_event(&e->conn, &ev, now_ns))
			return true;
	}
	return false;
}

int mirror_maps_dump_next(void *ctx, struct hadp_wire_entry *e, __u64 now_ns)
{
	struct hadp_mirror_maps *mm = ctx;
	bool read = false;
	int rc;

	for (;;) {
		if (mm->macs) {
			if (next_mac(mm, e))
				return 1;
			walk_reset(mm);
			return 0;
		}
		if (next_conn(mm, e, now_ns))
			return 1;
		if (mm->conns_done) {
			if (!mm->ifaces) {
				walk_reset(mm);
				return 0;
			}
			rc = read_ifaces(mm);
			if (rc)
				return rc;
			continue;
		}
		/* A repair skips most of a large table: one chunk a call
		 * keeps a call short. */
		if (read)
			return -EAGAIN;
		rc = read_chunk(mm);
		if (rc)
			return rc;
		read = true;
	}
}
