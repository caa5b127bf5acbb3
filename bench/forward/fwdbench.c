// SPDX-License-Identifier: GPL-2.0-only
/*
 * fwdbench: one forwarding measurement. A generator thread, moved into the
 * VM's network namespace, runs gen.bpf.c with BPF_F_TEST_XDP_LIVE_FRAMES
 * so that the frames leave through the VM's veth; the sink (sink.bpf.c) is
 * attached at the far end in its own namespace. After a warm-up, the
 * counters and /proc/stat are read twice, a fixed time apart, and one
 * JSON object goes to stdout:
 *
 *   {"seconds": ..., "delivered": N, "wrong": N, "offered": N, "pps": ...,
 *    "cpu_busy_ns": [per CPU], "fwd_cpu": C, "fwd_cpu_ns_per_pkt": ...,
 *    "all_cpu_ns_per_pkt": ..., "task_ns": N, "task_ns_per_pkt": ...}
 *
 * task_ns is the CPU time of the tasks named with --task (the forwarding
 * NAPI thread and ksoftirqd; "gen" is the generator thread, in whose
 * context the softirqs run when generator and path share a CPU): the cost
 * of the path without what else runs on the machine, which the /proc/stat
 * figures (fwd_cpu's, all CPUs') include.
 *
 * "offered" is what the generator handed to the veth. It is paced a few
 * percent above what arrives (pace()): the path, not the generator, is
 * what saturates, without the cost of a ring overrun many times over.
 * bench/forward/run sets up the namespaces and the NAPI threads.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fwd.h"
#include "gen.skel.h"
#include "sink.skel.h"

#define MAX_CPUS 256
#define MAX_TASKS 8
/*
 * Frames per test run call: as many as possible. Each call builds and
 * tears down a page pool, and the teardown waits for an RCU grace period
 * here (a call of 32768 frames spent most of its time asleep). The
 * generator is stopped with a signal instead, which the kernel checks
 * between batches, and gen.bpf.c counts the frames itself.
 */
#define GEN_REPEAT (1u << 30)

static struct {
	const char *gen_netns, *gen_dev, *sink_netns, *sink_dev;
	unsigned char dst_mac[6], src_mac[6];
	struct in_addr src, dst, want_inner;
	struct in6_addr want_outer;
	unsigned int sport, flows;
	int gen_cpu, fwd_cpu;
	double warmup, seconds;
	int sink_tc, count_all;
	int ntasks, nice;
	int tasks[MAX_TASKS];
} opt = {
	.sport = 10000, .flows = 1, .gen_cpu = 0, .fwd_cpu = 1,
	.warmup = 1, .seconds = 5,
};

static atomic_bool stop, gen_done;
static int gen_err;
static atomic_int gen_tid;

