// SPDX-License-Identifier: GPL-2.0-only
/*
 * Promotion on one host (docs/ha.md, "Promotion", steps 1 and 5): the
 * old active's maps are still pinned when its agent dies, so the new
 * active takes from them whatever the mirror had not carried yet,
 * through the same store the mirror writes with.
 *
 * An entry is taken when this instance lacks it or holds an older
 * version. A NAT port clash (the old active's entry and one of ours hold
 * the same public address and port for different connections) is won by
 * the old active's: it is the one the outside has been talking to. The
 * store applies that rule, as it does for the peer's entries
 * (user/lib/mirror_store.c); here the delete of ours is also published
 * to the peer. An entry no interface of ours owns is left out.
 */
#define _GNU_SOURCE	/* qsort_r */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "hadpd.h"
#include "mirror.h"

static void publish_delete(struct hadpd *d, const struct hadp_conn_key *key,
			   const struct hadp_conn_key *rkey,
			   const struct hadp_conn *val)
{
	struct hadp_event ev = {
		.type = HADP_EV_CONN_DELETE,
		.ifindex = val->ifindex,
		.version = val->version + 1,
	};

	ev.conn.key = *key;
	ev.conn.rkey = *rkey;
	ev.conn.val = *val;
	ev.conn.val.version++;
	hadpd_sync_publish(d, &ev);
}

/*
 * A table read whole, sorted by key: a promotion compares two tables of
 * up to a million connections, and a syscall per entry and per table
 * was most of the switch time (seconds at 100 thousand under emulation).
 * Keys and values are packed together, key first, for qsort().
 */
struct table {
	char *rec;
	size_t n, vs;
	__u32 ks;
};

static int table_read(const struct hadp_map *m, struct table *t)
{
	void *keys, *vals;
	size_t i;
	int rc;

	rc = hadp_map_entries(m, &keys, &vals, &t->n);
	if (rc)
		return rc;
	t->ks = m->key_size;
	t->vs = m->buf_size;
	t->rec = malloc((t->n ? t->n : 1) * (t->ks + t->vs));
	if (t->rec) {
		for (i = 0; i < t->n; i++) {
			char *r = t->rec + i * (t->ks + t->vs);

			memcpy(r, (char *)keys + i * t->ks, t->ks);
			memcpy(r + t->ks, (char *)vals + i * t->vs, t->vs);
		}
		qsort_r(t->rec, t->n, t->ks + t->vs, hadp_map_key_cmp, &t->ks);
	}
	free(keys);
	free(vals);
	return t->rec ? 0 : -ENOMEM;
}

/* The value held for @key, or NULL. */
static const void *table_find(const struct table *t, const void *key)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *r = t->rec + mid * (t->ks + t->vs);
		int c = memcmp(key, r, t->ks);

		if (!c)
			return r + t->ks;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const void *table_key(const struct table *t, size_t i)
{
	return t->rec + i * (t->ks + t->vs);
}

/* Ours, deleted by conn_set in a clash with old's entry c. */
static void clashed(struct hadpd *d, const struct hadp_mirror_maps *mm,
		    const struct hadp_wire_conn *c)
{
	struct hadp_conn_key rkey;

	hadp_wire_conn_rkey(c, &rkey);
	publish_delete(d, &mm->displaced, &rkey, &mm->displaced_val);
	d->clashes++;
	hlog(LOG_NOTICE_P, "reconcile: NAT port clash, the old active's connection kept, ours deleted");
}

static int take_conns(struct hadpd *d, const struct table *old,
		      const struct table *mine, struct hadp_mirror_maps *mm,
		      struct hadp_mirror_store *st)
{
	struct hadp_event_conn ev;
	struct hadp_wire_conn c;
	const struct hadp_conn *have;
	size_t i;
	int rc = 0;

	for (i = 0; i < old->n && !rc; i++) {
		memset(&ev, 0, sizeof(ev));
		memcpy(&ev.key, table_key(old, i), sizeof(ev.key));
		memcpy(&ev.val, (const char *)table_key(old, i) + old->ks,
		       sizeof(ev.val));
		have = table_find(mine, &ev.key);
		if (have && !hadp_wire_version_newer(ev.val.version, have->version))
			continue;
		if (hadp_wire_conn_from_event(&c, &ev, now_ns()))
			continue;	/* a VNI no peer could have sent */
		rc = st->ops->conn_set(st->ctx, &c, now_ns());
		if (rc == -EADDRNOTAVAIL) {
			rc = 0;		/* its interface is gone here */
			continue;
		}
		if (rc == 1)
			clashed(d, mm, &c);
		if (rc >= 0) {
			rc = 0;
			d->reconciled++;
		}
	}
	return rc;
}

