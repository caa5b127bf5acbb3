// SPDX-License-Identifier: GPL-2.0-only
/*
 * Promotion on one host (DESIGN.md section 3, "Kernel-held state outlives
 * its owner"): the old active's maps are still pinned when its agent
 * dies, so the new active takes from them whatever the mirror had not
 * carried yet, through the same store the mirror writes with.
 *
 * An entry is taken when this instance lacks it or holds an older
 * version. A NAT port clash (the old active's entry and one of ours hold
 * the same public address and port for different connections) is won by
 * the old active's: it is the one the outside has been talking to. Ours
 * is deleted, and the delete is published to the peer.
 */
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

/* Our entry that holds old's public key for another connection, if any:
 * deleted (old's wins) and published. */
static int clear_clash(struct hadpd *d, struct hadp_mirror_store *st,
		       const struct hadp_conn_key *key,
		       const struct hadp_conn_key *rkey)
{
	const struct hadp_map *conns = &d->inst.maps[HADP_MAP_CONNS];
	const struct hadp_map *rev = &d->inst.maps[HADP_MAP_CONNS_REV];
	struct hadp_conn_key other;
	struct hadp_conn val;
	int rc;

	rc = hadp_map_lookup(rev, rkey, &other);
	if (rc == -ENOENT || (!rc && !memcmp(&other, key, sizeof(other))))
		return 0;
	if (rc)
		return rc;
	if (!hadp_map_lookup(conns, &other, &val)) {
		rc = st->ops->conn_del(st->ctx, &other);
		if (rc)
			return rc;
		publish_delete(d, &other, rkey, &val);
	} else if (bpf_map_delete_elem(rev->fd, rkey) && errno != ENOENT) {
		return -errno;
	}
	d->clashes++;
	hlog(LOG_NOTICE_P, "reconcile: NAT port clash, the old active's connection kept, ours deleted");
	return 0;
}

static int take_conns(struct hadpd *d, const struct hadp_inst *old,
		      struct hadp_mirror_store *st)
{
	const struct hadp_map *oc = &old->maps[HADP_MAP_CONNS];
	const struct hadp_map *mc = &d->inst.maps[HADP_MAP_CONNS];
	struct hadp_event_conn ev;
	struct hadp_wire_conn c;
	struct hadp_conn mine;
	struct hadp_conn_key *keys;
	size_t i, n;
	int rc;

	rc = hadp_map_keys(oc, (void **)&keys, &n);
	if (rc)
		return rc;
	for (i = 0; i < n && !rc; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.key = keys[i];
		if (hadp_map_lookup(oc, &keys[i], &ev.val))
			continue;	/* gone meanwhile */
		if (!hadp_map_lookup(mc, &keys[i], &mine) &&
		    !hadp_wire_version_newer(ev.val.version, mine.version))
			continue;
		if (hadp_wire_conn_from_event(&c, &ev, now_ns()))
			continue;	/* a VNI no peer could have sent */
		hadp_wire_conn_rkey(&c, &ev.rkey);
		rc = clear_clash(d, st, &c.key, &ev.rkey);
		rc = rc ?: st->ops->conn_set(st->ctx, &c, now_ns());
		if (!rc)
			d->reconciled++;
	}
	free(keys);
	return rc;
}

/* Ours that old no longer holds: deletes the mirror had not carried. */
static int prune_conns(struct hadpd *d, const struct hadp_inst *old,
		       struct hadp_mirror_store *st)
{
	const struct hadp_map *oc = &old->maps[HADP_MAP_CONNS];
	const struct hadp_map *mc = &d->inst.maps[HADP_MAP_CONNS];
	struct hadp_conn_key *keys;
	struct hadp_conn val;
	size_t i, n;
	int rc;

	rc = hadp_map_keys(mc, (void **)&keys, &n);
	if (rc)
		return rc;
	for (i = 0; i < n && !rc; i++) {
		rc = hadp_map_lookup(oc, &keys[i], &val);
		if (rc == -ENOENT) {
			rc = st->ops->conn_del(st->ctx, &keys[i]);
			d->pruned += !rc;
		}
	}
	free(keys);
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
		mac.version = 1;
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
 * the pair, docs/ha.md). */
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
	int rc;

	if (!same_layout(d, old))
		return 0;
	rc = take_conns(d, old, &st);
	if (!rc && prune)
		rc = prune_conns(d, old, &st);
	rc = rc ?: take_macs(d, old, &st);
	hadp_mirror_maps_release(&mm);
	return rc;
}

int hadpd_touch_conns(struct hadpd *d)
{
	const struct hadp_map *mc = &d->inst.maps[HADP_MAP_CONNS];
	struct hadp_conn_key *keys;
	struct hadp_conn val;
	__u64 now = now_ns();
	size_t i, n;
	int rc;

	rc = hadp_map_keys(mc, (void **)&keys, &n);
	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		if (hadp_map_lookup(mc, &keys[i], &val))
			continue;
		val.last_seen = now;
		if (bpf_map_update_elem(mc->fd, &keys[i], &val, BPF_EXIST) &&
		    errno != ENOENT) {
			rc = -errno;
			break;
		}
	}
	free(keys);
	return rc;
}
