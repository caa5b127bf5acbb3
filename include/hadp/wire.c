// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * hadp HA sync wire codec (wire.h, docs/protocol.md). Compiled into
 * hadp.ko and into userspace: only <linux/types.h> and memcpy/memmove/
 * memset/memcmp-like helpers, no allocation. Every read is preceded by a
 * check that the bytes are there.
 */
#ifdef __KERNEL__
#include <linux/string.h>
#include <linux/math64.h>
#include <crypto/algapi.h>	/* crypto_memneq() */
#include <crypto/blake2s.h>
#else
#include <string.h>
#include "blake2s.h"
#endif

#include "wire.h"

#define HADP_WIRE_NSEC		1000000000ull
#define HADP_WIRE_IPPROTO_ICMP	1
#define HADP_WIRE_INT_MAX	0x7fffffff

static const char *const hadp_wire_errs[HADP_WIRE_EMAX] = {
	[HADP_WIRE_OK] = "success",
	[HADP_WIRE_EINVAL] = "invalid argument",
	[HADP_WIRE_ETRUNC] = "shorter than a header and a MAC",
	[HADP_WIRE_EMAGIC] = "bad magic",
	[HADP_WIRE_EVERSION] = "unsupported version",
	[HADP_WIRE_ELENGTH] = "message length runs past the end",
	[HADP_WIRE_ECOUNT] = "message count does not match the packet",
	[HADP_WIRE_EMAC] = "authentication failed",
	[HADP_WIRE_ELIMIT] = "more messages than advertised",
	[HADP_WIRE_EREPLAY] = "replayed",
	[HADP_WIRE_ESTALE] = "old epoch or sequence number",
	[HADP_WIRE_ENOSPC] = "no room in the buffer",
	[HADP_WIRE_ERANGE] = "value out of range for the wire",
	[HADP_WIRE_ETYPE] = "wrong message type",
	[HADP_WIRE_EKIND] = "unknown entry kind",
	[HADP_WIRE_ESHORT] = "body too short",
	[HADP_WIRE_ESESSION] = "no session for this epoch",
};

const char *hadp_wire_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= HADP_WIRE_EMAX)
		return "unknown error";
	return hadp_wire_errs[err];
}

/* ---------------------------------------------------------------------- */
/* MAC                                                                    */
/* ---------------------------------------------------------------------- */

void hadp_wire_ctx_set(struct hadp_wire_ctx *ctx,
		       const __u8 src_addr[16], __be16 src_port,
		       const __u8 dst_addr[16], __be16 dst_port)
{
	memcpy(ctx->bytes, src_addr, 16);
	memcpy(ctx->bytes + 16, &src_port, 2);
	memcpy(ctx->bytes + 18, dst_addr, 16);
	memcpy(ctx->bytes + 34, &dst_port, 2);
}

void hadp_wire_ctx_set4(struct hadp_wire_ctx *ctx,
			__be32 src_addr, __be16 src_port,
			__be32 dst_addr, __be16 dst_port)
{
	__u8 s[16] = { [10] = 0xff, [11] = 0xff }, d[16] = { [10] = 0xff, [11] = 0xff };

	memcpy(s + 12, &src_addr, 4);
	memcpy(d + 12, &dst_addr, 4);
	hadp_wire_ctx_set(ctx, s, src_port, d, dst_port);
}

/*
 * The one thing that differs between the module and userspace: where
 * BLAKE2s and the constant-time comparison come from. The module uses the
 * kernel's (<crypto/blake2s.h>, crypto_memneq()); userspace has no
 * BLAKE2s in libc and keeps its own (blake2s.c, written from RFC 7693).
 * Either final() wipes the state, key block included.
 */
#ifdef __KERNEL__
typedef struct blake2s_state hadp_wire_mac_state;

static void hadp_wire_mac_init(hadp_wire_mac_state *s, const struct hadp_wire_key *key)
{
	blake2s_init_key(s, HADP_WIRE_MAC_LEN, key->bytes, HADP_WIRE_KEY_LEN);
}
#define hadp_wire_mac_update	blake2s_update
#define hadp_wire_mac_final	blake2s_final

static bool hadp_wire_tag_eq(const __u8 *a, const __u8 *b)
{
	return !crypto_memneq(a, b, HADP_WIRE_MAC_LEN);
}
#else
typedef struct hadp_blake2s hadp_wire_mac_state;

static void hadp_wire_mac_init(hadp_wire_mac_state *s, const struct hadp_wire_key *key)
{
	hadp_blake2s_init(s, HADP_WIRE_MAC_LEN, key->bytes, HADP_WIRE_KEY_LEN);
}
#define hadp_wire_mac_update	hadp_blake2s_update
#define hadp_wire_mac_final	hadp_blake2s_final

