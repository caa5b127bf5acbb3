/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HA mirroring engine: what hadpd runs between the delta ring buffer
 * and hadp.ko, with no transport and no clock of its own, so that it is
 * tested in-process (tests/unit/test_mirror.c).
 *
 * Sender: ring-buffer events are coalesced into batches (bare message
 * streams, docs/protocol.md), each small enough to be exactly one packet
 * of the peer's advertised count and the path MTU, so that the one
 * sequence number the module assigns covers the whole batch. Batches sit
 * in a bounded resend queue until a reply acks them; what is not acked
 * within the timeout is sent again; overflow drops the oldest, counted.
 *
 * Receiver: a delivered message stream is decoded and applied through a
 * store (struct hadp_mirror_store): an entry is written only if its
 * version is newer than the one held, deletes leave a short-lived
 * tombstone so that a late older update cannot bring the entry back.
 *
 * Bulk sync: a standby asks for a dump; the active walks its store and
 * streams the entries between live deltas; it sends the dump end only
 * once every batch before it was acked, so a standby that sees the end
 * holds everything the dump carried (readiness).
 *
 * Time is a CLOCK_MONOTONIC nanosecond count passed in by the caller:
 * the same clock as hadp_conn.last_seen.
 */
#ifndef HADP_MIRROR_H
#define HADP_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "hadp/maps.h"
#include "hadp/wire.h"

struct hadp_map;

/*
 * Local state the receiver writes and a dump reads. Every function
 * returns 0 or a -errno; conn_version returns -ENOENT for a key it does
 * not hold. conn_set creates or replaces the entry (both of its keys)
 * with last_seen = now_ns: the entry's age is another host's view, a
 * synced entry counts as just seen (docs/nat.md). It returns 1 when the
 * entry took its public key from another connection, which it deleted
 * (a NAT port clash, won by the entry set), and -EADDRNOTAVAIL, writing
 * nothing, when no local interface owns the entry's VNI and VM address.
 * conn_del deletes both keys, the public one only if it names the key.
 * mac_version gives the version of an interface's learned MAC (-ENOENT:
 * none learned); mac_set writes one, with its version (the datapath
 * counts the times it learned the MAC).
 * dump_start begins a walk: since_ns 0 is a dump, every entry; another
 * is a repair's, the conns last seen at or after since_ns and every
 * learned MAC. It returns 0 or a -errno, and sets *count to the number of
 * entries the walk will give when the store knows it beforehand (left
 * HADP_WIRE_DUMP_UNKNOWN_COUNT otherwise). dump_next gives the next
 * entry: 1, 0 at the end, -EAGAIN when it read a share of the table and
 * found nothing to give yet (call again later), or another -errno. An
 * entry deleted before the walk reads it is not given.
 * conn_sweep deletes every conn last set before before_ns (the number
 * deleted, or -errno): after a complete dump, what it did not carry is
 * a zombie of a delete this side missed.
 * flush commits what conn_set, conn_del and conn_sweep left queued (a
 * store may write at once): the number of writes the table refused, or
 * -errno. The engine calls it once per received packet.
 * own(true) says that from now on nothing but the store's caller writes
 * its table (a standby's agent: docs/ha.md), so the store may answer
 * from a copy in memory, read afresh at its next use (also when said
 * again: the table was written behind it); own(false), queued writes
 * are flushed and every call goes to the table (an active's datapath
 * writes it too). Stores start not owned.
 */
struct hadp_mirror_store_ops {
	int (*conn_version)(void *ctx, const struct hadp_conn_key *key,
			    __u32 *version);
	int (*conn_set)(void *ctx, const struct hadp_wire_conn *c, __u64 now_ns);
	int (*conn_del)(void *ctx, const struct hadp_conn_key *key);
	int (*mac_version)(void *ctx, __u32 ifindex, __u32 *version);
	int (*mac_set)(void *ctx, const struct hadp_wire_mac_entry *mac);
	int (*dump_start)(void *ctx, __u64 since_ns, __u32 *count);
	int (*dump_next)(void *ctx, struct hadp_wire_entry *e, __u64 now_ns);
	int (*conn_sweep)(void *ctx, __u64 before_ns);
	int (*flush)(void *ctx);
	void (*own)(void *ctx, bool alone);
};

struct hadp_mirror_store {
	const struct hadp_mirror_store_ops *ops;
	void *ctx;
};

/*
 * Hands one batch (len bytes, count messages) to the module: opaque is
 * the packet's opaque value (the engine's batch id, echoed in the
 * reply); *seq gets the packet's sequence number. 0 or -errno; a batch
 * that failed is tried again at the next hadp_mirror_poll().
 */
struct hadp_mirror_transport {
	int (*send)(void *ctx, const void *msgs, size_t len, unsigned int count,
		    __u32 opaque, __u64 *seq);
	void *ctx;
};

