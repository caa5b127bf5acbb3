// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HA wire codec (include/hadp/wire.c) and its MAC (blake2s.c):
 * BLAKE2s against RFC 7693, byte-exact layouts, round trips of every
 * message, every malformed case the receiver must refuse, replies, the
 * replay window against a naive model, coalescing, and the byte budget
 * of a NAT connection entry on a 1500-byte path.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "hadp/blake2s.h"
#include "hadp/wire.h"

static const struct hadp_wire_key key = { .bytes = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f } };

/* ---------------------------------------------------------------------- */
/* BLAKE2s                                                                */
/* ---------------------------------------------------------------------- */

static void hex(char *out, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* RFC 7693 Appendix B: BLAKE2s-256("abc"). */
START_TEST(blake2s_rfc_abc)
{
	uint8_t md[32];
	char s[65];

	ck_assert_int_eq(hadp_blake2s(md, 32, NULL, 0, "abc", 3), 0);
	hex(s, md, 32);
	ck_assert_str_eq(s, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}
END_TEST

/* RFC 7693 Appendix E: the self-test's Fibonacci inputs and keys. */
static void selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t t, a = 0xDEAD4BAD * seed, b = 1;
	size_t i;

	for (i = 0; i < len; i++) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (t >> 24) & 0xff;
	}
}

/* RFC 7693 Appendix E: the grand hash of keyed and unkeyed hashes of
 * every output length in {16, 20, 28, 32} and input length in
 * {0, 3, 64, 65, 255, 1024}. */
START_TEST(blake2s_rfc_selftest)
{
	static const uint8_t res[32] = {
		0x6A, 0x41, 0x1F, 0x08, 0xCE, 0x25, 0xAD, 0xCD, 0xFB, 0x02, 0xAB, 0xA6, 0x41, 0x45, 0x1C, 0xEC,
		0x53, 0xC5, 0x98, 0xB2, 0x4F, 0x4F, 0xC7, 0x87, 0xFB, 0xDC, 0x88, 0x79, 0x7F, 0x4C, 0x1D, 0xFE };
	static const size_t md_len[4] = { 16, 20, 28, 32 };
	static const size_t in_len[6] = { 0, 3, 64, 65, 255, 1024 };
	uint8_t in[1024], md[32], k[32];
	struct hadp_blake2s s;
	size_t i, j;

	ck_assert_int_eq(hadp_blake2s_init(&s, 32, NULL, 0), 0);
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 6; j++) {
			selftest_seq(in, in_len[j], (uint32_t)in_len[j]);
			ck_assert_int_eq(hadp_blake2s(md, md_len[i], NULL, 0, in, in_len[j]), 0);
			hadp_blake2s_update(&s, md, md_len[i]);
			selftest_seq(k, md_len[i], (uint32_t)md_len[i]);
			ck_assert_int_eq(hadp_blake2s(md, md_len[i], k, md_len[i], in, in_len[j]), 0);
			hadp_blake2s_update(&s, md, md_len[i]);
		}
	}
	hadp_blake2s_final(&s, md);
	ck_assert_mem_eq(md, res, 32);
}
END_TEST

/* The wire's MAC shape: 32-byte key, 16-byte tag, input 0, 1, 2, ...
 * Expected values from Python's hashlib.blake2s(digest_size=16, key=...),
 * an independent implementation; lengths straddle block boundaries. */
START_TEST(blake2s_keyed_tag16)
{
	static const struct { size_t len; const char *tag; } v[] = {
		{ 0, "9536f9b267655743dee97b8a670f9f53" },
		{ 37, "5782be6ccdc78c8425285e85de8ccdc6" },
		{ 74, "f6069709ad5b0139163717e9ce1114ab" },
		{ 111, "7f45cc1eea9a00cb6aeb2dd748361190" },
		{ 148, "33bd6c20ca2a7ab916d6e98003c6c5f8" },
		{ 185, "0457f10f299acf0c230dd4007612e58f" },
		{ 222, "f48427a04f67e33f3ba0a17f7c9704a7" },
		{ 259, "f37c53054af4cfd0a4baac9ac3b478d6" },
		{ 296, "6d7be89a55675771c6132e849432849d" },
	};
	uint8_t in[300], md[16], md2[16];
	char s[33];
	size_t i, j;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct hadp_blake2s st;

		ck_assert_int_eq(hadp_blake2s(md, 16, key.bytes, 32, in, v[i].len), 0);
		hex(s, md, 16);
		ck_assert_msg(!strcmp(s, v[i].tag), "len %zu: %s", v[i].len, s);
		/* the same in uneven pieces */
		ck_assert_int_eq(hadp_blake2s_init(&st, 16, key.bytes, 32), 0);
		for (j = 0; j < v[i].len; j += 7)
			hadp_blake2s_update(&st, in + j, v[i].len - j < 7 ? v[i].len - j : 7);
		hadp_blake2s_final(&st, md2);
		ck_assert_mem_eq(md, md2, 16);
	}
}
END_TEST

