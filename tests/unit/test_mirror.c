// SPDX-License-Identifier: GPL-2.0-only
/* The mirroring engine (user/lib/mirror.c): two engines joined by an
 * in-process link that can drop and reorder packets and replies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>

#include "bpfmap.h"
#include "mirror.h"
#include "mirror_mem.h"
#include "unit.h"

#define MS	1000000ull
#define RTO	(100 * MS)

struct pkt {
	__u8 *buf;
	size_t len;
	__u32 opaque;
	__u64 seq;
};

/* One direction: what engine `from` sent, not yet delivered. */
struct link {
	struct pkt q[4096];
	unsigned int n;
	__u64 seq;
	unsigned int sent, drop_every;
	unsigned int max_count;
	size_t max_len;
};

struct pair {
	struct hadp_mirror *e[2];
	struct mirror_mem *mem[2];
	struct link l[2];	/* l[i]: from e[i] to e[1 - i] */
	bool reverse;		/* deliver each burst last first */
	__u64 now;
};

static bool lose(struct link *l)
{
	return l->drop_every && ++l->sent % l->drop_every == 0;
}

static int link_send(void *ctx, const void *msgs, size_t len, unsigned int count,
		     __u32 opaque, __u64 *seq)
{
	struct link *l = ctx;
	struct pkt *p;

	/* the module numbers a packet whatever becomes of it */
	*seq = ++l->seq;
	if (count > l->max_count)
		l->max_count = count;
	if (len > l->max_len)
		l->max_len = len;
	ck_assert_int_eq(hadp_wire_msgs_validate(msgs, len), (int)count);
	if (lose(l))
		return 0;
	ck_assert_uint_lt(l->n, 4096);
	p = &l->q[l->n++];
	p->buf = malloc(len);
	memcpy(p->buf, msgs, len);
	p->len = len;
	p->opaque = opaque;
	p->seq = *seq;
	return 0;
}

static const struct hadp_mirror_cfg cfg0 = {
	.queue_max = 256, .path_mtu = 1500, .ipv6 = true,
	.retransmit_ns = RTO, .tombs = 1024, .tomb_ns = 10000 * MS,
	.advert = { .max_count = 64, .version_min = 1, .version_max = 1,
		    .caps = HADP_WIRE_CAP_DUMP },
};

/* Deliver what e[i] sent so far, once; each delivery is replied to over
 * the reverse link (which may lose it) unless @ack is false. True if
 * anything was delivered. */
static bool deliver(struct pair *p, unsigned int i, bool ack)
{
	struct pkt burst[4096];
	unsigned int k, n = p->l[i].n;

	memcpy(burst, p->l[i].q, n * sizeof(*burst));
	p->l[i].n = 0;
	for (k = 0; k < n; k++) {
		struct pkt *b = &burst[p->reverse ? n - 1 - k : k];

		ck_assert_int_eq(hadp_mirror_rx(p->e[1 - i], b->buf, b->len,
						p->now), 0);
		if (ack && !lose(&p->l[1 - i]))
			hadp_mirror_reply(p->e[i], b->opaque, b->seq, p->now);
		free(b->buf);
	}
	return n > 0;
}

/* Deliver everything in flight, both ways, until nothing moves. */
static void pump(struct pair *p)
{
	while (deliver(p, 0, true) | deliver(p, 1, true))
		;
}

/* Run until both sides have nothing unacked, time passing by RTOs. */
static void settle(struct pair *p)
{
	int rounds = 0;

	for (;;) {
		hadp_mirror_flush(p->e[0], p->now);
		hadp_mirror_flush(p->e[1], p->now);
		pump(p);
		if (!hadp_mirror_queued(p->e[0]) && !hadp_mirror_queued(p->e[1]) &&
		    !hadp_mirror_dumping(p->e[0]) && !hadp_mirror_dumping(p->e[1]))
			break;
		ck_assert_int_lt(++rounds, 1000);
		p->now += RTO;
		hadp_mirror_poll(p->e[0], p->now);
		hadp_mirror_poll(p->e[1], p->now);
	}
}

static void pair_init(struct pair *p, const struct hadp_mirror_cfg *cfg,
		      const struct hadp_mirror_store *store1)
{
	unsigned int i;

	memset(p, 0, sizeof(*p));
	p->now = 1000 * MS * 1000;
	for (i = 0; i < 2; i++) {
		struct hadp_mirror_transport tx = { link_send, &p->l[i] };
		struct hadp_mirror_store st;

		p->mem[i] = mirror_mem_new(8192);
		ck_assert_ptr_nonnull(p->mem[i]);
		st = i && store1 ? *store1 : mirror_mem_store(p->mem[i]);
		p->e[i] = hadp_mirror_new(cfg, &tx, &st);
		ck_assert_ptr_nonnull(p->e[i]);
	}
}

static struct pair *pair_new(const struct hadp_mirror_store *store1)
{
	struct pair *p = malloc(sizeof(*p));

	pair_init(p, &cfg0, store1);
	/* each learns the other's limits, as agents do at start */
	hadp_mirror_send_advert(p->e[0], true, p->now);
	settle(p);
	return p;
}

static void pair_free(struct pair *p)
{
	unsigned int i, k;

	for (i = 0; i < 2; i++) {
		for (k = 0; k < p->l[i].n; k++)
			free(p->l[i].q[k].buf);
		hadp_mirror_free(p->e[i]);
		mirror_mem_free(p->mem[i]);
	}
	free(p);
}

static struct hadp_conn_key key_of(unsigned int i, __u8 proto)
{
	struct hadp_conn_key k = {
		.vni = 100, .src = htonl(0x0a000001 + i / 60000),
		.dst = htonl(0x01020304), .sport = htons(1024 + i % 60000),
		.dport = proto == 1 ? 0 : htons(80), .proto = proto,
	};

	return k;
}

/* The active's datapath changes connection i: its own state (the store
 * a dump walks) and the delta it publishes. */
static void act(struct pair *p, __u32 type, unsigned int i, __u32 version)
{
	const struct hadp_mirror_store_ops *ops = mirror_mem_store(p->mem[0]).ops;
	struct hadp_event ev = { .type = type, .ifindex = 5, .version = version };
	struct hadp_wire_conn c;

	ev.conn.key = key_of(i, 6);
	ev.conn.val = (struct hadp_conn){
		.last_seen = p->now - 3 * MS * 1000, .version = version,
		.ifindex = 5, .nat_ip = htonl(0xc6336401), .nat_port = htons(2000 + i),
		.state = type == HADP_EV_CONN_NEW ? HADP_CONN_OPENING :
			 HADP_CONN_ESTABLISHED,
	};
	ck_assert_int_eq(hadp_wire_conn_from_event(&c, &ev.conn, p->now), 0);
	if (type == HADP_EV_CONN_DELETE)
		ops->conn_del(p->mem[0], &c.key);
	else
		ops->conn_set(p->mem[0], &c, p->now);
	ck_assert_int_eq(hadp_mirror_event(p->e[0], &ev, p->now), 0);
}

