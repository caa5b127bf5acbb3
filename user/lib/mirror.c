// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HA mirroring engine (mirror.h), sender side: coalescing, the
 * resend queue and serving dumps. The receiver is mirror_rx.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mirror_priv.h"

/* ---------------------------------------------------------------------- */
/* Batches and the resend queue                                           */
/* ---------------------------------------------------------------------- */

static struct batch *slot(struct hadp_mirror *m, unsigned int i)
{
	return &m->q[(m->head + i) % m->cfg.queue_max];
}

static void open_batch(struct hadp_mirror *m)
{
	hadp_wire_enc_init_msgs(&m->enc, m->obuf, m->room, m->peer_count);
	m->open_entries = 0;
}

static void transmit(struct hadp_mirror *m, struct batch *b, __u64 now_ns)
{
	__u64 seq;

	if (m->tx.send(m->tx.ctx, b->buf, b->len, b->count, b->id, &seq)) {
		m->st.send_errors++;
		return;
	}
	if (b->sent) {
		m->st.retransmits++;
		if (b->tries < RETRY_SHIFT_MAX)
			b->tries++;
	} else {
		b->first_seq = seq;
		b->sent = true;
		m->st.packets_sent++;
		m->st.entries_sent += b->entries;
	}
	b->seq = seq;
	b->sent_ns = now_ns;
}

static void pop_acked(struct hadp_mirror *m)
{
	while (m->n && slot(m, 0)->acked) {
		m->head = (m->head + 1) % m->cfg.queue_max;
		m->n--;
	}
}

/* The queue is full: the oldest batch goes, unacked. Its entries may be
 * missing on the peer until the next dump or refresh, so a dump being
 * served can no longer promise completeness. */
static void drop_oldest(struct hadp_mirror *m)
{
	struct batch *b = slot(m, 0);

	m->st.dropped_packets++;
	m->st.dropped_entries += b->entries;
	m->lag -= b->entries;
	if (m->dumping)
		m->dump_lost = true;
	b->acked = true;
	pop_acked(m);
}

/* Move the open batch into the queue and send it. */
static void close_batch(struct hadp_mirror *m, __u64 now_ns)
{
	struct batch *b;

	if (!m->enc.count)
		return;
	if (m->n == m->cfg.queue_max)
		drop_oldest(m);
	b = slot(m, m->n++);
	memcpy(b->buf, m->obuf, m->enc.len);
	b->len = m->enc.len;
	b->count = m->enc.count;
	b->entries = m->open_entries;
	b->id = m->next_id++;
	b->sent = b->acked = false;
	b->tries = 0;
	b->made_ns = now_ns;
	open_batch(m);
	transmit(m, b, now_ns);
}

/* One message to encode: an entry or a control body. */
struct item {
	__u8 type;
	__u8 op;
	const struct hadp_wire_entry *entry;
	const struct hadp_wire_advert *adv;
	const struct hadp_wire_dump *dump;
};

static int encode(struct hadp_mirror *m, const struct item *it)
{
	switch (it->type) {
	case HADP_WIRE_T_STATE_UPDATE:
		return hadp_wire_enc_entry(&m->enc, it->op, 0, it->entry);
	case HADP_WIRE_T_ADVERT:
		return hadp_wire_enc_advert(&m->enc, it->op, 0, it->adv);
	default:
		return hadp_wire_enc_dump(&m->enc, it->type, 0, it->dump);
	}
}

/* Append to the open batch, closing it first when the message does not
 * fit (count or bytes); a full batch goes out at once. */
static int put(struct hadp_mirror *m, const struct item *it, __u64 now_ns)
{
	int rc = encode(m, it);

	if (rc == -HADP_WIRE_ENOSPC || rc == -HADP_WIRE_ELIMIT) {
		close_batch(m, now_ns);
		rc = encode(m, it);
	}
	if (rc < 0)
		return rc;
	if (it->type == HADP_WIRE_T_STATE_UPDATE) {
		m->open_entries++;
		m->lag++;
	}
	if (m->enc.count >= m->peer_count)
		close_batch(m, now_ns);
	return 0;
}

static int put_entry(struct hadp_mirror *m, __u8 op,
		     const struct hadp_wire_entry *e, __u64 now_ns)
{
	struct item it = { .type = HADP_WIRE_T_STATE_UPDATE, .op = op, .entry = e };

	return put(m, &it, now_ns);
}

static int mirror_put_dump(struct hadp_mirror *m, __u8 type,
			   const struct hadp_wire_dump *d, __u64 now_ns)
{
	struct item it = { .type = type, .dump = d };

	return put(m, &it, now_ns);
}

/* ---------------------------------------------------------------------- */
/* Life cycle and limits                                                  */
/* ---------------------------------------------------------------------- */