START_TEST(blake2s_bad_lengths)
{
	uint8_t md[33];

	ck_assert_int_eq(hadp_blake2s(md, 0, NULL, 0, "", 0), -1);
	ck_assert_int_eq(hadp_blake2s(md, 33, NULL, 0, "", 0), -1);
	ck_assert_int_eq(hadp_blake2s(md, 16, md, 33, "", 0), -1);
	ck_assert_int_eq(hadp_blake2s(md, 16, NULL, 16, "", 0), -1);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

static struct hadp_wire_entry mkconn(unsigned int i)
{
	struct hadp_wire_entry e;

	memset(&e, 0, sizeof(e));
	e.kind = HADP_WIRE_K_CONN;
	e.conn.key.vni = 0x123456 + i;
	e.conn.key.src = htonl(0x0a000001);
	e.conn.key.dst = htonl(0xc6336400 + i);
	e.conn.key.sport = htons((uint16_t)(40000 + i));
	e.conn.key.dport = htons(443);
	e.conn.key.proto = 6;
	e.conn.version = 0x01020304 + i;
	e.conn.ifindex = 0x0a0b0c0d;
	e.conn.nat_ip = htonl(0xcb007101);
	e.conn.nat_port = htons((uint16_t)(1024 + i));
	e.conn.state = HADP_CONN_ESTABLISHED;
	e.conn.flags = HADP_CONN_FIN_OUT | HADP_CONN_VIP;
	e.conn.age = (uint16_t)(300 + i);
	return e;
}

static const struct hadp_wire_hdr hdr0 = {
	.flags = HADP_WIRE_F_REPLY_REQUESTED | HADP_WIRE_F_TRUNCATION_ALLOWED,
	.epoch = 0x65000001, .seq = 0x0102030405060708ull, .opaque = 0xfeedf00d,
};

/* A packet with n NAT connection updates. */
static int mkpkt(uint8_t *buf, size_t cap, unsigned int n)
{
	struct hadp_wire_enc enc;
	unsigned int i;

	ck_assert_int_eq(hadp_wire_enc_init(&enc, buf, cap, &hdr0, 0), 0);
	for (i = 0; i < n; i++) {
		struct hadp_wire_entry e = mkconn(i);

		ck_assert_int_eq(hadp_wire_enc_entry(&enc, HADP_WIRE_OP_CREATE, 100 + i, &e), 0);
	}
	return hadp_wire_enc_finish(&enc, &key, NULL);
}

/* Re-seal a packet modified by a test, so only what the test broke is broken. */
static void reseal(uint8_t *buf, size_t len)
{
	hadp_wire_mac(buf + len - HADP_WIRE_MAC_LEN, &key, NULL, buf, len - HADP_WIRE_MAC_LEN);
}

static int validate(const uint8_t *buf, size_t len)
{
	return hadp_wire_validate(buf, len, &key, NULL, 0, NULL);
}

/* ---------------------------------------------------------------------- */
/* Layout and round trips                                                 */
/* ---------------------------------------------------------------------- */

/* docs/protocol.md draws these bytes: keep the two in step. */
START_TEST(wire_layout_bytes)
{
	static const uint8_t want[] = {
		/* header */
		0x48, 0x44, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00,
		0x65, 0x00, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0xfe, 0xed, 0xf0, 0x0d,
		/* message header: state update, create, length 36, opaque 100 */
		0x01, 0x01, 0x00, 0x24, 0x00, 0x00, 0x00, 0x64,
		/* entry: kind 1, len 36, proto 6, state 2, vni 0x123456, flags 5 */
		0x01, 0x24, 0x06, 0x02, 0x12, 0x34, 0x56, 0x05,
		0x01, 0x02, 0x03, 0x04,		/* version */
		0x0a, 0x0b, 0x0c, 0x0d,		/* ifindex */
		10, 0, 0, 1,			/* src */
		198, 51, 100, 0,		/* dst */
		0x9c, 0x40, 0x01, 0xbb,		/* sport 40000, dport 443 */
		203, 0, 113, 1,			/* nat ip */
		0x04, 0x00,			/* nat port 1024 */
		0x01, 0x2c,			/* age 300 */
	};
	uint8_t buf[256], tag[16];
	int n = mkpkt(buf, sizeof(buf), 1);

	ck_assert_int_eq(n, (int)sizeof(want) + 16);
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_int_eq(HADP_WIRE_CONN_MSG_LEN, 44);
	/* MAC = BLAKE2s-128(key, 36 zero bytes of context || packet) */
	{
		uint8_t in[36 + sizeof(want)];

		memset(in, 0, 36);
		memcpy(in + 36, want, sizeof(want));
		ck_assert_int_eq(hadp_blake2s(tag, 16, key.bytes, 32, in, sizeof(in)), 0);
		ck_assert_mem_eq(buf + sizeof(want), tag, 16);
	}
}
END_TEST

/* Session packets (docs/protocol.md, "Sessions"): the bytes, and what the
 * decoder refuses. */
START_TEST(wire_session_layout)
{
	static const uint8_t want[] = {
		/* header: flags session, count 1, epoch, seq, opaque 0 */
		0x48, 0x44, 0x01, 0x10, 0x00, 0x01, 0x00, 0x00,
		0x9a, 0xbc, 0xde, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,
		0x00, 0x00, 0x00, 0x00,
		/* message header: response, op 0, length 16, opaque 0 */
		0x08, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00,
		/* the nonce */
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	};
	uint8_t nonce[HADP_WIRE_NONCE_LEN], got[HADP_WIRE_NONCE_LEN];
	uint8_t buf[128], tag[16], type = 0;
	struct hadp_wire_hdr h;
	unsigned int i;
	int n;

	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(i * 0x11);
	n = hadp_wire_session(buf, sizeof(buf), HADP_WIRE_T_RESPONSE, 0x9abcdef0,
			      42, nonce, &key, NULL);
	ck_assert_int_eq(n, HADP_WIRE_SESSION_PKT_LEN);
	ck_assert_int_eq(n, (int)sizeof(want) + 16);
	ck_assert_mem_eq(buf, want, sizeof(want));
	hadp_wire_mac(tag, &key, NULL, want, sizeof(want));
	ck_assert_mem_eq(buf + sizeof(want), tag, 16);
	ck_assert_int_eq(hadp_wire_validate(buf, n, &key, NULL, 1, &h), 0);
	ck_assert_uint_eq(h.flags, HADP_WIRE_F_SESSION);
	ck_assert_int_eq(hadp_wire_dec_session(buf, n, &type, got), 0);
	ck_assert_uint_eq(type, HADP_WIRE_T_RESPONSE);
	ck_assert_mem_eq(got, nonce, sizeof(nonce));

	/* a challenge: type 7 */
	n = hadp_wire_session(buf, sizeof(buf), HADP_WIRE_T_CHALLENGE, 1, 0, nonce, &key, NULL);
	ck_assert_int_eq(n, HADP_WIRE_SESSION_PKT_LEN);
	ck_assert_uint_eq(buf[24], HADP_WIRE_T_CHALLENGE);
	ck_assert_int_eq(hadp_wire_dec_session(buf, n, &type, got), 0);
	ck_assert_uint_eq(type, HADP_WIRE_T_CHALLENGE);
	/* no other type is framed, nor into too small a buffer */
	ck_assert_int_eq(hadp_wire_session(buf, sizeof(buf), HADP_WIRE_T_ADVERT, 1, 0, nonce, &key, NULL),
			 -HADP_WIRE_EINVAL);
	ck_assert_int_lt(hadp_wire_session(buf, HADP_WIRE_SESSION_PKT_LEN - 1,
					   HADP_WIRE_T_CHALLENGE, 1, 0, nonce, &key, NULL), 0);

	/* the decoder: another type, a short nonce, two messages */
	buf[24] = HADP_WIRE_T_ADVERT;
	ck_assert_int_eq(hadp_wire_dec_session(buf, n, &type, got), -HADP_WIRE_ETYPE);
	n = mkpkt(buf, sizeof(buf), 1);
	ck_assert_int_eq(hadp_wire_dec_session(buf, n, &type, got), -HADP_WIRE_ETYPE);
	{
		struct hadp_wire_hdr sh = { .flags = HADP_WIRE_F_SESSION };
		struct hadp_wire_enc enc;

		ck_assert_int_eq(hadp_wire_enc_init(&enc, buf, sizeof(buf), &sh, 0), 0);
		ck_assert_int_eq(hadp_wire_enc_msg(&enc, HADP_WIRE_T_CHALLENGE, 0, 0, nonce, 15), 0);
		n = hadp_wire_enc_finish(&enc, &key, NULL);
		ck_assert_int_eq(hadp_wire_dec_session(buf, n, &type, got), -HADP_WIRE_ESHORT);
		ck_assert_int_eq(hadp_wire_enc_init(&enc, buf, sizeof(buf), &sh, 0), 0);
		ck_assert_int_eq(hadp_wire_enc_msg(&enc, HADP_WIRE_T_CHALLENGE, 0, 0, nonce, 16), 0);
		ck_assert_int_eq(hadp_wire_enc_msg(&enc, HADP_WIRE_T_CHALLENGE, 0, 0, nonce, 16), 0);
		n = hadp_wire_enc_finish(&enc, &key, NULL);
		ck_assert_int_eq(hadp_wire_dec_session(buf, n, &type, got), -HADP_WIRE_ETYPE);
	}
}
END_TEST

START_TEST(wire_roundtrip_conns)
{
	uint8_t buf[1500];
	struct hadp_wire_hdr h;
	struct hadp_wire_iter it;
	struct hadp_wire_msg m;
	unsigned int i = 0;
	int n = mkpkt(buf, sizeof(buf), 5);

	ck_assert_int_eq(n, HADP_WIRE_OVERHEAD + 5 * HADP_WIRE_CONN_MSG_LEN);
	ck_assert_int_eq(hadp_wire_validate(buf, (size_t)n, &key, NULL, 5, &h), 0);
	ck_assert_uint_eq(h.version, HADP_WIRE_VERSION);
	ck_assert_uint_eq(h.flags, hdr0.flags);
	ck_assert_uint_eq(h.count, 5);
	ck_assert_uint_eq(h.epoch, hdr0.epoch);
	ck_assert(h.seq == hdr0.seq);
	ck_assert_uint_eq(h.opaque, hdr0.opaque);
	ck_assert_int_eq(hadp_wire_iter_init(&it, buf, (size_t)n), 0);
	while (hadp_wire_next(&it, &m) == 1) {
		struct hadp_wire_entry e, want = mkconn(i);
		const uint8_t *p = (const uint8_t *)1;
		size_t plen = 1;

		ck_assert_uint_eq(m.type, HADP_WIRE_T_STATE_UPDATE);
		ck_assert_uint_eq(m.op, HADP_WIRE_OP_CREATE);
		ck_assert_uint_eq(m.opaque, 100 + i);
		ck_assert_uint_eq(m.len, HADP_WIRE_CONN_LEN);
		ck_assert_int_eq(hadp_wire_dec_entry(&m, &e, &p, &plen), 0);
		ck_assert_ptr_null(p);
		ck_assert_uint_eq(plen, 0);
		ck_assert_mem_eq(&e, &want, sizeof(e));
		i++;
	}
	ck_assert_uint_eq(i, 5);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 0);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 0);
}
END_TEST

