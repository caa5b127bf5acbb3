// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "meter.h"
#include "cost.skel.h"

int meter_opts_parse(struct meter_opts *o, const char *tool, int argc,
		     char **argv)
{
	static const struct option opts[] = {
		{ "hadp", required_argument, NULL, 'h' },
		{ "json", required_argument, NULL, 'j' },
		{ "command", required_argument, NULL, 'c' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'p' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'h': o->hadp = optarg; break;
		case 'j': o->json = optarg; break;
		case 'c': o->command = optarg; break;
		case 'r': o->rounds = atoi(optarg); break;
		case 'n': o->repeat = atoi(optarg); break;
		case 'p': o->cpu = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!o->json || o->rounds < 1 || o->rounds > 99 || o->repeat < 100) {
		fprintf(stderr, "usage: %s --hadp CLI --json FILE [--command STR] "
			"[--rounds 1-99] [--repeat N>=100] [--cpu N]\n", tool);
		return 2;
	}
	return 0;
}

static char bpffs_dir[64];

static void bpffs_remove(void)
{
	umount2(bpffs_dir, MNT_DETACH);
	rmdir(bpffs_dir);
}

int meter_env(struct meter *m, const char *hadp, int cpu)
{
	cpu_set_t cpus;

	memset(m, 0, sizeof(*m));
	m->hadp = hadp;
	m->ncpu = libbpf_num_possible_cpus();
	/* One CPU: per-CPU counters and the wrapper's run counter stay on
	 * it, and runs do not migrate halfway. */
	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus)) {
		perror("sched_setaffinity");
		return -1;
	}
	/* Devices, attachments and pins vanish with the process, however
	 * it ends; only the empty mount point needs removing. */
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		perror("unshare");
		return -1;
	}
	snprintf(bpffs_dir, sizeof(bpffs_dir), "/tmp/hadp-bench-bpffs.XXXXXX");
	if (!mkdtemp(bpffs_dir) || mount("bpf", bpffs_dir, "bpf", 0, NULL)) {
		perror(bpffs_dir);
		return -1;
	}
	atexit(bpffs_remove);
	snprintf(m->bpffs, sizeof(m->bpffs), "%s", bpffs_dir);
	sh("ip link set dev lo up");
	return 0;
}

static void vsh(const char *fmt, va_list ap, const char *prefix)
{
	char cmd[1024];
	int n;

	n = snprintf(cmd, sizeof(cmd), "%s", prefix);
	vsnprintf(cmd + n, sizeof(cmd) - n, fmt, ap);
	if (system(cmd)) {
		fprintf(stderr, "bench: failed: %s\n", cmd);
		exit(1);
	}
}

void sh(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsh(fmt, ap, "");
	va_end(ap);
}

void hadp(struct meter *m, const char *fmt, ...)
{
	char prefix[256];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "%s --bpffs %s ", m->hadp, m->bpffs);
	va_start(ap, fmt);
	vsh(fmt, ap, prefix);
	va_end(ap);
}

void veth(const char *dev)
{
	/* The far end stays quiet: a router solicitation arriving on DEV
	 * would be a drop the checks of a run would count. */
	sh("ip link add name %s type veth peer name %s-p && "
	   "sysctl -qw net.ipv6.conf.%s-p.disable_ipv6=1 && "
	   "ip link set dev %s up && ip link set dev %s-p up",
	   dev, dev, dev, dev, dev);
}

const uint8_t UPLINK_NH_MAC[6] = { 0x02, 0xbb, 0, 0, 0, 1 };

void meter_instance(struct meter *m, const char *load_args)
{
	veth("ul0");
	sh("ip -6 addr add fd00:1::a/64 dev ul0 nodad && "
	   "ip -6 neigh add fd00:1::1 lladdr 02:bb:00:00:00:01 dev ul0 nud permanent && "
	   "ip -6 route add default via fd00:1::1 dev ul0");
	hadp(m, "dp load %s", load_args);
	hadp(m, "uplink set dev ul0");
}

