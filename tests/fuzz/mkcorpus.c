// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes the seed corpus of tests/fuzz/fuzz_wire.c: one packet of each
 * shape the codec knows and a few malformed ones (tests/fuzz/corpus/).
 * Rebuild with
 *	cc -Iinclude -o /tmp/mkcorpus tests/fuzz/mkcorpus.c include/hadp/wire.c \
 *		include/hadp/blake2s.c && /tmp/mkcorpus tests/fuzz/corpus
 * The MACs are made with fuzz_wire.c's key and an all-zero context.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hadp/wire.h"

static const struct hadp_wire_key key = { .bytes = "hadp fuzz key, 32 bytes long...." };
static const char *dir;

static void put(const char *name, const void *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static struct hadp_wire_entry conn(unsigned int i)
{
	struct hadp_wire_entry e = { .kind = HADP_WIRE_K_CONN };

	e.conn.key.vni = 100 + i;
	e.conn.key.src = htonl(0x0a000001);
	e.conn.key.dst = htonl(0xc6336401 + i);
	e.conn.key.sport = htons(40000 + i);
	e.conn.key.dport = htons(443);
	e.conn.key.proto = i % 3 ? 6 : 1;
	e.conn.version = i + 1;
	e.conn.ifindex = 7;
	e.conn.nat_ip = htonl(0xcb007101);
	e.conn.nat_port = htons(1024 + i);
	e.conn.state = HADP_CONN_ESTABLISHED;
	e.conn.flags = HADP_CONN_FIN_OUT;
	e.conn.age = (unsigned short)(i * 7);
	return e;
}

int main(int argc, char **argv)
{
	struct hadp_wire_hdr h = { .epoch = 1700000000, .seq = 1, .opaque = 0xabcdef01 };
	struct hadp_wire_entry mac = { .kind = HADP_WIRE_K_MAC,
		.mac = { .version = 1, .ifindex = 7, .mac = { 2, 0, 0, 0, 0, 1 } } };
	struct hadp_wire_advert adv = { .max_count = 64, .max_payload = 1452,
		.version_min = 1, .version_max = 1,
		.caps = HADP_WIRE_CAP_PACKET_UPDATE | HADP_WIRE_CAP_TRUNCATE | HADP_WIRE_CAP_DUMP };
	struct hadp_wire_dump dump = { .id = 9, .kinds = 0, .entries = 3 };
	unsigned char buf[1500], frame[64] = { 0x45 }, nonce[HADP_WIRE_NONCE_LEN];
	struct hadp_wire_enc e;
	struct hadp_wire_entry c;
	unsigned int i;
	int n;

	if (argc != 2)
		return 2;
	dir = argv[1];

	hadp_wire_enc_init(&e, buf, sizeof(buf), &h, 0);
	put("empty", buf, (size_t)hadp_wire_enc_finish(&e, &key, NULL));

	h.flags = HADP_WIRE_F_REPLY_REQUESTED | HADP_WIRE_F_TRUNCATION_ALLOWED;
	hadp_wire_enc_init(&e, buf, sizeof(buf), &h, 0);
	c = conn(1);
	hadp_wire_enc_entry(&e, HADP_WIRE_OP_CREATE, 1, &c);
	n = hadp_wire_enc_finish(&e, &key, NULL);
	put("conn1", buf, (size_t)n);
	n = hadp_wire_reply(buf, sizeof(buf), buf, (size_t)n, 1, &key, NULL);
	put("reply_truncated", buf, (size_t)n);

	hadp_wire_enc_init(&e, buf, 1452, &h, 0);
	for (i = 0; hadp_wire_enc_entry(&e, (__u8)(1 + i % 4), i, (c = conn(i), &c)) == 0; i++)
		;
	put("conn_full", buf, (size_t)hadp_wire_enc_finish(&e, &key, NULL));

	h.flags = 0;
	hadp_wire_enc_init(&e, buf, sizeof(buf), &h, 0);
	hadp_wire_enc_entry(&e, HADP_WIRE_OP_CREATE, 2, &mac);
	c = conn(5);
	hadp_wire_enc_packet_update(&e, HADP_WIRE_OP_UPDATE, 3, &c, frame, sizeof(frame));
	hadp_wire_enc_advert(&e, HADP_WIRE_OP_SOLICIT, 4, &adv);
	hadp_wire_enc_dump(&e, HADP_WIRE_T_DUMP_REQUEST, 5, &dump);
	hadp_wire_enc_dump(&e, HADP_WIRE_T_DUMP_BEGIN, 6, &dump);
	dump.status = HADP_WIRE_DUMP_ABORTED;
	hadp_wire_enc_dump(&e, HADP_WIRE_T_DUMP_END, 7, &dump);
	hadp_wire_enc_msg(&e, 200, 9, 8, "future", 6);
	n = hadp_wire_enc_finish(&e, &key, NULL);
	put("mixed", buf, (size_t)n);
	/* the same messages, bare, as an agent hands them to the module */
	put("bare", buf + HADP_WIRE_HDR_LEN, (size_t)n - HADP_WIRE_OVERHEAD);
	/* malformed: the first message's length lies */
	buf[HADP_WIRE_HDR_LEN + 3] += 40;
	put("bad_length", buf, (size_t)n);
	buf[HADP_WIRE_HDR_LEN + 3] -= 40;
	buf[5] += 1;	/* count one too many */
	put("bad_count", buf, (size_t)n);
	buf[5] -= 1;
	buf[2] = 2;	/* a newer version */
	put("bad_version", buf, (size_t)n);
	buf[2] = 1;
	buf[HADP_WIRE_HDR_LEN + HADP_WIRE_MSG_HDR_LEN] = 77;	/* unknown kind */
	put("bad_kind", buf, (size_t)n);

	/* sessions: a challenge, its response, a response with a cut nonce */
	memcpy(nonce, "a fresh nonce..!", sizeof(nonce));
	n = hadp_wire_session(buf, sizeof(buf), HADP_WIRE_T_CHALLENGE, 0x5eed, 0,
			      nonce, &key, NULL);
	put("challenge", buf, (size_t)n);
	n = hadp_wire_session(buf, sizeof(buf), HADP_WIRE_T_RESPONSE, 0x1234, 77,
			      nonce, &key, NULL);
	put("response", buf, (size_t)n);
	h.flags = HADP_WIRE_F_SESSION;
	hadp_wire_enc_init(&e, buf, sizeof(buf), &h, 0);
	hadp_wire_enc_msg(&e, HADP_WIRE_T_RESPONSE, 0, 0, nonce, 8);
	put("bad_response", buf, (size_t)hadp_wire_enc_finish(&e, &key, NULL));
	return 0;
}