/* Constant time: how many bytes differ must not show in the timing. */
static bool hadp_wire_tag_eq(const __u8 *a, const __u8 *b)
{
	__u8 d = 0;
	unsigned int i;

	for (i = 0; i < HADP_WIRE_MAC_LEN; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}
#endif

void hadp_wire_mac(__u8 tag[HADP_WIRE_MAC_LEN], const struct hadp_wire_key *key,
		   const struct hadp_wire_ctx *ctx, const void *data, size_t len)
{
	static const struct hadp_wire_ctx zero;
	hadp_wire_mac_state s;

	hadp_wire_mac_init(&s, key);
	hadp_wire_mac_update(&s, (ctx ? ctx : &zero)->bytes, HADP_WIRE_CTX_LEN);
	hadp_wire_mac_update(&s, data, len);
	hadp_wire_mac_final(&s, tag);
}

/* ---------------------------------------------------------------------- */
/* Parsing                                                                */
/* ---------------------------------------------------------------------- */

int hadp_wire_parse_hdr(const void *pkt, size_t len, struct hadp_wire_hdr *hdr)
{
	const __u8 *p = pkt;

	if (!pkt || len < HADP_WIRE_MIN_LEN)
		return -HADP_WIRE_ETRUNC;
	if (hadp_wire_get16(p) != HADP_WIRE_MAGIC)
		return -HADP_WIRE_EMAGIC;
	if (p[2] != HADP_WIRE_VERSION)
		return -HADP_WIRE_EVERSION;
	if (hdr) {
		hdr->version = p[2];
		hdr->flags = p[3];
		hdr->count = hadp_wire_get16(p + 4);
		/* p[6..7] reserved: ignored */
		hdr->epoch = hadp_wire_get32(p + 8);
		hdr->seq = hadp_wire_get64(p + 12);
		hdr->opaque = hadp_wire_get32(p + 20);
	}
	return 0;
}

/*
 * Walk len bytes of messages. expect: the count the header gives, or ~0u
 * for a bare stream. Returns the number of messages or an error.
 */
static int hadp_wire_walk(const __u8 *p, size_t len, __u32 expect)
{
	size_t off = 0;
	__u32 n = 0;

	while (off < len) {
		size_t blen;

		if (expect != ~0u && n == expect)
			return -HADP_WIRE_ECOUNT;	/* bytes after count messages */
		if (n == HADP_WIRE_MAX_COUNT)
			return -HADP_WIRE_ECOUNT;	/* more than a count can say */
		if (len - off < HADP_WIRE_MSG_HDR_LEN)
			return -HADP_WIRE_ELENGTH;
		blen = hadp_wire_get16(p + off + 2);
		if (len - off - HADP_WIRE_MSG_HDR_LEN < blen)
			return -HADP_WIRE_ELENGTH;
		off += HADP_WIRE_MSG_HDR_LEN + blen;
		n++;
	}
	if (expect != ~0u && n != expect)
		return -HADP_WIRE_ECOUNT;		/* fewer than count */
	return (int)n;
}

int hadp_wire_msgs_validate(const void *msgs, size_t len)
{
	if (!msgs && len)
		return -HADP_WIRE_EINVAL;
	return hadp_wire_walk(msgs, len, ~0u);
}

int hadp_wire_validate(const void *pkt, size_t len,
		       const struct hadp_wire_key *key,
		       const struct hadp_wire_ctx *ctx,
		       unsigned int max_count, struct hadp_wire_hdr *hdr)
{
	const __u8 *p = pkt;
	struct hadp_wire_hdr h;
	__u8 tag[HADP_WIRE_MAC_LEN];
	int rc;

	if (!key)
		return -HADP_WIRE_EINVAL;
	rc = hadp_wire_parse_hdr(pkt, len, &h);
	if (rc)
		return rc;
	rc = hadp_wire_walk(p + HADP_WIRE_HDR_LEN, len - HADP_WIRE_OVERHEAD, h.count);
	if (rc < 0)
		return rc;
	hadp_wire_mac(tag, key, ctx, p, len - HADP_WIRE_MAC_LEN);
	if (!hadp_wire_tag_eq(tag, p + len - HADP_WIRE_MAC_LEN))
		return -HADP_WIRE_EMAC;
	if (max_count && h.count > max_count)
		return -HADP_WIRE_ELIMIT;
	if (hdr)
		*hdr = h;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Iteration                                                              */
/* ---------------------------------------------------------------------- */

int hadp_wire_iter_init(struct hadp_wire_iter *it, const void *pkt, size_t len)
{
	struct hadp_wire_hdr h;
	int rc;

	if (!it)
		return -HADP_WIRE_EINVAL;
	rc = hadp_wire_parse_hdr(pkt, len, &h);
	if (rc) {
		it->pos = it->end = NULL;
		it->left = 0;
		return rc;
	}
	it->pos = (const __u8 *)pkt + HADP_WIRE_HDR_LEN;
	it->end = (const __u8 *)pkt + len - HADP_WIRE_MAC_LEN;
	it->left = h.count;
	return 0;
}

int hadp_wire_iter_msgs(struct hadp_wire_iter *it, const void *msgs, size_t len)
{
	if (!it || (!msgs && len))
		return -HADP_WIRE_EINVAL;
	it->pos = msgs;
	it->end = it->pos + len;
	it->left = ~0u;
	return 0;
}

int hadp_wire_next(struct hadp_wire_iter *it, struct hadp_wire_msg *msg)
{
	size_t room, blen;

	if (!it || !msg)
		return -HADP_WIRE_EINVAL;
	room = (size_t)(it->end - it->pos);
	if (it->left == 0)
		return room ? -HADP_WIRE_ECOUNT : 0;
	if (room == 0)
		return it->left == ~0u ? 0 : -HADP_WIRE_ECOUNT;
	if (room < HADP_WIRE_MSG_HDR_LEN)
		return -HADP_WIRE_ELENGTH;
	blen = hadp_wire_get16(it->pos + 2);
	if (room - HADP_WIRE_MSG_HDR_LEN < blen)
		return -HADP_WIRE_ELENGTH;
	msg->type = it->pos[0];
	msg->op = it->pos[1];
	msg->len = (__u16)blen;
	msg->opaque = hadp_wire_get32(it->pos + 4);
	msg->body = it->pos + HADP_WIRE_MSG_HDR_LEN;
	it->pos += HADP_WIRE_MSG_HDR_LEN + blen;
	if (it->left != ~0u)
		it->left--;
	return 1;
}

/* ---------------------------------------------------------------------- */
/* Bodies                                                                 */
/* ---------------------------------------------------------------------- */

/* Entry bytes a kind needs (v1), 0 for an unknown kind. */
static unsigned int hadp_wire_kind_len(__u8 kind)
{
	switch (kind) {
	case HADP_WIRE_K_CONN:
		return HADP_WIRE_CONN_LEN;
	case HADP_WIRE_K_MAC:
		return HADP_WIRE_MAC_ENTRY_LEN;
	default:
		return 0;
	}
}

/*
 * NAT connection entry, 36 bytes:
 *  0 kind  1 len  2 proto  3 state  4 vni(3)  7 flags  8 version(4)
 * 12 ifindex(4)  16 src(4)  20 dst(4)  24 sport(2)  26 dport(2)
 * 28 nat_ip(4)  32 nat_port(2)  34 age(2)
 */
static int hadp_wire_put_conn(__u8 *b, const struct hadp_wire_conn *c)
{
	if (c->key.vni > HADP_WIRE_VNI_MAX)
		return -HADP_WIRE_ERANGE;
	b[0] = HADP_WIRE_K_CONN;
	b[1] = HADP_WIRE_CONN_LEN;
	b[2] = c->key.proto;
	b[3] = c->state;
	hadp_wire_put24(b + 4, c->key.vni);
	b[7] = c->flags;
	hadp_wire_put32(b + 8, c->version);
	hadp_wire_put32(b + 12, c->ifindex);
	memcpy(b + 16, &c->key.src, 4);
	memcpy(b + 20, &c->key.dst, 4);
	memcpy(b + 24, &c->key.sport, 2);
	memcpy(b + 26, &c->key.dport, 2);
	memcpy(b + 28, &c->nat_ip, 4);
	memcpy(b + 32, &c->nat_port, 2);
	hadp_wire_put16(b + 34, c->age);
	return 0;
}

static void hadp_wire_get_conn(const __u8 *b, struct hadp_wire_conn *c)
{
	c->key.proto = b[2];
	c->state = b[3];
	c->key.vni = hadp_wire_get24(b + 4);
	c->flags = b[7];
	c->version = hadp_wire_get32(b + 8);
	c->ifindex = hadp_wire_get32(b + 12);
	memcpy(&c->key.src, b + 16, 4);
	memcpy(&c->key.dst, b + 20, 4);
	memcpy(&c->key.sport, b + 24, 2);
	memcpy(&c->key.dport, b + 26, 2);
	memcpy(&c->nat_ip, b + 28, 4);
	memcpy(&c->nat_port, b + 32, 2);
	c->age = hadp_wire_get16(b + 34);
}

/* Learned MAC entry, 16 bytes: 0 kind  1 len  2 mac(6)  8 version(4)  12 ifindex(4) */
static void hadp_wire_put_mac(__u8 *b, const struct hadp_wire_mac_entry *m)
{
	b[0] = HADP_WIRE_K_MAC;
	b[1] = HADP_WIRE_MAC_ENTRY_LEN;
	memcpy(b + 2, m->mac, 6);
	hadp_wire_put32(b + 8, m->version);
	hadp_wire_put32(b + 12, m->ifindex);
}

static void hadp_wire_get_mac(const __u8 *b, struct hadp_wire_mac_entry *m)
{
	memcpy(m->mac, b + 2, 6);
	m->version = hadp_wire_get32(b + 8);
	m->ifindex = hadp_wire_get32(b + 12);
}

/* Encode an entry into b (room for its kind's length): its length, or an error. */
static int hadp_wire_put_entry(__u8 *b, const struct hadp_wire_entry *e)
{
	int rc;

	switch (e->kind) {
	case HADP_WIRE_K_CONN:
		rc = hadp_wire_put_conn(b, &e->conn);
		return rc ? rc : HADP_WIRE_CONN_LEN;
	case HADP_WIRE_K_MAC:
		hadp_wire_put_mac(b, &e->mac);
		return HADP_WIRE_MAC_ENTRY_LEN;
	default:
		return -HADP_WIRE_EKIND;
	}
}

int hadp_wire_dec_entry(const struct hadp_wire_msg *msg, struct hadp_wire_entry *entry,
			const __u8 **pkt, size_t *pkt_len)
{
	unsigned int need, elen;

	if (!msg || !entry || (msg->len && !msg->body))
		return -HADP_WIRE_EINVAL;
	if (msg->type != HADP_WIRE_T_STATE_UPDATE && msg->type != HADP_WIRE_T_PACKET_UPDATE)
		return -HADP_WIRE_ETYPE;
	memset(entry, 0, sizeof(*entry));
	if (msg->len < 2)
		return -HADP_WIRE_ESHORT;
	entry->kind = msg->body[0];
	elen = msg->body[1];
	if (elen < 2)
		return -HADP_WIRE_ESHORT;
	if (elen > msg->len)
		return -HADP_WIRE_ELENGTH;
	need = hadp_wire_kind_len(entry->kind);
	if (!need)
		return -HADP_WIRE_EKIND;
	if (elen < need)
		return -HADP_WIRE_ESHORT;
	/* A state update is exactly one entry; bytes past the entry are
	 * the packet of a packet update. */
	if (msg->type == HADP_WIRE_T_STATE_UPDATE && elen != msg->len)
		return -HADP_WIRE_ELENGTH;
	if (entry->kind == HADP_WIRE_K_CONN)
		hadp_wire_get_conn(msg->body, &entry->conn);
	else
		hadp_wire_get_mac(msg->body, &entry->mac);
	if (pkt)
		*pkt = msg->type == HADP_WIRE_T_PACKET_UPDATE ? msg->body + elen : NULL;
	if (pkt_len)
		*pkt_len = msg->type == HADP_WIRE_T_PACKET_UPDATE ? msg->len - elen : 0;
	return 0;
}

/* Advert, 12 bytes: 0 max_count(2)  2 max_payload(2)  4 version_min
 * 5 version_max  6 reserved(2)  8 caps(4). Longer: the rest is ignored. */
int hadp_wire_dec_advert(const struct hadp_wire_msg *msg, struct hadp_wire_advert *adv)
{
	const __u8 *b;

	if (!msg || !adv || (msg->len && !msg->body))
		return -HADP_WIRE_EINVAL;
	if (msg->type != HADP_WIRE_T_ADVERT)
		return -HADP_WIRE_ETYPE;
	if (msg->len < HADP_WIRE_ADVERT_LEN)
		return -HADP_WIRE_ESHORT;
	b = msg->body;
	memset(adv, 0, sizeof(*adv));
	adv->max_count = hadp_wire_get16(b);
	adv->max_payload = hadp_wire_get16(b + 2);
	adv->version_min = b[4];
	adv->version_max = b[5];
	adv->caps = hadp_wire_get32(b + 8);
	return 0;
}

/* Dump request, begin, end, 16 bytes: id, kinds, entries, status (4 each). */
int hadp_wire_dec_dump(const struct hadp_wire_msg *msg, struct hadp_wire_dump *dump)
{
	const __u8 *b;

	if (!msg || !dump || (msg->len && !msg->body))
		return -HADP_WIRE_EINVAL;
	if (msg->type != HADP_WIRE_T_DUMP_REQUEST && msg->type != HADP_WIRE_T_DUMP_BEGIN &&
	    msg->type != HADP_WIRE_T_DUMP_END)
		return -HADP_WIRE_ETYPE;
	if (msg->len < HADP_WIRE_DUMP_LEN)
		return -HADP_WIRE_ESHORT;
	b = msg->body;
	dump->id = hadp_wire_get32(b);
	dump->kinds = hadp_wire_get32(b + 4);
	dump->entries = hadp_wire_get32(b + 8);
	dump->status = hadp_wire_get32(b + 12);
	return 0;
}

void hadp_wire_conn_rkey(const struct hadp_wire_conn *c, struct hadp_conn_key *rkey)
{
	memset(rkey, 0, sizeof(*rkey));
	rkey->vni = 0;
	rkey->src = c->key.dst;
	rkey->dst = c->nat_ip;
	rkey->proto = c->key.proto;
	if (c->key.proto == HADP_WIRE_IPPROTO_ICMP) {
		rkey->sport = c->nat_port;	/* identifier */
		rkey->dport = 0;
	} else {
		rkey->sport = c->key.dport;
		rkey->dport = c->nat_port;
	}
}

int hadp_wire_conn_from_event(struct hadp_wire_conn *c, const struct hadp_event_conn *ev,
			      __u64 now_ns)
{
	__u64 age = 0;

	if (!c || !ev)
		return -HADP_WIRE_EINVAL;
	if (ev->key.vni > HADP_WIRE_VNI_MAX)
		return -HADP_WIRE_ERANGE;
	memset(c, 0, sizeof(*c));
	c->key = ev->key;
	c->key.pad[0] = c->key.pad[1] = c->key.pad[2] = 0;
	c->version = ev->val.version;
	c->ifindex = ev->val.ifindex;
	c->nat_ip = ev->val.nat_ip;
	c->nat_port = ev->val.nat_port;
	c->state = ev->val.state;
	c->flags = ev->val.flags;
	if (now_ns > ev->val.last_seen) {
#ifdef __KERNEL__
		age = div_u64(now_ns - ev->val.last_seen, HADP_WIRE_NSEC);
#else
		age = (now_ns - ev->val.last_seen) / HADP_WIRE_NSEC;
#endif
	}
	c->age = age > HADP_WIRE_AGE_MAX ? HADP_WIRE_AGE_MAX : (__u16)age;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Encoding                                                               */
/* ---------------------------------------------------------------------- */

static void hadp_wire_put_hdr(__u8 *p, const struct hadp_wire_hdr *h, __u16 count)
{
	hadp_wire_put16(p, HADP_WIRE_MAGIC);
	p[2] = HADP_WIRE_VERSION;
	p[3] = h->flags;
	hadp_wire_put16(p + 4, count);
	hadp_wire_put16(p + 6, 0);
	hadp_wire_put32(p + 8, h->epoch);
	hadp_wire_put64(p + 12, h->seq);
	hadp_wire_put32(p + 20, h->opaque);
}

static void hadp_wire_enc_setup(struct hadp_wire_enc *enc, void *buf, size_t cap,
				unsigned int max_count, bool packet)
{
	enc->buf = buf;
	enc->cap = cap > HADP_WIRE_INT_MAX ? HADP_WIRE_INT_MAX : cap;
	enc->len = 0;
	enc->count = 0;
	enc->max_count = max_count && max_count < HADP_WIRE_MAX_COUNT ?
			 max_count : HADP_WIRE_MAX_COUNT;
	enc->packet = packet;
}

int hadp_wire_enc_init(struct hadp_wire_enc *enc, void *buf, size_t cap,
		       const struct hadp_wire_hdr *hdr, unsigned int max_count)
{
	if (!enc || !buf || !hdr)
		return -HADP_WIRE_EINVAL;
	hadp_wire_enc_setup(enc, buf, cap, max_count, true);
	if (enc->cap < HADP_WIRE_OVERHEAD)
		return -HADP_WIRE_ENOSPC;
	hadp_wire_put_hdr(enc->buf, hdr, 0);
	enc->len = HADP_WIRE_HDR_LEN;
	return 0;
}

int hadp_wire_enc_init_msgs(struct hadp_wire_enc *enc, void *buf, size_t cap,
			    unsigned int max_count)
{
	if (!enc || (!buf && cap))
		return -HADP_WIRE_EINVAL;
	hadp_wire_enc_setup(enc, buf, cap, max_count, false);
	return 0;
}

size_t hadp_wire_msg_size(size_t body_len)
{
	return body_len > HADP_WIRE_MAX_BODY ? 0 : HADP_WIRE_MSG_HDR_LEN + body_len;
}

/* Room for one message of body_len: writes its header and returns where
 * the body goes, or NULL with *err set. */
static __u8 *hadp_wire_reserve(struct hadp_wire_enc *enc, __u8 type, __u8 op, __u32 opaque,
			       size_t body_len, int *err)
{
	size_t room, need;
	__u8 *m;

	if (!enc || !enc->buf) {
		*err = -HADP_WIRE_EINVAL;
		return NULL;
	}
	need = hadp_wire_msg_size(body_len);
	if (!need) {
		*err = -HADP_WIRE_ERANGE;
		return NULL;
	}
	if (enc->count >= enc->max_count) {
		*err = -HADP_WIRE_ELIMIT;
		return NULL;
	}
	room = enc->cap - enc->len;
	if (enc->packet)
		room = room >= HADP_WIRE_MAC_LEN ? room - HADP_WIRE_MAC_LEN : 0;
	if (need > room) {
		*err = -HADP_WIRE_ENOSPC;
		return NULL;
	}
	m = enc->buf + enc->len;
	m[0] = type;
	m[1] = op;
	hadp_wire_put16(m + 2, (__u16)body_len);
	hadp_wire_put32(m + 4, opaque);
	enc->len += need;
	enc->count++;
	*err = 0;
	return m + HADP_WIRE_MSG_HDR_LEN;
}

int hadp_wire_enc_msg(struct hadp_wire_enc *enc, __u8 type, __u8 op, __u32 opaque,
		      const void *body, size_t body_len)
{
	__u8 *b;
	int err;

	if (body_len && !body)
		return -HADP_WIRE_EINVAL;
	b = hadp_wire_reserve(enc, type, op, opaque, body_len, &err);
	if (b && body_len)
		memcpy(b, body, body_len);
	return err;
}

int hadp_wire_enc_entry(struct hadp_wire_enc *enc, __u8 op, __u32 opaque,
			const struct hadp_wire_entry *entry)
{
	return hadp_wire_enc_packet_update(enc, op, opaque, entry, NULL, 0);
}

int hadp_wire_enc_packet_update(struct hadp_wire_enc *enc, __u8 op, __u32 opaque,
				const struct hadp_wire_entry *entry,
				const void *pkt, size_t pkt_len)
{
	__u8 tmp[HADP_WIRE_CONN_LEN > HADP_WIRE_MAC_ENTRY_LEN ?
		 HADP_WIRE_CONN_LEN : HADP_WIRE_MAC_ENTRY_LEN];
	__u8 type = pkt ? HADP_WIRE_T_PACKET_UPDATE : HADP_WIRE_T_STATE_UPDATE;
	int elen, err;
	__u8 *b;

	if (!entry || (pkt_len && !pkt))
		return -HADP_WIRE_EINVAL;
	/* Checked and encoded before anything is written to the buffer. */
	elen = hadp_wire_put_entry(tmp, entry);
	if (elen < 0)
		return elen;
	if (pkt_len > HADP_WIRE_MAX_BODY - (size_t)elen)
		return -HADP_WIRE_ERANGE;
	b = hadp_wire_reserve(enc, type, op, opaque, (size_t)elen + pkt_len, &err);
	if (!b)
		return err;
	memcpy(b, tmp, (size_t)elen);
	if (pkt_len)
		memcpy(b + elen, pkt, pkt_len);
	return 0;
}

int hadp_wire_enc_advert(struct hadp_wire_enc *enc, __u8 op, __u32 opaque,
			 const struct hadp_wire_advert *adv)
{
	__u8 *b;
	int err;

	if (!adv)
		return -HADP_WIRE_EINVAL;
	if (!adv->max_count)
		return -HADP_WIRE_ERANGE;
	b = hadp_wire_reserve(enc, HADP_WIRE_T_ADVERT, op, opaque, HADP_WIRE_ADVERT_LEN, &err);
	if (!b)
		return err;
	hadp_wire_put16(b, adv->max_count);
	hadp_wire_put16(b + 2, adv->max_payload);
	b[4] = adv->version_min;
	b[5] = adv->version_max;
	hadp_wire_put16(b + 6, 0);
	hadp_wire_put32(b + 8, adv->caps);
	return 0;
}

int hadp_wire_enc_dump(struct hadp_wire_enc *enc, __u8 type, __u32 opaque,
		       const struct hadp_wire_dump *dump)
{
	__u8 *b;
	int err;

	if (!dump)
		return -HADP_WIRE_EINVAL;
	if (type != HADP_WIRE_T_DUMP_REQUEST && type != HADP_WIRE_T_DUMP_BEGIN &&
	    type != HADP_WIRE_T_DUMP_END)
		return -HADP_WIRE_ETYPE;
	b = hadp_wire_reserve(enc, type, HADP_WIRE_OP_NONE, opaque, HADP_WIRE_DUMP_LEN, &err);
	if (!b)
		return err;
	hadp_wire_put32(b, dump->id);
	hadp_wire_put32(b + 4, dump->kinds);
	hadp_wire_put32(b + 8, dump->entries);
	hadp_wire_put32(b + 12, dump->status);
	return 0;
}

int hadp_wire_enc_finish(struct hadp_wire_enc *enc, const struct hadp_wire_key *key,
			 const struct hadp_wire_ctx *ctx)
{
	if (!enc || !enc->buf)
		return -HADP_WIRE_EINVAL;
	if (!enc->packet)
		return (int)enc->len;
	if (!key)
		return -HADP_WIRE_EINVAL;
	/* enc_init and reserve kept MAC room free: len + 16 <= cap. */
	hadp_wire_put16(enc->buf + 4, (__u16)enc->count);
	hadp_wire_mac(enc->buf + enc->len, key, ctx, enc->buf, enc->len);
	return (int)(enc->len + HADP_WIRE_MAC_LEN);
}

int hadp_wire_frame(void *out, size_t cap, const struct hadp_wire_hdr *hdr,
		    const void *msgs, size_t msgs_len, unsigned int max_count,
		    const struct hadp_wire_key *key, const struct hadp_wire_ctx *ctx)
{
	__u8 *o = out;
	int n;

	if (!out || !hdr || !key)
		return -HADP_WIRE_EINVAL;
	n = hadp_wire_msgs_validate(msgs, msgs_len);
	if (n < 0)
		return n;
	if (max_count && (unsigned int)n > max_count)
		return -HADP_WIRE_ELIMIT;
	if (msgs_len > HADP_WIRE_INT_MAX - HADP_WIRE_OVERHEAD)
		return -HADP_WIRE_ERANGE;
	if (cap < HADP_WIRE_OVERHEAD + msgs_len)
		return -HADP_WIRE_ENOSPC;
	hadp_wire_put_hdr(o, hdr, (__u16)n);
	if (msgs_len)
		memcpy(o + HADP_WIRE_HDR_LEN, msgs, msgs_len);
	hadp_wire_mac(o + HADP_WIRE_HDR_LEN + msgs_len, key, ctx, o,
		      HADP_WIRE_HDR_LEN + msgs_len);
	return (int)(HADP_WIRE_OVERHEAD + msgs_len);
}

int hadp_wire_reply(void *out, size_t cap, const void *pkt, size_t len, bool truncate,
		    const struct hadp_wire_key *key, const struct hadp_wire_ctx *ctx)
{
	const __u8 *in = pkt;
	struct hadp_wire_hdr h;
	__u8 *o = out, flags;
	size_t r, w, end;
	__u32 i;
	int rc;

	if (!out || !key)
		return -HADP_WIRE_EINVAL;
	rc = hadp_wire_parse_hdr(pkt, len, &h);
	if (rc)
		return rc;
	if (h.flags & HADP_WIRE_F_REPLY)
		return -HADP_WIRE_EINVAL;
	if (len > HADP_WIRE_INT_MAX)
		return -HADP_WIRE_ERANGE;
	rc = hadp_wire_walk(in + HADP_WIRE_HDR_LEN, len - HADP_WIRE_OVERHEAD, h.count);
	if (rc < 0)
		return rc;
	flags = h.flags | HADP_WIRE_F_REPLY;
	truncate = truncate && (h.flags & HADP_WIRE_F_TRUNCATION_ALLOWED);
	if (!truncate) {
		if (cap < len)
			return -HADP_WIRE_ENOSPC;
		memmove(o, in, len - HADP_WIRE_MAC_LEN);
		o[3] = flags;
		hadp_wire_mac(o + len - HADP_WIRE_MAC_LEN, key, ctx, o, len - HADP_WIRE_MAC_LEN);
		return (int)len;
	}
	end = HADP_WIRE_HDR_LEN + (size_t)h.count * HADP_WIRE_MSG_HDR_LEN;
	if (cap < end + HADP_WIRE_MAC_LEN)
		return -HADP_WIRE_ENOSPC;
	/* In place is safe: the write offset never passes the read offset,
	 * and each length is read before its header is moved. */
	memmove(o, in, HADP_WIRE_HDR_LEN);
	o[3] = flags | HADP_WIRE_F_TRUNCATED;
	r = w = HADP_WIRE_HDR_LEN;
	for (i = 0; i < h.count; i++) {
		size_t blen = hadp_wire_get16(in + r + 2);

		memmove(o + w, in + r, HADP_WIRE_MSG_HDR_LEN);
		hadp_wire_put16(o + w + 2, 0);
		r += HADP_WIRE_MSG_HDR_LEN + blen;
		w += HADP_WIRE_MSG_HDR_LEN;
	}
	hadp_wire_mac(o + w, key, ctx, o, w);
	return (int)(w + HADP_WIRE_MAC_LEN);
}

/* ---------------------------------------------------------------------- */
/* Coalescing                                                             */
/* ---------------------------------------------------------------------- */

size_t hadp_wire_payload_max(unsigned int path_mtu, bool ipv6)
{
	unsigned int over = ipv6 ? HADP_WIRE_UDP6_OVERHEAD : HADP_WIRE_UDP4_OVERHEAD;
	/* IPv4: total length is 16 bits; IPv6: payload length (UDP header
	 * and data) is 16 bits, the fixed header not included. */
	size_t top = ipv6 ? 65535 - 8 : 65535 - HADP_WIRE_UDP4_OVERHEAD;

	if (path_mtu <= over)
		return 0;
	return path_mtu - over > top ? top : path_mtu - over;
}

unsigned int hadp_wire_coalesce(unsigned int path_mtu, bool ipv6,
				unsigned int max_count, size_t body_len)
{
	size_t payload = hadp_wire_payload_max(path_mtu, ipv6);
	size_t msg = hadp_wire_msg_size(body_len);
	size_t n;

	if (!msg || payload < HADP_WIRE_OVERHEAD)
		return 0;
	n = (payload - HADP_WIRE_OVERHEAD) / msg;
	if (!max_count)
		max_count = 1;
	if (max_count > HADP_WIRE_MAX_COUNT)
		max_count = HADP_WIRE_MAX_COUNT;
	return n < max_count ? (unsigned int)n : max_count;
}

/* ---------------------------------------------------------------------- */
/* Sessions                                                               */
/* ---------------------------------------------------------------------- */

int hadp_wire_session(void *out, size_t cap, __u8 type, __u32 epoch, __u64 seq,
		      const __u8 nonce[HADP_WIRE_NONCE_LEN],
		      const struct hadp_wire_key *key, const struct hadp_wire_ctx *ctx)
{
	const struct hadp_wire_hdr hdr = {
		.version = HADP_WIRE_VERSION,
		.flags = HADP_WIRE_F_SESSION,
		.epoch = epoch,
		.seq = seq,
	};
	struct hadp_wire_enc enc;
	int rc;

	if ((type != HADP_WIRE_T_CHALLENGE && type != HADP_WIRE_T_RESPONSE) ||
	    !nonce || !key)
		return -HADP_WIRE_EINVAL;
	rc = hadp_wire_enc_init(&enc, out, cap, &hdr, 1);
	if (!rc)
		rc = hadp_wire_enc_msg(&enc, type, HADP_WIRE_OP_NONE, 0, nonce,
				       HADP_WIRE_NONCE_LEN);
	return rc ? rc : hadp_wire_enc_finish(&enc, key, ctx);
}

int hadp_wire_dec_session(const void *pkt, size_t len, __u8 *type,
			  __u8 nonce[HADP_WIRE_NONCE_LEN])
{
	struct hadp_wire_iter it;
	struct hadp_wire_msg m;
	int rc;

	rc = hadp_wire_iter_init(&it, pkt, len);
	if (rc)
		return rc;
	if (it.left != 1)
		return -HADP_WIRE_ETYPE;
	rc = hadp_wire_next(&it, &m);
	if (rc < 0)
		return rc;
	if (m.type != HADP_WIRE_T_CHALLENGE && m.type != HADP_WIRE_T_RESPONSE)
		return -HADP_WIRE_ETYPE;
	if (m.len != HADP_WIRE_NONCE_LEN)
		return -HADP_WIRE_ESHORT;
	*type = m.type;
	memcpy(nonce, m.body, HADP_WIRE_NONCE_LEN);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Replay window                                                          */
/* ---------------------------------------------------------------------- */

static inline bool hadp_wire_replay_bit(const struct hadp_wire_replay *rp, __u64 seq)
{
	unsigned int b = (unsigned int)(seq % HADP_WIRE_REPLAY_WINDOW);

	return rp->bits[b / 64] >> (b % 64) & 1;
}

static inline void hadp_wire_replay_set(struct hadp_wire_replay *rp, __u64 seq, bool on)
{
	unsigned int b = (unsigned int)(seq % HADP_WIRE_REPLAY_WINDOW);

	if (on)
		rp->bits[b / 64] |= 1ull << (b % 64);
	else
		rp->bits[b / 64] &= ~(1ull << (b % 64));
}

void hadp_wire_replay_start(struct hadp_wire_replay *rp, __u32 epoch, __u64 seq)
{
	unsigned int i;

	rp->valid = 1;
	rp->epoch = epoch;
	rp->top = seq;
	for (i = 0; i < HADP_WIRE_REPLAY_WORDS; i++)
		rp->bits[i] = ~0ull;
}

int hadp_wire_replay_check(const struct hadp_wire_replay *rp, __u32 epoch, __u64 seq)
{
	if (!rp)
		return -HADP_WIRE_EINVAL;
	if (!rp->valid || epoch != rp->epoch)
		return -HADP_WIRE_ESESSION;
	if (seq > rp->top)
		return 0;
	if (rp->top - seq >= HADP_WIRE_REPLAY_WINDOW)
		return -HADP_WIRE_ESTALE;
	return hadp_wire_replay_bit(rp, seq) ? -HADP_WIRE_EREPLAY : 0;
}

void hadp_wire_replay_update(struct hadp_wire_replay *rp, __u32 epoch, __u64 seq)
{
	unsigned int i;

	if (!rp || !rp->valid || epoch != rp->epoch)
		return;
	if (seq > rp->top) {
		/* The slots of top+1 .. seq are reused: clear them. */
		if (seq - rp->top >= HADP_WIRE_REPLAY_WINDOW) {
			for (i = 0; i < HADP_WIRE_REPLAY_WORDS; i++)
				rp->bits[i] = 0;
		} else {
			__u64 s;

			for (s = rp->top + 1; s != seq; s++)
				hadp_wire_replay_set(rp, s, false);
		}
		rp->top = seq;
	} else if (rp->top - seq >= HADP_WIRE_REPLAY_WINDOW) {
		return;
	}
	hadp_wire_replay_set(rp, seq, true);
}

int hadp_wire_replay_accept(struct hadp_wire_replay *rp, __u32 epoch, __u64 seq)
{
	int rc = hadp_wire_replay_check(rp, epoch, seq);

	if (!rc)
		hadp_wire_replay_update(rp, epoch, seq);
	return rc;
}
