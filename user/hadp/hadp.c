// SPDX-License-Identifier: GPL-2.0-only
/*
 * hadp: configure the hadp datapath through its pinned maps, in the manner
 * of ip(8). One file per object; this one holds the global options and
 * what the objects share.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hadp.h"
#include "names.h"
#include "parse.h"
#include "print.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: hadp [OPTIONS] OBJECT COMMAND [ARGS]\n"
"OPTIONS := -j (JSON) | -p (pretty JSON) | -s (counters) | -I INSTANCE |\n"
"           --bpffs DIR | -h\n"
"  hadp iface add NAME dev DEV vni N [mac MAC] [ipv4 ADDR] [ipv6 ADDR]\n"
"                  underlay ADDR [conn-limit N]\n"
"  hadp iface set NAME conn-limit N|default\n"
"  hadp iface del NAME\n"
"  hadp iface show [NAME]\n"
"  hadp route add PREFIX vni N via ADDR [target-vni N]\n"
"  hadp route add PREFIX vni N nat\n"
"  hadp route del PREFIX vni N\n"
"  hadp route show [vni N]\n"
"  hadp uplink set dev DEV [mtu N]\n"
"  hadp uplink show\n"
"  hadp neigh sync\n"
"  hadp neigh show\n"
"  hadp nat add iface NAME ip ADDR ports MIN-MAX underlay ADDR\n"
"  hadp nat del iface NAME\n"
"  hadp nat neigh add ip ADDR ports MIN-MAX underlay ADDR\n"
"  hadp nat neigh del ip ADDR ports MIN-MAX\n"
"  hadp nat router [ADDR | none]\n"
"  hadp nat show\n"
"  hadp vip add iface NAME ip ADDR underlay ADDR [conn-limit N]\n"
"  hadp vip set iface NAME conn-limit N|default\n"
"  hadp vip del iface NAME\n"
"  hadp vip show\n"
"  hadp flow show [iface NAME]\n"
"  hadp flow flush [iface NAME]\n"
"  hadp flow age\n"
"  hadp flow timeouts [tcp-opening S] [tcp-established S] [tcp-closing S]\n"
"                     [udp S] [icmp S] [unreplied S]\n"
"  hadp flow deltas [rate N] [burst N]\n"
"  hadp dp load [ifaces N] [routes N] [neighs N] [conns N] [nat-ips N]\n"
"               [events BYTES] [gateway4 ADDR] [gateway6 ADDR]\n"
"  hadp dp unload\n"
"  hadp dp upgrade\n"
"  hadp dp show\n"
"  hadp ha add INSTANCE local ADDR:PORT peer ADDR:PORT key FILE\n"
"              [max-coalesce N] [peer-max-coalesce N] [mtu N]\n"
"  hadp ha set INSTANCE [peer ADDR:PORT] [key FILE] [max-coalesce N]\n"
"              [peer-max-coalesce N] [mtu N] [role ROLE]\n"
"  hadp ha del INSTANCE\n"
"  hadp ha show [INSTANCE]\n"
"  hadp ha role INSTANCE active|standby|unknown\n"
"  hadp ha genkey\n"
"  hadp monitor [instance NAME] [count N]\n"
"See hadp(8).\n");
}

int cli_missing(const char *what)
{
	hadp_err("missing argument \"%s\"", what);
	return -EINVAL;
}

int cli_usage_error(const char *obj, const char *cmd)
{
	if (cmd)
		hadp_err("unknown command \"%s %s\" (see hadp help)", obj, cmd);
	else
		hadp_err("missing command after \"%s\" (see hadp help)", obj);
	return -EINVAL;
}

int cli_args(int argc, char **argv, const char *const keys[], int nkeys,
	     const char *vals[], const char *const flags[], int nflags,
	     bool set[])
{
	int i;

	for (i = 0; i < nkeys; i++)
		vals[i] = NULL;
	for (i = 0; i < nflags; i++)
		set[i] = false;
	while (argc > 0) {
		for (i = 0; i < nflags; i++)
			if (!strcmp(argv[0], flags[i]))
				break;
		if (i < nflags) {
			if (set[i]) {
				hadp_err("duplicate argument \"%s\"", argv[0]);
				return -EINVAL;
			}
			set[i] = true;
			argc--;
			argv++;
			continue;
		}
		for (i = 0; i < nkeys; i++)
			if (!strcmp(argv[0], keys[i]))
				break;
		if (i == nkeys) {
			hadp_err("unknown argument \"%s\"", argv[0]);
			return -EINVAL;
		}
		if (argc < 2) {
			hadp_err("missing value for \"%s\"", argv[0]);
			return -EINVAL;
		}
		if (vals[i]) {
			hadp_err("duplicate argument \"%s\"", argv[0]);
			return -EINVAL;
		}
		vals[i] = argv[1];
		argc -= 2;
		argv += 2;
	}
	return 0;
}

int cli_kv(int argc, char **argv, const char *const keys[], int nkeys,
	   const char *vals[])
{
	return cli_args(argc, argv, keys, nkeys, vals, NULL, 0, NULL);
}

int cli_kv_required(int argc, char **argv, const char *const keys[], int nkeys,
		    int nrequired, const char *vals[])
{
	int i;

	if (cli_kv(argc, argv, keys, nkeys, vals))
		return -EINVAL;
	for (i = 0; i < nrequired; i++)
		if (!vals[i])
			return cli_missing(keys[i]);
	return 0;
}

static int open_host(struct cli *c, bool create)
{
	int err = hadp_host_open(&c->host, c->bpffs, create);

	if (!err)
		err = hadp_root_open(&c->host);
	if (err == -ENOENT)
		hadp_err("no datapath loaded in %s/hadp (hadp dp load)",
			 c->bpffs);
	return err;
}

int cli_open_write(struct cli *c)
{
	int err;

	err = hadp_host_open(&c->host, c->bpffs, false);
	if (!err)
		err = hadp_host_lock(&c->host);
	if (!err)
		err = hadp_root_open(&c->host);
	if (err == -ENOENT)
		hadp_err("no datapath loaded in %s/hadp (hadp dp load)",
			 c->bpffs);
	if (!err)
		err = hadp_inst_open_all(&c->host, c->instance, c->insts,
					 &c->n);
	return err;
}

/* The instance -I names, else the active one: 1 when opened, 0 when
 * there is no (loaded) active instance, or -errno. */