struct hadp_mirror *hadp_mirror_new(const struct hadp_mirror_cfg *cfg,
				    const struct hadp_mirror_transport *tx,
				    const struct hadp_mirror_store *store)
{
	struct hadp_mirror *m;
	size_t payload = hadp_wire_payload_max(cfg->path_mtu, cfg->ipv6);
	unsigned int i, tombs = TOMB_PROBE;

	if (!cfg->queue_max || !tx->send || !store->ops ||
	    payload <= HADP_MIRROR_MIN_PAYLOAD) {
		errno = EINVAL;
		return NULL;
	}
	while (tombs < cfg->tombs)
		tombs <<= 1;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = *cfg;
	m->tx = *tx;
	m->store = *store;
	m->room_max = m->room = payload - HADP_WIRE_OVERHEAD;
	m->peer_count = 1;
	m->tmask = tombs - 1;
	m->obuf = malloc(m->room_max);
	m->q = calloc(cfg->queue_max, sizeof(*m->q));
	m->tombs = calloc(tombs, sizeof(*m->tombs));
	if (!m->obuf || !m->q || !m->tombs)
		goto fail;
	for (i = 0; i < cfg->queue_max; i++) {
		m->q[i].buf = malloc(m->room_max);
		if (!m->q[i].buf)
			goto fail;
	}
	open_batch(m);
	/* New engines apply: nothing but this one writes the store. */
	m->store.ops->own(m->store.ctx, true);
	return m;
fail:
	hadp_mirror_free(m);
	errno = ENOMEM;
	return NULL;
}

void hadp_mirror_free(struct hadp_mirror *m)
{
	unsigned int i;

	if (!m)
		return;
	m->store.ops->own(m->store.ctx, false);
	for (i = 0; m->q && i < m->cfg.queue_max; i++)
		free(m->q[i].buf);
	free(m->q);
	free(m->tombs);
	free(m->obuf);
	free(m);
}

