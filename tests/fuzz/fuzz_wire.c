// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target over the HA wire codec (include/hadp/wire.c): every
 * input is taken as a received packet and as a bare message stream, and
 * again re-sealed with a valid MAC so that the fuzzer reaches past
 * authentication into the message walk, the decoders, the reply builder
 * and the re-encoders. Invariants that must hold for any input are
 * checked with abort(), so a violation is a crash like an overrun.
 * The input's first 12-byte records also drive the replay window.
 *
 *	build/tests/fuzz_wire [libFuzzer options] [CORPUS...]
 *	tests/fuzz/run.sh      bounded run, as the test suite does
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hadp/wire.h"

static const struct hadp_wire_key fuzz_key = { .bytes = "hadp fuzz key, 32 bytes long...." };

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* A decoded entry encodes back to the very bytes it came from (the bytes
 * of its kind's v1 length; pads and longer entries aside). */
static void reencode_entry(const struct hadp_wire_msg *m, const struct hadp_wire_entry *e)
{
	uint8_t buf[128];
	struct hadp_wire_enc enc;
	struct hadp_wire_iter it;
	struct hadp_wire_msg m2;
	unsigned int klen = e->kind == HADP_WIRE_K_CONN ? HADP_WIRE_CONN_LEN :
			    HADP_WIRE_MAC_ENTRY_LEN;
	int n;

	CHECK(hadp_wire_enc_init_msgs(&enc, buf, sizeof(buf), 0) == 0);
	CHECK(hadp_wire_enc_entry(&enc, m->op, m->opaque, e) == 0);
	n = hadp_wire_enc_finish(&enc, NULL, NULL);
	CHECK(n == (int)(HADP_WIRE_MSG_HDR_LEN + klen));
	CHECK(hadp_wire_iter_msgs(&it, buf, (size_t)n) == 0);
	CHECK(hadp_wire_next(&it, &m2) == 1);
	CHECK(m2.type == HADP_WIRE_T_STATE_UPDATE && m2.op == m->op && m2.opaque == m->opaque);
	/* byte 1 is the entry length: ours is v1's, the input's may be longer */
	CHECK(m2.body[0] == m->body[0] && m2.body[1] == klen);
	CHECK(memcmp(m2.body + 2, m->body + 2, klen - 2) == 0);
	CHECK(hadp_wire_next(&it, &m2) == 0);
}

static void decode_all(const uint8_t *pkt, size_t len, unsigned int count, int packet)
{
	struct hadp_wire_iter it;
	struct hadp_wire_msg m;
	unsigned int seen = 0;
	int rc;

	if (packet)
		CHECK(hadp_wire_iter_init(&it, pkt, len) == 0);
	else
		CHECK(hadp_wire_iter_msgs(&it, pkt, len) == 0);
	while ((rc = hadp_wire_next(&it, &m)) == 1) {
		struct hadp_wire_entry e;
		struct hadp_wire_advert a;
		struct hadp_wire_dump d;
		const uint8_t *p;
		size_t plen;

		seen++;
		CHECK(m.body >= pkt && m.body + m.len <= pkt + len);
		rc = hadp_wire_dec_entry(&m, &e, &p, &plen);
		if (rc == 0) {
			CHECK(m.type == HADP_WIRE_T_STATE_UPDATE || m.type == HADP_WIRE_T_PACKET_UPDATE);
			if (m.type == HADP_WIRE_T_PACKET_UPDATE) {
				CHECK(p >= m.body && p + plen == m.body + m.len);
			} else {
				CHECK(p == NULL && plen == 0);
			}
			reencode_entry(&m, &e);
			if (e.kind == HADP_WIRE_K_CONN) {
				struct hadp_conn_key rk;

				hadp_wire_conn_rkey(&e.conn, &rk);
				CHECK(rk.vni == 0 && rk.proto == e.conn.key.proto);
			}
		}
		rc = hadp_wire_dec_advert(&m, &a);
		CHECK(rc == 0 ? m.type == HADP_WIRE_T_ADVERT && m.len >= HADP_WIRE_ADVERT_LEN : 1);
		rc = hadp_wire_dec_dump(&m, &d);
		CHECK(rc == 0 ? m.len >= HADP_WIRE_DUMP_LEN : 1);
	}
	CHECK(rc == 0);		/* a validated packet iterates cleanly */
	if (packet) {
		uint8_t type, nonce[HADP_WIRE_NONCE_LEN];

		CHECK(seen == count);
		rc = hadp_wire_dec_session(pkt, len, &type, nonce);
		CHECK(rc == 0 ? count == 1 && (type == HADP_WIRE_T_CHALLENGE ||
					       type == HADP_WIRE_T_RESPONSE) : 1);
	}
}

static void check_reply(const uint8_t *pkt, size_t len, const struct hadp_wire_hdr *h)
{
	uint8_t *out = malloc(len);
	struct hadp_wire_hdr rh;
	int n, trunc;

	CHECK(out);
	for (trunc = 0; trunc < 2; trunc++) {
		n = hadp_wire_reply(out, len, pkt, len, trunc, &fuzz_key, NULL);
		if (h->flags & HADP_WIRE_F_REPLY) {
			CHECK(n == -HADP_WIRE_EINVAL);
			break;
		}
		CHECK(n > 0 && (size_t)n <= len);
		CHECK(hadp_wire_validate(out, (size_t)n, &fuzz_key, NULL, 0, &rh) == 0);
		CHECK(rh.count == h->count && rh.seq == h->seq && rh.epoch == h->epoch &&
		      rh.opaque == h->opaque && (rh.flags & HADP_WIRE_F_REPLY));
		if (trunc && (h->flags & HADP_WIRE_F_TRUNCATION_ALLOWED))
			CHECK((size_t)n == HADP_WIRE_OVERHEAD + (size_t)h->count * HADP_WIRE_MSG_HDR_LEN);
		else
			CHECK((size_t)n == len);
		decode_all(out, (size_t)n, rh.count, 1);
	}
	/* in place */
	if (!(h->flags & HADP_WIRE_F_REPLY)) {
		memcpy(out, pkt, len);
		n = hadp_wire_reply(out, len, out, len, 1, &fuzz_key, NULL);
		CHECK(n > 0);
		CHECK(hadp_wire_validate(out, (size_t)n, &fuzz_key, NULL, 0, NULL) == 0);
	}
	free(out);
}

/* The message region framed again must give the same packet. */
static void check_frame(const uint8_t *pkt, size_t len, const struct hadp_wire_hdr *h)
{
	uint8_t *out = malloc(len);
	int n;

	CHECK(out);
	n = hadp_wire_frame(out, len, h, pkt + HADP_WIRE_HDR_LEN, len - HADP_WIRE_OVERHEAD, 0,
			    &fuzz_key, NULL);
	CHECK(n == (int)len);
	/* the reserved bytes are written as zero; the input may differ there */
	CHECK(memcmp(out, pkt, 6) == 0 && memcmp(out + 8, pkt + 8, len - 8 - HADP_WIRE_MAC_LEN) == 0);
	if (h->count > 1)
		CHECK(hadp_wire_frame(out, len, h, pkt + HADP_WIRE_HDR_LEN,
				      len - HADP_WIRE_OVERHEAD, h->count - 1u, &fuzz_key, NULL) ==
		      -HADP_WIRE_ELIMIT);
	CHECK(hadp_wire_frame(out, len - 1, h, pkt + HADP_WIRE_HDR_LEN, len - HADP_WIRE_OVERHEAD,
			      0, &fuzz_key, NULL) == -HADP_WIRE_ENOSPC);
	free(out);
}

static void fuzz_replay(const uint8_t *data, size_t size)
{
	struct hadp_wire_replay rp;
	size_t off;

	memset(&rp, 0, sizeof(rp));
	for (off = 0; off + 12 <= size && off < 12 * 64; off += 12) {
		/* small epochs and nearby seqs, so windows and sessions both
		 * change; a 0x80 bit starts a session there */
		uint32_t epoch = data[off] & 3;
		uint64_t seq = hadp_wire_get64(data + off + 4) & 0x3ff;
		int rc;

		if (data[off] & 0x80) {
			hadp_wire_replay_start(&rp, epoch, seq);
			CHECK(hadp_wire_replay_check(&rp, epoch, seq) == -HADP_WIRE_EREPLAY);
			continue;
		}
		rc = hadp_wire_replay_check(&rp, epoch, seq);
		CHECK(rc == 0 || rc == -HADP_WIRE_EREPLAY || rc == -HADP_WIRE_ESTALE ||
		      rc == -HADP_WIRE_ESESSION);
		CHECK(rc != -HADP_WIRE_ESESSION || !rp.valid || rp.epoch != epoch);
		CHECK(hadp_wire_replay_accept(&rp, epoch, seq) == rc);
		if (rc == 0) {
			CHECK(hadp_wire_replay_check(&rp, epoch, seq) == -HADP_WIRE_EREPLAY);
			CHECK(rp.epoch == epoch && rp.top >= seq);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hadp_wire_hdr h;
	uint8_t *pkt;
	int rc, n;

	/* As received, MAC and all: almost never authentic. */
	rc = hadp_wire_validate(data, size, &fuzz_key, NULL, 0, &h);
	CHECK(rc <= 0 && rc > -HADP_WIRE_EMAX);
	CHECK(hadp_wire_strerror(rc) != NULL);
	if (hadp_wire_parse_hdr(data, size, &h) == 0) {
		struct hadp_wire_iter it;
		struct hadp_wire_msg m;

		CHECK(hadp_wire_iter_init(&it, data, size) == 0);
		while ((rc = hadp_wire_next(&it, &m)) == 1)
			CHECK(m.body >= data && m.body + m.len <= data + size - HADP_WIRE_MAC_LEN);
	}

	/* As a bare stream from an agent. */
	n = hadp_wire_msgs_validate(data, size);
	if (n >= 0)
		decode_all(data, size, (unsigned int)n, 0);

	fuzz_replay(data, size);

	/* Sealed: an exact-size copy with a valid MAC, to get past it. */
	if (size < HADP_WIRE_MIN_LEN)
		return 0;
	pkt = malloc(size);
	CHECK(pkt);
	memcpy(pkt, data, size);
	hadp_wire_mac(pkt + size - HADP_WIRE_MAC_LEN, &fuzz_key, NULL, pkt, size - HADP_WIRE_MAC_LEN);
	rc = hadp_wire_validate(pkt, size, &fuzz_key, NULL, 0, &h);
	CHECK(rc != -HADP_WIRE_EMAC);
	if (rc == 0) {
		CHECK(hadp_wire_validate(pkt, size, &fuzz_key, NULL, h.count ? h.count : 1, NULL) == 0);
		if (h.count > 1)
			CHECK(hadp_wire_validate(pkt, size, &fuzz_key, NULL, h.count - 1u, NULL) ==
			      -HADP_WIRE_ELIMIT);
		decode_all(pkt, size, h.count, 1);
		check_reply(pkt, size, &h);
		check_frame(pkt, size, &h);
		/* one flipped bit anywhere is caught */
		pkt[data[0] % size] ^= (uint8_t)(1u << (data[size - 1] & 7));
		CHECK(hadp_wire_validate(pkt, size, &fuzz_key, NULL, 0, NULL) != 0);
	}
	free(pkt);
	return 0;
}