static int open_named_or_active(struct cli *c)
{
	__u32 active;
	int err;

	if (c->instance) {
		err = hadp_inst_open_all(&c->host, c->instance, c->insts,
					 &c->n);
		return err ?: 1;
	}
	err = hadp_active_get(&c->host, &active);
	if (err || active == HADP_NO_INSTANCE)
		return err;
	err = hadp_inst_open(&c->host, active, &c->insts[0]);
	if (err)
		return err == -ENOENT ? 0 : err;
	c->n = 1;
	return 1;
}

int cli_open_show(struct cli *c)
{
	int err;

	err = open_host(c, false);
	err = err ?: open_named_or_active(c);
	if (err)
		return err < 0 ? err : 0;
	/* No active instance: the first one, so that a show still shows. */
	err = hadp_inst_open_all(&c->host, NULL, c->insts, &c->n);
	if (!err && c->n > 1) {
		hadp_inst_close_all(c->insts + 1, c->n - 1);
		c->n = 1;
	}
	return err;
}

int cli_open_one(struct cli *c)
{
	int err;

	err = hadp_host_open(&c->host, c->bpffs, false);
	if (!err)
		err = hadp_host_lock(&c->host);
	if (!err)
		err = hadp_root_open(&c->host);
	if (err == -ENOENT)
		hadp_err("no datapath loaded in %s/hadp (hadp dp load)",
			 c->bpffs);
	err = err ?: open_named_or_active(c);
	if (err)
		return err < 0 ? err : 0;
	hadp_err("no instance is active: name one with -I");
	return -ENOENT;
}

static void cli_close(struct cli *c)
{
	hadp_inst_close_all(c->insts, c->n);
	c->n = 0;
	hadp_host_close(&c->host);
}

