// SPDX-License-Identifier: GPL-2.0-only
/*
 * haagent: a minimal agent for the module tests (tests/vm/module.sh),
 * on libhadp's client of hadp.ko. Steps, in this order, each optional:
 *
 *   haagent INSTANCE [register] [role R] [advert M] [send N]
 *                    [flags reply-req,trunc-ok] [opaque X]
 *                    [listen K] [timeout MS]
 *
 *   register   this socket becomes the group's agent
 *   advert M   the batch starts with an advert of max-count M
 *   send N     a batch of N NAT connection state updates (opaque i+1)
 *   listen K   print the next K packets delivered, then exit 0; exit 2
 *              when timeout MS (default 5000) passes first
 *
 * Output, one line each:  sent SEQ...
 *   recv group G epoch E seq S flags F opaque O count C msgs TYPE:OPAQUE:LEN,...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ha.h"
#include "hadp/wire.h"

static int got;

static int on_pkt(const struct hadp_ha_pkt *p, void *data)
{
	struct hadp_wire_iter it;
	struct hadp_wire_msg m;
	char flags[64];
	int ret, first = 1;

	if (p->cmd != HADP_CMD_RECV)
		return 0;
	printf("recv group %s epoch %u seq %llu flags %s opaque %u count %u msgs ",
	       p->group, p->epoch, (unsigned long long)p->seq,
	       hadp_ha_flags_str(p->flags, flags, sizeof(flags)), p->opaque,
	       p->count);
	hadp_wire_iter_msgs(&it, p->msgs, p->len);
	while ((ret = hadp_wire_next(&it, &m)) > 0) {
		printf("%s%u:%u:%u", first ? "" : ",", m.type, m.opaque, m.len);
		first = 0;
	}
	if (ret < 0)
		printf(" (%s)", hadp_wire_strerror(ret));
	printf("\n");
	fflush(stdout);
	got++;
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	static __u8 buf[HADP_SEND_MAX];
	const char *inst;
	bool reg = false;
	int role = -1, i, err;
	long advert = -1, send = 0, listen = 0, timeout = 5000;
	__u32 flags = 0, opaque = 0;
	struct hadp_wire_enc enc;
	struct hadp_ha h;
	__u64 seqs[4096];
	size_t n;

	if (argc < 2) {
		fprintf(stderr, "usage: haagent INSTANCE [register] [role R] "
			"[advert M] [send N] [flags F] [opaque X] [listen K] "
			"[timeout MS]\n");
		return 1;
	}
	inst = argv[1];
	for (i = 2; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(k, "register")) {
			reg = true;
			continue;
		}
		if (!v) {
			fprintf(stderr, "haagent: %s needs a value\n", k);
			return 1;
		}
		i++;
		if (!strcmp(k, "role"))
			role = atoi(v);
		else if (!strcmp(k, "advert"))
			advert = atol(v);
		else if (!strcmp(k, "send"))
			send = atol(v);
		else if (!strcmp(k, "listen"))
			listen = atol(v);
		else if (!strcmp(k, "timeout"))
			timeout = atol(v);
		else if (!strcmp(k, "opaque"))
			opaque = strtoul(v, NULL, 0);
		else if (!strcmp(k, "flags")) {
			if (strstr(v, "reply-req"))
				flags |= HADP_PKT_F_REPLY_REQ;
			if (strstr(v, "trunc-ok"))
				flags |= HADP_PKT_F_TRUNC_OK;
			if (strstr(v, "bogus"))
				flags |= 0x80;
		} else {
			fprintf(stderr, "haagent: unknown argument %s\n", k);
			return 1;
		}
	}
	if (hadp_ha_open(&h))
		return 1;
	h.notify = on_pkt;
	if (reg && hadp_ha_register(&h, inst, role))
		return 1;
	if (advert >= 0 || send > 0) {
		hadp_wire_enc_init_msgs(&enc, buf, sizeof(buf), 0);
		if (advert >= 0) {
			struct hadp_wire_advert adv = {
				.max_count = advert, .version_min = 1,
				.version_max = 1,
			};

			err = hadp_wire_enc_advert(&enc, 0, 0, &adv);
			if (err) {
				fprintf(stderr, "haagent: advert: %s\n",
					hadp_wire_strerror(err));
				return 1;
			}
		}
		for (i = 0; i < send; i++) {
			struct hadp_wire_entry e = { .kind = HADP_WIRE_K_CONN };

			e.conn.key.vni = 100;
			e.conn.key.proto = 6;
			e.conn.key.src = htonl(0x0a000001);
			e.conn.key.dst = htonl(0x08080808);
			e.conn.key.sport = htons(10000 + i);
			e.conn.key.dport = htons(443);
			e.conn.nat_ip = htonl(0xcb007101);
			e.conn.nat_port = htons(20000 + i);
			e.conn.state = 2;
			e.conn.version = i + 1;
			e.conn.ifindex = 7;
			err = hadp_wire_enc_entry(&enc, HADP_WIRE_OP_CREATE,
						  i + 1, &e);
			if (err) {
				fprintf(stderr, "haagent: entry %d: %s\n", i,
					hadp_wire_strerror(err));
				return 1;
			}
		}
		err = hadp_wire_enc_finish(&enc, NULL, NULL);
		if (err < 0) {
			fprintf(stderr, "haagent: finish: %s\n",
				hadp_wire_strerror(err));
			return 1;
		}
		if (hadp_ha_send(&h, inst, flags, opaque, buf, err, seqs,
				 4096, &n))
			return 1;
		printf("sent");
		for (i = 0; i < (int)n && i < 4096; i++)
			printf(" %llu", (unsigned long long)seqs[i]);
		printf("\n");
		fflush(stdout);
	}
	if (listen > 0) {
		long long end = now_ms() + timeout;

		while (got < listen && now_ms() < end) {
			err = hadp_ha_recv(&h, on_pkt, NULL, end - now_ms());
			if (err < 0)
				return 1;
		}
		if (got < listen) {
			fprintf(stderr, "haagent: %d of %ld packets in %ld ms\n",
				got, listen, timeout);
			return 2;
		}
	}
	hadp_ha_close(&h);
	return 0;
}