static void die(const char *what, int err)
{
	fprintf(stderr, "fwdbench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static int enter_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET))
		err = -errno;
	close(fd);
	return err;
}

static __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static __u32 csum_add(__u32 sum, const void *p, size_t len)
{
	const __u16 *w = p;

	for (; len > 1; len -= 2)
		sum += *w++;
	if (len)
		sum += *(const __u8 *)w;
	return sum;
}

/* The frame a VM would send: Ethernet to the hypervisor end, IPv4 with DF,
 * UDP to the discard port, checksums right for source port opt.sport. */
static void build_template(__u8 *f)
{
	struct ethhdr *eth = (void *)f;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u16 ulen = FWD_FRAME_LEN - sizeof(*eth) - sizeof(*ip);
	__u32 sum;
	size_t i;

	memset(f, 0, FWD_FRAME_LEN);
	memcpy(eth->h_dest, opt.dst_mac, 6);
	memcpy(eth->h_source, opt.src_mac, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(FWD_FRAME_LEN - sizeof(*eth));
	ip->frag_off = htons(0x4000);
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = opt.src.s_addr;
	ip->daddr = opt.dst.s_addr;
	ip->check = csum_fold(csum_add(0, ip, sizeof(*ip)));
	udp->source = htons(opt.sport);
	udp->dest = htons(9);
	udp->len = htons(ulen);
	for (i = sizeof(*udp); i < ulen; i++)
		((__u8 *)udp)[i] = 'a' + i % 26;
	sum = csum_add(0, &ip->saddr, 8);
	sum += htons(IPPROTO_UDP) + udp->len;
	udp->check = csum_fold(csum_add(sum, udp, ulen)) ?: 0xffff;
}

/*
 * With autogroups, nice orders tasks within a session only, and every
 * session gets the same share: a session of its own, at the same nice, is
 * what puts the generator ahead of other sessions' work.
 */
static void own_autogroup(void)
{
	FILE *f;

	if (!opt.nice || setsid() < 0)
		return;
	f = fopen("/proc/self/autogroup", "w");
	if (f) {
		fprintf(f, "%d\n", opt.nice);
		fclose(f);
	}
}

static void *gen_thread(void *arg)
{
	int prog_fd = *(int *)arg, ifindex, err;
	__u8 frame[FWD_FRAME_LEN];
	struct xdp_md ctx = {};
	cpu_set_t cpus;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = sizeof(frame), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = GEN_REPEAT,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	atomic_store(&gen_tid, gettid());
	/* setns() moves this thread only: the device is looked up, and
	 * XDP_TX goes out, in the VM's namespace. */
	err = enter_netns(opt.gen_netns);
	ifindex = err ? 0 : if_nametoindex(opt.gen_dev);
	if (!ifindex) {
		gen_err = err ?: -ENODEV;
		atomic_store(&stop, true);
		atomic_store(&gen_done, true);
		return NULL;
	}
	CPU_ZERO(&cpus);
	CPU_SET(opt.gen_cpu, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	/* This thread only: on Linux a tid is a valid PRIO_PROCESS who. */
	setpriority(PRIO_PROCESS, gettid(), opt.nice);
	build_template(frame);
	/* The kernel wants the context to describe data_in exactly. */
	ctx.data_end = sizeof(frame);
	ctx.ingress_ifindex = ifindex;
	while (!atomic_load(&stop)) {
		err = bpf_prog_test_run_opts(prog_fd, &o);
		if (err && errno != EINTR) {
			gen_err = -errno;
			atomic_store(&stop, true);
			break;
		}
	}
	atomic_store(&gen_done, true);
	return NULL;
}

static void on_sigusr1(int sig)
{
}

/* Interrupt the test run (no SA_RESTART: it returns EINTR); again until
 * the thread is out, in case a signal came just before it went in. */
static void stop_gen(pthread_t thread)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };

	sigaction(SIGUSR1, &sa, NULL);
	atomic_store(&stop, true);
	while (!atomic_load(&gen_done)) {
		pthread_kill(thread, SIGUSR1);
		usleep(10000);
	}
}

struct snap {
	double t;
	__u64 count[FWD_SINK_MAX];
	__u64 offered;
	__u64 busy[MAX_CPUS]; /* clock ticks */
	__u64 task_ns;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Busy ticks per CPU from /proc/stat: everything but idle and iowait. */
static void read_stat(__u64 *busy, int ncpu)
{
	unsigned long long v[10];
	char line[512];
	FILE *f = fopen("/proc/stat", "r");
	int cpu, n;

	if (!f)
		die("/proc/stat", errno);
	while (fgets(line, sizeof(line), f)) {
		memset(v, 0, sizeof(v));
		n = sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu,
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
		if (n < 8 || cpu < 0 || cpu >= ncpu)
			continue;
		busy[cpu] = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	}
	fclose(f);
}

/*
 * CPU time of the tasks that do the forwarding (the NAPI thread, the
 * forwarding CPU's ksoftirqd), in ns from /proc/PID/schedstat: unlike
 * /proc/stat it leaves out whatever else the machine runs on that CPU.
 */
static __u64 read_tasks(void)
{
	unsigned long long ns, sum = 0;
	char path[64];
	FILE *f;
	int i;

	for (i = 0; i < opt.ntasks; i++) {
		/* 0: the generator thread ("--task gen"). */
		if (opt.tasks[i])
			snprintf(path, sizeof(path), "/proc/%d/schedstat", opt.tasks[i]);
		else
			snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat",
				 atomic_load(&gen_tid));
		f = fopen(path, "r");
		if (!f)
			die(path, errno);
		if (fscanf(f, "%llu", &ns) != 1)
			die(path, EINVAL);
		fclose(f);
		sum += ns;
	}
	return sum;
}

static void snapshot(struct snap *s, int counts_fd, const struct gen_bpf *gen,
		     int ncpu)
{
	__u64 vals[MAX_CPUS];
	__u32 k;
	int c;

	s->t = now();
	s->offered = __atomic_load_n(&gen->bss->seq, __ATOMIC_RELAXED);
	for (k = 0; k < FWD_SINK_MAX; k++) {
		s->count[k] = 0;
		if (bpf_map_lookup_elem(counts_fd, &k, vals))
			die("reading the sink's counters", errno);
		for (c = 0; c < ncpu; c++)
			s->count[k] += vals[c];
	}
	read_stat(s->busy, ncpu);
	s->task_ns = read_tasks();
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR && !atomic_load(&stop))
		;
}

/*
 * Wait `seconds`, pacing the generator every 100 ms (see gen.bpf.c). It
 * starts unpaced. When more than 3% of what it sent in a step did not
 * arrive, the path is saturated, and the pace goes to 5% above what
 * arrived; when everything arrived, the pace goes up by a tenth, to find
 * out whether more gets through; when the generator could not keep the
 * pace, it runs unpaced again (reading the clock per frame costs it).
 */