int ifindex_in_use(struct cli *c, __u32 ifindex, bool uplink)
{
	struct hadp_inst all[HADP_MAX_INSTANCES];
	struct hadp_ifindex key = { ifindex };
	struct hadp_index zero = { 0 };
	struct hadp_iface ifc;
	struct hadp_uplink ul;
	int i, n, err, used = 0;

	err = hadp_inst_open_all(&c->host, NULL, all, &n);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	for (i = 0; i < n && !used; i++) {
		if (uplink)
			used = !hadp_map_lookup(&all[i].maps[HADP_MAP_UPLINK],
						&zero, &ul) &&
			       ul.ifindex == ifindex;
		else
			used = !hadp_map_lookup(&all[i].maps[HADP_MAP_IFACES],
						&key, &ifc);
	}
	hadp_inst_close_all(all, n);
	return used;
}

int print_ifstats(const struct hadp_inst *inst, __u32 ifindex)
{
	struct hadp_ifindex key = { ifindex };
	struct hadp_stats s;
	size_t i;
	int err;

	err = hadp_map_sum_u64(&inst->maps[HADP_MAP_STATS], &key, &s);
	if (err == -ENOENT)
		memset(&s, 0, sizeof(s));
	else if (err) {
		hadp_err("reading counters of ifindex %u: %s", ifindex,
			 strerror(-err));
		return err;
	}
	open_object("stats");
	for (i = 0; i < hadp_nr_stats_fields; i++) {
		if (i % 4 == 0)
			print_text("\n   ");
		print_text(" %s", hadp_stats_fields[i].name);
		print_uint(hadp_stats_fields[i].name, " %llu",
			   hadp_stats_value(&s, &hadp_stats_fields[i]));
	}
	open_object("drops");
	for (i = 0; i < HADP_DROP_MAX; i++) {
		if (i % 4 == 0)
			print_text("\n    drop");
		print_text(" %s", hadp_drop_name(i));
		print_uint(hadp_drop_name(i), " %llu", s.drops[i]);
	}
	close_object();
	close_object();
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
} objects[] = {
	{ "iface", do_iface },
	{ "route", do_route },
	{ "uplink", do_uplink },
	{ "neigh", do_neigh },
	{ "dp", do_dp },
	{ "nat", do_nat },
	{ "vip", do_vip },
	{ "flow", do_flow },
	{ "ha", do_ha },
	{ "monitor", do_monitor },
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "stats", no_argument, NULL, 's' },
		{ "instance", required_argument, NULL, 'I' },
		{ "bpffs", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct cli c = { .n = 0 };
	const char *bpffs = NULL;
	size_t i;
	int opt, err;

	hadp_host_init(&c.host);
	hadp_libs_log_init();
	/* "+": options end at the object, as in ip(8); ":": we word the
	 * errors, on one line like every other bad argument. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:jpsI:h", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'j':
			c.json = true;
			break;
		case 'p':
			c.json = c.pretty = true;
			break;
		case 's':
			c.stats = true;
			break;
		case 'I':
			if (parse_name("instance", optarg))
				return 1;
			c.instance = optarg;
			break;
		case 'B':
			bpffs = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			hadp_err("missing value for \"%s\"", argv[optind - 1]);
			return 1;
		default:
			if (optopt)
				hadp_err("unknown option \"-%c\"", optopt);
			else
				hadp_err("unknown option \"%s\"",
					 argv[optind - 1]);
			return 1;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || !strcmp(argv[0], "help")) {
		usage(argc < 1 ? stderr : stdout);
		return argc < 1;
	}
	if (hadp_bpffs_resolve(bpffs, c.bpffs, sizeof(c.bpffs)))
		return 1;
	print_init(stdout, c.json, c.pretty);
	for (i = 0; i < ARRAY_SIZE(objects); i++) {
		if (strcmp(argv[0], objects[i].name))
			continue;
		err = objects[i].fn(&c, argc - 1, argv + 1);
		cli_close(&c);
		return err ? 1 : 0;
	}
	hadp_err("unknown object \"%s\" (see hadp help)", argv[0]);
	return 1;
}
