// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/sync: the measuring side, run inside scripts/vmtest.sh's VM by
 * bench/sync/inside.sh once instances a and b, their groups and agents
 * are up. Each command prints "RESULT key value" lines for bench/sync/run.
 *
 *   syncbench deltas BPFFS IFINDEX N    N new NAT connections made by a's
 *       datapath (the bench/cost wrapper under BPF_PROG_TEST_RUN),
 *       timed until b's conns map holds them all
 *   syncbench burst BPFFS IFINDEX N PID  the same in bursts the ring buffer
 *       holds, made while a's agent (PID) is stopped, timed from its
 *       SIGCONT until b holds the burst
 *   syncbench burst100k BPFFS IFINDEX N   N connections at the datapath's
 *       full rate with a's agent running: deltas lost, the ring's largest
 *       backlog, and the time until b holds them all (repair included)
 *   syncbench lag BPFFS IFINDEX N GAP_MS   N connections one at a time,
 *       each timed from its creation on a to its presence in b's map
 *   syncbench fill BPFFS IFINDEX N      N connections written straight
 *       into a's conns and conns_rev (the bulk sync's table)
 *   syncbench count MAP                 entries in a pinned hash map
 *   syncbench udp NS_FROM NS_TO DST_IP  the plain UDP baselines over the
 *       sync link: rate of 1448-byte datagrams, round trip of a small one
 *
 * BPFFS holds hadp/a and hadp/b; IFINDEX is a's VM interface (vm1,
 * SNAT 203.0.113.1), in the namespace this runs in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "meter.h"
#include "cost.skel.h"

#define VNI		100
#define VM_IP		0x0a000001	/* 10.0.0.1, vm1 */
#define NAT_IP		0xcb007101	/* 203.0.113.1 */
#define FRESH		0x64400000	/* 100.64.0.0: far ends of new connections */
#define FILLED		0xc6120000	/* 198.18.0.0: far ends of filled ones */
#define SPORT		40000
#define DPORT		443
#define PAYLOAD		1448		/* a full sync packet's UDP payload (docs/protocol.md) */
/* Test runs per BPF_PROG_TEST_RUN call: each run publishes one delta
 * into a 256 KiB ring buffer (about 2700 of them); the agent drains it
 * between calls, so a chunk must never fill it on its own. */
#define CHUNK		256

static const uint8_t GWMAC[6] = { 0x02, 0, 0, 0, 1, 1 };
static const uint8_t VM_MAC[6] = { 0x52, 0x54, 0, 0, 0, 1 };

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ull + t.tv_nsec;
}

static void result(const char *key, double v)
{
	printf("RESULT %s %.6g\n", key, v);
	fflush(stdout);
}

static int pin(const char *bpffs, const char *inst, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/hadp/%s/%s", bpffs, inst, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "syncbench: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* Entries in a hash map, read in batches: a walk with get_next_key
 * restarts from the top when an entry it stands on is deleted, and costs
 * a syscall per entry. */
static long map_count(int fd)
{
	static uint8_t keys[4096 * 64], vals[4096 * 256];
	__u32 in = 0, out = 0, n;
	bool first = true;
	long total = 0;
	int err;

	for (;;) {
		n = 4096;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					   vals, &n, NULL);
		first = false;
		if (err && errno != ENOENT) {
			fprintf(stderr, "syncbench: batch lookup: %s\n", strerror(errno));
			return -1;
		}
		total += n;
		if (err)
			return total;
		in = out;
	}
}

/* The wrapper (bench/cost/cost.bpf.c) aimed at a's hadp_vm, with a frame
 * from vm1 to a new far end on every run: each run makes one new NAT
 * connection, far end FRESH + runs. Each command starts its runs at its
 * own @first: a far end met before is an established connection, not a
 * new one (and its key is on b already). */
struct creator {
	struct cost_bpf *skel;
	int ifindex;
	int stats_fd;
};