/* Ours that old no longer holds: deletes the mirror had not carried. */
static int prune_conns(struct hadpd *d, const struct table *old,
		       const struct table *mine, struct hadp_mirror_store *st)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < mine->n && !rc; i++) {
		if (table_find(old, table_key(mine, i)))
			continue;
		rc = st->ops->conn_del(st->ctx, table_key(mine, i));
		d->pruned += !rc;
	}
	return rc;
}

static int take_macs(struct hadpd *d, const struct hadp_inst *old,
		     struct hadp_mirror_store *st)
{
	const struct hadp_map *oi = &old->maps[HADP_MAP_IFACES];
	const struct hadp_map *mi = &d->inst.maps[HADP_MAP_IFACES];
	struct hadp_wire_mac_entry mac;
	struct hadp_ifindex *keys;
	struct hadp_iface o, m;
	size_t i, n;
	int rc;

	rc = hadp_map_keys(oi, (void **)&keys, &n);
	if (rc)
		return rc;
	for (i = 0; i < n && !rc; i++) {
		if (hadp_map_lookup(oi, &keys[i], &o) ||
		    o.mac_state != HADP_MAC_KNOWN ||
		    (o.flags & HADP_IFACE_MAC_STATIC) ||
		    hadp_map_lookup(mi, &keys[i], &m) ||
		    m.mac_state == HADP_MAC_KNOWN)
			continue;
		memset(&mac, 0, sizeof(mac));
		mac.version = o.mac_version;
		mac.ifindex = keys[i].ifindex;
		memcpy(mac.mac, o.mac, sizeof(mac.mac));
		rc = st->ops->mac_set(st->ctx, &mac);
		d->reconciled += !rc;
	}
	free(keys);
	return rc;
}

/* An old active of another program version may lay its maps out
 * differently: reading them with this version's structures would be
 * garbage. Then the mirror alone carried the state (an upgrade through
 * the pair, docs/ha.md). Table sizes may differ, and so may the delta
 * ring's (set at load): nothing reads another instance's ring. */
static bool same_layout(const struct hadpd *d, const struct hadp_inst *old)
{
	static const int maps[] = { HADP_MAP_CONNS, HADP_MAP_CONNS_REV, HADP_MAP_IFACES };
	unsigned int i;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		const struct hadp_map *a = &old->maps[maps[i]];
		const struct hadp_map *b = &d->inst.maps[maps[i]];

		if (a->key_size != b->key_size || a->value_size != b->value_size) {
			hlog(LOG_WARN_P, "reconcile: %s of %s has another layout (key %u value %u, ours %u %u): not read",
			     b->name, old->name, a->key_size, a->value_size,
			     b->key_size, b->value_size);
			return false;
		}
	}
	return true;
}

int hadpd_reconcile(struct hadpd *d, const struct hadp_inst *old, bool prune)
{
	struct hadp_mirror_maps mm = {
		.conns = &d->inst.maps[HADP_MAP_CONNS],
		.conns_rev = &d->inst.maps[HADP_MAP_CONNS_REV],
		.ifaces = &d->inst.maps[HADP_MAP_IFACES],
	};
	struct hadp_mirror_store st = hadp_mirror_maps_store(&mm);
	struct table ot = { 0 }, mt = { 0 };
	int rc;

	if (!same_layout(d, old))
		return 0;
	rc = table_read(&old->maps[HADP_MAP_CONNS], &ot);
	rc = rc ?: table_read(&d->inst.maps[HADP_MAP_CONNS], &mt);
	rc = rc ?: take_conns(d, &ot, &mt, &mm, &st);
	if (!rc && prune)
		rc = prune_conns(d, &ot, &mt, &st);
	rc = rc ?: take_macs(d, old, &st);
	free(ot.rec);
	free(mt.rec);
	hadp_mirror_maps_release(&mm);
	return rc;
}

int hadpd_touch_conns(struct hadpd *d)
{
	const struct hadp_map *mc = &d->inst.maps[HADP_MAP_CONNS];
	struct hadp_conn *val;
	__u64 now = now_ns();
	void *keys, *vals;
	size_t i, n;
	int rc;

	rc = hadp_map_entries(mc, &keys, &vals, &n);
	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		val = (struct hadp_conn *)((char *)vals + i * mc->buf_size);
		val->last_seen = now;
		/* Not a batch update: that cannot say BPF_EXIST, and an
		 * entry deleted since the walk must stay deleted. */
		if (bpf_map_update_elem(mc->fd, (char *)keys + i * mc->key_size,
					val, BPF_EXIST) && errno != ENOENT) {
			rc = -errno;
			break;
		}
	}
	free(keys);
	free(vals);
	return rc;
}
