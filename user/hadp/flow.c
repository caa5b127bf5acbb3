// SPDX-License-Identifier: GPL-2.0-only
/*
 * hadp flow: the connections the NAT datapath tracks ("conns", keyed by
 * the VM's side), their aging, their timeouts and the budget of their
 * deltas. Deleting connections
 * goes through the instance's hadp_sweep program, never through map
 * deletes from here: the program publishes every delete on the events
 * ring buffer, so the HA agent hears of it like of the datapath's own.
 * Flush and age act on one instance only (-I, else the active one): the
 * standby applies the active's deletes, it never ages on its own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "hadp.h"
#include "names.h"
#include "parse.h"
#include "print.h"
#include "util.h"

#define IPPROTO_ICMP_	1

struct flow {
	struct hadp_conn_key k;
	struct hadp_conn c;
};

static int cmp_flow(const void *a, const void *b)
{
	const struct flow *x = a, *y = b;
	__u64 kx[] = { x->c.ifindex, x->k.proto, ntohl(x->k.src),
		       ntohs(x->k.sport), ntohl(x->k.dst), ntohs(x->k.dport) };
	__u64 ky[] = { y->c.ifindex, y->k.proto, ntohl(y->k.src),
		       ntohs(y->k.sport), ntohl(y->k.dst), ntohs(y->k.dport) };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kx); i++)
		if (kx[i] != ky[i])
			return kx[i] < ky[i] ? -1 : 1;
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	/* bpf_ktime_get_ns() is CLOCK_MONOTONIC. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The iface NAME argument, if given, as an ifindex of inst (0: none). */
static int iface_arg(const struct hadp_inst *inst, const char *name,
		     __u32 *ifindex)
{
	struct iface_entry e;
	int err;

	*ifindex = 0;
	if (!name)
		return 0;
	err = iface_find(inst, name, &e);
	if (err < 0)
		return err;
	if (!err) {
		hadp_err("iface %s not found (instance %s)", name, inst->name);
		return -ENOENT;
	}
	*ifindex = e.ifindex;
	return 0;
}

static int iface_parse(int argc, char **argv, const char **name)
{
	static const char *const keys[] = { "iface" };

	if (cli_kv(argc, argv, keys, ARRAY_SIZE(keys), name))
		return -EINVAL;
	return *name ? parse_name("iface", *name) : 0;
}

/* ADDR:PORT in text, addr and port keys in JSON; ICMP has no ports. */
static void print_end(const char *akey, const char *pkey, __be32 addr,
		      __be16 port, bool ports)
{
	char a[INET_ADDRSTRLEN];

	print_string(akey, "%s", fmt_ipv4(addr, a));
	print_uint(pkey, ports ? ":%llu" : NULL, ntohs(port));
}

static void flow_print(const struct hadp_inst *inst, const struct flow *f,
		       __u64 now)
{
	bool icmp = f->k.proto == IPPROTO_ICMP_;
	char name[HADP_NAME_LEN], proto[8];
	__u64 age = now > f->c.last_seen ? now - f->c.last_seen : 0;
	size_t i;
	bool first = true;

	open_object(NULL);
	print_string("proto", "%s ", hadp_proto_name(f->k.proto, proto));
	print_end("src", "sport", f->k.src, f->k.sport, !icmp);
	print_text(" -> ");
	print_end("dst", "dport", f->k.dst, f->k.dport, !icmp);
	if (icmp)
		print_text(" id %u", ntohs(f->k.sport));
	print_uint("vni", " vni %llu", f->k.vni);
	print_string("iface", " iface %s",
		     iface_name(inst, f->c.ifindex, name));
	print_uint("ifindex", NULL, f->c.ifindex);
	print_string("nat", " %s ", f->c.flags & HADP_CONN_VIP ? "vip" :
							       "snat");
	print_end("nat_ip", "nat_port", f->c.nat_ip, f->c.nat_port, !icmp);
	if (icmp)
		print_text(" id %u", ntohs(f->c.nat_port));
	print_string("state", " %s", hadp_conn_state_name(f->c.state));
	print_uint("age", " age %llus", age / 1000000000ull);
	print_uint("version", " version %llu", f->c.version);
	open_array("flags");
	for (i = 0; i < hadp_nr_conn_flag_names; i++) {
		if (!(f->c.flags & hadp_conn_flag_names[i].flag))
			continue;
		print_text(first ? " flags " : ",");
		print_string(NULL, "%s", hadp_conn_flag_names[i].name);
		first = false;
	}
	close_array();
	print_nl();
	close_object();
}