static double rate;

static void pace(struct gen_bpf *gen, int counts_fd, int ncpu, double seconds)
{
	struct snap a, b;
	double end = now() + seconds, d, o;

	snapshot(&a, counts_fd, gen, ncpu);
	while (now() < end && !atomic_load(&stop)) {
		sleep_s(0.1);
		snapshot(&b, counts_fd, gen, ncpu);
		d = (b.count[FWD_SINK_OK] - a.count[FWD_SINK_OK]) / (b.t - a.t);
		o = (b.offered - a.offered) / (b.t - a.t);
		if (o > d * 1.03)
			rate = d * 1.05;
		else if (rate && o < rate * 0.9)
			rate = 0;
		else
			rate *= 1.1;
		gen->bss->gap_ns = rate > 1000 ? 1e9 / rate : 0;
		if (getenv("FWD_PACE_DEBUG"))
			fprintf(stderr, "pace: offered %.0f delivered %.0f -> %.0f\n", o, d, rate);
		a = b;
	}
}

static void parse_mac(const char *s, unsigned char *mac)
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2],
		   &mac[3], &mac[4], &mac[5]) != 6)
		die(s, EINVAL);
}

static void parse_ip(int af, const char *s, void *dst)
{
	if (inet_pton(af, s, dst) != 1)
		die(s, EINVAL);
}

static void usage(void)
{
	fprintf(stderr,
"usage: fwdbench --gen-netns PATH --gen-dev DEV --src-mac MAC --dst-mac MAC\n"
"                --src IPV4 --dst IPV4 [--sport N] [--flows N]\n"
"                --sink-netns PATH --sink-dev DEV [--sink xdp|tc]\n"
"                --want-outer IPV6 --want-inner IPV4 | --count-all\n"
"                [--gen-cpu N] [--fwd-cpu N] [--warmup S] [--seconds S]\n"
"                [--task PID|gen]... [--nice N]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "gen-netns", 1, 0, 'g' },  { "gen-dev", 1, 0, 'G' },
		{ "src-mac", 1, 0, 'm' },    { "dst-mac", 1, 0, 'M' },
		{ "src", 1, 0, 's' },	     { "dst", 1, 0, 'd' },
		{ "sport", 1, 0, 'p' },	     { "flows", 1, 0, 'f' },
		{ "sink-netns", 1, 0, 'k' }, { "sink-dev", 1, 0, 'K' },
		{ "sink", 1, 0, 'S' },	     { "want-outer", 1, 0, 'o' },
		{ "want-inner", 1, 0, 'i' }, { "gen-cpu", 1, 0, 'c' },
		{ "fwd-cpu", 1, 0, 'C' },    { "warmup", 1, 0, 'w' },
		{ "seconds", 1, 0, 't' },    { "count-all", 0, 0, 'A' },
		{ "task", 1, 0, 'T' },	     { "nice", 1, 0, 'n' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'g': opt.gen_netns = optarg; break;
		case 'G': opt.gen_dev = optarg; break;
		case 'm': parse_mac(optarg, opt.src_mac); break;
		case 'M': parse_mac(optarg, opt.dst_mac); break;
		case 's': parse_ip(AF_INET, optarg, &opt.src); break;
		case 'd': parse_ip(AF_INET, optarg, &opt.dst); break;
		case 'p': opt.sport = strtoul(optarg, NULL, 0); break;
		case 'f': opt.flows = strtoul(optarg, NULL, 0); break;
		case 'k': opt.sink_netns = optarg; break;
		case 'K': opt.sink_dev = optarg; break;
		case 'S': opt.sink_tc = !strcmp(optarg, "tc"); break;
		case 'o': parse_ip(AF_INET6, optarg, &opt.want_outer); break;
		case 'i': parse_ip(AF_INET, optarg, &opt.want_inner); break;
		case 'c': opt.gen_cpu = atoi(optarg); break;
		case 'C': opt.fwd_cpu = atoi(optarg); break;
		case 'w': opt.warmup = atof(optarg); break;
		case 't': opt.seconds = atof(optarg); break;
		case 'A': opt.count_all = 1; break;
		case 'n': opt.nice = atoi(optarg); break;
		case 'T':
			if (opt.ntasks == MAX_TASKS)
				usage();
			opt.tasks[opt.ntasks++] = strcmp(optarg, "gen") ? atoi(optarg) : 0;
			break;
		default: usage();
		}
	}
	if (!opt.gen_netns || !opt.gen_dev || !opt.sink_netns || !opt.sink_dev ||
	    !opt.flows || opt.sport + opt.flows > 65536 || opt.seconds <= 0)
		usage();
}

