// SPDX-License-Identifier: GPL-2.0-only
/*
 * hadp dp: load, unload and upgrade the datapath: the programs loaded,
 * pinned and put into the root's program array. hadpd loads what is not
 * there by itself, and owns the active entry once it runs.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hadp.h"
#include "names.h"
#include "parse.h"
#include "print.h"
#include "util.h"

#define DEFAULT_INSTANCE	"default"

/* The kernel's largest ring buffer is 2^32 bytes less a page; a gibibyte
 * of locked memory for deltas is past any sane use already. */
#define EVENTS_MAX	(1u << 30)

/* A ring buffer's size: a power of two of pages. */
static int parse_events(const char *s, __u32 *out)
{
	__u32 page = sysconf(_SC_PAGESIZE), v;

	if (parse_u32("events", s, page, EVENTS_MAX, &v))
		return -EINVAL;
	if (v & (v - 1)) {
		hadp_err("invalid events \"%s\": expected a power of two "
			 "(bytes, %u-%u)", s, page, EVENTS_MAX);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int dp_load(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = {
		"ifaces", "routes", "neighs", "conns", "nat-ips", "events",
		"gateway4", "gateway6",
	};
	enum { IFACES, ROUTES, NEIGHS, CONNS, NAT_IPS, EVENTS, GW4, GW6 };
	const char *v[ARRAY_SIZE(keys)];
	struct hadp_load_opts o;
	const char *name = c->instance ? c->instance : DEFAULT_INSTANCE;
	int err;

	hadp_load_opts_init(&o);
	if (cli_kv(argc, argv, keys, ARRAY_SIZE(keys), v) ||
	    (v[IFACES] && parse_u32("ifaces", v[IFACES], 1, 65534,
				    &o.ifaces)) ||
	    (v[ROUTES] && parse_u32("routes", v[ROUTES], 1, 1 << 24,
				    &o.routes)) ||
	    (v[NEIGHS] && parse_u32("neighs", v[NEIGHS], 1, 65536,
				    &o.neighs)) ||
	    (v[CONNS] && parse_u32("conns", v[CONNS], 1, 1 << 24,
				   &o.conns)) ||
	    (v[NAT_IPS] && parse_u32("nat-ips", v[NAT_IPS], 1, 65536,
				     &o.nat_ips)) ||
	    (v[EVENTS] && parse_events(v[EVENTS], &o.events)) ||
	    (v[GW4] && parse_ipv4("gateway4", v[GW4], &o.gw4)) ||
	    (v[GW6] && parse_ipv6("gateway6", v[GW6], o.gw6)))
		return -EINVAL;
	err = hadp_host_open(&c->host, c->bpffs, true);
	err = err ?: hadp_host_lock(&c->host);
	return err ?: hadp_inst_load(&c->host, name, &o, NULL);
}

/* -I names a loaded instance; reported when it does not. */
static int inst_check(struct cli *c)
{
	__u32 index;
	int err;

	if (!c->instance)
		return 0;
	err = hadp_inst_find(&c->host, c->instance, &index);
	if (err == -ENOENT)
		hadp_err("instance %s is not loaded", c->instance);
	return err;
}

/* Pins of a half-loaded instance <bpffs>/hadp/NAME, named in no root. */
static bool leftover(struct cli *c, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", c->host.dir, name);
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* Without -I every instance goes, and the root with the last one. */
static int dp_unload(struct cli *c, int argc, char **argv)
{
	char name[HADP_NAME_LEN];
	__u32 i;
	int err;

	if (argc) {
		hadp_err("unknown argument \"%s\"", argv[0]);
		return -EINVAL;
	}
	err = hadp_host_open(&c->host, c->bpffs, false);
	if (err == -ENOENT)
		goto none;
	err = err ?: hadp_host_lock(&c->host);
	if (err)
		return err;
	if (c->instance) {
		__u32 index;

		/* A name that is neither loaded nor left over is a bad
		 * argument, not something to unload. */
		err = hadp_root_open(&c->host);
		if (!err)
			err = hadp_inst_find(&c->host, c->instance, &index);
		if (err == -ENOENT && !leftover(c, c->instance)) {
			hadp_err("instance %s is not loaded", c->instance);
			return -ENOENT;
		}
		if (err && err != -ENOENT)
			return err;
		return hadp_inst_unload(&c->host, c->instance);
	}
	err = hadp_root_open(&c->host);
	if (err == -ENOENT)
		goto none;
	for (i = 0; !err && i < HADP_MAX_INSTANCES; i++) {
		err = hadp_inst_name(&c->host, i, name);
		if (!err && name[0])
			err = hadp_inst_unload(&c->host, name);
		/* The last unload took the root away. */
		if (!c->host.root_open)
			break;
	}
	return err;
none:
	hadp_err("no datapath loaded in %s/hadp", c->bpffs);
	return -ENOENT;
}

static int dp_upgrade(struct cli *c, int argc, char **argv)
{
	unsigned int n;
	int err;

	if (argc) {
		hadp_err("unknown argument \"%s\"", argv[0]);
		return -EINVAL;
	}
	err = hadp_host_open(&c->host, c->bpffs, false);
	err = err ?: hadp_host_lock(&c->host);
	err = err ?: hadp_root_open(&c->host);
	if (err == -ENOENT)
		hadp_err("no datapath loaded in %s/hadp", c->bpffs);
	/* The root is every instance's; -I may only name a loaded one. */
	err = err ?: inst_check(c);
	return err ?: hadp_root_upgrade(&c->host, &n);
}

static int show_instances(struct cli *c, __u32 active)
{
	struct hadp_inst inst;
	__u32 i, ids[HADP_KIND_MAX];
	int k, err;

	open_array("instances");
	for (i = 0; i < HADP_MAX_INSTANCES; i++) {
		err = hadp_inst_open(&c->host, i, &inst);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		if (c->instance && strcmp(inst.name, c->instance)) {
			hadp_inst_close(&inst);
			continue;
		}
		for (k = 0; k < HADP_KIND_MAX && !err; k++)
			err = hadp_slot_get(&c->host, HADP_SLOT(i, k), &ids[k]);
		open_object(NULL);
		print_string("name", "instance %s", inst.name);
		print_uint("index", " index %llu", i);
		print_uint("vm_prog_id", " vm prog %llu", ids[HADP_KIND_VM]);
		print_uint("uplink_prog_id", " uplink prog %llu",
			   ids[HADP_KIND_UPLINK]);
		print_bool("active", " active", i == active);
		print_uint("events_bytes", " events %llu",
			   inst.maps[HADP_MAP_EVENTS].max_entries);
		if (!err && c->stats) {
			print_text("\n    unattributed to an interface:");
			err = print_ifstats(&inst, 0);
		}
		print_nl();
		close_object();
		hadp_inst_close(&inst);
		if (err)
			return err;
	}
	close_array();
	return 0;
}

static void show_attached(struct cli *c)
{
	struct if_nameindex *ifs, *it;
	int k;

	ifs = if_nameindex();
	open_array("attached");
	print_text("attached:");
	for (it = ifs; it && it->if_index; it++) {
		k = hadp_root_attached(&c->host, it->if_index);
		if (k < 0)
			continue;
		open_object(NULL);
		print_string("dev", " %s", it->if_name);
		print_uint("ifindex", NULL, it->if_index);
		print_string("kind", " (%s)", hadp_kind_name(k));
		close_object();
	}
	print_nl();
	close_array();
	if (ifs)
		if_freenameindex(ifs);
}

static int dp_show(struct cli *c, int argc, char **argv)
{
	struct hadp_root_stats rs;
	char name[HADP_NAME_LEN] = "", pins[PATH_MAX];
	__u32 active;
	int err;

	if (argc) {
		hadp_err("unknown argument \"%s\"", argv[0]);
		return -EINVAL;
	}
	err = hadp_host_open(&c->host, c->bpffs, false);
	err = err ?: hadp_root_open(&c->host);
	if (err == -ENOENT)
		hadp_err("no datapath loaded in %s/hadp (hadp dp load)",
			 c->bpffs);
	err = err ?: inst_check(c);
	err = err ?: hadp_active_get(&c->host, &active);
	err = err ?: hadp_root_stats_get(&c->host, &rs);
	if (!err && active != HADP_NO_INSTANCE)
		err = hadp_inst_name(&c->host, active, name);
	if (err)
		return err;
	open_array(NULL);
	open_object(NULL);
	snprintf(pins, sizeof(pins), "%s/" HADP_ROOT_DIR, c->host.dir);
	print_string("pins", "root %s", pins);
	print_uint("root_vm_id", " root_vm id %llu",
		   c->host.root_prog_id[HADP_KIND_VM]);
	print_uint("root_uplink_id", " root_uplink id %llu",
		   c->host.root_prog_id[HADP_KIND_UPLINK]);
	print_nl();
	print_string("active", "active %s", active == HADP_NO_INSTANCE ?
		     "none" : name);
	if (active != HADP_NO_INSTANCE)
		print_uint("active_index", " (index %llu)", active);
	print_nl();
	err = show_instances(c, active);
	if (err)
		return err;
	show_attached(c);
	open_object("root_stats");
	print_uint("vm_runs", "root stats: vm_runs %llu", rs.vm_runs);
	print_uint("uplink_runs", " uplink_runs %llu", rs.uplink_runs);
	print_uint("vm_empty_slot", " vm_empty_slot %llu", rs.vm_empty_slot);
	print_uint("uplink_empty_slot", " uplink_empty_slot %llu",
		   rs.uplink_empty_slot);
	close_object();
	print_nl();
	close_object();
	close_array();
	return 0;
}

int do_dp(struct cli *c, int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "show"))
		return dp_show(c, argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "load"))
		return dp_load(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "unload"))
		return dp_unload(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "upgrade"))
		return dp_upgrade(c, argc - 1, argv + 1);
	return cli_usage_error("dp", argv[0]);
}