static __u32 version_at(struct mirror_mem *mm, unsigned int i)
{
	struct hadp_conn_key k = key_of(i, 6);
	struct hadp_wire_conn c;

	return mirror_mem_conn(mm, &k, &c, NULL) ? 0 : c.version;
}

START_TEST(test_coalesce_limits)
{
	struct pair *p = pair_new(NULL);
	unsigned int i, room = 1500 - 48 - HADP_WIRE_OVERHEAD;

	/* the advert said 64, the MTU allows 32 NAT entries */
	for (i = 0; i < 100; i++)
		act(p, HADP_EV_CONN_NEW, i, 1);
	ck_assert_uint_eq(p->l[0].max_count,
			  hadp_wire_coalesce(1500, true, 64, HADP_WIRE_CONN_LEN));
	ck_assert_uint_eq(p->l[0].max_count, 32);
	ck_assert_uint_le(p->l[0].max_len, room);
	settle(p);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[0])->packets_sent, 1 + 4);

	/* a peer that takes 5 messages, then 500-byte payloads */
	hadp_mirror_set_peer(p->e[0], 5, 0, p->now);
	p->l[0].max_count = 0;
	for (i = 100; i < 123; i++)
		act(p, HADP_EV_CONN_NEW, i, 1);
	settle(p);
	ck_assert_uint_eq(p->l[0].max_count, 5);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[0])->packets_sent, 5 + 5);

	hadp_mirror_set_peer(p->e[0], 1000, 500, p->now);
	p->l[0].max_count = p->l[0].max_len = 0;
	for (i = 123; i < 200; i++)
		act(p, HADP_EV_CONN_NEW, i, 1);
	settle(p);
	ck_assert_uint_eq(p->l[0].max_count, (500 - HADP_WIRE_OVERHEAD) /
			  HADP_WIRE_CONN_MSG_LEN);
	ck_assert_uint_le(p->l[0].max_len, 500 - HADP_WIRE_OVERHEAD);
	ck_assert(mirror_mem_equal(p->mem[0], p->mem[1]));
	ck_assert_uint_eq(hadp_mirror_lag(p->e[0]), 0);
	pair_free(p);
}
END_TEST

START_TEST(test_lossy_converges)
{
	struct pair *p = pair_new(NULL);
	const struct hadp_mirror_stats *st = hadp_mirror_stats(p->e[0]);
	unsigned int i, r;

	p->l[0].drop_every = 3;
	p->l[1].drop_every = 4;	/* replies are lost too */
	for (r = 0; r < 5; r++) {
		for (i = 0; i < 400; i++)
			act(p, r ? HADP_EV_CONN_UPDATE : HADP_EV_CONN_NEW, i, r + 1);
		hadp_mirror_flush(p->e[0], p->now);
		pump(p);
	}
	for (i = 0; i < 400; i += 3)
		act(p, HADP_EV_CONN_DELETE, i, 6);
	settle(p);
	ck_assert(mirror_mem_equal(p->mem[0], p->mem[1]));
	ck_assert_uint_eq(mirror_mem_count(p->mem[1]), 400 - 134);
	ck_assert_uint_gt(st->retransmits, 0);
	ck_assert_uint_eq(st->acked_packets, st->packets_sent);
	ck_assert_uint_eq(st->dropped_packets, 0);
	ck_assert_uint_eq(hadp_mirror_lag(p->e[0]), 0);
	pair_free(p);
}
END_TEST

/* Each change its own packet, delivered newest first. */
START_TEST(test_reorder_old_never_wins)
{
	struct pair *p = pair_new(NULL);
	const struct hadp_mirror_stats *st = hadp_mirror_stats(p->e[1]);
	__u32 v;

	act(p, HADP_EV_CONN_NEW, 1, 1);
	act(p, HADP_EV_CONN_NEW, 2, 1);
	settle(p);
	p->reverse = true;
	for (v = 2; v <= 5; v++) {
		act(p, HADP_EV_CONN_UPDATE, 1, v);
		hadp_mirror_flush(p->e[0], p->now);
	}
	pump(p);
	ck_assert_uint_eq(version_at(p->mem[1], 1), 5);
	ck_assert_uint_eq(st->stale, 3);

	/* updates overtaken by the delete: no resurrection */
	act(p, HADP_EV_CONN_UPDATE, 2, 2);
	hadp_mirror_flush(p->e[0], p->now);
	act(p, HADP_EV_CONN_UPDATE, 2, 3);
	hadp_mirror_flush(p->e[0], p->now);
	act(p, HADP_EV_CONN_DELETE, 2, 4);
	hadp_mirror_flush(p->e[0], p->now);
	pump(p);
	ck_assert_uint_eq(version_at(p->mem[1], 2), 0);
	ck_assert_uint_eq(st->tombstoned, 2);

	/* a repeated packet changes nothing; a new incarnation does */
	act(p, HADP_EV_CONN_NEW, 2, 5);
	settle(p);
	ck_assert_uint_eq(version_at(p->mem[1], 2), 5);
	ck_assert(mirror_mem_equal(p->mem[0], p->mem[1]));
	pair_free(p);
}
END_TEST

/* Versions compare as serial numbers across the 32-bit wrap. */
START_TEST(test_version_wrap)
{
	struct pair *p = pair_new(NULL);

	act(p, HADP_EV_CONN_NEW, 1, 0xfffffffe);
	settle(p);
	act(p, HADP_EV_CONN_UPDATE, 1, 1);
	settle(p);
	ck_assert_uint_eq(version_at(p->mem[1], 1), 1);
	pair_free(p);
}
END_TEST

