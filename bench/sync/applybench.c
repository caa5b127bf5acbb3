// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/sync/applybench: the standby's apply path alone, on this host's
 * kernel (no module, no VM): an active engine encodes N new connections,
 * then their deletes, into full packets that a standby engine applies to
 * real BPF hash maps made here (its maps store), as hadpd does.
 *
 *   build/bench/applybench N [two-host]   (make bench)
 *
 * Prints entries per second of the process's CPU time (user and system:
 * a machine shared with others stretches the wall clock, not this) for
 * the creates and the deletes. Run it under
 * `perf stat -e raw_syscalls:sys_enter,syscalls:sys_enter_bpf` for the
 * system calls an entry, or valgrind --tool=callgrind for where the
 * time goes. "two-host": the sender numbers the VM's interface 5, the
 * standby 9, so every entry is mapped by VNI and address.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>

#include "bpfmap.h"
#include "mirror.h"
#include "mirror_mem.h"	/* tests/unit: the active side's store */

struct pair {
	struct hadp_mirror *active, *standby;
	__u64 seq;
};

static __u64 clock_ns(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return t.tv_sec * 1000000000ull + t.tv_nsec;
}

static __u64 now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* The module's part: the packet to the standby, its reply to the active. */
static int to_standby(void *ctx, const void *msgs, size_t len, unsigned int count,
		      __u32 opaque, __u64 *seq)
{
	struct pair *p = ctx;

	*seq = ++p->seq;
	if (hadp_mirror_rx(p->standby, msgs, len, now_ns()) < 0)
		return -EINVAL;
	hadp_mirror_reply(p->active, opaque, *seq, now_ns());
	return 0;
}

static int to_active(void *ctx, const void *msgs, size_t len, unsigned int count,
		     __u32 opaque, __u64 *seq)
{
	*seq = 0;
	return 0;
}

static struct hadp_map map(__u32 ks, __u32 vs, __u32 max)
{
	struct hadp_map m;
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "applybench", ks, vs, max, NULL);

	if (fd < 0 || hadp_map_from_fd(fd, &m)) {
		fprintf(stderr, "applybench: bpf_map_create: %s\n", strerror(errno));
		exit(1);
	}
	return m;
}

static void run(struct pair *p, __u32 type, long n, __u32 ifindex, const char *what)
{
	struct hadp_event ev = { .type = type, .ifindex = ifindex };
	struct hadp_event_conn *c = &ev.conn;
	__u64 t0 = now_ns(), cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	long i;

	for (i = 0; i < n; i++) {
		c->key = (struct hadp_conn_key){ .vni = 100, .src = htonl(0x0a000001),
			.dst = htonl(0x64400000 + i), .sport = htons(40000),
			.dport = htons(443), .proto = 17 };
		c->val = (struct hadp_conn){ .last_seen = t0, .ifindex = ifindex,
			.version = type == HADP_EV_CONN_DELETE ? 2 : 1,
			.nat_ip = htonl(0xcb007101), .nat_port = htons(1024 + i % 64000),
			.state = HADP_CONN_OPENING };
		c->rkey = (struct hadp_conn_key){ .src = c->key.dst, .dst = c->val.nat_ip,
			.sport = c->key.dport, .dport = c->val.nat_port, .proto = 17 };
		ev.version = c->val.version;
		if (hadp_mirror_event(p->active, &ev, now_ns()) < 0) {
			fprintf(stderr, "applybench: event refused\n");
			exit(1);
		}
	}
	hadp_mirror_flush(p->active, now_ns());
	printf("%s: %ld entries, %.0f per CPU second\n", what, n,
	       n / ((clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / 1e9));
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	__u32 sender = argc > 2 && !strcmp(argv[2], "two-host") ? 5 : 9;
	struct hadp_mirror_cfg cfg = {
		.queue_max = 4096, .path_mtu = 1500, .retransmit_ns = 1000000000ull,
		.tombs = 65536, .tomb_ns = 30000000000ull,
		.advert = { .max_count = 64, .version_min = 1, .version_max = 1 },
	};
	struct hadp_map conns = map(sizeof(struct hadp_conn_key), sizeof(struct hadp_conn), n + 1);
	struct hadp_map rev = map(sizeof(struct hadp_conn_key), sizeof(struct hadp_conn_key), n + 1);
	struct hadp_map ifaces = map(sizeof(struct hadp_ifindex), sizeof(struct hadp_iface), 64);
	struct hadp_mirror_maps mm = { .conns = &conns, .conns_rev = &rev, .ifaces = &ifaces };
	struct hadp_ifindex k = { 9 }, k5 = { 5 };
	struct hadp_iface vm = { .vni = 100, .ipv4 = htonl(0x0a000001), .flags = HADP_IFACE_IPV4 };
	struct hadp_iface other = { .vni = 200, .ipv4 = htonl(0x0a000001), .flags = HADP_IFACE_IPV4 };
	struct mirror_mem *mem = mirror_mem_new(1);
	struct pair p = { 0 };
	struct hadp_mirror_transport ta = { to_standby, &p }, ts = { to_active, &p };
	struct hadp_mirror_store sa = mirror_mem_store(mem), ss = hadp_mirror_maps_store(&mm);

	bpf_map_update_elem(ifaces.fd, &k, &vm, BPF_ANY);
	bpf_map_update_elem(ifaces.fd, &k5, &other, BPF_ANY);
	p.active = hadp_mirror_new(&cfg, &ta, &sa);
	p.standby = hadp_mirror_new(&cfg, &ts, &ss);
	if (!p.active || !p.standby)
		return 1;
	hadp_mirror_set_apply(p.active, false);
	hadp_mirror_set_peer(p.active, 64, 0, now_ns());
	run(&p, HADP_EV_CONN_NEW, n, sender, "creates");
	run(&p, HADP_EV_CONN_DELETE, n, sender, "deletes");
	printf("applied %llu deleted %llu unowned %llu apply_errors %llu\n",
	       (unsigned long long)hadp_mirror_stats(p.standby)->applied,
	       (unsigned long long)hadp_mirror_stats(p.standby)->deleted,
	       (unsigned long long)hadp_mirror_stats(p.standby)->unowned,
	       (unsigned long long)hadp_mirror_stats(p.standby)->apply_errors);
	hadp_mirror_free(p.active);
	hadp_mirror_free(p.standby);
	mirror_mem_free(mem);
	hadp_mirror_maps_release(&mm);
	return 0;
}