START_TEST(wire_roundtrip_other_messages)
{
	struct hadp_wire_entry mac = { .kind = HADP_WIRE_K_MAC,
		.mac = { .version = 7, .ifindex = 42, .mac = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee } } };
	struct hadp_wire_entry conn = mkconn(3), e;
	struct hadp_wire_advert adv = { .max_count = 32, .max_payload = 1452, .version_min = 1,
		.version_max = 1, .caps = HADP_WIRE_CAP_PACKET_UPDATE | HADP_WIRE_CAP_DUMP }, adv2;
	struct hadp_wire_dump d = { .id = 77, .kinds = 1u << HADP_WIRE_K_CONN,
		.entries = HADP_WIRE_DUMP_UNKNOWN_COUNT, .status = 0 }, d2;
	uint8_t frame[100], buf[1500];
	struct hadp_wire_enc enc;
	struct hadp_wire_iter it;
	struct hadp_wire_msg m;
	const uint8_t *p;
	size_t plen;
	int n;

	memset(frame, 0x5a, sizeof(frame));
	ck_assert_int_eq(hadp_wire_enc_init(&enc, buf, sizeof(buf), &hdr0, 0), 0);
	ck_assert_int_eq(hadp_wire_enc_entry(&enc, HADP_WIRE_OP_UPDATE, 1, &mac), 0);
	ck_assert_int_eq(hadp_wire_enc_packet_update(&enc, HADP_WIRE_OP_UPDATE, 2, &conn,
						     frame, sizeof(frame)), 0);
	ck_assert_int_eq(hadp_wire_enc_advert(&enc, HADP_WIRE_OP_SOLICIT, 3, &adv), 0);
	ck_assert_int_eq(hadp_wire_enc_dump(&enc, HADP_WIRE_T_DUMP_REQUEST, 4, &d), 0);
	d.entries = 1000;
	ck_assert_int_eq(hadp_wire_enc_dump(&enc, HADP_WIRE_T_DUMP_BEGIN, 5, &d), 0);
	d.status = HADP_WIRE_DUMP_ABORTED;
	ck_assert_int_eq(hadp_wire_enc_dump(&enc, HADP_WIRE_T_DUMP_END, 6, &d), 0);
	ck_assert_int_eq(hadp_wire_enc_dump(&enc, HADP_WIRE_T_ADVERT, 6, &d), -HADP_WIRE_ETYPE);
	ck_assert_int_eq(hadp_wire_enc_msg(&enc, 0xee, 0, 7, NULL, 0), 0);
	n = hadp_wire_enc_finish(&enc, &key, NULL);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(validate(buf, (size_t)n), 0);

	ck_assert_int_eq(hadp_wire_iter_init(&it, buf, (size_t)n), 0);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_uint_eq(m.len, HADP_WIRE_MAC_ENTRY_LEN);
	ck_assert_int_eq(hadp_wire_dec_entry(&m, &e, NULL, NULL), 0);
	ck_assert_mem_eq(&e, &mac, sizeof(e));
	ck_assert_int_eq(hadp_wire_dec_advert(&m, &adv2), -HADP_WIRE_ETYPE);

	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_uint_eq(m.type, HADP_WIRE_T_PACKET_UPDATE);
	ck_assert_uint_eq(m.opaque, 2);
	ck_assert_int_eq(hadp_wire_dec_entry(&m, &e, &p, &plen), 0);
	ck_assert_mem_eq(&e, &conn, sizeof(e));
	ck_assert_uint_eq(plen, sizeof(frame));
	ck_assert_mem_eq(p, frame, sizeof(frame));

	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_uint_eq(m.op, HADP_WIRE_OP_SOLICIT);
	ck_assert_int_eq(hadp_wire_dec_advert(&m, &adv2), 0);
	ck_assert_uint_eq(adv2.max_count, adv.max_count);
	ck_assert_uint_eq(adv2.max_payload, adv.max_payload);
	ck_assert_uint_eq(adv2.version_min, adv.version_min);
	ck_assert_uint_eq(adv2.version_max, adv.version_max);
	ck_assert_uint_eq(adv2.caps, adv.caps);
	ck_assert_int_eq(hadp_wire_dec_entry(&m, &e, NULL, NULL), -HADP_WIRE_ETYPE);

	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_uint_eq(m.type, HADP_WIRE_T_DUMP_REQUEST);
	ck_assert_int_eq(hadp_wire_dec_dump(&m, &d2), 0);
	ck_assert_uint_eq(d2.id, 77);
	ck_assert_uint_eq(d2.kinds, 1u << HADP_WIRE_K_CONN);
	ck_assert_uint_eq(d2.entries, HADP_WIRE_DUMP_UNKNOWN_COUNT);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_uint_eq(m.type, HADP_WIRE_T_DUMP_BEGIN);
	ck_assert_int_eq(hadp_wire_dec_dump(&m, &d2), 0);
	ck_assert_uint_eq(d2.entries, 1000);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_uint_eq(m.type, HADP_WIRE_T_DUMP_END);
	ck_assert_int_eq(hadp_wire_dec_dump(&m, &d2), 0);
	ck_assert_uint_eq(d2.status, HADP_WIRE_DUMP_ABORTED);

	/* unknown type: iterated, not decoded */
	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_uint_eq(m.type, 0xee);
	ck_assert_uint_eq(m.len, 0);
	ck_assert_int_eq(hadp_wire_dec_entry(&m, &e, NULL, NULL), -HADP_WIRE_ETYPE);
	ck_assert_int_eq(hadp_wire_dec_dump(&m, &d2), -HADP_WIRE_ETYPE);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 0);
}
END_TEST