/* A pin of instance "default", or of the root with @dir "_root". */
static int pinned(struct meter *m, const char *dir, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/hadp/%s/%s", m->bpffs, dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
	return fd;
}

/* The datapath's deltas, read and thrown away between runs: with an
 * agent the ring buffer is drained, and a full one would make new
 * connections take the "events lost" branch. */
static int event_drop(void *ctx, void *data, size_t len)
{
	return 0;
}

int meter_open(struct meter *m)
{
	int events;

	m->skel = cost_bpf__open_and_load();
	if (!m->skel) {
		fprintf(stderr, "bench: loading the wrapper failed\n");
		return -1;
	}
	m->prog[T_MACSWAP] = bpf_program__fd(m->skel->progs.bench_macswap);
	m->prog[T_VM] = pinned(m, "default", "prog_vm");
	m->prog[T_UPLINK] = pinned(m, "default", "prog_uplink");
	m->prog[T_ROOT_VM] = pinned(m, "_root", "root_vm");
	m->stats_fd = pinned(m, "default", "stats");
	m->conns_fd = pinned(m, "default", "conns");
	m->conns_rev_fd = pinned(m, "default", "conns_rev");
	events = pinned(m, "default", "events");
	if (m->prog[T_VM] < 0 || m->prog[T_UPLINK] < 0 ||
	    m->prog[T_ROOT_VM] < 0 || m->stats_fd < 0 ||
	    m->conns_fd < 0 || m->conns_rev_fd < 0 || events < 0)
		return -1;
	m->events = ring_buffer__new(events, event_drop, NULL, NULL);
	close(events);
	return m->events ? 0 : -1;
}

void meter_close(struct meter *m)
{
	ring_buffer__free(m->events);
	cost_bpf__destroy(m->skel);
}

/* Sum over CPUs of counter @off of @ifindex, and of all its drops. */
static int counters(struct meter *m, int ifindex, size_t off,
		    uint64_t *val, uint64_t *drops)
{
	struct hadp_ifindex k = { .ifindex = ifindex };
	struct hadp_stats *v = calloc(m->ncpu, sizeof(*v));
	int i, r;

	*val = *drops = 0;
	if (bpf_map_lookup_elem(m->stats_fd, &k, v)) {
		free(v);
		return -1;
	}
	for (i = 0; i < m->ncpu; i++) {
		if (off != NO_COUNTER)
			*val += *(uint64_t *)((uint8_t *)&v[i] + off);
		for (r = 0; r < HADP_DROP_MAX; r++)
			*drops += v[i].drops[r];
		*drops += v[i].events_lost;
	}
	free(v);
	return 0;
}

/* What the counters say before and after a run. */
struct snap {
	uint64_t grows, still, drops;
};

static int snap(struct meter *m, const struct path *p, struct snap *s)
{
	uint64_t d[3], unused;

	if (counters(m, p->stats_ifindex, p->grows, &s->grows, &d[0]) ||
	    counters(m, p->stats_ifindex, p->still, &s->still, &unused) ||
	    counters(m, p->ifindex, NO_COUNTER, &unused, &d[1]) ||
	    counters(m, 0, NO_COUNTER, &unused, &d[2]))
		return -1;
	s->drops = d[0] + d[1] + d[2];
	return 0;
}