static void creator_open(struct creator *c, const char *bpffs, int ifindex,
			 uint64_t first)
{
	struct bench_cfg *cfg;
	__u32 zero = 0;
	int prog = pin(bpffs, "a", "prog_vm");
	uint8_t *f;

	c->ifindex = ifindex;
	c->stats_fd = pin(bpffs, "a", "stats");
	c->skel = cost_bpf__open_and_load();
	if (!c->skel) {
		fprintf(stderr, "syncbench: loading the wrapper failed\n");
		exit(1);
	}
	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.target), &zero,
				&prog, BPF_ANY)) {
		fprintf(stderr, "syncbench: target: %s\n", strerror(errno));
		exit(1);
	}
	c->skel->bss->runs = first;
	cfg = &c->skel->bss->cfg;
	f = cfg->frame;
	frame_eth(f, GWMAC, VM_MAC, 0x0800);
	frame_udp(f, frame_ip4(f, 14, htonl(VM_IP), htonl(FRESH), IPPROTO_UDP),
		  SPORT, DPORT);
	cfg->stride = 1;
	cfg->flows = 1u << 30;
	cfg->a_off = 34;		/* source port: constant */
	cfg->a_base = SPORT;
	cfg->a_mod = 1;
	cfg->b_off = 30;		/* destination address: FRESH + run */
	cfg->b_base = FRESH;
	cfg->b_div = 1;
}

/* Sum over CPUs and interfaces of a's conns_created and events_lost. */
static void creator_counts(struct creator *c, uint64_t *created, uint64_t *lost)
{
	int ncpu = libbpf_num_possible_cpus();
	struct hadp_stats *v = calloc(ncpu, sizeof(*v));
	struct hadp_ifindex k = { .ifindex = c->ifindex };
	int i;

	*created = *lost = 0;
	if (!v || bpf_map_lookup_elem(c->stats_fd, &k, v)) {
		fprintf(stderr, "syncbench: stats: %s\n", strerror(errno));
		exit(1);
	}
	for (i = 0; i < ncpu; i++) {
		*created += v[i].conns_created;
		*lost += v[i].events_lost;
	}
	free(v);
}

static void creator_run(struct creator *c, unsigned int repeat)
{
	uint8_t out[BENCH_FRAME + 256];
	struct xdp_md ctx = { .data_end = BENCH_FRAME,
			      .ingress_ifindex = c->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = c->skel->bss->cfg.frame,
		    .data_size_in = BENCH_FRAME,
		    .data_out = out, .data_size_out = sizeof(out),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(bpf_program__fd(c->skel->progs.bench_wrap), &o)) {
		fprintf(stderr, "syncbench: test run: %s\n", strerror(errno));
		exit(1);
	}
}

/* b's key of the connection made by run @j. */
static struct hadp_conn_key fresh_key(uint64_t j)
{
	struct hadp_conn_key k;

	memset(&k, 0, sizeof(k));
	k.vni = VNI;
	k.src = htonl(VM_IP);
	k.dst = htonl(FRESH + j);
	k.sport = htons(SPORT);
	k.dport = htons(DPORT);
	k.proto = IPPROTO_UDP;
	return k;
}

/*
 * Whether b holds the connections of runs [first, first + n): the keys
 * are looked up from *held on, which advances past those present. Deltas
 * arrive about in creation order, so a poll costs a lookup or two, not a
 * read of b's table: a count of the whole table every few milliseconds
 * took a vCPU of its own from the agents it times. Returns how many are
 * held (n: all).
 */
static long held(int peer, uint64_t first, long n, long *cursor)
{
	struct hadp_conn val;
	struct hadp_conn_key k;

	while (*cursor < n) {
		k = fresh_key(first + *cursor);
		if (bpf_map_lookup_elem(peer, &k, &val))
			break;
		(*cursor)++;
	}
	return *cursor;
}

