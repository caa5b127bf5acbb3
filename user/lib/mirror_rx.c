// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mirroring engine's receiver (mirror.h): the peer's messages applied
 * to the store in version order, tombstones, and the standby's view of a
 * dump.
 */
#include <errno.h>
#include <string.h>

#include "mirror_priv.h"
#include "util.h"

/* ---------------------------------------------------------------------- */
/* Receiver                                                               */
/* ---------------------------------------------------------------------- */

static unsigned int tomb_hash(const struct hadp_conn_key *k)
{
	return hadp_hash(k, sizeof(*k));
}

static struct tomb *tomb_find(struct hadp_mirror *m,
			      const struct hadp_conn_key *k, __u64 now_ns)
{
	unsigned int h = tomb_hash(k), i;

	for (i = 0; i < TOMB_PROBE; i++) {
		struct tomb *t = &m->tombs[(h + i) & m->tmask];

		if (t->expires_ns > now_ns && !memcmp(&t->key, k, sizeof(*k)))
			return t;
	}
	return NULL;
}

/* Remember a delete. A full neighbourhood gives up the tombstone closest
 * to expiry: the table stays bounded, at worst a very late update of
 * that key comes back until the next refresh. */
static void tomb_put(struct hadp_mirror *m, const struct hadp_conn_key *k,
		     __u32 version, __u64 now_ns)
{
	struct tomb *t = tomb_find(m, k, now_ns), *victim = NULL;
	unsigned int h = tomb_hash(k), i;

	for (i = 0; !t && i < TOMB_PROBE; i++) {
		struct tomb *c = &m->tombs[(h + i) & m->tmask];

		if (c->expires_ns <= now_ns) {
			t = c;
		} else if (!victim || c->expires_ns < victim->expires_ns) {
			victim = c;
		}
	}
	if (!t) {
		m->st.tombs_evicted++;
		t = victim;
	}
	t->key = *k;
	t->version = version;
	t->expires_ns = now_ns + m->cfg.tomb_ns;
}

/* Write a peer's entry: true if it was, counted as the store answered. */
static bool store_conn(struct hadp_mirror *m, const struct hadp_wire_conn *c,
		       __u64 now_ns)
{
	int rc = m->store.ops->conn_set(m->store.ctx, c, now_ns);

	if (rc == -EADDRNOTAVAIL)
		m->st.unowned++;
	else if (rc < 0)
		m->st.apply_errors++;
	else
		m->st.rx_clashes += rc;
	return rc >= 0;
}

static void apply_conn(struct hadp_mirror *m, __u8 op,
		       const struct hadp_wire_conn *c, __u64 now_ns)
{
	const struct hadp_mirror_store_ops *ops = m->store.ops;
	struct tomb *t = NULL;
	__u32 have;
	int rc;

	if (op == HADP_WIRE_OP_DUMP) {
		m->st.dump_entries++;
		if (!m->refresh_first_ns)
			m->refresh_first_ns = now_ns;
	}
	rc = ops->conn_version(m->store.ctx, &c->key, &have);
	if (rc && rc != -ENOENT) {
		m->st.apply_errors++;
		return;
	}
	if (!rc && op == HADP_WIRE_OP_DUMP && c->version == have) {
		/* already held: marked live, so the sweep keeps it */
		if (store_conn(m, c, now_ns))
			m->st.refreshed++;
		return;
	}
	if (!rc && !hadp_wire_version_newer(c->version, have)) {
		m->st.stale++;
		return;
	}
	if (rc) {
		t = tomb_find(m, &c->key, now_ns);
		if (t && !hadp_wire_version_newer(c->version, t->version)) {
			m->st.tombstoned++;
			return;
		}
	}
	if (op == HADP_WIRE_OP_DELETE) {
		/* Also for a key not held: an update it obsoletes may be
		 * behind it on the way. */
		if (!rc && ops->conn_del(m->store.ctx, &c->key)) {
			m->st.apply_errors++;
			return;
		}
		m->st.deleted++;
		tomb_put(m, &c->key, c->version, now_ns);
		return;
	}
	if (!store_conn(m, c, now_ns))
		return;
	m->st.applied++;
	if (t)
		t->expires_ns = 0;	/* newer than the delete: it is over */
}

/* A learned MAC, in version order as connections: a late one must not
 * undo the MAC the VM was learned with since. */
static void apply_mac(struct hadp_mirror *m, __u8 op,
		      const struct hadp_wire_mac_entry *mac)
{
	const struct hadp_mirror_store_ops *ops = m->store.ops;
	__u32 have;
	int rc = ops->mac_version(m->store.ctx, mac->ifindex, &have);

	if (rc && rc != -ENOENT) {
		m->st.apply_errors++;
		return;
	}
	if (!rc && op == HADP_WIRE_OP_DUMP && mac->version == have) {
		m->st.refreshed++;
		return;
	}
	if (!rc && !hadp_wire_version_newer(mac->version, have)) {
		m->st.stale++;
		return;
	}
	if (ops->mac_set(m->store.ctx, mac))
		m->st.apply_errors++;
	else
		m->st.applied++;
}

static void apply_update(struct hadp_mirror *m, const struct hadp_wire_msg *msg,
			 __u64 now_ns)
{
	struct hadp_wire_entry e;

	if (msg->op < HADP_WIRE_OP_CREATE || msg->op > HADP_WIRE_OP_DUMP ||
	    hadp_wire_dec_entry(msg, &e, NULL, NULL)) {
		m->st.skipped++;
		return;
	}
	if (e.kind == HADP_WIRE_K_CONN)
		apply_conn(m, msg->op, &e.conn, now_ns);
	else if (msg->op == HADP_WIRE_OP_DELETE)
		m->st.skipped++;	/* a learned MAC lasts as its interface */
	else
		apply_mac(m, msg->op, &e.mac);
}