double meter_run(struct meter *m, const struct path *p)
{
	uint8_t out[BENCH_FRAME + 256];
	struct xdp_md ctx = { .data_end = BENCH_FRAME,
			      .ingress_ifindex = p->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = p->cfg.frame, .data_size_in = BENCH_FRAME,
		    .data_out = out, .data_size_out = sizeof(out),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = p->repeat);
	bool dp = p->target != T_MACSWAP;
	struct snap a, b;
	__u32 zero = 0;
	int err;

	m->skel->bss->cfg = p->cfg;
	if (bpf_map_update_elem(bpf_map__fd(m->skel->maps.target), &zero,
				&m->prog[p->target], BPF_ANY)) {
		fprintf(stderr, "bench: %s: the wrapper's program array refused "
			"the program: %s\n", p->name, strerror(errno));
		return -1;
	}
	if (dp && snap(m, p, &a)) {
		fprintf(stderr, "bench: %s: no counters\n", p->name);
		return -1;
	}
	err = bpf_prog_test_run_opts(bpf_program__fd(m->skel->progs.bench_wrap), &o);
	ring_buffer__consume(m->events);
	if (err) {
		fprintf(stderr, "bench: %s: test run: %s\n", p->name, strerror(-err));
		return -1;
	}
	if ((int)o.retval != p->verdict) {
		fprintf(stderr, "bench: %s: verdict %u, want %d\n", p->name,
			o.retval, p->verdict);
		return -1;
	}
	if (!dp)
		return o.duration;
	/* The verdict is the last run's: the counters vouch for every run. */
	if (snap(m, p, &b) || b.grows - a.grows != p->repeat ||
	    b.still != a.still || b.drops != a.drops) {
		fprintf(stderr, "bench: %s: %llu of %u runs counted, %llu "
			"unexpected counts, %llu drops\n", p->name,
			(unsigned long long)(b.grows - a.grows), p->repeat,
			(unsigned long long)(b.still - a.still),
			(unsigned long long)(b.drops - a.drops));
		return -1;
	}
	return o.duration;
}

/* Insert (or with @del, delete) @n connections in both tables. */
static int conns_batch(struct meter *m, const struct hadp_conn_key *k,
		       const struct hadp_conn *c, uint32_t n, bool del)
{
	struct hadp_conn_key *rk = calloc(n, sizeof(*rk));
	__u32 count = n;
	uint32_t i;
	int err;

	if (!rk)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		/* As conn_rkey() in bpf/conn.h, for TCP and UDP. */
		rk[i].src = k[i].dst;
		rk[i].dst = c[i].nat_ip;
		rk[i].sport = k[i].dport;
		rk[i].dport = c[i].nat_port;
		rk[i].proto = k[i].proto;
	}
	err = del ? bpf_map_delete_batch(m->conns_rev_fd, rk, &count, NULL) :
		    bpf_map_update_batch(m->conns_rev_fd, rk, k, &count, NULL);
	if (!err) {
		count = n;
		err = del ? bpf_map_delete_batch(m->conns_fd, k, &count, NULL) :
			    bpf_map_update_batch(m->conns_fd, k, c, &count, NULL);
	}
	free(rk);
	if (err)
		fprintf(stderr, "bench: %s %u connections: %s\n",
			del ? "deleting" : "inserting", n, strerror(-err));
	return err;
}

int conns_insert(struct meter *m, const struct hadp_conn_key *k,
		 const struct hadp_conn *c, uint32_t n)
{
	return conns_batch(m, k, c, n, false);
}

int conns_delete(struct meter *m, const struct hadp_conn_key *k,
		 const struct hadp_conn *c, uint32_t n)
{
	return conns_batch(m, k, c, n, true);
}

long long fdinfo(int fd, const char *field)
{
	char path[64], line[256];
	size_t len = strlen(field);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			v = strtoll(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

size_t frame_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6],
		 uint16_t proto)
{
	memset(f, 0, BENCH_FRAME);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = proto >> 8;
	f[13] = proto & 0xff;
	return 0;
}

