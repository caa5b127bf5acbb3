// SPDX-License-Identifier: GPL-2.0-only
/* hadp neigh: the Ethernet next hops of underlay addresses, copied from the
 * kernel's neighbour table; hadpd follows its events, `hadp neigh sync`
 * catches up where no agent runs. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "hadp.h"
#include "names.h"
#include "neigh.h"
#include "parse.h"
#include "print.h"
#include "util.h"

/* A remote route through addr, in one of the route tables. */
static int route_via(const struct hadp_inst *inst, int map,
		     const __u8 addr[16])
{
	const struct hadp_map *m = &inst->maps[map];
	struct hadp_route rt;
	int used = 0, err;
	size_t j, n;
	char *keys;

	err = hadp_map_keys(m, (void **)&keys, &n);
	if (err)
		return err;
	for (j = 0; j < n && !used; j++)
		used = !hadp_map_lookup(m, keys + j * m->key_size, &rt) &&
		       rt.type == HADP_ROUTE_REMOTE &&
		       !memcmp(rt.nexthop, addr, 16);
	free(keys);
	return used;
}

/* A neighbour's NAT range owned by addr. */
static int nat_owner(const struct hadp_inst *inst, const __u8 addr[16])
{
	const struct hadp_map *m = &inst->maps[HADP_MAP_NAT_IPS];
	struct hadp_nat_ip_key *keys;
	struct hadp_nat_ip v;
	int used = 0, err;
	size_t i, n;
	__u32 r;

	err = hadp_map_keys(m, (void **)&keys, &n);
	if (err)
		return err;
	for (i = 0; i < n && !used; i++) {
		if (hadp_map_lookup(m, &keys[i], &v))
			continue;
		for (r = 0; r < v.count && r < HADP_NAT_RANGES && !used; r++)
			used = !v.range[r].ifindex &&
			       !memcmp(v.range[r].underlay, addr, 16);
	}
	free(keys);
	return used;
}

int nexthop_used(const struct hadp_inst *inst, const __u8 addr[16])
{
	struct hadp_index zero = { 0 };
	struct hadp_config cfg;
	int err;

	err = hadp_map_lookup(&inst->maps[HADP_MAP_CONFIG], &zero, &cfg);
	if (err) {
		hadp_err("reading config: %s", strerror(-err));
		return err;
	}
	if (!memcmp(cfg.nat_router, addr, 16))
		return 1;
	err = route_via(inst, HADP_MAP_ROUTES4, addr);
	err = err ?: route_via(inst, HADP_MAP_ROUTES6, addr);
	return err ?: nat_owner(inst, addr);
}

int nexthop_release(struct hadp_txn *t, const struct hadp_inst *inst,
		    const __u8 addr[16])
{
	struct hadp_neigh_key nk;
	int err;

	err = nexthop_used(inst, addr);
	if (err)
		return err < 0 ? err : 0;
	memcpy(nk.addr, addr, 16);
	err = hadp_txn_delete(t, &inst->maps[HADP_MAP_NEIGHS], &nk);
	return err == -ENOENT ? 0 : err;
}

void neigh_print_body(const struct hadp_neigh *n)
{
	char a[INET6_ADDRSTRLEN], dev[IF_NAMESIZE] = "";

	print_string("gateway", " gateway %s", fmt_ipv6(n->gateway, a));
	/* No route to the next hop: no device either. */
	if (n->ifindex) {
		if_indextoname(n->ifindex, dev);
		print_string("dev", " dev %s", dev);
		print_uint("ifindex", NULL, n->ifindex);
	}
	print_string("lladdr", " lladdr %s", fmt_mac(n->mac, a));
	print_string("state", " %s", hadp_neigh_state_name(n->state));
}

static void report(void *ctx, const struct hadp_inst *inst,
		   const struct hadp_neigh_key *key,
		   const struct hadp_neigh *old, const struct hadp_neigh *new)
{
	char a[INET6_ADDRSTRLEN];

	open_object(NULL);
	print_string("instance", "instance %s:", inst->name);
	print_string("addr", " %s", fmt_ipv6(key->addr, a));
	neigh_print_body(new);
	print_string("old_lladdr", " (was %s", fmt_mac(old->mac, a));
	print_string("old_state", " %s)", hadp_neigh_state_name(old->state));
	print_nl();
	close_object();
}

int neigh_refresh(struct cli *c, struct hadp_txn *t, bool print)
{
	/* An operator waits a second for a gateway to resolve, and any
	 * failure undoes the whole change. */
	struct hadp_neigh_refresh r = {
		.timeout_ms = 1000,
		.report = print ? report : NULL,
	};
	int k, err = 0;

	if (print)
		open_array(NULL);
	for (k = 0; k < c->n && !err; k++)
		err = hadp_neigh_refresh(&r, &c->insts[k], t);
	if (print)
		close_array();
	hadp_neigh_refresh_done(&r);
	return err;
}

static int neigh_sync(struct cli *c, int argc, char **argv)
{
	struct hadp_txn t = HADP_TXN_INIT;
	int err;

	if (argc) {
		hadp_err("unknown argument \"%s\"", argv[0]);
		return -EINVAL;
	}
	err = cli_open_write(c);
	err = err ?: neigh_refresh(c, &t, true);
	if (err)
		hadp_txn_rollback(&t);
	else
		hadp_txn_commit(&t);
	return err;
}

static int neigh_show(struct cli *c, int argc, char **argv)
{
	const struct hadp_map *m;
	struct hadp_neigh_key *keys;
	struct hadp_neigh v;
	char a[INET6_ADDRSTRLEN];
	size_t i, n;
	int err;

	if (argc) {
		hadp_err("unknown argument \"%s\"", argv[0]);
		return -EINVAL;
	}
	err = cli_open_show(c);
	if (err)
		return err;
	m = &c->insts[0].maps[HADP_MAP_NEIGHS];
	err = hadp_map_keys(m, (void **)&keys, &n);
	if (err)
		return err;
	open_array(NULL);
	for (i = 0; i < n; i++) {
		if (hadp_map_lookup(m, &keys[i], &v))
			continue;
		open_object(NULL);
		print_string("addr", "%s", fmt_ipv6(keys[i].addr, a));
		neigh_print_body(&v);
		print_nl();
		close_object();
	}
	close_array();
	free(keys);
	return 0;
}

int do_neigh(struct cli *c, int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "show"))
		return neigh_show(c, argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "sync"))
		return neigh_sync(c, argc - 1, argv + 1);
	return cli_usage_error("neigh", argv[0]);
}