/* Deletes of keys never held are remembered in a bounded table. */
START_TEST(test_tombs_bounded)
{
	struct hadp_mirror_cfg cfg = cfg0;
	const struct hadp_mirror_stats *st;
	struct pair *p = malloc(sizeof(*p));
	unsigned int i;

	cfg.tombs = 8;
	pair_init(p, &cfg, NULL);
	st = hadp_mirror_stats(p->e[1]);
	for (i = 0; i < 20; i++)
		act(p, HADP_EV_CONN_DELETE, i, 5);
	settle(p);
	ck_assert_uint_eq(st->deleted, 20);
	ck_assert_uint_eq(st->tombs_evicted, 12);
	/* the newest 8 still hold back older updates */
	act(p, HADP_EV_CONN_UPDATE, 19, 4);
	settle(p);
	ck_assert_uint_eq(st->tombstoned, 1);
	ck_assert_uint_eq(mirror_mem_count(p->mem[1]), 0);
	/* and expire */
	p->now += cfg.tomb_ns;
	act(p, HADP_EV_CONN_UPDATE, 18, 4);
	settle(p);
	ck_assert_uint_eq(version_at(p->mem[1], 18), 4);
	pair_free(p);
}
END_TEST

START_TEST(test_deletes_propagate)
{
	struct pair *p = pair_new(NULL);
	unsigned int i;

	for (i = 0; i < 50; i++)
		act(p, HADP_EV_CONN_NEW, i, 1);
	settle(p);
	ck_assert_uint_eq(mirror_mem_count(p->mem[1]), 50);
	for (i = 0; i < 50; i++)
		act(p, HADP_EV_CONN_DELETE, i, 2);
	settle(p);
	ck_assert_uint_eq(mirror_mem_count(p->mem[1]), 0);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[1])->deleted, 50);
	pair_free(p);
}
END_TEST

/* An active that still hears a peer's state keeps its own: counted,
 * never applied; dumps are still served. */
START_TEST(test_active_does_not_apply)
{
	struct pair *p = pair_new(NULL);

	hadp_mirror_set_apply(p->e[1], false);
	act(p, HADP_EV_CONN_NEW, 1, 1);
	settle(p);
	ck_assert_uint_eq(mirror_mem_count(p->mem[1]), 0);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[1])->not_applied, 1);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[1])->applied, 0);
	hadp_mirror_set_apply(p->e[1], true);
	act(p, HADP_EV_CONN_UPDATE, 1, 2);
	settle(p);
	ck_assert_uint_eq(version_at(p->mem[1], 1), 2);
	pair_free(p);
}
END_TEST

/* A peer that never answers: retransmissions back off, and a batch as
 * old as a tombstone lives is given up and counted. */
START_TEST(test_unacked_backs_off_and_expires)
{
	struct pair *p = pair_new(NULL);
	const struct hadp_mirror_stats *st = hadp_mirror_stats(p->e[0]);
	__u64 start = p->now, rtx;

	p->l[0].drop_every = 1;
	act(p, HADP_EV_CONN_NEW, 1, 1);
	hadp_mirror_flush(p->e[0], p->now);
	while (p->now - start < cfg0.tomb_ns / 2) {
		p->now += RTO;
		hadp_mirror_poll(p->e[0], p->now);
	}
	rtx = st->retransmits;
	/* one every RTO would be tomb_ns / 2 / RTO of them */
	ck_assert_uint_lt(rtx, cfg0.tomb_ns / 2 / RTO / 4);
	ck_assert_uint_eq(hadp_mirror_queued(p->e[0]), 1);
	while (p->now - start < cfg0.tomb_ns + RTO) {
		p->now += RTO;
		hadp_mirror_poll(p->e[0], p->now);
	}
	ck_assert_uint_eq(hadp_mirror_queued(p->e[0]), 0);
	ck_assert_uint_eq(hadp_mirror_lag(p->e[0]), 0);
	ck_assert_uint_eq(st->dropped_packets, 1);
	ck_assert_uint_eq(st->dropped_entries, 1);
	pair_free(p);
}
END_TEST

/* Let the active stream the dump it serves to its end, 8 entries a
 * turn, time passing by RTOs (a lost batch is sent again). */
static void stream_dump(struct pair *p)
{
	unsigned int steps = 0;

	while (hadp_mirror_dumping(p->e[0])) {
		ck_assert_uint_lt(++steps, 100);
		hadp_mirror_dump_step(p->e[0], 8, p->now);
		hadp_mirror_flush(p->e[0], p->now);
		pump(p);
		p->now += RTO;
		hadp_mirror_poll(p->e[0], p->now);
	}
}

/* Connections 0-19 made and synced; and 500 on the standby only, the
 * zombie of a delete it never got (written into @c). */
static void with_zombie(struct pair *p, struct hadp_wire_conn *c)
{
	unsigned int i;

	for (i = 0; i < 20; i++)
		act(p, HADP_EV_CONN_NEW, i, 1);
	settle(p);
	memset(c, 0, sizeof(*c));
	c->key = key_of(500, 6);
	c->version = 1;
	ck_assert_int_eq(mirror_mem_store(p->mem[1]).ops->conn_set(p->mem[1], c, p->now), 0);
	ck_assert_uint_eq(mirror_mem_count(p->mem[1]), 21);
}

/* A delete the standby never got is healed by the next periodic
 * refresh: complete, it sweeps what it did not carry. */
START_TEST(test_refresh_sweeps_zombies)
{
	struct pair *p = pair_new(NULL);
	const struct hadp_mirror_store_ops *ops = mirror_mem_store(p->mem[1]).ops;
	struct hadp_wire_conn c;

	with_zombie(p, &c);
	p->now += MS;
	ck_assert_int_eq(hadp_mirror_refresh(p->e[0], p->now), 0);
	stream_dump(p);
	ck_assert_uint_eq(mirror_mem_count(p->mem[1]), 20);
	ck_assert(mirror_mem_equal(p->mem[0], p->mem[1]));
	ck_assert_uint_eq(hadp_mirror_stats(p->e[1])->swept, 1);
	/* an engine that does not apply (an active) is never swept */
	hadp_mirror_set_apply(p->e[1], false);
	ck_assert_int_eq(ops->conn_set(p->mem[1], &c, p->now), 0);
	p->now += MS;
	ck_assert_int_eq(hadp_mirror_refresh(p->e[0], p->now), 0);
	stream_dump(p);
	ck_assert_uint_eq(mirror_mem_count(p->mem[1]), 21);
	pair_free(p);
}
END_TEST

/* A pair with @n connections made and synced, and a periodic refresh
 * of them begun (its begin not sent yet). */
static struct pair *refreshing(unsigned int n)
{
	struct pair *p = pair_new(NULL);
	unsigned int i;