static uint16_t csum16(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

size_t frame_ip4(uint8_t *f, size_t off, uint32_t src, uint32_t dst,
		 uint8_t proto)
{
	uint8_t *ip = f + off;
	uint16_t len = BENCH_FRAME - off, c;

	ip[0] = 0x45;
	ip[2] = len >> 8;
	ip[3] = len & 0xff;
	ip[6] = 0x40;			/* DF */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	c = csum16(ip, 20);
	ip[10] = c >> 8;
	ip[11] = c & 0xff;
	return off + 20;
}

size_t frame_ip6(uint8_t *f, size_t off, const uint8_t src[16],
		 const uint8_t dst[16], uint8_t nexthdr)
{
	uint8_t *ip6 = f + off;
	uint16_t plen = BENCH_FRAME - off - 40;

	ip6[0] = 0x60;
	ip6[4] = plen >> 8;
	ip6[5] = plen & 0xff;
	ip6[6] = nexthdr;
	ip6[7] = 64;
	memcpy(ip6 + 8, src, 16);
	memcpy(ip6 + 24, dst, 16);
	return off + 40;
}

size_t frame_udp(uint8_t *f, size_t off, uint16_t sport, uint16_t dport)
{
	uint8_t *u = f + off;
	uint16_t len = BENCH_FRAME - off;

	u[0] = sport >> 8;
	u[1] = sport & 0xff;
	u[2] = dport >> 8;
	u[3] = dport & 0xff;
	u[4] = len >> 8;
	u[5] = len & 0xff;
	/* Not verified by the datapath, and wrong once the wrapper varies
	 * the flow; non-zero so that NAT updates it as a real one. */
	u[6] = 0x5a;
	u[7] = 0xa5;
	return off + 8;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void cpu_model(char *buf, size_t len)
{
	char line[256], *v;
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, len, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) || !(v = strchr(line, ':')))
			continue;
		v += strspn(v + 1, " ") + 1;
		v[strcspn(v, "\n")] = 0;
		snprintf(buf, len, "%s", v);
		break;
	}
	if (f)
		fclose(f);
}

int json_open(struct json *j, const char *path, const char *bench,
	      const char *method, const char *command)
{
	struct utsname u;
	char cpu[128], date[32];
	time_t t = time(NULL);

	j->f = fopen(path, "w");
	if (!j->f) {
		perror(path);
		return -1;
	}
	j->figures = 0;
	j->command = command;
	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fprintf(j->f, "{\n  \"bench\": ");
	json_str(j->f, bench);
	fprintf(j->f, ",\n  \"date\": \"%s\",\n  \"host\": {\"kernel\": ", date);
	json_str(j->f, u.release);
	fprintf(j->f, ", \"machine\": ");
	json_str(j->f, u.machine);
	fprintf(j->f, ", \"cpu\": ");
	json_str(j->f, cpu);
	fprintf(j->f, ", \"cpus\": %ld},\n  \"method\": ",
		sysconf(_SC_NPROCESSORS_ONLN));
	json_str(j->f, method);
	fprintf(j->f, ",\n  \"figures\": [");
	return 0;
}

/* Whether @v meets "<= N" or ">= N"; -1 without a target. */
static int target_met(const char *target, double v)
{
	double n;

	if (!target)
		return -1;
	n = strtod(target + 2, NULL);
	return target[0] == '<' ? v <= n : v >= n;
}

void json_figure(struct json *j, const char *name, double value,
		 const char *unit, const char *base_name, double base_ns,
		 const char *target, const char *note)
{
	static const char *const met[] = { "false", "true", "null" };
	int t = target_met(target, value);

	fprintf(j->f, "%s\n    {\"name\": ", j->figures++ ? "," : "");
	json_str(j->f, name);
	fprintf(j->f, ", \"value\": %.6g, \"unit\": ", value);
	json_str(j->f, unit);
	if (base_name) {
		fprintf(j->f, ",\n     \"baseline\": {\"name\": ");
		json_str(j->f, base_name);
		fprintf(j->f, ", \"value\": %.6g, \"unit\": \"ns\"}", base_ns);
	}
	fprintf(j->f, ",\n     \"target\": ");
	if (target)
		json_str(j->f, target);
	else
		fprintf(j->f, "null");
	fprintf(j->f, ", \"met\": %s, \"command\": ", met[t < 0 ? 2 : t]);
	json_str(j->f, j->command);
	if (note) {
		fprintf(j->f, ",\n     \"note\": ");
		json_str(j->f, note);
	}
	fprintf(j->f, "}");
}

int json_close(struct json *j)
{
	fprintf(j->f, "\n  ]\n}\n");
	return fclose(j->f) ? -1 : 0;
}
