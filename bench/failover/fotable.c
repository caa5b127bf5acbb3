// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/failover: the synthetic part of the connection table, run inside
 * scripts/vmtest.sh's VM by bench/failover/inside.sh. Entries are written
 * straight into an instance's pinned conns and conns_rev maps with the
 * layout of include/hadp/maps.h (as the datapath's conn_rkey() makes the
 * public-side key), so that the agents mirror them like any other.
 *
 *   fotable fill DIR N IFINDEX    synthetic entries 0..N-1 into DIR/conns
 *                                 and DIR/conns_rev (DIR: <bpffs>/hadp/a)
 *   fotable check DIR N           of synthetic entries 0..N-1 in DIR/conns:
 *                                 "present P changed C missing M" (changed:
 *                                 NAT address or port other than written)
 *   fotable real DIR              every entry that is not synthetic, one a
 *                                 line: "proto src:sport dst:dport nat:port"
 *   fotable count DIR             entries in DIR/conns
 *
 * Synthetic entry i: TCP, established, VNI 100, 10.0.0.1:40000 (vm1) to
 * 198.18.0.0 + i, port 443 (a far end of its own, so every public-side key
 * is distinct); SNAT to 203.0.113.1 (ha-topo's NAT address), port
 * 10000 + i % 1000 (ha-topo's SNAT range, every port used alike). TCP
 * established ages after 7440 s: nothing expires during the bench.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <linux/types.h>
#include "hadp/maps.h"

#define VNI		100
#define VM_IP		0x0a000001u	/* 10.0.0.1 */
#define NAT_IP		0xcb007101u	/* 203.0.113.1 */
#define FILLED		0xc6120000u	/* 198.18.0.0/15 */
#define FILLED_MASK	0xfffe0000u
#define SPORT		40000
#define DPORT		443
#define NAT_MIN		10000
#define NAT_SPAN	1000
#define CHUNK		16384

static int open_map(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "fotable: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static void synth_key(long i, struct hadp_conn_key *k)
{
	memset(k, 0, sizeof(*k));
	k->vni = VNI;
	k->src = htonl(VM_IP);
	k->dst = htonl(FILLED + (__u32)i);
	k->sport = htons(SPORT);
	k->dport = htons(DPORT);
	k->proto = IPPROTO_TCP;
}

static __u16 synth_port(long i)
{
	return htons(NAT_MIN + i % NAT_SPAN);
}

static int cmd_fill(const char *dir, long n, int ifindex)
{
	int conns = open_map(dir, "conns"), rev = open_map(dir, "conns_rev");
	struct hadp_conn_key *k = calloc(CHUNK, sizeof(*k));
	struct hadp_conn_key *rk = calloc(CHUNK, sizeof(*rk));
	struct hadp_conn *v = calloc(CHUNK, sizeof(*v));
	struct timespec ts;
	long i, j;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* bpf_ktime_get_ns()'s clock */
	for (i = 0; i < n; i += CHUNK) {
		__u32 c = n - i < CHUNK ? n - i : CHUNK, count;

		for (j = 0; j < c; j++) {
			synth_key(i + j, &k[j]);
			memset(&v[j], 0, sizeof(v[j]));
			v[j].last_seen = ts.tv_sec * 1000000000ull + ts.tv_nsec;
			v[j].version = 1;
			v[j].ifindex = ifindex;
			v[j].nat_ip = htonl(NAT_IP);
			v[j].nat_port = synth_port(i + j);
			v[j].state = HADP_CONN_ESTABLISHED;
			/* As conn_rkey() in bpf/conn.h, for TCP and UDP. */
			memset(&rk[j], 0, sizeof(rk[j]));
			rk[j].vni = 0;
			rk[j].src = k[j].dst;
			rk[j].dst = v[j].nat_ip;
			rk[j].sport = k[j].dport;
			rk[j].dport = v[j].nat_port;
			rk[j].proto = k[j].proto;
		}
		count = c;
		if (bpf_map_update_batch(rev, rk, k, &count, NULL) ||
		    (count = c, bpf_map_update_batch(conns, k, v, &count, NULL))) {
			fprintf(stderr, "fotable: inserting at %ld: %s\n", i, strerror(errno));
			return 1;
		}
	}
	printf("filled %ld\n", n);
	return 0;
}

static int cmd_check(const char *dir, long n)
{
	int conns = open_map(dir, "conns");
	long i, present = 0, changed = 0, missing = 0;
	struct hadp_conn_key k;
	struct hadp_conn v;

	for (i = 0; i < n; i++) {
		synth_key(i, &k);
		if (bpf_map_lookup_elem(conns, &k, &v)) {
			missing++;
			continue;
		}
		present++;
		if (v.nat_ip != htonl(NAT_IP) || v.nat_port != synth_port(i))
			changed++;
	}
	printf("present %ld changed %ld missing %ld\n", present, changed, missing);
	return 0;
}

static int walk(const char *dir, int print_real)
{
	int conns = open_map(dir, "conns");
	struct hadp_conn_key k, next;
	struct hadp_conn v;
	char s[16], d[16], nat[16];
	long total = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(conns, prev, &next)) {
		k = next;
		prev = &k;
		total++;
		if (!print_real)
			continue;
		if ((ntohl(k.dst) & FILLED_MASK) == FILLED)
			continue;
		if (bpf_map_lookup_elem(conns, &k, &v))
			continue;
		inet_ntop(AF_INET, &k.src, s, sizeof(s));
		inet_ntop(AF_INET, &k.dst, d, sizeof(d));
		inet_ntop(AF_INET, &v.nat_ip, nat, sizeof(nat));
		printf("%u %s:%u %s:%u %s:%u\n", k.proto, s, ntohs(k.sport), d,
		       ntohs(k.dport), nat, ntohs(v.nat_port));
	}
	if (!print_real)
		printf("%ld\n", total);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 2 ? argv[1] : "";

	if (!strcmp(cmd, "fill") && argc == 5)
		return cmd_fill(argv[2], atol(argv[3]), atoi(argv[4]));
	if (!strcmp(cmd, "check") && argc == 4)
		return cmd_check(argv[2], atol(argv[3]));
	if (!strcmp(cmd, "real") && argc == 3)
		return walk(argv[2], 1);
	if (!strcmp(cmd, "count") && argc == 3)
		return walk(argv[2], 0);
	fprintf(stderr, "usage: see bench/failover/fotable.c\n");
	return 2;
}