static int cmd_deltas(const char *bpffs, int ifindex, long n)
{
	struct creator c;
	uint64_t c0, c1, l0, l1, t0, t_made, t_done;
	int peer = pin(bpffs, "b", "conns");
	long have = 0, made;
	uint64_t first;

	creator_open(&c, bpffs, ifindex, 0);
	first = c.skel->bss->runs;
	creator_counts(&c, &c0, &l0);
	t0 = now_ns();
	for (made = 0; made < n; made += CHUNK)
		creator_run(&c, n - made < CHUNK ? n - made : CHUNK);
	t_made = now_ns();
	creator_counts(&c, &c1, &l1);
	if ((long)(c1 - c0) != n || l1 != l0) {
		fprintf(stderr, "syncbench: %llu of %ld connections made, %llu "
			"deltas lost to a full ring buffer\n",
			(unsigned long long)(c1 - c0), n,
			(unsigned long long)(l1 - l0));
		return 1;
	}
	t_done = 0;
	while (now_ns() - t0 < 300ull * 1000000000) {
		if (held(peer, first, n, &have) == n) {
			t_done = now_ns();
			break;
		}
		usleep(1000);
	}
	result("deltas_n", n);
	result("deltas_create_s", (t_made - t0) / 1e9);
	if (!t_done) {
		fprintf(stderr, "syncbench: b holds %ld of %ld after 300 s\n", have, n);
		return 1;
	}
	result("deltas_s", (t_done - t0) / 1e9);
	result("deltas_per_s", n / ((t_done - t0) / 1e9));
	cost_bpf__destroy(c.skel);
	return 0;
}

/*
 * The sync path alone, without the creation rate as its ceiling: with a's
 * agent stopped (SIGSTOP), a burst of connections that the ring buffer
 * holds whole, then the agent continued and timed until b holds the
 * burst. Repeated until @n connections were made.
 */
#define BURST		2400	/* deltas of about 96 bytes: 256 KiB holds 2700 */

static int cmd_burst(const char *bpffs, int ifindex, long n, pid_t agent)
{
	struct creator c;
	uint64_t c0, c1, l0, l1, t0, spent = 0;
	int peer = pin(bpffs, "b", "conns");
	long made = 0, have, k, i;
	uint64_t first;

	creator_open(&c, bpffs, ifindex, 1u << 22);
	while (made < n) {
		k = n - made < BURST ? n - made : BURST;
		if (kill(agent, SIGSTOP)) {
			perror("SIGSTOP");
			return 1;
		}
		creator_counts(&c, &c0, &l0);
		first = c.skel->bss->runs;
		for (i = 0; i < k; i += CHUNK)
			creator_run(&c, k - i < CHUNK ? k - i : CHUNK);
		creator_counts(&c, &c1, &l1);
		t0 = now_ns();
		kill(agent, SIGCONT);
		if ((long)(c1 - c0) != k || l1 != l0) {
			fprintf(stderr, "syncbench: burst: %llu of %ld made, %llu "
				"deltas lost\n", (unsigned long long)(c1 - c0), k,
				(unsigned long long)(l1 - l0));
			return 1;
		}
		made += k;
		have = 0;
		while (held(peer, first, k, &have) < k) {
			if (now_ns() - t0 > 60ull * 1000000000) {
				fprintf(stderr, "syncbench: b holds %ld of a burst of %ld\n",
					have, k);
				return 1;
			}
			usleep(1000);
		}
		spent += now_ns() - t0;
	}
	result("burst_n", made);
	result("burst_s", spent / 1e9);
	result("burst_deltas_per_s", made / (spent / 1e9));
	cost_bpf__destroy(c.skel);
	return 0;
}

/* Instance @inst's config (struct hadp_config) read, or written. */
static void config_io(const char *bpffs, const char *inst,
		      struct hadp_config *cfg, bool write)
{
	int fd = pin(bpffs, inst, "config");
	__u32 zero = 0;

	if (write ? bpf_map_update_elem(fd, &zero, cfg, BPF_EXIST) :
		    bpf_map_lookup_elem(fd, &zero, cfg)) {
		perror("syncbench: config");
		exit(1);
	}
	close(fd);
}