static int flow_show(struct cli *c, int argc, char **argv)
{
	const struct hadp_inst *inst;
	const struct hadp_map *m;
	struct hadp_conn_key *keys;
	const char *name;
	struct flow *f;
	size_t i, n, cnt = 0;
	__u32 ifindex;
	__u64 now;
	int err;

	if (iface_parse(argc, argv, &name))
		return -EINVAL;
	err = cli_open_show(c);
	if (err)
		return err;
	inst = &c->insts[0];
	err = iface_arg(inst, name, &ifindex);
	if (err)
		return err;
	m = &inst->maps[HADP_MAP_CONNS];
	err = hadp_map_keys(m, (void **)&keys, &n);
	if (err)
		return err;
	f = calloc(n ? n : 1, sizeof(*f));
	if (!f) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		/* Gone since the walk: skip it. */
		if (hadp_map_lookup(m, &keys[i], &f[cnt].c))
			continue;
		if (ifindex && f[cnt].c.ifindex != ifindex)
			continue;
		f[cnt++].k = keys[i];
	}
	free(keys);
	qsort(f, cnt, sizeof(*f), cmp_flow);
	now = now_ns();
	open_array(NULL);
	for (i = 0; i < cnt; i++)
		flow_print(inst, &f[i], now);
	close_array();
	free(f);
	return 0;
}

static int sweep(struct cli *c, __u32 mode, const char *name)
{
	struct hadp_sweep res;
	__u32 ifindex;
	int err;

	err = cli_open_one(c);
	err = err ?: iface_arg(&c->insts[0], name, &ifindex);
	err = err ?: hadp_inst_sweep(&c->host, &c->insts[0], mode, ifindex,
				     &res);
	if (err)
		return err;
	open_array(NULL);
	open_object(NULL);
	print_string("instance", "instance %s:", c->insts[0].name);
	if (name)
		print_string("iface", " iface %s", name);
	print_uint("scanned", " scanned %llu", res.scanned);
	print_uint("deleted", " deleted %llu", res.deleted);
	print_nl();
	close_object();
	close_array();
	return 0;
}

static int flow_flush(struct cli *c, int argc, char **argv)
{
	const char *name;

	if (iface_parse(argc, argv, &name))
		return -EINVAL;
	return sweep(c, HADP_SWEEP_FLUSH, name);
}

static int flow_age(struct cli *c, int argc, char **argv)
{
	if (argc) {
		hadp_err("unknown argument \"%s\"", argv[0]);
		return -EINVAL;
	}
	return sweep(c, HADP_SWEEP_AGE, NULL);
}