struct hadp_mirror_cfg {
	unsigned int queue_max;		/* batches in the resend queue */
	unsigned int path_mtu;
	bool ipv6;			/* of the sync link */
	__u64 retransmit_ns;		/* resend what is not acked by then */
	unsigned int tombs;		/* tombstones kept (rounded up to 2^n) */
	__u64 tomb_ns;			/* how long a tombstone lives */
	struct hadp_wire_advert advert;	/* ours, sent on solicitation */
	char peer[64];			/* the peer, as log lines name it */
};

/* The smallest max_payload a peer may advertise: one packet of one
 * connection entry. */
#define HADP_MIRROR_MIN_PAYLOAD	(HADP_WIRE_OVERHEAD + HADP_WIRE_CONN_MSG_LEN)

struct hadp_mirror_stats {
	/* sender */
	__u64 events;		/* ring buffer events fed */
	__u64 events_ignored;	/* not state (table full) or not encodable */
	__u64 packets_sent;	/* first transmissions */
	__u64 entries_sent;
	__u64 retransmits;
	__u64 send_errors;	/* the transport refused a batch */
	__u64 acked_packets;
	__u64 acked_entries;
	__u64 replies_unknown;	/* no batch of that id and sequence */
	__u64 dropped_packets;	/* resend queue overflow, oldest first, or
				 * unacked for tomb_ns: given up */
	__u64 dropped_entries;
	/* receiver */
	__u64 rx_msgs;
	__u64 applied;		/* creates and updates written */
	__u64 refreshed;	/* dump entries already held: marked live */
	__u64 deleted;
	__u64 stale;		/* older than what is held: ignored */
	__u64 tombstoned;	/* older than a delete seen: ignored */
	__u64 skipped;		/* unknown type, kind or op, short body */
	__u64 apply_errors;	/* the store failed */
	__u64 not_applied;	/* state received while not applying (active) */
	__u64 tombs_evicted;	/* a live tombstone made room */
	__u64 dump_entries;	/* entries a dump or refresh carried here */
	/* bulk sync */
	__u64 dumps_served;
	__u64 dumps_aborted;	/* served with a batch lost on the way */
	__u64 dumps_received;	/* complete dumps seen as a standby */
	__u64 swept;		/* held, but not in a complete dump or refresh */
	/* repair of deltas the ring lost (hadp_mirror_repair) */
	__u64 repairs;		/* walks started */
	__u64 repair_entries;	/* entries they sent again */
	/* what the receiver refuses to trust */
	__u64 rx_clashes;	/* an entry took a public key another
				 * connection held: that one deleted */
	__u64 unowned;		/* no local interface owns the entry's VNI
				 * and VM address: refused */
	__u64 adverts_refused;	/* max_payload below HADP_MIRROR_MIN_PAYLOAD */
};

enum hadp_mirror_sync {
	HADP_MIRROR_SYNC_NONE = 0,	/* no dump asked for */
	HADP_MIRROR_SYNC_REQUESTED,	/* asked, no begin yet */
	HADP_MIRROR_SYNC_RUNNING,	/* begin seen */
	HADP_MIRROR_SYNC_COMPLETE,	/* end seen, status OK */
};

struct hadp_mirror;

/* NULL with errno set (EINVAL, ENOMEM). Until the peer's advert comes,
 * a batch holds one message (docs/protocol.md, Coalescing). */
struct hadp_mirror *hadp_mirror_new(const struct hadp_mirror_cfg *cfg,
				    const struct hadp_mirror_transport *tx,
				    const struct hadp_mirror_store *store);
void hadp_mirror_free(struct hadp_mirror *m);

/* The peer's limits (from its advert, or configured): 0 max_payload is
 * no limit beyond the MTU. The open batch is closed first. -ERANGE for a
 * max_payload below HADP_MIRROR_MIN_PAYLOAD, which would let no entry
 * through: the limits stay as they were. */
int hadp_mirror_set_peer(struct hadp_mirror *m, unsigned int max_count,
			  unsigned int max_payload, __u64 now_ns);

/* Sender. event: one ring buffer record; -ERANGE (a VNI the wire cannot
 * carry) or -EMSGSIZE (the peer's limits leave no room for it), both
 * counted as ignored. flush: send the open batch
 * (call it after each burst of events). poll: retransmit what timed out,
 * retry failed sends, finish a dump whose batches were all acked. */
int hadp_mirror_event(struct hadp_mirror *m, const struct hadp_event *ev,
		      __u64 now_ns);
void hadp_mirror_flush(struct hadp_mirror *m, __u64 now_ns);
void hadp_mirror_poll(struct hadp_mirror *m, __u64 now_ns);
/* Our advert, with HADP_WIRE_OP_SOLICIT to ask for the peer's. */
int hadp_mirror_send_advert(struct hadp_mirror *m, bool solicit, __u64 now_ns);

/* A reply from the peer (HADP_PKT_F_REPLY): opaque and seq as received.
 * Acks the batch if seq is one of its transmissions; a late reply to an
 * earlier transmission counts as well, it proves the same bytes arrived.
 * A dump whose last batch this acks sends its end. */
void hadp_mirror_reply(struct hadp_mirror *m, __u32 opaque, __u64 seq,
		       __u64 now_ns);