int hadp_mirror_set_peer(struct hadp_mirror *m, unsigned int max_count,
			 unsigned int max_payload, __u64 now_ns)
{
	/* Such a peer would have every entry refused as too big, and the
	 * sync stall without a word. */
	if (max_payload && max_payload < HADP_MIRROR_MIN_PAYLOAD)
		return -ERANGE;
	close_batch(m, now_ns);
	/* 0 is read as 1, as the codec does: never more than was said. */
	m->peer_count = max_count ? max_count : 1;
	m->room = m->room_max;
	if (max_payload && max_payload < m->room_max + HADP_WIRE_OVERHEAD)
		m->room = max_payload - HADP_WIRE_OVERHEAD;
	open_batch(m);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Sender                                                                 */
/* ---------------------------------------------------------------------- */

int hadp_mirror_event(struct hadp_mirror *m, const struct hadp_event *ev,
		      __u64 now_ns)
{
	struct hadp_wire_entry e = { 0 };
	__u8 op;

	m->st.events++;
	switch (ev->type) {
	case HADP_EV_MAC_LEARNED:
		e.kind = HADP_WIRE_K_MAC;
		e.mac.version = (__u32)ev->version;
		e.mac.ifindex = ev->ifindex;
		memcpy(e.mac.mac, ev->mac, sizeof(e.mac.mac));
		op = HADP_WIRE_OP_CREATE;
		goto put;
	case HADP_EV_CONN_NEW:
		op = HADP_WIRE_OP_CREATE;
		break;
	case HADP_EV_CONN_UPDATE:
		op = HADP_WIRE_OP_UPDATE;
		break;
	case HADP_EV_CONN_DELETE:
		op = HADP_WIRE_OP_DELETE;
		break;
	default:
		/* the table-full signal is for the agent, not the peer */
		m->st.events_ignored++;
		return 0;
	}
	e.kind = HADP_WIRE_K_CONN;
	if (hadp_wire_conn_from_event(&e.conn, &ev->conn, now_ns)) {
		m->st.events_ignored++;
		return -ERANGE;
	}
put:
	if (put_entry(m, op, &e, now_ns)) {
		/* only a path too small for one message gets here */
		m->st.events_ignored++;
		return -EMSGSIZE;
	}
	return 0;
}

void hadp_mirror_flush(struct hadp_mirror *m, __u64 now_ns)
{
	close_batch(m, now_ns);
}

int hadp_mirror_send_advert(struct hadp_mirror *m, bool solicit, __u64 now_ns)
{
	struct item it = {
		.type = HADP_WIRE_T_ADVERT,
		.op = solicit ? HADP_WIRE_OP_SOLICIT : HADP_WIRE_OP_NONE,
		.adv = &m->cfg.advert,
	};
	int rc = put(m, &it, now_ns);

	close_batch(m, now_ns);
	return rc;
}

/* The dump end goes out only once every batch up to the dump's last one
 * is acked: a standby that sees it holds the whole dump. */
static void dump_finish(struct hadp_mirror *m, __u64 now_ns)
{
	struct hadp_wire_dump d = {
		.id = m->dump_id, .kinds = m->dump_kinds, .entries = m->dump_sent,
	};
	unsigned int i;

	if (!m->dumping || !m->dump_walked)
		return;
	for (i = 0; i < m->n; i++) {
		struct batch *b = slot(m, i);

		if (!b->acked && (__s32)(b->id - m->dump_last) <= 0)
			return;
	}
	d.status = m->dump_lost ? HADP_WIRE_DUMP_ABORTED : HADP_WIRE_DUMP_OK;
	if (m->dump_lost)
		m->st.dumps_aborted++;
	else
		m->st.dumps_served++;
	m->dumping = false;
	mirror_put_dump(m, HADP_WIRE_T_DUMP_END, &d, now_ns);
	close_batch(m, now_ns);
	m->end_unacked = true;
	m->end_id = m->next_id - 1;
}

/* The last dump's end is still being sent (not acked nor given up). */
static bool end_pending(struct hadp_mirror *m)
{
	__u32 i;

	if (m->end_unacked && m->n) {
		i = m->end_id - slot(m, 0)->id;
		if (i < m->n && !slot(m, i)->acked)
			return true;
	}
	m->end_unacked = false;
	return false;
}

void hadp_mirror_poll(struct hadp_mirror *m, __u64 now_ns)
{
	unsigned int i, burst = 0;

	/* A batch as old as a tombstone lives is given up (counted as
	 * dropped): delivered later, an update in it could bring back an
	 * entry deleted since, whose tombstone the peer no longer keeps.
	 * The periodic refresh carries what it held. */
	while (m->n && now_ns - slot(m, 0)->made_ns >= m->cfg.tomb_ns)
		drop_oldest(m);
	for (i = 0; i < m->n && burst < RETRY_BURST; i++) {
		struct batch *b = slot(m, i);

		if (b->acked)
			continue;
		if (!b->sent ||
		    now_ns - b->sent_ns >= m->cfg.retransmit_ns << b->tries) {
			transmit(m, b, now_ns);
			burst++;
		}
	}
	dump_finish(m, now_ns);
}

void hadp_mirror_reply(struct hadp_mirror *m, __u32 opaque, __u64 seq,
		       __u64 now_ns)
{
	struct batch *b;
	__u32 i;

	i = m->n ? opaque - slot(m, 0)->id : 0;
	if (i >= m->n) {
		m->st.replies_unknown++;
		return;
	}
	b = slot(m, i);
	if (b->acked || !b->sent || seq < b->first_seq || seq > b->seq) {
		m->st.replies_unknown++;
		return;
	}
	b->acked = true;
	m->st.acked_packets++;
	m->st.acked_entries += b->entries;
	m->lag -= b->entries;
	pop_acked(m);
	dump_finish(m, now_ns);
}

void hadp_mirror_repair(struct hadp_mirror *m, __u64 since_ns)
{
	if (!m->repair_due || since_ns < m->repair_since)
		m->repair_since = since_ns;
	m->repair_due = true;
}

/* A dump walks the store (one that waits for its last acks walks no
 * more). */
static bool dump_walking(const struct hadp_mirror *m)
{
	return m->dumping && !m->dump_walked;
}

/* A due repair starts once no dump walks the store. */
static void repair_start(struct hadp_mirror *m)
{
	__u32 count;

	if (!m->repair_due || m->repairing || dump_walking(m))
		return;
	if (m->store.ops->dump_start(m->store.ctx, m->repair_since, &count))
		return;		/* due still: tried again at the next step */
	m->repair_due = false;
	m->repairing = true;
	m->walk_since = m->repair_since;
	m->st.repairs++;
}

/* A dump request: walk the store from the start (a newer request
 * replaces a running dump; the requester only waits for its own id). */
void mirror_dump_serve(struct hadp_mirror *m, const struct hadp_wire_dump *req,
		       __u64 now_ns)
{
	struct hadp_wire_dump d = { .id = req->id, .kinds = req->kinds };
	__u32 count = HADP_WIRE_DUMP_UNKNOWN_COUNT;
	int n;

	/* The store has one walk: a repair under way walks again after. */
	if (m->repairing)
		hadp_mirror_repair(m, m->walk_since);
	m->repairing = false;
	n = m->store.ops->dump_start(m->store.ctx, 0, &count);
	m->dumping = true;
	m->dump_id = req->id;
	m->dump_kinds = req->kinds;
	m->dump_sent = 0;
	m->dump_lost = n < 0;
	m->dump_walked = n < 0;
	m->dump_last = m->next_id - 1;
	d.entries = count;
	mirror_put_dump(m, HADP_WIRE_T_DUMP_BEGIN, &d, now_ns);
}

/* ---------------------------------------------------------------------- */
/* Bulk sync                                                              */
/* ---------------------------------------------------------------------- */

int hadp_mirror_request_dump(struct hadp_mirror *m, __u64 now_ns)
{
	struct hadp_wire_dump d = { 0 };
	int rc;

	/* Ids only need to differ from the last request's, also across a
	 * restart of the agent: the clock gives that. */
	d.id = m->req_id = (__u32)(now_ns / 1000) ^ (m->req_id + 1);
	if (!d.id)
		d.id = m->req_id = 1;	/* 0 is the refresh's */
	m->sync = HADP_MIRROR_SYNC_REQUESTED;
	m->req_ns = now_ns;
	rc = mirror_put_dump(m, HADP_WIRE_T_DUMP_REQUEST, &d, now_ns);
	close_batch(m, now_ns);
	return rc;
}

/*
 * Every refresh has id 0, so the standby cannot tell one's end from the
 * next one's: a copy of the last end, sent again after its ack was lost,
 * that arrived after the next begin would sweep every entry the new
 * refresh had not carried yet. So a refresh begins only once the last
 * end is acked: every copy of it left before the new begin.
 */
int hadp_mirror_refresh(struct hadp_mirror *m, __u64 now_ns)
{
	struct hadp_wire_dump req = { 0 };

	if (m->dumping || end_pending(m))
		return -EBUSY;
	mirror_dump_serve(m, &req, now_ns);
	return 0;
}

/* The walk is over (rc 0) or failed: a dump sends its end once acked;
 * a repair that failed is due again. */
static void walk_end(struct hadp_mirror *m, int rc, __u64 now_ns)
{
	close_batch(m, now_ns);
	if (m->repairing) {
		m->repairing = false;
		if (rc < 0)
			hadp_mirror_repair(m, m->walk_since);
		return;
	}
	/* a store that fails mid-walk cannot promise all */
	m->dump_lost |= rc < 0;
	m->dump_walked = true;
	m->dump_last = m->next_id - 1;
	dump_finish(m, now_ns);
}

/* Batches a dump or repair may have in the resend queue. */
static unsigned int walk_window(const struct hadp_mirror *m)
{
	unsigned int window = m->cfg.queue_max / 2;

	if (window > DUMP_WINDOW)
		window = DUMP_WINDOW;
	return window ? window : 1;
}

bool hadp_mirror_walk_ready(const struct hadp_mirror *m)
{
	return (dump_walking(m) || hadp_mirror_repairing(m)) &&
	       m->n < walk_window(m);
}

int hadp_mirror_dump_step(struct hadp_mirror *m, unsigned int budget,
			  __u64 now_ns)
{
	unsigned int window = walk_window(m);
	struct hadp_wire_entry e;
	unsigned int done = 0;
	int rc;

	repair_start(m);
	if (!dump_walking(m) && !m->repairing)
		return 0;
	/* Paced by acks: the walk goes on as replies free the queue. */
	while (done < budget && m->n < window) {
		rc = m->store.ops->dump_next(m->store.ctx, &e, now_ns);
		if (rc == -EAGAIN)
			break;
		if (rc <= 0) {
			walk_end(m, rc, now_ns);
			break;
		}
		if (!m->repairing && m->dump_kinds &&
		    !(m->dump_kinds & (1u << e.kind)))
			continue;
		done++;
		/* a repair's are plain updates: the peer keeps what it holds */
		if (m->repairing) {
			if (!put_entry(m, HADP_WIRE_OP_UPDATE, &e, now_ns))
				m->st.repair_entries++;
		} else if (put_entry(m, HADP_WIRE_OP_DUMP, &e, now_ns)) {
			m->dump_lost = true;
		} else {
			m->dump_sent++;
		}
	}
	return (int)done;
}

bool hadp_mirror_dumping(const struct hadp_mirror *m)
{
	return m->dumping;
}

bool hadp_mirror_repairing(const struct hadp_mirror *m)
{
	return m->repairing || m->repair_due;
}

enum hadp_mirror_sync hadp_mirror_sync_state(const struct hadp_mirror *m)
{
	return m->sync;
}

const struct hadp_mirror_stats *hadp_mirror_stats(const struct hadp_mirror *m)
{
	return &m->st;
}

__u64 hadp_mirror_lag(const struct hadp_mirror *m)
{
	return m->lag;
}

unsigned int hadp_mirror_queued(const struct hadp_mirror *m)
{
	return m->n;
}