/* JSON keys are the words with underscores, as everywhere else. */
static void timeout_key(unsigned int to, char buf[32])
{
	char *p;

	snprintf(buf, 32, "%s", hadp_timeout_name(to));
	for (p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
}

/* The first instance's config: what `flow timeouts` and `flow deltas`
 * show without arguments (they write every instance alike). */
static int config_read(struct cli *c, struct hadp_config *cfg)
{
	struct hadp_index zero = { 0 };
	int err = cli_open_show(c);

	if (err)
		return err;
	err = hadp_map_lookup(&c->insts[0].maps[HADP_MAP_CONFIG], &zero, cfg);
	if (err)
		hadp_err("reading config: %s", strerror(-err));
	return err;
}

/* Change every instance's config with @set, in one transaction: an
 * instance that fails leaves none changed. */
static int config_write(struct cli *c,
			void (*set)(struct hadp_config *cfg, const void *arg),
			const void *arg)
{
	struct hadp_txn t = HADP_TXN_INIT;
	struct hadp_index zero = { 0 };
	struct hadp_config cfg;
	int i, err;

	err = cli_open_write(c);
	for (i = 0; !err && i < c->n; i++) {
		const struct hadp_map *m = &c->insts[i].maps[HADP_MAP_CONFIG];

		err = hadp_map_lookup(m, &zero, &cfg);
		if (err) {
			hadp_err("reading config: %s", strerror(-err));
			break;
		}
		set(&cfg, arg);
		err = hadp_txn_update(&t, m, &zero, &cfg, BPF_EXIST);
	}
	if (err)
		hadp_txn_rollback(&t);
	else
		hadp_txn_commit(&t);
	return err;
}

static int timeouts_show(struct cli *c)
{
	struct hadp_config cfg;
	char key[32];
	unsigned int to;
	int err = config_read(c, &cfg);

	if (err)
		return err;
	open_array(NULL);
	open_object(NULL);
	for (to = 0; to < HADP_TO_MAX; to++) {
		timeout_key(to, key);
		print_text("%s%s", to ? " " : "", hadp_timeout_name(to));
		print_uint(key, " %llu", cfg.timeout[to]);
	}
	print_nl();
	close_object();
	close_array();
	return 0;
}

struct timeouts_arg {
	const char *v[HADP_TO_MAX];
	__u32 val[HADP_TO_MAX];
};

static void timeouts_set(struct hadp_config *cfg, const void *arg)
{
	const struct timeouts_arg *a = arg;
	unsigned int to;

	for (to = 0; to < HADP_TO_MAX; to++)
		if (a->v[to])
			cfg->timeout[to] = a->val[to];
}

static int flow_timeouts(struct cli *c, int argc, char **argv)
{
	const char *keys[HADP_TO_MAX];
	struct timeouts_arg a;
	unsigned int to;

	if (!argc)
		return timeouts_show(c);
	for (to = 0; to < HADP_TO_MAX; to++)
		keys[to] = hadp_timeout_name(to);
	if (cli_kv(argc, argv, keys, HADP_TO_MAX, a.v))
		return -EINVAL;
	for (to = 0; to < HADP_TO_MAX; to++)
		if (a.v[to] && parse_u32(keys[to], a.v[to], 1, 0xffffffffu,
					 &a.val[to]))
			return -EINVAL;
	return config_write(c, timeouts_set, &a);
}

/*
 * The per-interface budget of connection deltas (docs/nat.md, "Tenant
 * isolation"): creations and updates a second an interface may publish
 * to the agent, and the burst above it; rate 0 turns the budget off.
 * What it holds back is counted (events_throttled) and reaches the
 * standby with the periodic refresh.
 */
static int deltas_show(struct cli *c)
{
	struct hadp_config cfg;
	int err = config_read(c, &cfg);

	if (err)
		return err;
	open_array(NULL);
	open_object(NULL);
	print_uint("rate", "rate %llu", cfg.event_rate);
	print_uint("burst", " burst %llu", cfg.event_burst);
	print_nl();
	close_object();
	close_array();
	return 0;
}

struct deltas_arg {
	const char *rate, *burst;
	__u32 r, b;
};

static void deltas_set(struct hadp_config *cfg, const void *arg)
{
	const struct deltas_arg *a = arg;

	if (a->rate)
		cfg->event_rate = a->r;
	if (a->burst)
		cfg->event_burst = a->b;
}

static int flow_deltas(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = { "rate", "burst" };
	const char *v[2];
	struct deltas_arg a;

	if (!argc)
		return deltas_show(c);
	if (cli_kv(argc, argv, keys, 2, v))
		return -EINVAL;
	a.rate = v[0];
	a.burst = v[1];
	/* A burst of 0 would hold back every delta of a budget that is on. */
	if ((a.rate && parse_u32("rate", a.rate, 0, 0xffffffffu, &a.r)) ||
	    (a.burst && parse_u32("burst", a.burst, 1, 0xffffffffu, &a.b)))
		return -EINVAL;
	return config_write(c, deltas_set, &a);
}

int do_flow(struct cli *c, int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "show"))
		return flow_show(c, argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "flush"))
		return flow_flush(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "age"))
		return flow_age(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "timeouts"))
		return flow_timeouts(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "deltas"))
		return flow_deltas(c, argc - 1, argv + 1);
	return cli_usage_error("flow", argv[0]);
}