/* The module's send path: a bare stream from the agent, framed. */
START_TEST(wire_frame_bare_stream)
{
	uint8_t msgs[512], pkt[600], ref[600];
	struct hadp_wire_enc enc;
	struct hadp_wire_iter it;
	struct hadp_wire_msg m;
	unsigned int i;
	int len, n, r;

	ck_assert_int_eq(hadp_wire_enc_init_msgs(&enc, msgs, sizeof(msgs), 0), 0);
	for (i = 0; i < 3; i++) {
		struct hadp_wire_entry e = mkconn(i);

		ck_assert_int_eq(hadp_wire_enc_entry(&enc, HADP_WIRE_OP_CREATE, 100 + i, &e), 0);
	}
	len = hadp_wire_enc_finish(&enc, NULL, NULL);
	ck_assert_int_eq(len, 3 * HADP_WIRE_CONN_MSG_LEN);
	ck_assert_int_eq(hadp_wire_msgs_validate(msgs, (size_t)len), 3);
	ck_assert_int_eq(hadp_wire_iter_msgs(&it, msgs, (size_t)len), 0);
	for (i = 0; (r = hadp_wire_next(&it, &m)) == 1; i++)
		ck_assert_uint_eq(m.opaque, 100 + i);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(i, 3);

	n = hadp_wire_frame(pkt, sizeof(pkt), &hdr0, msgs, (size_t)len, 0, &key, NULL);
	ck_assert_int_eq(n, len + HADP_WIRE_OVERHEAD);
	ck_assert_int_eq(mkpkt(ref, sizeof(ref), 3), n);
	ck_assert_mem_eq(pkt, ref, (size_t)n);
	ck_assert_int_eq(hadp_wire_frame(pkt, sizeof(pkt), &hdr0, msgs, (size_t)len, 2, &key, NULL),
			 -HADP_WIRE_ELIMIT);
	ck_assert_int_eq(hadp_wire_frame(pkt, (size_t)n - 1, &hdr0, msgs, (size_t)len, 0, &key, NULL),
			 -HADP_WIRE_ENOSPC);
	/* a lying stream is refused before anything is sent */
	msgs[3] = 200;
	ck_assert_int_eq(hadp_wire_frame(pkt, sizeof(pkt), &hdr0, msgs, (size_t)len, 0, &key, NULL),
			 -HADP_WIRE_ELENGTH);
	ck_assert_int_eq(hadp_wire_msgs_validate(msgs, (size_t)len), -HADP_WIRE_ELENGTH);
	ck_assert_int_eq(hadp_wire_msgs_validate(msgs, 7), -HADP_WIRE_ELENGTH);
	ck_assert_int_eq(hadp_wire_msgs_validate(msgs, 0), 0);
	/* an empty packet (keepalive) */
	n = hadp_wire_frame(pkt, sizeof(pkt), &hdr0, NULL, 0, 0, &key, NULL);
	ck_assert_int_eq(n, HADP_WIRE_MIN_LEN);
	ck_assert_int_eq(validate(pkt, (size_t)n), 0);
}
END_TEST

START_TEST(wire_encoder_limits)
{
	uint8_t buf[300], before[300];
	struct hadp_wire_entry e = mkconn(0);
	struct hadp_wire_advert adv = { .max_count = 0 };
	struct hadp_wire_enc enc;
	int n;

	ck_assert_int_eq(hadp_wire_enc_init(&enc, buf, HADP_WIRE_OVERHEAD - 1, &hdr0, 0),
			 -HADP_WIRE_ENOSPC);
	/* room for exactly 2 NAT messages */
	ck_assert_int_eq(hadp_wire_enc_init(&enc, buf, HADP_WIRE_OVERHEAD + 2 * 44 + 43, &hdr0, 0), 0);
	ck_assert_int_eq(hadp_wire_enc_entry(&enc, 1, 0, &e), 0);
	ck_assert_int_eq(hadp_wire_enc_entry(&enc, 1, 1, &e), 0);
	memcpy(before, buf, sizeof(buf));
	ck_assert_int_eq(hadp_wire_enc_entry(&enc, 1, 2, &e), -HADP_WIRE_ENOSPC);
	ck_assert_mem_eq(before, buf, sizeof(buf));
	/* still usable: a smaller message fits */
	ck_assert_int_eq(hadp_wire_enc_msg(&enc, HADP_WIRE_T_DUMP_REQUEST, 0, 3, "x", 1), 0);
	n = hadp_wire_enc_finish(&enc, &key, NULL);
	ck_assert_int_eq(n, HADP_WIRE_OVERHEAD + 2 * 44 + 9);
	ck_assert_int_eq(validate(buf, (size_t)n), 0);

	/* the advertised count */
	ck_assert_int_eq(hadp_wire_enc_init(&enc, buf, sizeof(buf), &hdr0, 2), 0);
	ck_assert_int_eq(hadp_wire_enc_entry(&enc, 1, 0, &e), 0);
	ck_assert_int_eq(hadp_wire_enc_entry(&enc, 1, 1, &e), 0);
	ck_assert_int_eq(hadp_wire_enc_entry(&enc, 1, 2, &e), -HADP_WIRE_ELIMIT);
	ck_assert_int_eq(hadp_wire_enc_finish(&enc, &key, NULL), HADP_WIRE_OVERHEAD + 2 * 44);

	/* fields that do not fit the wire */
	ck_assert_int_eq(hadp_wire_enc_init(&enc, buf, sizeof(buf), &hdr0, 0), 0);
	e.conn.key.vni = HADP_WIRE_VNI_MAX + 1;
	ck_assert_int_eq(hadp_wire_enc_entry(&enc, 1, 0, &e), -HADP_WIRE_ERANGE);
	e.conn.key.vni = HADP_WIRE_VNI_MAX;
	ck_assert_int_eq(hadp_wire_enc_entry(&enc, 1, 0, &e), 0);
	e.kind = 99;
	ck_assert_int_eq(hadp_wire_enc_entry(&enc, 1, 0, &e), -HADP_WIRE_EKIND);
	ck_assert_int_eq(hadp_wire_enc_advert(&enc, 0, 0, &adv), -HADP_WIRE_ERANGE);
	ck_assert_int_eq(hadp_wire_enc_msg(&enc, 1, 0, 0, buf, 0x10000), -HADP_WIRE_ERANGE);
	ck_assert_int_eq(hadp_wire_enc_msg(&enc, 1, 0, 0, NULL, 3), -HADP_WIRE_EINVAL);
	ck_assert_uint_eq(enc.count, 1);
	ck_assert_uint_eq(hadp_wire_msg_size(0x10000), 0);
	ck_assert_uint_eq(hadp_wire_msg_size(36), 44);
}
END_TEST

START_TEST(wire_conn_rkey_and_event)
{
	struct hadp_wire_entry e = mkconn(0);
	struct hadp_conn_key rk;
	struct hadp_event_conn ev;
	struct hadp_wire_conn c;

	hadp_wire_conn_rkey(&e.conn, &rk);
	ck_assert_uint_eq(rk.vni, 0);
	ck_assert_uint_eq(rk.src, e.conn.key.dst);
	ck_assert_uint_eq(rk.dst, e.conn.nat_ip);
	ck_assert_uint_eq(rk.sport, e.conn.key.dport);
	ck_assert_uint_eq(rk.dport, e.conn.nat_port);
	ck_assert_uint_eq(rk.proto, 6);
	/* ICMP echo: the identifier is sport on both sides, dport 0 */
	e.conn.key.proto = 1;
	e.conn.key.dport = 0;
	hadp_wire_conn_rkey(&e.conn, &rk);
	ck_assert_uint_eq(rk.sport, e.conn.nat_port);
	ck_assert_uint_eq(rk.dport, 0);

	memset(&ev, 0, sizeof(ev));
	ev.key = mkconn(1).conn.key;
	ev.key.pad[1] = 9;
	ev.val.last_seen = 5000000000ull;
	ev.val.version = 12;
	ev.val.ifindex = 3;
	ev.val.nat_ip = htonl(0xcb007101);
	ev.val.nat_port = htons(2000);
	ev.val.state = HADP_CONN_CLOSING;
	ev.val.flags = HADP_CONN_FIN_IN;
	ck_assert_int_eq(hadp_wire_conn_from_event(&c, &ev, 7900000000ull), 0);
	ck_assert_uint_eq(c.age, 2);
	ck_assert_uint_eq(c.key.pad[1], 0);
	ck_assert_uint_eq(c.version, 12);
	ck_assert_uint_eq(c.ifindex, 3);
	ck_assert_uint_eq(c.nat_port, htons(2000));
	ck_assert_uint_eq(c.state, HADP_CONN_CLOSING);
	ck_assert_uint_eq(c.flags, HADP_CONN_FIN_IN);
	ck_assert_int_eq(hadp_wire_conn_from_event(&c, &ev, 1), 0);
	ck_assert_uint_eq(c.age, 0);	/* another clock's future: just seen */
	ck_assert_int_eq(hadp_wire_conn_from_event(&c, &ev, 5000000000ull + 70000 * 1000000000ull), 0);
	ck_assert_uint_eq(c.age, HADP_WIRE_AGE_MAX);
	ev.key.vni = 1u << 24;
	ck_assert_int_eq(hadp_wire_conn_from_event(&c, &ev, 0), -HADP_WIRE_ERANGE);
}
END_TEST

