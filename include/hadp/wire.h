/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * hadp HA sync wire codec: the UDP payload two instances of a pair
 * exchange (docs/protocol.md draws every byte and states every rule).
 *
 * Plain C compiled unchanged into hadp.ko, the agent, the CLI and the
 * tests: no allocation, no stdio, no libc beyond memcpy/memmove/memset;
 * every length is checked against the buffer before it is used. All
 * functions return 0 (or a count/length >= 0) on success and a negative
 * enum hadp_wire_err on failure; hadp_wire_strerror() names it.
 *
 * Building: wire.c sits next to this header. Userspace links it with
 * blake2s.c (its own BLAKE2s) through libhadp.a (Makefile). The module
 * compiles wire.c as one of its objects (kmod/hadp_wire.c includes it)
 * and takes BLAKE2s and crypto_memneq() from the kernel: blake2s.c is
 * never compiled into it. Every global symbol is hadp_wire_*.
 *
 * Packet (all integers big endian; offsets in bytes):
 *
 *	header   24   magic "HD", version, flags, count, reserved,
 *	              epoch u32, seq u64, opaque u32
 *	message  8+n  type u8, op u8, length u16 (= n), opaque u32, body[n]
 *	...           exactly `count` messages
 *	mac      16   BLAKE2s-128(key, ctx || everything before the mac)
 */
#ifndef HADP_WIRE_H
#define HADP_WIRE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#endif

#include "maps.h"

/* ---------------------------------------------------------------------- */
/* Constants                                                              */
/* ---------------------------------------------------------------------- */

#define HADP_WIRE_MAGIC		0x4844	/* "HD" */
#define HADP_WIRE_VERSION	1	/* the only version this codec speaks */
#define HADP_WIRE_PORT		6749	/* suggested UDP port; not IANA-assigned */

#define HADP_WIRE_HDR_LEN	24
#define HADP_WIRE_MSG_HDR_LEN	8
#define HADP_WIRE_MAC_LEN	16	/* BLAKE2s tag length */
#define HADP_WIRE_KEY_LEN	32	/* per-pair key, BLAKE2s key length */
#define HADP_WIRE_CTX_LEN	36	/* MAC context: both endpoints */
#define HADP_WIRE_OVERHEAD	(HADP_WIRE_HDR_LEN + HADP_WIRE_MAC_LEN)
#define HADP_WIRE_MIN_LEN	HADP_WIRE_OVERHEAD	/* count 0 */
#define HADP_WIRE_MAX_BODY	0xffff	/* message length field is u16 */
#define HADP_WIRE_MAX_COUNT	0xffff	/* count field is u16 */

/* IP + UDP header bytes in front of the payload. */
#define HADP_WIRE_UDP4_OVERHEAD	28	/* IPv4 (no options) + UDP */
#define HADP_WIRE_UDP6_OVERHEAD	48	/* IPv6 (no ext. headers) + UDP */

/* Header flags (u8). Unknown flags: ignored by a receiver and echoed
 * unchanged in a reply; senders set them to 0. */
#define HADP_WIRE_F_REPLY_REQUESTED	0x01	/* reply once delivered */
#define HADP_WIRE_F_TRUNCATION_ALLOWED	0x02	/* reply may drop bodies */
#define HADP_WIRE_F_REPLY		0x04	/* this is a reply */
#define HADP_WIRE_F_TRUNCATED		0x08	/* reply whose bodies were cut */
#define HADP_WIRE_F_SESSION		0x10	/* a session packet (below) */
#define HADP_WIRE_F_KNOWN		0x1f

/* Message types (u8). A receiver skips (and counts) unknown types; they
 * are still echoed in a reply. */
enum hadp_wire_type {
	HADP_WIRE_T_STATE_UPDATE = 1,	/* body: one entry */
	HADP_WIRE_T_PACKET_UPDATE = 2,	/* body: one entry, then a packet */
	HADP_WIRE_T_ADVERT = 3,		/* body: struct hadp_wire_advert */
	HADP_WIRE_T_DUMP_REQUEST = 4,	/* body: struct hadp_wire_dump */
	HADP_WIRE_T_DUMP_BEGIN = 5,	/* body: struct hadp_wire_dump */
	HADP_WIRE_T_DUMP_END = 6,	/* body: struct hadp_wire_dump */
	HADP_WIRE_T_CHALLENGE = 7,	/* body: nonce; session packets only */
	HADP_WIRE_T_RESPONSE = 8,	/* body: the nonce echoed; likewise */
	HADP_WIRE_T_MAX,
};