	for (i = 0; i < n; i++)
		act(p, HADP_EV_CONN_NEW, i, 1);
	settle(p);
	p->now += MS;
	ck_assert_int_eq(hadp_mirror_refresh(p->e[0], p->now), 0);
	return p;
}

/* The refresh's begin lost and sent again after its entries arrived:
 * the sweep must not take them for zombies. */
START_TEST(test_refresh_begin_late)
{
	struct pair *p = refreshing(40);

	p->l[0].drop_every = 100000;
	p->l[0].sent = 100000 - 1;	/* the next send, the begin, is lost */
	hadp_mirror_flush(p->e[0], p->now);
	stream_dump(p);
	ck_assert_uint_ge(hadp_mirror_stats(p->e[0])->retransmits, 1);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[1])->swept, 0);
	ck_assert_uint_eq(mirror_mem_count(p->mem[1]), 40);
	pair_free(p);
}
END_TEST

/* The end of a refresh delivered but its ack lost: the next refresh
 * waits until the end is sent again and acked. Begun before, a late copy
 * of the old end after the new begin would sweep what the new refresh
 * had not carried yet. */
START_TEST(test_refresh_waits_for_its_end)
{
	struct pair *p = refreshing(40);

	while (hadp_mirror_dumping(p->e[0])) {
		hadp_mirror_dump_step(p->e[0], 64, p->now);
		hadp_mirror_flush(p->e[0], p->now);
		deliver(p, 0, true);	/* the last ack sends the end */
	}
	ck_assert(deliver(p, 0, false));	/* the end, its ack lost */
	p->now += MS;
	ck_assert_int_eq(hadp_mirror_refresh(p->e[0], p->now), -EBUSY);
	p->now += RTO;
	hadp_mirror_poll(p->e[0], p->now);	/* the end again */
	ck_assert(deliver(p, 0, true));
	ck_assert_int_eq(hadp_mirror_refresh(p->e[0], p->now), 0);
	stream_dump(p);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[1])->swept, 0);
	ck_assert_uint_eq(mirror_mem_count(p->mem[1]), 40);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[0])->dumps_served, 2);
	pair_free(p);
}
END_TEST

START_TEST(test_queue_overflow)
{
	struct hadp_mirror_cfg cfg = cfg0;
	const struct hadp_mirror_stats *st;
	struct pair *p = malloc(sizeof(*p));
	unsigned int i;

	cfg.queue_max = 4;
	pair_init(p, &cfg, NULL);
	st = hadp_mirror_stats(p->e[0]);
	p->l[0].drop_every = 1;	/* the peer is gone */
	for (i = 0; i < 10; i++) {
		act(p, HADP_EV_CONN_NEW, i, 1);	/* one per batch: no advert */
		p->now += RTO;
		hadp_mirror_poll(p->e[0], p->now);
	}
	ck_assert_uint_eq(hadp_mirror_queued(p->e[0]), 4);
	ck_assert_uint_eq(st->dropped_packets, 6);
	ck_assert_uint_eq(st->dropped_entries, 6);
	ck_assert_uint_eq(hadp_mirror_lag(p->e[0]), 4);
	ck_assert_uint_gt(st->retransmits, 0);

	/* the peer is back: the 4 kept arrive */
	p->l[0].drop_every = 0;
	settle(p);
	ck_assert_uint_eq(mirror_mem_count(p->mem[1]), 4);
	ck_assert_uint_eq(version_at(p->mem[1], 9), 1);
	ck_assert_uint_eq(hadp_mirror_lag(p->e[0]), 0);

	/* what the overflow lost, the periodic refresh brings */
	ck_assert(!mirror_mem_equal(p->mem[0], p->mem[1]));
	ck_assert_int_eq(hadp_mirror_refresh(p->e[0], p->now), 0);
	ck_assert_int_eq(hadp_mirror_refresh(p->e[0], p->now), -EBUSY);
	while (hadp_mirror_dump_step(p->e[0], 3, p->now) > 0)
		pump(p);	/* within the queue of 4 */
	settle(p);
	ck_assert(mirror_mem_equal(p->mem[0], p->mem[1]));
	ck_assert_uint_eq(hadp_mirror_stats(p->e[0])->dumps_served, 1);
	ck_assert_int_eq(hadp_mirror_sync_state(p->e[1]), HADP_MIRROR_SYNC_NONE);
	pair_free(p);
}
END_TEST

/* A reply acks by batch (the packet opaque) and sequence number; a late
 * reply to an earlier transmission proves the same bytes arrived. */
START_TEST(test_reply_matching)
{
	struct pair *p = malloc(sizeof(*p));
	const struct hadp_mirror_stats *st;
	struct pkt *a;

	pair_init(p, &cfg0, NULL);
	st = hadp_mirror_stats(p->e[0]);
	act(p, HADP_EV_CONN_NEW, 1, 1);
	act(p, HADP_EV_CONN_NEW, 2, 1);
	ck_assert_uint_eq(p->l[0].n, 2);
	a = &p->l[0].q[0];
	p->now += RTO;
	hadp_mirror_poll(p->e[0], p->now);	/* both again: seq 3 and 4 */
	ck_assert_uint_eq(st->retransmits, 2);
	hadp_mirror_reply(p->e[0], a->opaque, 5, p->now);	/* never sent */
	hadp_mirror_reply(p->e[0], a->opaque + 7, a->seq, p->now);
	ck_assert_uint_eq(st->replies_unknown, 2);
	hadp_mirror_reply(p->e[0], a->opaque, a->seq, p->now);	/* the first */
	hadp_mirror_reply(p->e[0], a->opaque, 3, p->now);	/* taken once */
	ck_assert_uint_eq(st->acked_packets, 1);
	ck_assert_uint_eq(st->replies_unknown, 3);
	ck_assert_uint_eq(hadp_mirror_queued(p->e[0]), 1);
	ck_assert_uint_eq(hadp_mirror_lag(p->e[0]), 1);
	hadp_mirror_reply(p->e[0], a->opaque + 1, 4, p->now);
	ck_assert_uint_eq(hadp_mirror_queued(p->e[0]), 0);
	ck_assert_uint_eq(hadp_mirror_lag(p->e[0]), 0);
	pair_free(p);
}
END_TEST