START_TEST(wire_version_serial)
{
	ck_assert(hadp_wire_version_newer(2, 1));
	ck_assert(!hadp_wire_version_newer(1, 1));
	ck_assert(!hadp_wire_version_newer(1, 2));
	ck_assert(hadp_wire_version_newer(0, 0xffffffffu));	/* across the wrap */
	ck_assert(!hadp_wire_version_newer(0xffffffffu, 0));
}
END_TEST

START_TEST(wire_strerror)
{
	int i, j;

	for (i = 0; i < HADP_WIRE_EMAX; i++) {
		ck_assert_ptr_nonnull(hadp_wire_strerror(-i));
		ck_assert_str_ne(hadp_wire_strerror(-i), "unknown error");
		for (j = 0; j < i; j++)
			ck_assert_str_ne(hadp_wire_strerror(-i), hadp_wire_strerror(-j));
	}
	ck_assert_str_eq(hadp_wire_strerror(-HADP_WIRE_EMAX), "unknown error");
	ck_assert_str_eq(hadp_wire_strerror(-1000), "unknown error");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Malformed packets                                                      */
/* ---------------------------------------------------------------------- */

/* Every prefix of a valid packet is refused, and none is read past: the
 * copies are exact-size heap buffers (run under valgrind or ASan to see
 * an overrun; the fuzzer does). */
START_TEST(wire_truncated)
{
	uint8_t buf[400];
	size_t len, n = (size_t)mkpkt(buf, sizeof(buf), 3);

	for (len = 0; len < n; len++) {
		uint8_t *p = malloc(len ? len : 1);
		int rc;

		memcpy(p, buf, len);
		rc = validate(p, len);
		ck_assert_msg(rc < 0, "prefix of %zu bytes accepted", len);
		if (len < HADP_WIRE_MIN_LEN)
			ck_assert_int_eq(rc, -HADP_WIRE_ETRUNC);
		free(p);
	}
	ck_assert_int_eq(validate(buf, n), 0);
	ck_assert_int_eq(validate(NULL, 0), -HADP_WIRE_ETRUNC);
}
END_TEST

/* Bytes after the last message, MAC recomputed over them: oversized. */
START_TEST(wire_oversized)
{
	uint8_t buf[400];
	int n = mkpkt(buf, sizeof(buf), 2);

	memmove(buf + n - 16 + 5, buf + n - 16, 16);
	memset(buf + n - 16, 0, 5);
	reseal(buf, (size_t)n + 5);
	ck_assert_int_eq(validate(buf, (size_t)n + 5), -HADP_WIRE_ECOUNT);
}
END_TEST

START_TEST(wire_lying_lengths)
{
	const size_t m0 = HADP_WIRE_HDR_LEN;	/* first message */
	uint8_t buf[400];
	size_t n = (size_t)mkpkt(buf, sizeof(buf), 2);
	struct hadp_wire_iter it;
	struct hadp_wire_msg m;

	/* longer than the packet */
	hadp_wire_put16(buf + m0 + 2, 0xffff);
	reseal(buf, n);
	ck_assert_int_eq(validate(buf, n), -HADP_WIRE_ELENGTH);
	/* the cursor refuses it too, and keeps refusing */
	ck_assert_int_eq(hadp_wire_iter_init(&it, buf, n), 0);
	ck_assert_int_eq(hadp_wire_next(&it, &m), -HADP_WIRE_ELENGTH);
	ck_assert_int_eq(hadp_wire_next(&it, &m), -HADP_WIRE_ELENGTH);
	/* one byte too long: the second message runs into the MAC */
	hadp_wire_put16(buf + m0 + 2, HADP_WIRE_CONN_LEN + 1);
	reseal(buf, n);
	ck_assert_int_eq(validate(buf, n), -HADP_WIRE_ELENGTH);
	/* too short: the rest is read as a message that does not fit */
	hadp_wire_put16(buf + m0 + 2, 2);
	reseal(buf, n);
	ck_assert_int_lt(validate(buf, n), 0);
	/* entry length beyond the body */
	hadp_wire_put16(buf + m0 + 2, HADP_WIRE_CONN_LEN);
	buf[m0 + 8 + 1] = HADP_WIRE_CONN_LEN + 1;
	reseal(buf, n);
	ck_assert_int_eq(validate(buf, n), 0);	/* the packet is sound ... */
	ck_assert_int_eq(hadp_wire_iter_init(&it, buf, n), 0);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	{
		struct hadp_wire_entry e;

		/* ... its entry is not */
		ck_assert_int_eq(hadp_wire_dec_entry(&m, &e, NULL, NULL), -HADP_WIRE_ELENGTH);
		/* shorter than a NAT entry */
		buf[m0 + 8 + 1] = HADP_WIRE_CONN_LEN - 1;
		ck_assert_int_eq(hadp_wire_dec_entry(&m, &e, NULL, NULL), -HADP_WIRE_ESHORT);
		buf[m0 + 8 + 1] = 1;
		ck_assert_int_eq(hadp_wire_dec_entry(&m, &e, NULL, NULL), -HADP_WIRE_ESHORT);
		buf[m0 + 8 + 1] = HADP_WIRE_CONN_LEN;
		ck_assert_int_eq(hadp_wire_dec_entry(&m, &e, NULL, NULL), 0);
		/* a body shorter than its type needs */
		m.len = 1;
		ck_assert_int_eq(hadp_wire_dec_entry(&m, &e, NULL, NULL), -HADP_WIRE_ESHORT);
		m.type = HADP_WIRE_T_ADVERT;
		m.len = HADP_WIRE_ADVERT_LEN - 1;
		ck_assert_int_eq(hadp_wire_dec_advert(&m, &(struct hadp_wire_advert){ 0 }),
				 -HADP_WIRE_ESHORT);
		m.type = HADP_WIRE_T_DUMP_END;
		m.len = HADP_WIRE_DUMP_LEN - 1;
		ck_assert_int_eq(hadp_wire_dec_dump(&m, &(struct hadp_wire_dump){ 0 }),
				 -HADP_WIRE_ESHORT);
	}
}
END_TEST

/* A state update is exactly one entry; a longer entry (a later version's)
 * is read for the fields this version knows. */
START_TEST(wire_entry_lengths)
{
	uint8_t body[HADP_WIRE_CONN_LEN + 4];
	struct hadp_wire_entry e = mkconn(0), d;
	struct hadp_wire_msg m = { .type = HADP_WIRE_T_STATE_UPDATE, .body = body };
	uint8_t buf[200];
	struct hadp_wire_iter it;
	struct hadp_wire_enc enc;
	int n;

	ck_assert_int_eq(hadp_wire_enc_init_msgs(&enc, buf, sizeof(buf), 0), 0);
	ck_assert_int_eq(hadp_wire_enc_entry(&enc, 1, 0, &e), 0);
	n = hadp_wire_enc_finish(&enc, NULL, NULL);
	ck_assert_int_eq(hadp_wire_iter_msgs(&it, buf, (size_t)n), 0);
	memcpy(body, buf + 8, HADP_WIRE_CONN_LEN);
	memset(body + HADP_WIRE_CONN_LEN, 0xee, 4);
	/* trailing bytes after the entry of a state update */
	m.len = sizeof(body);
	ck_assert_int_eq(hadp_wire_dec_entry(&m, &d, NULL, NULL), -HADP_WIRE_ELENGTH);
	/* the same bytes as a longer entry */
	body[1] = sizeof(body);
	ck_assert_int_eq(hadp_wire_dec_entry(&m, &d, NULL, NULL), 0);
	ck_assert_mem_eq(&d, &e, sizeof(d));
}
END_TEST

START_TEST(wire_count_mismatch)
{
	uint8_t buf[400];
	size_t n = (size_t)mkpkt(buf, sizeof(buf), 3);
	struct hadp_wire_iter it;
	struct hadp_wire_msg m;

	hadp_wire_put16(buf + 4, 4);	/* one more than present */
	reseal(buf, n);
	ck_assert_int_eq(validate(buf, n), -HADP_WIRE_ECOUNT);
	ck_assert_int_eq(hadp_wire_iter_init(&it, buf, n), 0);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_int_eq(hadp_wire_next(&it, &m), -HADP_WIRE_ECOUNT);
	hadp_wire_put16(buf + 4, 2);	/* one less */
	reseal(buf, n);
	ck_assert_int_eq(validate(buf, n), -HADP_WIRE_ECOUNT);
	ck_assert_int_eq(hadp_wire_iter_init(&it, buf, n), 0);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_int_eq(hadp_wire_next(&it, &m), -HADP_WIRE_ECOUNT);
	hadp_wire_put16(buf + 4, 0);
	reseal(buf, n);
	ck_assert_int_eq(validate(buf, n), -HADP_WIRE_ECOUNT);
}
END_TEST

START_TEST(wire_unknown_type_kind_flags)
{
	uint8_t buf[400];
	size_t n = (size_t)mkpkt(buf, sizeof(buf), 2);
	struct hadp_wire_iter it;
	struct hadp_wire_msg m;
	struct hadp_wire_entry e;
	struct hadp_wire_hdr h;

	/* unknown flags and reserved bytes: ignored */
	buf[3] |= 0xf0;
	buf[6] = 0xab;
	/* unknown kind in the first message, unknown type in the second */
	buf[HADP_WIRE_HDR_LEN + 8] = 0x7f;
	buf[HADP_WIRE_HDR_LEN + HADP_WIRE_CONN_MSG_LEN] = 0x99;
	reseal(buf, n);
	ck_assert_int_eq(hadp_wire_validate(buf, n, &key, NULL, 0, &h), 0);
	ck_assert_uint_eq(h.flags & 0xf0, 0xf0);
	ck_assert_int_eq(hadp_wire_iter_init(&it, buf, n), 0);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_int_eq(hadp_wire_dec_entry(&m, &e, NULL, NULL), -HADP_WIRE_EKIND);
	ck_assert_uint_eq(e.kind, 0x7f);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 1);
	ck_assert_uint_eq(m.type, 0x99);
	ck_assert_uint_eq(m.opaque, 101);
	ck_assert_int_eq(hadp_wire_dec_entry(&m, &e, NULL, NULL), -HADP_WIRE_ETYPE);
	ck_assert_int_eq(hadp_wire_next(&it, &m), 0);
}
END_TEST