/* Operations (u8). State and packet updates: CREATE, UPDATE, DELETE,
 * DUMP (an entry sent by a dump or a periodic refresh: create or update,
 * whichever applies). Control messages: NONE, or for an advert SOLICIT
 * (the sender also asks for the receiver's advert). */
enum hadp_wire_op {
	HADP_WIRE_OP_NONE = 0,
	HADP_WIRE_OP_CREATE = 1,
	HADP_WIRE_OP_UPDATE = 2,
	HADP_WIRE_OP_DELETE = 3,
	HADP_WIRE_OP_DUMP = 4,
	HADP_WIRE_OP_SOLICIT = 1,	/* advert only */
	HADP_WIRE_OP_MAX = 5,
};

/* Entry kinds (u8), first byte of a state or packet update's body; the
 * second byte is the entry's length, so an entry may grow in a later
 * version (a receiver reads the fields it knows and skips the rest). */
enum hadp_wire_kind {
	HADP_WIRE_K_CONN = 1,		/* NAT connection entry */
	HADP_WIRE_K_MAC = 2,		/* learned MAC of an interface */
	HADP_WIRE_K_MAX,
};

#define HADP_WIRE_CONN_LEN	36	/* entry bytes, kind and length included */
#define HADP_WIRE_MAC_ENTRY_LEN	16
#define HADP_WIRE_ADVERT_LEN	12	/* body bytes of an advert (v1) */
#define HADP_WIRE_DUMP_LEN	16	/* body bytes of a dump message (v1) */
#define HADP_WIRE_NONCE_LEN	16	/* body of a challenge or response */
/* A session packet: header, one message with a nonce, MAC. */
#define HADP_WIRE_SESSION_PKT_LEN \
	(HADP_WIRE_OVERHEAD + HADP_WIRE_MSG_HDR_LEN + HADP_WIRE_NONCE_LEN)

/* One NAT connection message: header + entry = 44 bytes. */
#define HADP_WIRE_CONN_MSG_LEN	(HADP_WIRE_MSG_HDR_LEN + HADP_WIRE_CONN_LEN)

#define HADP_WIRE_VNI_MAX	0xffffff	/* VNIs travel in 3 bytes */
#define HADP_WIRE_AGE_MAX	0xffff		/* seconds, saturating */

/* Advert capabilities (u32). */
#define HADP_WIRE_CAP_PACKET_UPDATE	0x00000001	/* takes packet updates */
#define HADP_WIRE_CAP_TRUNCATE		0x00000002	/* truncates replies */
#define HADP_WIRE_CAP_DUMP		0x00000004	/* answers dump requests */

/* Dump status (struct hadp_wire_dump.status, in DUMP_END). */
#define HADP_WIRE_DUMP_OK		0
#define HADP_WIRE_DUMP_ABORTED		1
#define HADP_WIRE_DUMP_UNKNOWN_COUNT	0xffffffffu	/* DUMP_BEGIN.entries */

/* Errors, returned negated. */
enum hadp_wire_err {
	HADP_WIRE_OK = 0,
	HADP_WIRE_EINVAL,	/* bad argument from the caller */
	HADP_WIRE_ETRUNC,	/* shorter than a header and a MAC */
	HADP_WIRE_EMAGIC,	/* not an hadp sync packet */
	HADP_WIRE_EVERSION,	/* a version this codec does not speak */
	HADP_WIRE_ELENGTH,	/* a message length runs past the end */
	HADP_WIRE_ECOUNT,	/* bytes left after count messages, or fewer */
	HADP_WIRE_EMAC,		/* authentication failed */
	HADP_WIRE_ELIMIT,	/* more messages than the receiver advertised */
	HADP_WIRE_EREPLAY,	/* (epoch, seq) already seen */
	HADP_WIRE_ESTALE,	/* older epoch, or seq behind the window */
	HADP_WIRE_ENOSPC,	/* encode: does not fit the buffer */
	HADP_WIRE_ERANGE,	/* encode: a field does not fit its wire size */
	HADP_WIRE_ETYPE,	/* decode: the message is of another type */
	HADP_WIRE_EKIND,	/* decode: unknown entry kind */
	HADP_WIRE_ESHORT,	/* decode: body shorter than its type needs */
	HADP_WIRE_ESESSION,	/* an epoch the receiver has not accepted */
	HADP_WIRE_EMAX,
};