/* What cannot be used is skipped and counted; the rest applies. */
START_TEST(test_rx_skips)
{
	struct pair *p = malloc(sizeof(*p));
	struct hadp_wire_entry e = { .kind = HADP_WIRE_K_CONN };
	struct hadp_wire_enc enc;
	__u8 buf[512];
	int len;

	pair_init(p, &cfg0, NULL);
	e.conn.key = key_of(1, 6);
	e.conn.version = 1;
	hadp_wire_enc_init_msgs(&enc, buf, sizeof(buf), 0);
	ck_assert_int_eq(hadp_wire_enc_msg(&enc, 42, 0, 0, "x", 1), 0);
	ck_assert_int_eq(hadp_wire_enc_entry(&enc, 9, 0, &e), 0);	/* bad op */
	ck_assert_int_eq(hadp_wire_enc_msg(&enc, HADP_WIRE_T_STATE_UPDATE,
					   HADP_WIRE_OP_CREATE, 0, "\x07\x02", 2), 0);
	ck_assert_int_eq(hadp_wire_enc_entry(&enc, HADP_WIRE_OP_CREATE, 0, &e), 0);
	len = hadp_wire_enc_finish(&enc, NULL, NULL);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(hadp_mirror_rx(p->e[1], buf, len, p->now), 0);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[1])->skipped, 3);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[1])->applied, 1);
	/* a stream cut short applies what came before the cut */
	ck_assert_int_lt(hadp_mirror_rx(p->e[1], buf, len - 1, p->now), 0);
	ck_assert_uint_eq(version_at(p->mem[1], 1), 1);
	pair_free(p);
}
END_TEST

/* A standby joins an active holding N connections that keep changing
 * while the dump runs, over a lossy link. */
START_TEST(test_bulk_dump)
{
	const struct hadp_mirror_store_ops *ops;
	struct pair *p = pair_new(NULL);
	unsigned int i, n = 3000, steps = 0;
	struct hadp_wire_conn c = { 0 };

	ops = mirror_mem_store(p->mem[0]).ops;
	for (i = 0; i < n; i++) {
		c.key = key_of(i, 6);
		c.version = 7;
		c.nat_port = htons(i);
		ck_assert_int_eq(ops->conn_set(p->mem[0], &c, p->now), 0);
	}
	/* the standby held some of it already, and zombies of deletes it
	 * missed */
	ops = mirror_mem_store(p->mem[1]).ops;
	for (i = 0; i < 500; i++) {
		c.key = key_of(i, 6);
		c.nat_port = htons(i);
		ck_assert_int_eq(ops->conn_set(p->mem[1], &c, p->now), 0);
	}
	for (i = 0; i < 100; i++) {
		c.key = key_of(100000 + i, 6);
		ck_assert_int_eq(ops->conn_set(p->mem[1], &c, p->now), 0);
	}
	p->now += MS;
	p->l[0].drop_every = 5;
	p->l[1].drop_every = 6;
	ck_assert_int_eq(hadp_mirror_request_dump(p->e[1], p->now), 0);
	ck_assert_int_eq(hadp_mirror_sync_state(p->e[1]), HADP_MIRROR_SYNC_REQUESTED);
	while (hadp_mirror_sync_state(p->e[1]) != HADP_MIRROR_SYNC_COMPLETE) {
		ck_assert_uint_lt(++steps, 2000);
		hadp_mirror_dump_step(p->e[0], 100, p->now);
		/* live deltas in between: updates, deletes, new ones */
		i = (steps * 97) % n;
		/* a deleted key is never re-created: see the report on
		 * versions restarting at 1 */
		if (version_at(p->mem[0], i))
			act(p, HADP_EV_CONN_UPDATE, i, version_at(p->mem[0], i) + 1);
		if (version_at(p->mem[0], (i + 1) % n))
			act(p, HADP_EV_CONN_DELETE, (i + 1) % n,
			    version_at(p->mem[0], (i + 1) % n) + 1);
		act(p, HADP_EV_CONN_NEW, n + steps, 1);
		hadp_mirror_flush(p->e[0], p->now);
		pump(p);
		p->now += RTO;
		hadp_mirror_poll(p->e[0], p->now);
		hadp_mirror_poll(p->e[1], p->now);
	}
	/* complete means the dump is all there: what only the dump
	 * carried (never changed since) is on the standby already */
	for (i = 0; i < n; i++)
		if (version_at(p->mem[0], i) == 7)
			ck_assert_uint_eq(version_at(p->mem[1], i), 7);
	ck_assert_uint_gt(hadp_mirror_stats(p->e[0])->retransmits, 0);
	settle(p);
	ck_assert_uint_ge(hadp_mirror_stats(p->e[1])->applied +
			  hadp_mirror_stats(p->e[1])->refreshed, n);
	ck_assert_uint_gt(hadp_mirror_stats(p->e[1])->refreshed, 0);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[1])->swept, 100);
	ck_assert_uint_gt(hadp_mirror_stats(p->e[1])->deleted, 0);
	ck_assert(mirror_mem_equal(p->mem[0], p->mem[1]));
	ck_assert_uint_eq(hadp_mirror_stats(p->e[0])->dumps_served, 1);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[1])->dumps_received, 1);
	pair_free(p);
}
END_TEST

/* A dump is paced by the peer's acks: unanswered, it stops at its window
 * (nothing given up, no overflow), and it goes on as replies come. */
START_TEST(test_dump_paced)
{
	const struct hadp_mirror_store_ops *ops;
	struct pair *p = pair_new(NULL);
	struct hadp_wire_conn c = { 0 };
	unsigned int i, n = 5000, rounds = 0;

	ops = mirror_mem_store(p->mem[0]).ops;
	for (i = 0; i < n; i++) {
		c.key = key_of(i, 17);
		c.version = 3;
		ck_assert_int_eq(ops->conn_set(p->mem[0], &c, p->now), 0);
	}
	hadp_mirror_request_dump(p->e[1], p->now);
	pump(p);
	ck_assert_int_lt(hadp_mirror_dump_step(p->e[0], n, p->now), (int)n);
	ck_assert_uint_eq(hadp_mirror_queued(p->e[0]), 64);
	ck_assert_int_eq(hadp_mirror_dump_step(p->e[0], n, p->now), 0);
	/* live deltas do not wait for the dump */
	act(p, HADP_EV_CONN_NEW, n, 1);
	hadp_mirror_flush(p->e[0], p->now);
	ck_assert_uint_eq(hadp_mirror_queued(p->e[0]), 65);
	while (hadp_mirror_sync_state(p->e[1]) != HADP_MIRROR_SYNC_COMPLETE) {
		ck_assert_uint_lt(++rounds, 200);
		pump(p);
		hadp_mirror_dump_step(p->e[0], n, p->now);
		ck_assert_uint_le(hadp_mirror_queued(p->e[0]), 64);
	}
	ck_assert_uint_eq(hadp_mirror_stats(p->e[0])->dropped_packets, 0);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[0])->dumps_aborted, 0);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[0])->retransmits, 0);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[1])->dump_entries, n);	/* the walk's snapshot */
	ck_assert(mirror_mem_equal(p->mem[0], p->mem[1]));
	pair_free(p);
}
END_TEST