START_TEST(wire_magic_version)
{
	uint8_t buf[400];
	size_t n = (size_t)mkpkt(buf, sizeof(buf), 1);
	struct hadp_wire_iter it;

	buf[2] = HADP_WIRE_VERSION + 1;	/* newer, MAC valid */
	reseal(buf, n);
	ck_assert_int_eq(validate(buf, n), -HADP_WIRE_EVERSION);
	ck_assert_int_eq(hadp_wire_iter_init(&it, buf, n), -HADP_WIRE_EVERSION);
	buf[2] = 0;
	reseal(buf, n);
	ck_assert_int_eq(validate(buf, n), -HADP_WIRE_EVERSION);
	buf[2] = HADP_WIRE_VERSION;
	buf[0] = 'X';
	reseal(buf, n);
	ck_assert_int_eq(validate(buf, n), -HADP_WIRE_EMAGIC);
}
END_TEST

START_TEST(wire_bad_mac)
{
	uint8_t buf[400];
	size_t n = (size_t)mkpkt(buf, sizeof(buf), 2), i;
	struct hadp_wire_key other = key;
	struct hadp_wire_ctx a, b;
	uint8_t ua[16] = { 0xfd, [15] = 1 }, ub[16] = { 0xfd, [15] = 2 };
	unsigned int bit;

	/* any single bit flipped anywhere: refused */
	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1u << bit);
			ck_assert_msg(validate(buf, n) < 0, "byte %zu bit %u", i, bit);
			buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* a flip in a body or in the tag is exactly a MAC failure */
	buf[HADP_WIRE_HDR_LEN + 20] ^= 1;
	ck_assert_int_eq(validate(buf, n), -HADP_WIRE_EMAC);
	buf[HADP_WIRE_HDR_LEN + 20] ^= 1;
	buf[n - 1] ^= 0x80;
	ck_assert_int_eq(validate(buf, n), -HADP_WIRE_EMAC);
	buf[n - 1] ^= 0x80;
	ck_assert_int_eq(validate(buf, n), 0);
	/* another pair's key */
	other.bytes[31] ^= 1;
	ck_assert_int_eq(hadp_wire_validate(buf, n, &other, NULL, 0, NULL), -HADP_WIRE_EMAC);
	ck_assert_int_eq(hadp_wire_validate(buf, n, NULL, NULL, 0, NULL), -HADP_WIRE_EINVAL);

	/* bound to the endpoints: a reflected packet fails */
	hadp_wire_ctx_set(&a, ua, htons(4791), ub, htons(4792));
	hadp_wire_ctx_set(&b, ub, htons(4792), ua, htons(4791));
	hadp_wire_mac(buf + n - 16, &key, &a, buf, n - 16);
	ck_assert_int_eq(hadp_wire_validate(buf, n, &key, &a, 0, NULL), 0);
	ck_assert_int_eq(hadp_wire_validate(buf, n, &key, &b, 0, NULL), -HADP_WIRE_EMAC);
	ck_assert_int_eq(hadp_wire_validate(buf, n, &key, NULL, 0, NULL), -HADP_WIRE_EMAC);
	/* IPv4 endpoints are IPv4-mapped */
	{
		uint8_t m1[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 };
		uint8_t m2[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 2 };
		struct hadp_wire_ctx c4, c6;

		hadp_wire_ctx_set4(&c4, htonl(0xc0000201), htons(1), htonl(0xc0000202), htons(2));
		hadp_wire_ctx_set(&c6, m1, htons(1), m2, htons(2));
		ck_assert_mem_eq(&c4, &c6, sizeof(c4));
	}
}
END_TEST