const char *hadp_wire_strerror(int err);

/* ---------------------------------------------------------------------- */
/* Byte order: big-endian loads and stores, byte by byte, so they need no  */
/* alignment and work in the kernel, in userspace and on any host order.  */
/* ---------------------------------------------------------------------- */

static inline void hadp_wire_put16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static inline void hadp_wire_put24(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 16);
	p[1] = (__u8)(v >> 8);
	p[2] = (__u8)v;
}

static inline void hadp_wire_put32(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 24);
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

static inline void hadp_wire_put64(__u8 *p, __u64 v)
{
	hadp_wire_put32(p, (__u32)(v >> 32));
	hadp_wire_put32(p + 4, (__u32)v);
}

static inline __u16 hadp_wire_get16(const __u8 *p)
{
	return (__u16)((__u16)p[0] << 8 | p[1]);
}

static inline __u32 hadp_wire_get24(const __u8 *p)
{
	return (__u32)p[0] << 16 | (__u32)p[1] << 8 | p[2];
}

static inline __u32 hadp_wire_get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

static inline __u64 hadp_wire_get64(const __u8 *p)
{
	return (__u64)hadp_wire_get32(p) << 32 | hadp_wire_get32(p + 4);
}

/* Serial-number comparison (RFC 1982) of per-entry versions: true when a
 * is newer than b, across the 32-bit wrap. */