/* A dump that lost batches (the peer silent for as long as a tombstone
 * lives: given up) ends aborted; the standby asks again and completes. */
START_TEST(test_dump_aborted_retried)
{
	struct hadp_mirror_cfg cfg = cfg0;
	const struct hadp_mirror_store_ops *ops;
	struct pair *p = malloc(sizeof(*p));
	struct hadp_wire_conn c = { 0 };
	unsigned int i;

	cfg.queue_max = 8;
	pair_init(p, &cfg, NULL);
	hadp_mirror_send_advert(p->e[0], true, p->now);
	settle(p);
	ops = mirror_mem_store(p->mem[0]).ops;
	for (i = 0; i < 1000; i++) {
		c.key = key_of(i, 6);
		c.version = 1;
		ops->conn_set(p->mem[0], &c, p->now);
	}
	hadp_mirror_request_dump(p->e[1], p->now);
	pump(p);
	p->l[0].drop_every = 1;
	hadp_mirror_dump_step(p->e[0], 1000, p->now);
	ck_assert_uint_eq(hadp_mirror_queued(p->e[0]), 4);	/* half the queue */
	p->now += cfg.tomb_ns;
	hadp_mirror_poll(p->e[0], p->now);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[0])->dropped_packets, 4);
	p->l[0].drop_every = 0;
	for (i = 0; i < 200 && hadp_mirror_sync_state(p->e[1]) !=
	     HADP_MIRROR_SYNC_COMPLETE; i++) {
		p->now += RTO;
		hadp_mirror_poll(p->e[0], p->now);
		hadp_mirror_poll(p->e[1], p->now);
		pump(p);
		hadp_mirror_dump_step(p->e[0], 50, p->now);
		hadp_mirror_flush(p->e[0], p->now);
		pump(p);
	}
	ck_assert_int_eq(hadp_mirror_sync_state(p->e[1]), HADP_MIRROR_SYNC_COMPLETE);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[0])->dumps_aborted, 1);
	ck_assert_uint_eq(hadp_mirror_stats(p->e[0])->dumps_served, 1);
	settle(p);
	ck_assert(mirror_mem_equal(p->mem[0], p->mem[1]));
	pair_free(p);
}
END_TEST

struct hadp_map unit_hash_map(__u32 ksz, __u32 vsz)
{
	struct hadp_map m;
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "unit", ksz, vsz, 64, NULL);

	ck_assert_msg(fd >= 0, "bpf_map_create: %s", strerror(errno));
	ck_assert_int_eq(hadp_map_from_fd(fd, &m), 0);
	return m;
}

static size_t nkeys(const struct hadp_map *m)
{
	void *keys;
	size_t n;

	ck_assert_int_eq(hadp_map_keys(m, &keys, &n), 0);
	free(keys);
	return n;
}

