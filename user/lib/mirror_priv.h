/* SPDX-License-Identifier: GPL-2.0-only */
/* The mirroring engine's state, shared by its sender (mirror.c) and its
 * receiver (mirror_rx.c). */
#ifndef HADP_MIRROR_PRIV_H
#define HADP_MIRROR_PRIV_H

#include "mirror.h"

/* A batch not acked waits retransmit_ns << tries, tries capped here: a
 * peer that is gone costs a trickle, not the whole queue every timeout. */
#define RETRY_SHIFT_MAX	3
/* Retransmissions per hadp_mirror_poll() call, at most. */
#define RETRY_BURST	64

/* Batches in the resend queue past which a dump waits (at most half the
 * queue): live deltas never wait, and a dump paced by the peer's acks
 * neither overflows the queue nor buries a slow peer in retransmissions. */
#define DUMP_WINDOW	64

/* Slots a tombstone may sit in past its hash: bounds every lookup. */
#define TOMB_PROBE	8

struct batch {
	__u8 *buf;
	size_t len;
	unsigned int count;	/* messages */
	unsigned int entries;	/* of them, state updates (lag) */
	__u32 id;		/* the packet opaque, consecutive in the queue */
	__u64 first_seq;	/* of the first transmission ... */
	__u64 seq;		/* ... and of the latest */
	__u64 sent_ns;
	__u64 made_ns;		/* closed: its age bounds its retransmission */
	unsigned int tries;	/* retransmissions: the timeout doubles */
	bool sent;		/* at least once */
	bool acked;		/* a hole until it reaches the head */
};

struct tomb {
	struct hadp_conn_key key;
	__u32 version;		/* of the delete */
	__u64 expires_ns;	/* 0: free */
};

struct hadp_mirror {
	struct hadp_mirror_cfg cfg;
	struct hadp_mirror_transport tx;
	struct hadp_mirror_store store;
	struct hadp_mirror_stats st;

	unsigned int peer_count;	/* messages per batch */
	size_t room;			/* stream bytes per batch */
	size_t room_max;		/* what the path MTU allows */

	struct batch *q;		/* ring of cfg.queue_max */
	unsigned int head, n;
	__u32 next_id;
	__u64 lag;			/* unacked entries, open batch included */

	struct hadp_wire_enc enc;	/* the open batch */
	__u8 *obuf;
	unsigned int open_entries;

	struct tomb *tombs;
	unsigned int tmask;
	bool no_apply;			/* hadp_mirror_set_apply(false) */

	/* serving a dump (active) */
	bool dumping, dump_walked, dump_lost;
	__u32 dump_id, dump_kinds, dump_sent, dump_last;
	bool end_unacked;		/* the last dump's end, in batch end_id */
	__u32 end_id;

	/* repairing lost deltas (active): one walk, one more due */
	bool repairing, repair_due;
	__u64 walk_since, repair_since;

	/* asking for one (standby) */
	enum hadp_mirror_sync sync;
	__u32 req_id;
	__u64 req_ns;		/* sweep what was not set since */
	__u64 refresh_ns;	/* a refresh's begin seen then (0: none) */
	__u64 refresh_first_ns;	/* its first entry seen then (0: none) */
};

/* mirror.c, for the receiver */
void mirror_dump_serve(struct hadp_mirror *m, const struct hadp_wire_dump *req,
		       __u64 now_ns);

/* mirror_maps.c: the maps store's connections, for mirror_store.c's
 * table of the store's operations */
int mirror_maps_conn_version(void *ctx, const struct hadp_conn_key *key,
			     __u32 *version);
int mirror_maps_conn_set(void *ctx, const struct hadp_wire_conn *c, __u64 now_ns);
int mirror_maps_conn_del(void *ctx, const struct hadp_conn_key *key);
int mirror_maps_conn_sweep(void *ctx, __u64 before_ns);
int mirror_maps_flush(void *ctx);
void mirror_maps_own(void *ctx, bool alone);
void mirror_maps_apply_free(struct hadp_mirror_maps *mm);

#endif /* HADP_MIRROR_PRIV_H */