static inline bool hadp_wire_version_newer(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

/* ---------------------------------------------------------------------- */
/* Keys and MAC context                                                   */
/* ---------------------------------------------------------------------- */

struct hadp_wire_key {
	__u8 bytes[HADP_WIRE_KEY_LEN];
};

/*
 * What the MAC binds a packet to besides its bytes: the UDP endpoints of
 * this packet, sender first. A packet reflected back to its sender, or
 * sent to another group, fails authentication. IPv4 addresses are given
 * as IPv4-mapped IPv6 (::ffff:a.b.c.d). Layout: sender address (16),
 * sender port (2, network order), receiver address (16), receiver port (2).
 * An all-zero context (or a NULL ctx argument anywhere in this API)
 * binds to nothing: for tests and tools, never for the sync link.
 */
struct hadp_wire_ctx {
	__u8 bytes[HADP_WIRE_CTX_LEN];
};

void hadp_wire_ctx_set(struct hadp_wire_ctx *ctx,
		       const __u8 src_addr[16], __be16 src_port,
		       const __u8 dst_addr[16], __be16 dst_port);
void hadp_wire_ctx_set4(struct hadp_wire_ctx *ctx,
			__be32 src_addr, __be16 src_port,
			__be32 dst_addr, __be16 dst_port);

/* tag = BLAKE2s-128(key, ctx || data[0..len)) */
void hadp_wire_mac(__u8 tag[HADP_WIRE_MAC_LEN], const struct hadp_wire_key *key,
		   const struct hadp_wire_ctx *ctx, const void *data, size_t len);

/* ---------------------------------------------------------------------- */
/* Header and messages                                                    */
/* ---------------------------------------------------------------------- */

struct hadp_wire_hdr {
	__u8 version;		/* encoding: ignored, HADP_WIRE_VERSION */
	__u8 flags;		/* HADP_WIRE_F_* */
	__u16 count;		/* messages; filled in by the encoder */
	__u32 epoch;		/* session epoch of the sender */
	__u64 seq;		/* per packet, increasing within an epoch */
	__u32 opaque;		/* sender's, echoed in a reply */
};

/* A message as found in a packet: body points into the packet. */
struct hadp_wire_msg {
	__u8 type;		/* enum hadp_wire_type */
	__u8 op;		/* enum hadp_wire_op */
	__u16 len;		/* body length */
	__u32 opaque;		/* sender's, echoed in a reply */
	const __u8 *body;
};

/* Parse the header only: length >= header + MAC, magic, version. */
int hadp_wire_parse_hdr(const void *pkt, size_t len, struct hadp_wire_hdr *hdr);

/* Walk a bare message stream (no header, no MAC: what the agent hands
 * the module). Every message must lie within len and the stream must end
 * exactly at len. Returns the number of messages (>= 0) or an error. */
int hadp_wire_msgs_validate(const void *msgs, size_t len);

/*
 * Validate a received packet completely: header, every message length,
 * count against the messages present (exact fit up to the MAC), the MAC,
 * and max_count (0: no limit) against the count. In that order, so a
 * malformed packet is reported as malformed whatever its MAC, and only
 * an authenticated packet can be over the limit. hdr may be NULL.
 * Replay is checked separately (hadp_wire_replay_*), after this.
 */
int hadp_wire_validate(const void *pkt, size_t len,
		       const struct hadp_wire_key *key,
		       const struct hadp_wire_ctx *ctx,
		       unsigned int max_count, struct hadp_wire_hdr *hdr);

/*
 * Cursor over messages. Bounds are checked on every step, validated
 * packet or not. hadp_wire_iter_init() takes a whole packet (skips the
 * header, stops before the MAC; checks magic, version and length);
 * hadp_wire_iter_msgs() a bare message stream.
 * hadp_wire_next(): 1 and *msg filled, 0 at the end (count messages
 * read and no byte left), or an error.
 */
struct hadp_wire_iter {
	const __u8 *pos;
	const __u8 *end;
	__u32 left;		/* messages still expected; ~0u: bare stream */
};

int hadp_wire_iter_init(struct hadp_wire_iter *it, const void *pkt, size_t len);
int hadp_wire_iter_msgs(struct hadp_wire_iter *it, const void *msgs, size_t len);
int hadp_wire_next(struct hadp_wire_iter *it, struct hadp_wire_msg *msg);

/* ---------------------------------------------------------------------- */
/* Bodies                                                                 */
/* ---------------------------------------------------------------------- */

/*
 * A NAT connection entry: everything struct hadp_event_conn carries, but
 * the public-side key, which is derived (hadp_wire_conn_rkey()), and
 * last_seen, which travels as an age.
 */
struct hadp_wire_conn {
	struct hadp_conn_key key;	/* VM side, as in "conns"; vni < 2^24 */
	__u32 version;		/* the entry's version (hadp_conn.version) */
	__u32 ifindex;		/* the VM interface on the sender */
	__be32 nat_ip;
	__be16 nat_port;
	__u8 state;		/* enum hadp_conn_state */
	__u8 flags;		/* enum hadp_conn_flags */
	__u16 age;		/* seconds since last seen, saturating */
};

/* A learned MAC of a VM interface. */
struct hadp_wire_mac_entry {
	__u32 version;
	__u32 ifindex;
	__u8 mac[6];
};

struct hadp_wire_entry {
	__u8 kind;		/* enum hadp_wire_kind */
	union {
		struct hadp_wire_conn conn;
		struct hadp_wire_mac_entry mac;
	};
};

/* Advert: what the receiver of this message accepts from its sender. */
struct hadp_wire_advert {
	__u16 max_count;	/* messages per packet, >= 1 */
	__u16 max_payload;	/* largest UDP payload it takes; 0: no limit */
	__u8 version_min;	/* versions it speaks */
	__u8 version_max;
	__u32 caps;		/* HADP_WIRE_CAP_* */
};

/* Dump request, begin and end share one body. */
struct hadp_wire_dump {
	__u32 id;		/* chosen by the requester, echoed in begin/end */
	__u32 kinds;		/* bit (1 << kind); 0: every kind */
	__u32 entries;		/* request: 0; begin: expected or
				 * HADP_WIRE_DUMP_UNKNOWN_COUNT; end: sent */
	__u32 status;		/* end: HADP_WIRE_DUMP_*; request, begin: 0 */
};

/*
 * Decoders take a message from hadp_wire_next(). State update: *pkt and
 * *pkt_len (may be NULL) get nothing. Packet update: the original packet
 * that follows the entry. An unknown kind: -HADP_WIRE_EKIND with
 * entry->kind set, so the caller can count it and go on.
 */
int hadp_wire_dec_entry(const struct hadp_wire_msg *msg, struct hadp_wire_entry *entry,
			const __u8 **pkt, size_t *pkt_len);
int hadp_wire_dec_advert(const struct hadp_wire_msg *msg, struct hadp_wire_advert *adv);
int hadp_wire_dec_dump(const struct hadp_wire_msg *msg, struct hadp_wire_dump *dump);

/* The public-side key ("conns_rev" key) of a connection, as bpf/ builds it. */
void hadp_wire_conn_rkey(const struct hadp_wire_conn *c, struct hadp_conn_key *rkey);

/* From a ring buffer delta: now_ns and last_seen on one clock
 * (bpf_ktime_get_ns / CLOCK_MONOTONIC). Fails with ERANGE for vni >= 2^24. */
int hadp_wire_conn_from_event(struct hadp_wire_conn *c, const struct hadp_event_conn *ev,
			      __u64 now_ns);

/* ---------------------------------------------------------------------- */
/* Encoding                                                               */
/* ---------------------------------------------------------------------- */

/*
 * An encoder writes into a caller buffer of cap bytes. With a header
 * (hadp_wire_enc_init), it builds a whole packet: the header first, the
 * MAC at hadp_wire_enc_finish(); room for the MAC is kept free all along.
 * Without (hadp_wire_enc_init_msgs), a bare message stream for the
 * module. max_count (0: HADP_WIRE_MAX_COUNT) bounds the messages: a
 * message beyond it fails with ELIMIT, one that does not fit with
 * ENOSPC; either way nothing is written and the encoder stays usable.
 * Cap the buffer at hadp_wire_payload_max() to honour the path MTU.
 */
struct hadp_wire_enc {
	__u8 *buf;
	size_t cap;
	size_t len;
	__u32 count;
	__u32 max_count;
	bool packet;		/* header and MAC, or a bare stream */
};

int hadp_wire_enc_init(struct hadp_wire_enc *enc, void *buf, size_t cap,
		       const struct hadp_wire_hdr *hdr, unsigned int max_count);
int hadp_wire_enc_init_msgs(struct hadp_wire_enc *enc, void *buf, size_t cap,
			    unsigned int max_count);

/* Bytes a message with a body of body_len would take; 0 if over u16. */
size_t hadp_wire_msg_size(size_t body_len);

int hadp_wire_enc_msg(struct hadp_wire_enc *enc, __u8 type, __u8 op, __u32 opaque,
		      const void *body, size_t body_len);
int hadp_wire_enc_entry(struct hadp_wire_enc *enc, __u8 op, __u32 opaque,
			const struct hadp_wire_entry *entry);
int hadp_wire_enc_packet_update(struct hadp_wire_enc *enc, __u8 op, __u32 opaque,
				const struct hadp_wire_entry *entry,
				const void *pkt, size_t pkt_len);
int hadp_wire_enc_advert(struct hadp_wire_enc *enc, __u8 op, __u32 opaque,
			 const struct hadp_wire_advert *adv);
/* type: DUMP_REQUEST, DUMP_BEGIN or DUMP_END. */
int hadp_wire_enc_dump(struct hadp_wire_enc *enc, __u8 type, __u32 opaque,
		       const struct hadp_wire_dump *dump);

/* Write the count into the header and append the MAC: the packet's
 * length (> 0), or an error. A bare stream: its length. */
int hadp_wire_enc_finish(struct hadp_wire_enc *enc, const struct hadp_wire_key *key,
			 const struct hadp_wire_ctx *ctx);

/*
 * Frame a bare message stream (validated here) into a packet: header,
 * msgs, MAC into out (cap bytes; out must not overlap msgs). This is
 * the module's send path. Returns the packet's length or an error; with
 * max_count (0: no limit) exceeded, ELIMIT.
 */
int hadp_wire_frame(void *out, size_t cap, const struct hadp_wire_hdr *hdr,
		    const void *msgs, size_t msgs_len, unsigned int max_count,
		    const struct hadp_wire_key *key, const struct hadp_wire_ctx *ctx);

/*
 * Build the reply to a validated packet: the same header with
 * HADP_WIRE_F_REPLY set, the same messages, a new MAC under ctx (the
 * replier is now the sender). With truncate and the packet allowing it
 * (HADP_WIRE_F_TRUNCATION_ALLOWED), every body is dropped (length 0;
 * type, op and opaque kept) and HADP_WIRE_F_TRUNCATED set. out may be
 * pkt itself (in place); it needs len bytes at most. Returns the reply's
 * length or an error. Never reply to a reply (EINVAL).
 */
int hadp_wire_reply(void *out, size_t cap, const void *pkt, size_t len, bool truncate,
		    const struct hadp_wire_key *key, const struct hadp_wire_ctx *ctx);

/* ---------------------------------------------------------------------- */
/* Coalescing                                                             */
/* ---------------------------------------------------------------------- */

/* Largest UDP payload on a path: path_mtu minus IPv4/IPv6 and UDP
 * headers, at most 65507 (IPv4) / 65487 (IPv6 without jumbograms);
 * 0 if the MTU is below the headers. */
size_t hadp_wire_payload_max(unsigned int path_mtu, bool ipv6);

/* How many messages with bodies of body_len bytes fit one packet on
 * that path, no more than the peer advertised (max_count; 0 is taken as
 * 1: never more than a receiver said, never nothing). */
unsigned int hadp_wire_coalesce(unsigned int path_mtu, bool ipv6,
				unsigned int max_count, size_t body_len);

/* ---------------------------------------------------------------------- */
/* Sessions                                                               */
/* ---------------------------------------------------------------------- */

/*
 * A receiver accepts packets of one epoch of its peer's, the one of its
 * session, and only once the peer has proved that epoch is live: the
 * receiver sends a CHALLENGE with a fresh random nonce, the peer answers
 * with a RESPONSE that echoes the nonce under its epoch and the next of
 * its sequence numbers. Nothing recorded earlier can answer a nonce drawn
 * after it, so no old epoch can be brought back; and no clock is
 * involved, so an epoch may be any value. docs/protocol.md, "Sessions".
 *
 * A session packet: flags HADP_WIRE_F_SESSION, count 1, opaque 0, one
 * message (CHALLENGE or RESPONSE, op 0, opaque 0) whose body is the
 * nonce; a challenge carries the challenger's own epoch and seq 0, a
 * response the responder's epoch and a sequence number of that epoch.
 * Authenticated like any packet; never delivered to an agent.
 */
int hadp_wire_session(void *out, size_t cap, __u8 type, __u32 epoch, __u64 seq,
		      const __u8 nonce[HADP_WIRE_NONCE_LEN],
		      const struct hadp_wire_key *key, const struct hadp_wire_ctx *ctx);
/* Of a packet hadp_wire_validate() accepted with HADP_WIRE_F_SESSION:
 * its message type (CHALLENGE or RESPONSE) and nonce; otherwise ETYPE
 * (another type, or not exactly one message) or ESHORT (body size). */
int hadp_wire_dec_session(const void *pkt, size_t len, __u8 *type,
			  __u8 nonce[HADP_WIRE_NONCE_LEN]);

/* ---------------------------------------------------------------------- */
/* Replay window                                                          */
/* ---------------------------------------------------------------------- */

/*
 * A sliding window of HADP_WIRE_REPLAY_WINDOW sequence numbers below the
 * highest seen, within the epoch of the session. Zero-initialised, it
 * has no session and refuses everything (ESESSION); so does a started
 * one any other epoch, older or newer. start() begins a session at
 * (epoch, seq): seq and every number below it count as seen. Not locked:
 * the caller serialises. check() only looks; update() records a packet
 * check() accepted. Call them only for packets that passed
 * hadp_wire_validate().
 */
#define HADP_WIRE_REPLAY_WORDS	4
#define HADP_WIRE_REPLAY_WINDOW	(HADP_WIRE_REPLAY_WORDS * 64)	/* 256 */

struct hadp_wire_replay {
	__u32 epoch;
	__u32 valid;		/* a session is started */
	__u64 top;		/* highest seq accepted in epoch */
	__u64 bits[HADP_WIRE_REPLAY_WORDS];	/* bit (seq % WINDOW) */
};

void hadp_wire_replay_start(struct hadp_wire_replay *rp, __u32 epoch, __u64 seq);
int hadp_wire_replay_check(const struct hadp_wire_replay *rp, __u32 epoch, __u64 seq);
void hadp_wire_replay_update(struct hadp_wire_replay *rp, __u32 epoch, __u64 seq);
/* check, then update if accepted */
int hadp_wire_replay_accept(struct hadp_wire_replay *rp, __u32 epoch, __u64 seq);

#endif /* HADP_WIRE_H */