int main(int argc, char **argv)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, tco);
	struct bpf_link *link = NULL;
	struct gen_bpf *gen;
	struct sink_bpf *sink;
	struct snap a, b;
	pthread_t thread;
	int ncpu, prog_fd, ifindex, err, c;
	double dt, busy_all = 0, ns_tick, fwd_ns;
	__u64 got;

	parse_args(argc, argv);
	own_autogroup();
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0 || ncpu > MAX_CPUS || opt.fwd_cpu >= ncpu)
		die("possible CPUs", ncpu <= 0 ? ncpu : ERANGE);
	ns_tick = 1e9 / sysconf(_SC_CLK_TCK);

	gen = gen_bpf__open();
	if (!gen)
		die("opening gen.bpf.o", errno);
	build_template((__u8 *)gen->rodata->tmpl);
	gen->rodata->sport_base = opt.sport;
	gen->rodata->nflows = opt.flows;
	err = gen_bpf__load(gen);
	if (err)
		die("loading gen.bpf.o", err);

	sink = sink_bpf__open();
	if (!sink)
		die("opening sink.bpf.o", errno);
	memcpy((void *)sink->rodata->want_outer_dst, &opt.want_outer, 16);
	sink->rodata->want_inner_src = opt.want_inner.s_addr;
	sink->rodata->count_all = opt.count_all;
	err = sink_bpf__load(sink);
	if (err)
		die("loading sink.bpf.o", err);

	/* The sink is attached from the far end's namespace; the generator
	 * thread moves on to the VM's. */
	err = enter_netns(opt.sink_netns);
	if (err)
		die(opt.sink_netns, err);
	ifindex = if_nametoindex(opt.sink_dev);
	if (!ifindex)
		die(opt.sink_dev, errno);
	if (opt.sink_tc) {
		hook.ifindex = ifindex;
		err = bpf_tc_hook_create(&hook);
		if (err && err != -EEXIST)
			die("creating the clsact qdisc", err);
		tco.prog_fd = bpf_program__fd(sink->progs.sink_tc);
		err = bpf_tc_attach(&hook, &tco);
		if (err)
			die("attaching the tc sink", err);
	} else {
		link = bpf_program__attach_xdp(sink->progs.sink_xdp, ifindex);
		if (!link)
			die("attaching the XDP sink", errno);
	}

	prog_fd = bpf_program__fd(gen->progs.gen);
	err = pthread_create(&thread, NULL, gen_thread, &prog_fd);
	if (err)
		die("starting the generator", err);
	while (!atomic_load(&gen_tid))
		usleep(1000);
	pace(gen, bpf_map__fd(sink->maps.counts), ncpu, opt.warmup);
	snapshot(&a, bpf_map__fd(sink->maps.counts), gen, ncpu);
	pace(gen, bpf_map__fd(sink->maps.counts), ncpu, opt.seconds);
	snapshot(&b, bpf_map__fd(sink->maps.counts), gen, ncpu);
	stop_gen(thread);
	pthread_join(thread, NULL);

	if (opt.sink_tc) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	bpf_link__destroy(link);
	if (gen_err)
		die("generator", gen_err);

	dt = b.t - a.t;
	got = b.count[FWD_SINK_OK] - a.count[FWD_SINK_OK];
	fwd_ns = (b.busy[opt.fwd_cpu] - a.busy[opt.fwd_cpu]) * ns_tick;

	printf("{\"seconds\": %.3f, \"delivered\": %llu, \"wrong\": %llu, "
	       "\"offered\": %llu, \"pps\": %.0f, \"cpu_busy_ns\": [",
	       dt, (unsigned long long)got,
	       (unsigned long long)(b.count[FWD_SINK_WRONG] - a.count[FWD_SINK_WRONG]),
	       (unsigned long long)(b.offered - a.offered), got / dt);
	for (c = 0; c < ncpu; c++) {
		double ns = (b.busy[c] - a.busy[c]) * ns_tick;

		busy_all += ns;
		printf("%s%.0f", c ? ", " : "", ns);
	}
	printf("], \"fwd_cpu\": %d, \"fwd_cpu_ns_per_pkt\": %.1f, "
	       "\"all_cpu_ns_per_pkt\": %.1f, \"task_ns\": %llu, "
	       "\"task_ns_per_pkt\": %.1f}\n", opt.fwd_cpu,
	       got ? fwd_ns / got : 0, got ? busy_all / got : 0,
	       (unsigned long long)(b.task_ns - a.task_ns),
	       got ? (double)(b.task_ns - a.task_ns) / got : 0);
	gen_bpf__destroy(gen);
	sink_bpf__destroy(sink);
	return 0;
}