START_TEST(wire_over_the_limit)
{
	uint8_t buf[600];
	size_t n = (size_t)mkpkt(buf, sizeof(buf), 5);

	ck_assert_int_eq(hadp_wire_validate(buf, n, &key, NULL, 5, NULL), 0);
	ck_assert_int_eq(hadp_wire_validate(buf, n, &key, NULL, 4, NULL), -HADP_WIRE_ELIMIT);
	ck_assert_int_eq(hadp_wire_validate(buf, n, &key, NULL, 1, NULL), -HADP_WIRE_ELIMIT);
	/* only an authentic packet is over the limit */
	buf[n - 1] ^= 1;
	ck_assert_int_eq(hadp_wire_validate(buf, n, &key, NULL, 1, NULL), -HADP_WIRE_EMAC);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Replies                                                                */
/* ---------------------------------------------------------------------- */

START_TEST(wire_reply_full_and_truncated)
{
	uint8_t buf[600], out[600];
	size_t n = (size_t)mkpkt(buf, sizeof(buf), 3);
	struct hadp_wire_ctx fwd, back;
	uint8_t ua[16] = { 0xfd, [15] = 1 }, ub[16] = { 0xfd, [15] = 2 };
	struct hadp_wire_iter it;
	struct hadp_wire_msg m;
	struct hadp_wire_hdr h;
	unsigned int i;
	int r;

	hadp_wire_ctx_set(&fwd, ua, htons(1), ub, htons(2));
	hadp_wire_ctx_set(&back, ub, htons(2), ua, htons(1));
	buf[3] |= 0x40;		/* an unknown flag travels back unchanged */
	hadp_wire_mac(buf + n - 16, &key, &fwd, buf, n - 16);
	ck_assert_int_eq(hadp_wire_validate(buf, n, &key, &fwd, 0, NULL), 0);

	/* not truncated: the same bytes but the flag and the MAC */
	r = hadp_wire_reply(out, sizeof(out), buf, n, false, &key, &back);
	ck_assert_int_eq(r, (int)n);
	ck_assert_int_eq(hadp_wire_validate(out, n, &key, &back, 0, &h), 0);
	ck_assert_int_eq(hadp_wire_validate(out, n, &key, &fwd, 0, NULL), -HADP_WIRE_EMAC);
	ck_assert_uint_eq(h.flags, hdr0.flags | 0x40 | HADP_WIRE_F_REPLY);
	ck_assert_mem_eq(out, buf, 3);
	ck_assert_mem_eq(out + 4, buf + 4, n - 4 - 16);

	/* truncated: header and opaque values */
	r = hadp_wire_reply(out, sizeof(out), buf, n, true, &key, &back);
	ck_assert_int_eq(r, HADP_WIRE_OVERHEAD + 3 * HADP_WIRE_MSG_HDR_LEN);
	ck_assert_int_eq(hadp_wire_validate(out, (size_t)r, &key, &back, 0, &h), 0);
	ck_assert_uint_eq(h.flags, hdr0.flags | 0x40 | HADP_WIRE_F_REPLY | HADP_WIRE_F_TRUNCATED);
	ck_assert_uint_eq(h.count, 3);
	ck_assert(h.seq == hdr0.seq);
	ck_assert_uint_eq(h.epoch, hdr0.epoch);
	ck_assert_uint_eq(h.opaque, hdr0.opaque);
	ck_assert_int_eq(hadp_wire_iter_init(&it, out, (size_t)r), 0);
	for (i = 0; hadp_wire_next(&it, &m) == 1; i++) {
		ck_assert_uint_eq(m.type, HADP_WIRE_T_STATE_UPDATE);
		ck_assert_uint_eq(m.op, HADP_WIRE_OP_CREATE);
		ck_assert_uint_eq(m.len, 0);
		ck_assert_uint_eq(m.opaque, 100 + i);
	}
	ck_assert_uint_eq(i, 3);
	ck_assert_int_eq(hadp_wire_reply(out, (size_t)r - 1, buf, n, true, &key, &back),
			 -HADP_WIRE_ENOSPC);
	ck_assert_int_eq(hadp_wire_reply(out, n - 1, buf, n, false, &key, &back), -HADP_WIRE_ENOSPC);

	/* never a reply to a reply */
	r = hadp_wire_reply(out, sizeof(out), buf, n, false, &key, &back);
	ck_assert_int_eq(hadp_wire_reply(out, sizeof(out), out, (size_t)r, false, &key, &fwd),
			 -HADP_WIRE_EINVAL);

	/* in place, truncated */
	memcpy(out, buf, n);
	r = hadp_wire_reply(out, n, out, n, true, &key, &back);
	ck_assert_int_eq(r, HADP_WIRE_OVERHEAD + 3 * HADP_WIRE_MSG_HDR_LEN);
	ck_assert_int_eq(hadp_wire_validate(out, (size_t)r, &key, &back, 0, NULL), 0);
	ck_assert_int_eq(hadp_wire_iter_init(&it, out, (size_t)r), 0);
	for (i = 0; hadp_wire_next(&it, &m) == 1; i++)
		ck_assert_uint_eq(m.opaque, 100 + i);
	ck_assert_uint_eq(i, 3);
}
END_TEST

/* Truncation asked for, not allowed by the sender: the full reply. */
START_TEST(wire_reply_truncation_not_allowed)
{
	uint8_t buf[600], out[600];
	size_t n = (size_t)mkpkt(buf, sizeof(buf), 2);
	struct hadp_wire_hdr h;
	int r;

	buf[3] &= (uint8_t)~HADP_WIRE_F_TRUNCATION_ALLOWED;
	reseal(buf, n);
	r = hadp_wire_reply(out, sizeof(out), buf, n, true, &key, NULL);
	ck_assert_int_eq(r, (int)n);
	ck_assert_int_eq(hadp_wire_validate(out, n, &key, NULL, 0, &h), 0);
	ck_assert_uint_eq(h.flags & HADP_WIRE_F_TRUNCATED, 0);
	ck_assert_uint_eq(h.flags & HADP_WIRE_F_REPLY, HADP_WIRE_F_REPLY);
	/* a malformed packet gets no reply */
	buf[5] = 9;
	ck_assert_int_eq(hadp_wire_reply(out, sizeof(out), buf, n, true, &key, NULL), -HADP_WIRE_ECOUNT);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Replay window                                                          */
/* ---------------------------------------------------------------------- */

START_TEST(wire_replay_rules)
{
	struct hadp_wire_replay rp;
	const uint64_t W = HADP_WIRE_REPLAY_WINDOW;

	ck_assert_uint_ge(W, 64);
	memset(&rp, 0, sizeof(rp));
	/* no session: nothing is accepted, whatever its epoch */
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 1000), -HADP_WIRE_ESESSION);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 0, 0), -HADP_WIRE_ESESSION);
	ck_assert(!rp.valid);
	/* a session at (10, 999): 999 and below are seen */
	hadp_wire_replay_start(&rp, 10, 999);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 999), -HADP_WIRE_EREPLAY);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 999 - W + 1), -HADP_WIRE_EREPLAY);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 999 - W), -HADP_WIRE_ESTALE);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 1000), 0);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 1000), -HADP_WIRE_EREPLAY);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 1002), 0);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 1001), 0);	/* late, in window */
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 1001), -HADP_WIRE_EREPLAY);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 1002 - W + 1), -HADP_WIRE_EREPLAY);	/* before the session */
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 1002 - W), -HADP_WIRE_ESTALE);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 0), -HADP_WIRE_ESTALE);
	/* check() looks without recording */
	ck_assert_int_eq(hadp_wire_replay_check(&rp, 10, 1003), 0);
	ck_assert_int_eq(hadp_wire_replay_check(&rp, 10, 1003), 0);
	ck_assert(rp.top == 1002);
	/* a jump beyond the window forgets everything below it */
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 1002 + 10 * W), 0);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 1002 + 10 * W - 1), 0);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 1002), -HADP_WIRE_ESTALE);
	/* any other epoch, older or newer, is refused and changes nothing */
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 9, 1u << 30), -HADP_WIRE_ESESSION);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 11, 1), -HADP_WIRE_ESESSION);
	ck_assert_uint_eq(rp.epoch, 10);
	hadp_wire_replay_update(&rp, 11, 5);
	ck_assert_uint_eq(rp.epoch, 10);
	ck_assert(rp.top == 1002 + 10 * W);
	/* only start() moves the session, lower epochs too (no clock) */
	hadp_wire_replay_start(&rp, 3, 7);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 3, 7), -HADP_WIRE_EREPLAY);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 3, 0), -HADP_WIRE_EREPLAY);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 3, 8), 0);
	ck_assert_int_eq(hadp_wire_replay_accept(&rp, 10, 1002 + 11 * W), -HADP_WIRE_ESESSION);
	ck_assert_int_eq(hadp_wire_replay_check(NULL, 1, 1), -HADP_WIRE_EINVAL);
}
END_TEST