/*
 * Does the agent drain the ring at the fast path's own creation rate? N
 * connections made by a's datapath as fast as the wrapper goes, in calls
 * of 1024 runs, with a's agent running, the event budget off (inside.sh)
 * and a's default connection quota lifted: the full rate is the
 * question. Between calls the ring's backlog is read (its producer and
 * consumer positions, mapped read-only). Then: deltas lost (events_lost),
 * the largest backlog against the ring's size, and the time after the
 * last creation until b holds all N, whether by deltas or by the repair
 * of those lost.
 */
#define BURST100K_CALL	1024

static int cmd_burst100k(const char *bpffs, int ifindex, long n)
{
	int events = pin(bpffs, "a", "events");
	int peer = pin(bpffs, "b", "conns"), page = sysconf(_SC_PAGESIZE);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	volatile const uint64_t *cons, *prod;
	struct hadp_config cfg, off;
	uint64_t c0, c1, l0, l1, t0, t_made, t_done = 0, backlog, max = 0;
	struct creator c;
	long have = 0, made;
	uint64_t first;

	if (bpf_obj_get_info_by_fd(events, &info, &len)) {
		fprintf(stderr, "syncbench: a's ring: %s\n", strerror(errno));
		return 1;
	}
	cons = mmap(NULL, page, PROT_READ, MAP_SHARED, events, 0);
	prod = mmap(NULL, page, PROT_READ, MAP_SHARED, events, page);
	if (cons == MAP_FAILED || prod == MAP_FAILED) {
		perror("syncbench: mapping a's ring");
		return 1;
	}
	/* and no quota: the burst is the table's, not one VM's share */
	config_io(bpffs, "a", &cfg, false);
	off = cfg;
	off.conn_limit = UINT32_MAX;
	config_io(bpffs, "a", &off, true);
	creator_open(&c, bpffs, ifindex, 1u << 24);
	first = c.skel->bss->runs;
	creator_counts(&c, &c0, &l0);
	t0 = now_ns();
	for (made = 0; made < n; made += BURST100K_CALL) {
		creator_run(&c, n - made < BURST100K_CALL ? n - made : BURST100K_CALL);
		backlog = *prod - *cons;
		if (backlog > max)
			max = backlog;
	}
	t_made = now_ns();
	creator_counts(&c, &c1, &l1);
	config_io(bpffs, "a", &cfg, true);
	while (now_ns() - t_made < 300ull * 1000000000) {
		if (held(peer, first, c1 - c0, &have) == (long)(c1 - c0)) {
			t_done = now_ns();
			break;
		}
		usleep(1000);
	}
	result("burst100k_n", c1 - c0);
	result("burst100k_create_s", (t_made - t0) / 1e9);
	result("burst100k_per_s", (c1 - c0) / ((t_made - t0) / 1e9));
	result("burst100k_lost", l1 - l0);
	result("burst100k_ring_kib", info.max_entries / 1024);
	result("burst100k_backlog_max_kib", max / 1024.0);
	cost_bpf__destroy(c.skel);
	if (!t_done) {
		fprintf(stderr, "syncbench: b holds %ld of %llu after 300 s\n", have,
			(unsigned long long)(c1 - c0));
		return 1;
	}
	result("burst100k_repaired_ms", (t_done - t_made) / 1e6);
	return (long)(c1 - c0) != n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The value at quantile @q of @n sorted samples (nearest rank). */
static uint64_t quantile(const uint64_t *v, int n, double q)
{
	int i = (int)(q * n + 0.999999) - 1;

	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static int cmd_lag(const char *bpffs, int ifindex, int n, int gap_ms)
{
	struct hadp_conn val;
	struct creator c;
	uint64_t *lag = calloc(n, sizeof(*lag)), t0, j;
	int peer = pin(bpffs, "b", "conns"), i, missed = 0;

	creator_open(&c, bpffs, ifindex, 1u << 23);
	for (i = 0; i < n; i++) {
		struct hadp_conn_key k;

		j = c.skel->bss->runs;
		k = fresh_key(j);
		t0 = now_ns();
		creator_run(&c, 1);
		/* Polled every 100 us: finer than any lag under emulation,
		 * coarse enough to leave the agents a CPU. */
		while (bpf_map_lookup_elem(peer, &k, &val)) {
			if (now_ns() - t0 > 10ull * 1000000000)
				break;
			usleep(100);
		}
		lag[i] = now_ns() - t0;
		if (lag[i] > 10ull * 1000000000)
			missed++;
		usleep(gap_ms * 1000);
	}
	qsort(lag, n, sizeof(*lag), cmp_u64);
	result("lag_n", n);
	result("lag_missed", missed);
	result("lag_p50_ns", quantile(lag, n, 0.5));
	result("lag_p99_ns", quantile(lag, n, 0.99));
	result("lag_max_ns", lag[n - 1]);
	cost_bpf__destroy(c.skel);
	return missed != 0;
}

static int cmd_fill(const char *bpffs, int ifindex, long n)
{
	struct hadp_conn_key *k = calloc(n, sizeof(*k));
	struct hadp_conn *v = calloc(n, sizeof(*v));
	struct meter m = { .conns_fd = pin(bpffs, "a", "conns"),
			   .conns_rev_fd = pin(bpffs, "a", "conns_rev") };
	uint64_t t = now_ns();
	long i;

	/* A far end of its own for each (FILLED + i), so that every
	 * public-side key is distinct whatever the SNAT port. */
	for (i = 0; i < n; i++) {
		k[i].vni = VNI;
		k[i].src = htonl(VM_IP);
		k[i].dst = htonl(FILLED + i);
		k[i].sport = htons(SPORT);
		k[i].dport = htons(DPORT);
		k[i].proto = IPPROTO_UDP;
		v[i].last_seen = t;
		v[i].version = 1;
		v[i].ifindex = ifindex;
		v[i].nat_ip = htonl(NAT_IP);
		v[i].nat_port = htons(1024 + i % 64512);
		v[i].state = HADP_CONN_ESTABLISHED;
	}
	for (i = 0; i < n; i += 65536) {
		long c = n - i < 65536 ? n - i : 65536;

		if (conns_insert(&m, k + i, v + i, c))
			return 1;
	}
	result("fill_n", n);
	return 0;
}

/* A UDP socket bound to @ip:@port in the network namespace named @ns. */
static int udp_in(const char *ns, const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	char path[128];
	int self = open("/proc/self/ns/net", O_RDONLY), there, s, big = 8 << 20;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	there = open(path, O_RDONLY);
	if (self < 0 || there < 0 || setns(there, CLONE_NEWNET)) {
		fprintf(stderr, "syncbench: netns %s: %s\n", ns, strerror(errno));
		exit(1);
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, ip, &a.sin_addr);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "syncbench: bind %s:%d: %s\n", ip, port, strerror(errno));
		exit(1);
	}
	setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setns(self, CLONE_NEWNET);
	close(self);
	close(there);
	return s;
}