/* The standby's store is an instance's maps. */
START_TEST(test_maps_store)
{
	struct hadp_map conns = unit_hash_map(sizeof(struct hadp_conn_key), sizeof(struct hadp_conn));
	struct hadp_map rev = unit_hash_map(sizeof(struct hadp_conn_key), sizeof(struct hadp_conn_key));
	struct hadp_map ifaces = unit_hash_map(sizeof(struct hadp_ifindex), sizeof(struct hadp_iface));
	struct hadp_mirror_maps mm = { .conns = &conns, .conns_rev = &rev, .ifaces = &ifaces };
	struct hadp_mirror_store st = hadp_mirror_maps_store(&mm);
	struct hadp_ifindex ik = { 7 };
	struct hadp_iface ifc = { .name = "vm7" };
	struct hadp_event ev = { .type = HADP_EV_MAC_LEARNED, .ifindex = 7, .version = 1,
				 .mac = { 2, 0, 0, 0, 0, 7 } };
	struct hadp_conn_key k = key_of(1, 6), ki = key_of(2, 1), r, back;
	struct hadp_conn val;
	struct pair *p;
	__u8 mac[6];

	ck_assert_int_eq(bpf_map_update_elem(ifaces.fd, &ik, &ifc, BPF_ANY), 0);
	{	/* the VM of key_of(): here it is ifindex 9, on the sender 5 */
		struct hadp_ifindex k9 = { 9 };
		struct hadp_iface vm9 = { .name = "vm9", .vni = 100,
					  .flags = HADP_IFACE_IPV4,
					  .ipv4 = key_of(1, 6).src };

		ck_assert_int_eq(bpf_map_update_elem(ifaces.fd, &k9, &vm9, BPF_ANY), 0);
	}
	p = pair_new(&st);
	ck_assert_int_eq(hadp_mirror_event(p->e[0], &ev, p->now), 0);
	act(p, HADP_EV_CONN_NEW, 1, 1);
	act(p, HADP_EV_CONN_UPDATE, 1, 2);
	{	/* an ICMP echo: the identifier is the public key's sport */
		struct hadp_event ie = { .type = HADP_EV_CONN_NEW, .ifindex = 5, .version = 1 };

		ie.conn.key = ki;
		ie.conn.val = (struct hadp_conn){ .version = 1, .ifindex = 5,
			.nat_ip = htonl(0xc6336401), .nat_port = htons(3000),
			.state = HADP_CONN_OPENING, .last_seen = p->now };
		ck_assert_int_eq(hadp_mirror_event(p->e[0], &ie, p->now), 0);
	}
	p->now += 5 * MS;
	settle(p);

	ck_assert_int_eq(hadp_map_lookup(&conns, &k, &val), 0);
	ck_assert_uint_eq(val.version, 2);
	ck_assert_uint_eq(val.state, HADP_CONN_ESTABLISHED);
	ck_assert_uint_eq(val.last_seen, p->now);	/* just seen, our clock */
	ck_assert_uint_eq(val.nat_port, htons(2001));
	ck_assert_uint_eq(val.ifindex, 9);	/* mapped by VNI and address */
	r = (struct hadp_conn_key){ .src = k.dst, .dst = htonl(0xc6336401),
				    .sport = k.dport, .dport = htons(2001), .proto = 6 };
	ck_assert_int_eq(hadp_map_lookup(&rev, &r, &back), 0);
	ck_assert_mem_eq(&back, &k, sizeof(k));
	r = (struct hadp_conn_key){ .src = ki.dst, .dst = htonl(0xc6336401),
				    .sport = htons(3000), .proto = 1 };
	ck_assert_int_eq(hadp_map_lookup(&rev, &r, &back), 0);
	ck_assert_mem_eq(&back, &ki, sizeof(ki));
	ck_assert_int_eq(hadp_map_lookup(&ifaces, &ik, &ifc), 0);
	ck_assert_uint_eq(ifc.mac_state, HADP_MAC_KNOWN);
	ck_assert_mem_eq(ifc.mac, ev.mac, 6);

	/* the maps serve a dump: a fresh peer gets all three */
	hadp_mirror_request_dump(p->e[0], p->now);
	while (hadp_mirror_sync_state(p->e[0]) != HADP_MIRROR_SYNC_COMPLETE) {
		ck_assert_int_ge(hadp_mirror_dump_step(p->e[1], 10, p->now), 0);
		hadp_mirror_flush(p->e[1], p->now);
		pump(p);
	}
	ck_assert_int_eq(mirror_mem_mac(p->mem[0], 7, mac), 0);
	ck_assert_mem_eq(mac, ev.mac, 6);

	/* deletes take both keys */
	act(p, HADP_EV_CONN_DELETE, 1, 3);
	settle(p);
	ck_assert_int_eq(hadp_map_lookup(&conns, &k, &val), -ENOENT);
	r = (struct hadp_conn_key){ .src = k.dst, .dst = htonl(0xc6336401),
				    .sport = k.dport, .dport = htons(2001), .proto = 6 };
	ck_assert_int_eq(hadp_map_lookup(&rev, &r, &back), -ENOENT);
	ck_assert_int_eq(hadp_mirror_stats(p->e[1])->apply_errors, 0);

	/* as a standby that asks for a dump: what the peer does not hold
	 * goes, both keys */
	act(p, HADP_EV_CONN_NEW, 3, 1);
	settle(p);
	k = key_of(4, 6);
	r = (struct hadp_conn_key){ .src = k.dst, .dst = htonl(0xc6336401),
				    .sport = k.dport, .dport = htons(2004), .proto = 6 };
	val = (struct hadp_conn){ .last_seen = 1, .version = 9,
				  .nat_ip = htonl(0xc6336401), .nat_port = htons(2004) };
	ck_assert_int_eq(bpf_map_update_elem(conns.fd, &k, &val, BPF_ANY), 0);
	ck_assert_int_eq(bpf_map_update_elem(rev.fd, &r, &k, BPF_ANY), 0);
	p->now += MS;
	hadp_mirror_request_dump(p->e[1], p->now);
	while (hadp_mirror_sync_state(p->e[1]) != HADP_MIRROR_SYNC_COMPLETE) {
		ck_assert_int_ge(hadp_mirror_dump_step(p->e[0], 10, p->now), 0);
		hadp_mirror_flush(p->e[0], p->now);
		pump(p);
	}
	ck_assert_uint_eq(hadp_mirror_stats(p->e[1])->swept, 1);
	ck_assert_int_eq(hadp_map_lookup(&rev, &r, &back), -ENOENT);
	ck_assert_uint_eq(nkeys(&conns), 2);	/* the ICMP one and 3 */
	ck_assert_uint_eq(nkeys(&rev), 2);
	k = key_of(3, 6);
	ck_assert_int_eq(hadp_map_lookup(&conns, &k, &val), 0);

	pair_free(p);
	hadp_mirror_maps_release(&mm);
	hadp_map_close(&conns);
	hadp_map_close(&rev);
	hadp_map_close(&ifaces);
}
END_TEST

/* Deltas the ring lost are sent again by a repair: the conns seen since
 * the loss, as plain updates, and nothing is swept on the standby (no
 * dump framing); a dump that starts meanwhile puts the repair off. */
START_TEST(test_repair)
{
	struct pair *p = pair_new(NULL);
	const struct hadp_mirror_store_ops *ops = mirror_mem_store(p->mem[0]).ops;
	const struct hadp_mirror_stats *st = hadp_mirror_stats(p->e[0]);
	struct hadp_wire_conn c;
	__u64 since;
	unsigned int i, steps = 0;

	/* the zombie is swept by a refresh, never by a repair */
	with_zombie(p, &c);
	p->now += 1000 * MS;
	since = p->now;
	/* ten made with their deltas lost, one changed with it lost */
	for (i = 20; i < 30; i++) {
		c.key = key_of(i, 6);
		c.version = 1;
		ck_assert_int_eq(ops->conn_set(p->mem[0], &c, p->now), 0);
	}
	c.key = key_of(3, 6);
	ck_assert_int_eq(mirror_mem_conn(p->mem[0], &c.key, &c, NULL), 0);
	c.version = 2;
	ck_assert_int_eq(ops->conn_set(p->mem[0], &c, p->now), 0);
	/* a refresh walks the store: the repair waits for it */
	ck_assert_int_eq(hadp_mirror_refresh(p->e[0], p->now), 0);
	hadp_mirror_repair(p->e[0], since);
	hadp_mirror_dump_step(p->e[0], 4, p->now);
	ck_assert_uint_eq(st->repairs, 0);
	ck_assert(hadp_mirror_repairing(p->e[0]));
	stream_dump(p);
	ck_assert_uint_eq(mirror_mem_count(p->mem[1]), 30);	/* swept */
	/* the standby missed them again: the repair brings them back */
	for (i = 20; i < 30; i++) {
		c.key = key_of(i, 6);
		ck_assert_int_eq(mirror_mem_store(p->mem[1]).ops->conn_del(p->mem[1], &c.key), 0);
	}
	c.key = key_of(500, 6);
	c.version = 1;
	ck_assert_int_eq(mirror_mem_store(p->mem[1]).ops->conn_set(p->mem[1], &c, p->now), 0);
	while (hadp_mirror_repairing(p->e[0])) {
		ck_assert_uint_lt(++steps, 100);
		ck_assert_int_ge(hadp_mirror_dump_step(p->e[0], 4, p->now), 0);
		settle(p);
	}
	ck_assert_uint_eq(st->repairs, 1);
	ck_assert_uint_eq(st->repair_entries, 11);	/* the ten and 3 */
	ck_assert_uint_eq(st->dumps_served, 1);		/* the refresh only */
	ck_assert_uint_eq(mirror_mem_count(p->mem[1]), 31);	/* 500 stays */
	ck_assert_uint_eq(version_at(p->mem[1], 3), 2);
	for (i = 0; i < 30; i++)
		ck_assert_uint_eq(version_at(p->mem[1], i), version_at(p->mem[0], i));
	ck_assert_uint_eq(hadp_mirror_stats(p->e[1])->swept, 1);	/* the refresh's */
	pair_free(p);
}
END_TEST