/* Against a naive model: a set of every (seq) accepted in the epoch. */
START_TEST(wire_replay_model)
{
	struct hadp_wire_replay rp;
	static uint8_t seen[4096];
	uint64_t top = 0;
	unsigned int i, rnd = 12345;
	bool any = false;

	memset(&rp, 0, sizeof(rp));
	memset(seen, 0, sizeof(seen));
	hadp_wire_replay_start(&rp, 1, 0);	/* 0 is the response's */
	seen[0] = 1;
	any = true;
	for (i = 0; i < 200000; i++) {
		uint64_t seq;
		int want, got;

		rnd = rnd * 1103515245u + 12345u;
		/* mostly near the top, sometimes far behind or ahead */
		seq = top + ((rnd >> 8) % 40) - 30;
		if ((rnd >> 20) % 64 == 0)
			seq = top + ((rnd >> 8) % 600) - 400;
		if (seq >= sizeof(seen) || (int64_t)seq < 0) {
			continue;
		}
		if (any && top >= seq && top - seq >= HADP_WIRE_REPLAY_WINDOW)
			want = -HADP_WIRE_ESTALE;
		else if (seen[seq])
			want = -HADP_WIRE_EREPLAY;
		else
			want = 0;
		got = hadp_wire_replay_accept(&rp, 1, seq);
		ck_assert_msg(got == want, "seq %llu top %llu: %d, not %d",
			      (unsigned long long)seq, (unsigned long long)top, got, want);
		if (!got) {
			seen[seq] = 1;
			if (!any || seq > top)
				top = seq;
			any = true;
		}
		if (top > sizeof(seen) - 700)
			break;
	}
	ck_assert_uint_gt(top, 1000);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Coalescing and the byte budget                                        */
/* ---------------------------------------------------------------------- */

START_TEST(wire_coalesce)
{
	ck_assert_uint_eq(hadp_wire_payload_max(1500, true), 1452);
	ck_assert_uint_eq(hadp_wire_payload_max(1500, false), 1472);
	ck_assert_uint_eq(hadp_wire_payload_max(48, true), 0);
	ck_assert_uint_eq(hadp_wire_payload_max(100000, false), 65507);
	ck_assert_uint_eq(hadp_wire_payload_max(100000, true), 65527);
	/* (1452 - 40) / 44 = 32 NAT entries; the peer's count wins if lower */
	ck_assert_uint_eq(hadp_wire_coalesce(1500, true, 64, HADP_WIRE_CONN_LEN), 32);
	ck_assert_uint_eq(hadp_wire_coalesce(1500, false, 64, HADP_WIRE_CONN_LEN), 32);
	ck_assert_uint_eq(hadp_wire_coalesce(1500, true, 8, HADP_WIRE_CONN_LEN), 8);
	ck_assert_uint_eq(hadp_wire_coalesce(1500, true, 0, HADP_WIRE_CONN_LEN), 1);
	ck_assert_uint_eq(hadp_wire_coalesce(9000, true, 1000, HADP_WIRE_CONN_LEN), 202);
	ck_assert_uint_eq(hadp_wire_coalesce(100, true, 64, HADP_WIRE_CONN_LEN), 0);
	ck_assert_uint_eq(hadp_wire_coalesce(1500, true, 64, 0x10000), 0);
	ck_assert_uint_eq(hadp_wire_coalesce(1500, true, 64, 1460), 0);
}
END_TEST

/*
 * The budget: a NAT connection entry costs at most 48 bytes on the wire
 * amortized over a full packet on a 1500-byte path, IPv6 (the worse) and
 * IPv4, counting the IP and UDP headers, the hadp header and the MAC.
 */
START_TEST(wire_budget_nat_entry)
{
	static const struct { bool ipv6; unsigned int hdrs; } path[] = {
		{ true, HADP_WIRE_UDP6_OVERHEAD }, { false, HADP_WIRE_UDP4_OVERHEAD } };
	unsigned int p;

	for (p = 0; p < 2; p++) {
		size_t cap = hadp_wire_payload_max(1500, path[p].ipv6);
		uint8_t buf[1500];
		struct hadp_wire_enc enc;
		unsigned int n = 0;
		double per_entry, per_entry_payload;
		int len;

		ck_assert_int_eq(hadp_wire_enc_init(&enc, buf, cap, &hdr0, 0), 0);
		for (;;) {
			struct hadp_wire_entry e = mkconn(n);
			int rc = hadp_wire_enc_entry(&enc, HADP_WIRE_OP_CREATE, n, &e);

			if (rc == -HADP_WIRE_ENOSPC)
				break;
			ck_assert_int_eq(rc, 0);
			n++;
		}
		len = hadp_wire_enc_finish(&enc, &key, NULL);
		ck_assert_int_le(len, (int)cap);
		ck_assert_int_eq(validate(buf, (size_t)len), 0);
		ck_assert_uint_eq(n, hadp_wire_coalesce(1500, path[p].ipv6, 0xffff, HADP_WIRE_CONN_LEN));
		per_entry = (double)(len + path[p].hdrs) / n;
		per_entry_payload = (double)len / n;
		printf("wire budget: %s path MTU 1500: %u NAT entries in %d bytes of payload, "
		       "%.2f bytes/entry with IP+UDP headers, %.2f without\n",
		       path[p].ipv6 ? "IPv6" : "IPv4", n, len, per_entry, per_entry_payload);
		ck_assert_msg(per_entry <= 48.0, "%.2f bytes per NAT entry", per_entry);
	}
}
END_TEST

Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("blake2s");

	tcase_add_test(tc, blake2s_rfc_abc);
	tcase_add_test(tc, blake2s_rfc_selftest);
	tcase_add_test(tc, blake2s_keyed_tag16);
	tcase_add_test(tc, blake2s_bad_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("codec");
	tcase_add_test(tc, wire_layout_bytes);
	tcase_add_test(tc, wire_session_layout);
	tcase_add_test(tc, wire_roundtrip_conns);
	tcase_add_test(tc, wire_roundtrip_other_messages);
	tcase_add_test(tc, wire_frame_bare_stream);
	tcase_add_test(tc, wire_encoder_limits);
	tcase_add_test(tc, wire_conn_rkey_and_event);
	tcase_add_test(tc, wire_version_serial);
	tcase_add_test(tc, wire_strerror);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_test(tc, wire_truncated);
	tcase_add_test(tc, wire_oversized);
	tcase_add_test(tc, wire_lying_lengths);
	tcase_add_test(tc, wire_entry_lengths);
	tcase_add_test(tc, wire_count_mismatch);
	tcase_add_test(tc, wire_unknown_type_kind_flags);
	tcase_add_test(tc, wire_magic_version);
	tcase_add_test(tc, wire_bad_mac);
	tcase_add_test(tc, wire_over_the_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("reply");
	tcase_add_test(tc, wire_reply_full_and_truncated);
	tcase_add_test(tc, wire_reply_truncation_not_allowed);
	suite_add_tcase(s, tc);

	tc = tcase_create("replay");
	tcase_add_test(tc, wire_replay_rules);
	tcase_add_test(tc, wire_replay_model);
	suite_add_tcase(s, tc);

	tc = tcase_create("coalesce");
	tcase_add_test(tc, wire_coalesce);
	tcase_add_test(tc, wire_budget_nat_entry);
	suite_add_tcase(s, tc);
	return s;
}