/* Receiver: apply a message stream the peer sent (HADP_CMD_RECV that is
 * no reply). Messages that cannot be used are skipped and counted; a
 * malformed stream returns a negative hadp_wire_err, having applied the
 * messages before the fault. */
int hadp_mirror_rx(struct hadp_mirror *m, const void *msgs, size_t len,
		   __u64 now_ns);

/* Whether received state is applied (a standby) or counted and dropped
 * (an active: its own datapath is the truth, a peer that still sends is
 * stale). Control messages are served either way. New engines apply.
 * The store is owned while the engine applies (its own op): true again
 * has it read its table afresh, as after an active spell. */
void hadp_mirror_set_apply(struct hadp_mirror *m, bool apply);

/* Bulk sync. request_dump: as a standby, ask the peer for everything
 * (again after an aborted dump, automatically; one that stays incomplete,
 * say its end was lost to the peer's queue overflow, is the caller's to
 * ask again after a while); once it is complete,
 * connections neither the dump nor a delta touched since the request
 * are deleted. dump_step: as the active,
 * stream up to budget entries of a requested dump (0 when none runs, or
 * while the resend queue holds 64 batches or half its size: the peer's
 * acks pace a dump). */
int hadp_mirror_request_dump(struct hadp_mirror *m, __u64 now_ns);
int hadp_mirror_dump_step(struct hadp_mirror *m, unsigned int budget,
			  __u64 now_ns);
/* A dump or repair walks and its window has room: dump_step would send
 * now, so the caller should not sleep before calling it. */
bool hadp_mirror_walk_ready(const struct hadp_mirror *m);
/* The periodic refresh: as the active, an unsolicited dump (id 0, which
 * no request uses) that heals what a lost batch left out; dump_step
 * streams it. -EBUSY while a dump runs or its end waits for its ack. */
int hadp_mirror_refresh(struct hadp_mirror *m, __u64 now_ns);
bool hadp_mirror_dumping(const struct hadp_mirror *m);
/* Repair, as the active: send again, as plain updates, every conn last
 * seen at or after since_ns and every learned MAC (deltas the ring lost
 * since then); the peer's version check makes those it holds no-ops.
 * No dump framing: a repair never makes the peer sweep. dump_step
 * streams it when no dump walks the store; a dump that starts meanwhile
 * puts it off (it walks again after), and repairs asked for while one
 * waits or walks run as one more walk from the earliest since_ns. */
void hadp_mirror_repair(struct hadp_mirror *m, __u64 since_ns);
/* A repair walks or waits to. */
bool hadp_mirror_repairing(const struct hadp_mirror *m);
enum hadp_mirror_sync hadp_mirror_sync_state(const struct hadp_mirror *m);

const struct hadp_mirror_stats *hadp_mirror_stats(const struct hadp_mirror *m);
/* Entries not acked yet: in the resend queue and the open batch. */
__u64 hadp_mirror_lag(const struct hadp_mirror *m);
/* Batches in the resend queue. */
unsigned int hadp_mirror_queued(const struct hadp_mirror *m);

/* What a maps store's writes cost and met, counted since it was made. */
struct hadp_mirror_maps_counts {
	__u64 loads;		/* the copy read from the maps */
	__u64 flushes;		/* commits that wrote */
	__u64 batches;		/* batched map calls */
	__u64 missing;		/* a delete found no key: written behind us */
	__u64 failed;		/* writes the maps refused */
	__u64 owner_reads;	/* the interfaces' owners read (ifaces) */
};

struct hadp_mirror_apply;

/* A store on an instance's maps "conns", "conns_rev" and "ifaces" (the
 * maps stay the caller's). Owned, it keeps a copy of conns and conns_rev
 * and writes them in batches at flush (user/lib/mirror_maps.c). */
struct hadp_mirror_maps {
	const struct hadp_map *conns;
	const struct hadp_map *conns_rev;
	const struct hadp_map *ifaces;
	/* the walk of a dump or repair (mirror_walk.c) */
	void *keys, *vals;	/* the chunk read last ... */
	size_t n, pos;		/* ... its entries, the next to give */
	__u64 token[8];		/* where the next chunk starts (a bucket) */
	__u64 since_ns;		/* a repair's: older conns are skipped */
	bool started;		/* a chunk was read */
	bool conns_done;	/* the last chunk of conns was read */
	bool macs;		/* walking ifaces */
	/* the connection conn_set last deleted in a clash (it returned 1) */
	struct hadp_conn_key displaced;
	struct hadp_conn displaced_val;
	bool alone;		/* own(true) */
	struct hadp_mirror_apply *apply;
	struct hadp_mirror_maps_counts counts;
};

struct hadp_mirror_store hadp_mirror_maps_store(struct hadp_mirror_maps *mm);
/* Frees the dump's snapshot, and what applying keeps unless owned (an
 * engine's hadp_mirror_free() disowns its store). */
void hadp_mirror_maps_release(struct hadp_mirror_maps *mm);

#endif /* HADP_MIRROR_H */