struct sink {
	int fd;
	bool echo;
	volatile bool stop;
	uint64_t n, bytes, first, last;
};

/* Receive (and with echo, send back) until stopped. */
static void *sink_loop(void *arg)
{
	struct sink *s = arg;
	struct timeval tv = { .tv_usec = 100000 };
	struct sockaddr_in from;
	socklen_t fl;
	char buf[2048];
	ssize_t r;

	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!s->stop) {
		fl = sizeof(from);
		r = recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (r < 0)
			continue;
		if (s->echo) {
			sendto(s->fd, buf, r, 0, (struct sockaddr *)&from, fl);
			continue;
		}
		if (!s->n)
			s->first = now_ns();
		s->last = now_ns();
		s->n++;
		s->bytes += r;
	}
	return NULL;
}

static int cmd_udp(const char *from_ns, const char *to_ns, const char *from_ip,
		   const char *to_ip)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(6750) };
	int tx = udp_in(from_ns, from_ip, 6751), rx = udp_in(to_ns, to_ip, 6750);
	struct sink s = { .fd = rx };
	static char buf[PAYLOAD];
	uint64_t t0, *rtt;
	pthread_t th;
	int i, n = 1000, lost = 0;

	inet_pton(AF_INET, to_ip, &dst.sin_addr);
	if (connect(tx, (struct sockaddr *)&dst, sizeof(dst))) {
		perror("connect");
		return 1;
	}
	/* The rate: as fast as one sender goes for 3 s, counted where it
	 * arrives (datagrams the receiver drops do not count). */
	pthread_create(&th, NULL, sink_loop, &s);
	t0 = now_ns();
	while (now_ns() - t0 < 3000000000ull)
		for (i = 0; i < 64; i++)
			send(tx, buf, sizeof(buf), 0);
	usleep(300000);
	s.stop = true;
	pthread_join(th, NULL);
	if (s.n < 2)
		return 1;
	result("udp_datagrams", s.n);
	result("udp_per_s", (s.n - 1) / ((s.last - s.first) / 1e9));
	result("udp_bytes_per_s", s.bytes / ((s.last - s.first) / 1e9));

	/* The round trip of a 64-byte datagram, echoed by the other side:
	 * fresh sockets (nothing of the rate test still queued), and the
	 * reply polled every 100 us as the lag's presence is. */
	close(tx);
	close(rx);
	tx = udp_in(from_ns, from_ip, 6753);
	rx = udp_in(to_ns, to_ip, 6752);
	dst.sin_port = htons(6752);
	if (connect(tx, (struct sockaddr *)&dst, sizeof(dst))) {
		perror("connect");
		return 1;
	}
	s = (struct sink){ .fd = rx, .echo = true };
	pthread_create(&th, NULL, sink_loop, &s);
	rtt = calloc(n, sizeof(*rtt));
	for (i = 0; i < n; i++) {
		uint32_t seq = i, got = ~0u;

		memcpy(buf, &seq, sizeof(seq));
		t0 = now_ns();
		send(tx, buf, 64, 0);
		while (got != seq && now_ns() - t0 < 1000000000ull) {
			if (recv(tx, buf, sizeof(buf), MSG_DONTWAIT) >= 4)
				memcpy(&got, buf, sizeof(got));
			else
				usleep(100);
		}
		if (got != seq && ++lost > 10)
			return 1;
		rtt[i] = now_ns() - t0;
	}
	s.stop = true;
	pthread_join(th, NULL);
	qsort(rtt, n, sizeof(*rtt), cmp_u64);
	result("rtt_p50_ns", quantile(rtt, n, 0.5));
	result("rtt_p99_ns", quantile(rtt, n, 0.99));
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "deltas") && argc == 5)
		return cmd_deltas(argv[2], atoi(argv[3]), atol(argv[4]));
	if (!strcmp(cmd, "burst") && argc == 6)
		return cmd_burst(argv[2], atoi(argv[3]), atol(argv[4]), atoi(argv[5]));
	if (!strcmp(cmd, "burst100k") && argc == 5)
		return cmd_burst100k(argv[2], atoi(argv[3]), atol(argv[4]));
	if (!strcmp(cmd, "lag") && argc == 6)
		return cmd_lag(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	if (!strcmp(cmd, "fill") && argc == 5)
		return cmd_fill(argv[2], atoi(argv[3]), atol(argv[4]));
	if (!strcmp(cmd, "count") && argc == 3) {
		int fd = bpf_obj_get(argv[2]);
		long n = fd < 0 ? -1 : map_count(fd);

		if (n < 0)
			return 1;
		printf("%ld\n", n);
		return 0;
	}
	if (!strcmp(cmd, "udp") && argc == 6)
		return cmd_udp(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: see bench/sync/syncbench.c\n");
	return 2;
}