/* Whether the walk's chunk in hand holds key k, not given yet. */
static bool in_chunk(const struct hadp_mirror_maps *mm, const struct hadp_conn_key *k)
{
	size_t i;

	for (i = mm->pos; i < mm->n; i++)
		if (!memcmp((const char *)mm->keys + i * sizeof(*k), k, sizeof(*k)))
			return true;
	return false;
}

/* Walk an instance's conns through the store ops: every entry given
 * once, in chunks (more entries than one), none deleted before its chunk
 * was read; a repair's walk gives the recent ones only, and the MAC. */
START_TEST(test_maps_walk)
{
	enum { N = 5000 };
	struct hadp_map conns, ifaces;
	struct hadp_mirror_maps mm = { 0 };
	struct hadp_mirror_store st;
	struct hadp_ifindex ik = { 7 };
	struct hadp_iface ifc = { .mac_state = HADP_MAC_KNOWN, .mac_version = 3 };
	static unsigned char seen[N];
	struct hadp_wire_entry e;
	struct hadp_conn_key k;
	struct hadp_conn val = { .version = 1, .nat_ip = htonl(0xc6336401) };
	unsigned int i, given = 0, macs = 0, again = 0, early = 0, tenth = 0;
	unsigned int inchunk = 0;
	__u32 count = 0;
	int fd, rc;

	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "unit", sizeof(k), sizeof(val), N, NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(hadp_map_from_fd(fd, &conns), 0);
	ifaces = unit_hash_map(sizeof(ik), sizeof(ifc));
	ck_assert_int_eq(bpf_map_update_elem(ifaces.fd, &ik, &ifc, BPF_ANY), 0);
	mm.conns = &conns;
	mm.ifaces = &ifaces;
	st = hadp_mirror_maps_store(&mm);
	for (i = 0; i < N; i++) {
		k = key_of(i, 6);
		val.last_seen = i;	/* the odd ones below are the recent */
		val.nat_port = htons(i);
		ck_assert_int_eq(bpf_map_update_elem(fd, &k, &val, BPF_ANY), 0);
	}
	/* a dump; a tenth deleted once it is under way */
	ck_assert_int_eq(st.ops->dump_start(st.ctx, 0, &count), 0);
	for (;;) {
		rc = st.ops->dump_next(st.ctx, &e, 1);
		if (rc == -EAGAIN) {
			again++;
			continue;
		}
		ck_assert_int_ge(rc, 0);
		if (!rc)
			break;
		if (e.kind == HADP_WIRE_K_MAC) {
			macs++;
			continue;
		}
		i = ntohs(e.conn.nat_port);
		ck_assert_uint_lt(i, N);
		ck_assert_uint_eq(seen[i], 0);
		seen[i] = 1;
		if (++given == 10) {
			for (i = 0; i < N; i += 10) {
				k = key_of(i, 6);
				early += seen[i];
				if (seen[i])
					continue;
				ck_assert_int_eq(bpf_map_delete_elem(fd, &k), 0);
				inchunk += in_chunk(&mm, &k);
			}
		}
	}
	ck_assert_uint_eq(macs, 1);
	for (i = 0; i < N; i++) {
		if (i % 10)
			ck_assert_msg(seen[i], "entry %u not given", i);
		else
			tenth += seen[i];
	}
	/* once deleted, given only from the chunk read before (the
	 * delete's delta outranks it at the peer) */
	ck_assert_uint_eq(tenth, early + inchunk);
	ck_assert_uint_lt(inchunk, N / 10 - early);
	ck_assert_uint_eq(again, 0);	/* every chunk gave something */
	for (i = 0; i < N; i += 10) {
		k = key_of(i, 6);
		bpf_map_delete_elem(fd, &k);
	}
	/* a repair: the conns last seen at 4000 or later, and the MAC */
	memset(seen, 0, sizeof(seen));
	given = macs = 0;
	ck_assert_int_eq(st.ops->dump_start(st.ctx, 4000, &count), 0);
	while ((rc = st.ops->dump_next(st.ctx, &e, 1)) != 0) {
		if (rc == -EAGAIN)
			continue;
		ck_assert_int_eq(rc, 1);
		if (e.kind == HADP_WIRE_K_MAC) {
			macs++;
			continue;
		}
		i = ntohs(e.conn.nat_port);
		ck_assert_uint_ge(i, 4000);
		ck_assert_uint_eq(seen[i], 0);
		seen[i] = 1;
		given++;
	}
	ck_assert_uint_eq(macs, 1);
	ck_assert_uint_eq(given, 900);	/* 4000-4999 less the tenth deleted */
	hadp_mirror_maps_release(&mm);
	hadp_map_close(&conns);
	hadp_map_close(&ifaces);
}
END_TEST

Suite *mirror_suite(void)
{
	Suite *s = suite_create("mirror");
	TCase *tc = tcase_create("mirror");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_coalesce_limits);
	tcase_add_test(tc, test_lossy_converges);
	tcase_add_test(tc, test_reorder_old_never_wins);
	tcase_add_test(tc, test_version_wrap);
	tcase_add_test(tc, test_deletes_propagate);
	tcase_add_test(tc, test_active_does_not_apply);
	tcase_add_test(tc, test_refresh_sweeps_zombies);
	tcase_add_test(tc, test_refresh_begin_late);
	tcase_add_test(tc, test_refresh_waits_for_its_end);
	tcase_add_test(tc, test_unacked_backs_off_and_expires);
	tcase_add_test(tc, test_tombs_bounded);
	tcase_add_test(tc, test_reply_matching);
	tcase_add_test(tc, test_rx_skips);
	tcase_add_test(tc, test_queue_overflow);
	tcase_add_test(tc, test_bulk_dump);
	tcase_add_test(tc, test_dump_paced);
	tcase_add_test(tc, test_dump_aborted_retried);
	tcase_add_test(tc, test_maps_store);
	tcase_add_test(tc, test_repair);
	tcase_add_test(tc, test_maps_walk);
	suite_add_tcase(s, tc);
	return s;
}