/*
 * The active's periodic refresh (id 0): complete, it shows what a lost
 * delete left behind, as a requested dump does. What it carried was
 * written at or after the earlier of its begin and its first entry to
 * arrive: retransmission does not keep order, and a begin sent again
 * can come after entries that followed it. (The end cannot overtake
 * them: it is sent once all of them were acked.)
 */
static void refresh_seen(struct hadp_mirror *m, __u8 type,
			 const struct hadp_wire_dump *d, __u64 now_ns)
{
	__u64 before = m->refresh_ns;
	int n;

	if (type == HADP_WIRE_T_DUMP_BEGIN) {
		m->refresh_ns = now_ns;
		return;
	}
	if (m->refresh_first_ns && m->refresh_first_ns < before)
		before = m->refresh_first_ns;
	if (m->refresh_ns && d->status == HADP_WIRE_DUMP_OK) {
		n = m->store.ops->conn_sweep(m->store.ctx, before);
		if (n < 0)
			m->st.apply_errors++;
		else
			m->st.swept += n;
	}
	m->refresh_ns = m->refresh_first_ns = 0;
}

static void dump_seen(struct hadp_mirror *m, __u8 type,
		      const struct hadp_wire_dump *d, __u64 now_ns)
{
	/* An active's table is its own: no peer's dump sweeps it. */
	if (m->no_apply)
		return;
	/* Where the peer's table is held against ours, ours is read afresh
	 * (the store's copy of it: an operator may have written it). */
	if (type == HADP_WIRE_T_DUMP_BEGIN &&
	    (d->id == 0 || (d->id == m->req_id && m->sync == HADP_MIRROR_SYNC_REQUESTED)))
		m->store.ops->own(m->store.ctx, true);
	if (d->id == 0) {
		refresh_seen(m, type, d, now_ns);
		return;
	}
	if (d->id != m->req_id || m->sync == HADP_MIRROR_SYNC_NONE ||
	    m->sync == HADP_MIRROR_SYNC_COMPLETE)
		return;
	if (type == HADP_WIRE_T_DUMP_BEGIN) {
		m->sync = HADP_MIRROR_SYNC_RUNNING;
	} else if (d->status == HADP_WIRE_DUMP_OK) {
		int n = m->store.ops->conn_sweep(m->store.ctx, m->req_ns);

		/* Everything the peer holds was set since the request (by
		 * the dump or a delta, whichever came first): every entry
		 * arrived before the end was sent. */
		if (n < 0)
			m->st.apply_errors++;
		else
			m->st.swept += n;
		m->sync = HADP_MIRROR_SYNC_COMPLETE;
		m->st.dumps_received++;
	} else {
		hadp_mirror_request_dump(m, now_ns);
	}
}

/* A limit no entry fits in is refused, loudly: taken, it would stall the
 * sync with every entry counted as too big and nothing said. */
static void advert_seen(struct hadp_mirror *m, const struct hadp_wire_advert *adv,
			__u64 now_ns)
{
	if (!hadp_mirror_set_peer(m, adv->max_count, adv->max_payload, now_ns))
		return;
	m->st.adverts_refused++;
	hadp_warn("sync: advert of peer %s refused: max-payload %u is below the %u bytes one entry needs; its earlier limits stay",
		  m->cfg.peer[0] ? m->cfg.peer : "(unnamed)", adv->max_payload,
		  HADP_MIRROR_MIN_PAYLOAD);
}

void hadp_mirror_set_apply(struct hadp_mirror *m, bool apply)
{
	m->no_apply = !apply;
	m->store.ops->own(m->store.ctx, apply);
}

int hadp_mirror_rx(struct hadp_mirror *m, const void *msgs, size_t len,
		   __u64 now_ns)
{
	struct hadp_wire_advert adv;
	struct hadp_wire_dump d;
	struct hadp_wire_iter it;
	struct hadp_wire_msg msg;
	int rc, n;

	rc = hadp_wire_iter_msgs(&it, msgs, len);
	while (!rc && (rc = hadp_wire_next(&it, &msg)) > 0) {
		rc = 0;
		m->st.rx_msgs++;
		switch (msg.type) {
		case HADP_WIRE_T_STATE_UPDATE:
		case HADP_WIRE_T_PACKET_UPDATE:
			if (m->no_apply)
				m->st.not_applied++;
			else
				apply_update(m, &msg, now_ns);
			continue;
		case HADP_WIRE_T_ADVERT:
			if (hadp_wire_dec_advert(&msg, &adv))
				break;
			advert_seen(m, &adv, now_ns);
			if (msg.op == HADP_WIRE_OP_SOLICIT)
				hadp_mirror_send_advert(m, false, now_ns);
			continue;
		case HADP_WIRE_T_DUMP_REQUEST:
			if (hadp_wire_dec_dump(&msg, &d))
				break;
			mirror_dump_serve(m, &d, now_ns);
			continue;
		case HADP_WIRE_T_DUMP_BEGIN:
		case HADP_WIRE_T_DUMP_END:
			if (hadp_wire_dec_dump(&msg, &d))
				break;
			dump_seen(m, msg.type, &d, now_ns);
			continue;
		}
		m->st.skipped++;
	}
	/* The packet's writes, in batches: the cost is per packet. */
	n = m->store.ops->flush(m->store.ctx);
	m->st.apply_errors += n < 0 ? 1 : n;
	return rc;
}
