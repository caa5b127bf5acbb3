// SPDX-License-Identifier: GPL-2.0-only
/* hadp route: per-VNI routes to remote underlay next hops, and to the NAT
 * gateway. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "hadp.h"
#include "names.h"
#include "nl.h"
#include "parse.h"
#include "print.h"
#include "util.h"

/* A route key of either family, and the map it lives in. */
struct rkey {
	int map;			/* HADP_MAP_ROUTES4 or 6 */
	union {
		struct hadp_route4_key k4;
		struct hadp_route6_key k6;
	};
};

static void rkey_make(struct rkey *k, const struct hadp_prefix *p, __u32 vni)
{
	memset(k, 0, sizeof(*k));
	if (p->addr.family == AF_INET) {
		k->map = HADP_MAP_ROUTES4;
		k->k4.prefixlen = 32 + p->len;
		k->k4.vni = vni;
		k->k4.addr = p->addr.v4;
	} else {
		k->map = HADP_MAP_ROUTES6;
		k->k6.prefixlen = 32 + p->len;
		k->k6.vni = vni;
		memcpy(k->k6.addr, p->addr.v6, 16);
	}
}

/* 1 and the value when the exact route is there, 0 when not. */
static int route_get(const struct hadp_inst *inst, const struct rkey *k,
		     struct hadp_route *rt)
{
	const struct hadp_map *m = &inst->maps[k->map];
	int err;

	err = hadp_map_has_key(m, &k->k4);
	if (err != 1)
		return err;
	/* Present, so its longest match is the route itself. */
	err = hadp_map_lookup(m, &k->k4, rt);
	return err ? err : 1;
}

static int route_parse(int argc, char **argv, const char *const keys[],
		       int nkeys, const char *v[], struct hadp_prefix *p,
		       __u32 *vni)
{
	if (argc < 1)
		return cli_missing("PREFIX");
	if (parse_prefix("prefix", argv[0], p) ||
	    cli_kv(argc - 1, argv + 1, keys, nkeys, v))
		return -EINVAL;
	if (!v[0])
		return cli_missing("vni");
	return parse_vni("vni", v[0], vni);
}

static int route_exists(struct cli *c, const struct rkey *k, const char *dst,
			__u32 vni)
{
	struct hadp_route old;
	char name[HADP_NAME_LEN];
	int i, err = 0;

	for (i = 0; !err && i < c->n; i++) {
		err = route_get(&c->insts[i], k, &old);
		if (err == 1 && old.type == HADP_ROUTE_LOCAL)
			hadp_err("route %s vni %u is iface %s's address "
				 "(instance %s)", dst, vni,
				 iface_name(&c->insts[i], old.ifindex, name),
				 c->insts[i].name);
		else if (err == 1)
			hadp_err("route %s vni %u exists (instance %s)",
				 dst, vni, c->insts[i].name);
		if (err == 1)
			err = -EEXIST;
	}
	return err;
}

/* PREFIX vni N nat: leave through the NAT gateway. No next hop of its
 * own: the packets go to the NAT router (hadp nat router). */
static int route_add_nat(struct cli *c, const char *dst,
			 const struct hadp_prefix *p, __u32 vni)
{
	struct hadp_txn t = HADP_TXN_INIT;
	struct hadp_route rt = { .type = HADP_ROUTE_NAT, .target_vni = vni };
	struct rkey k;
	int i, err;

	if (p->addr.family != AF_INET) {
		hadp_err("invalid prefix \"%s\": nat routes are IPv4 only",
			 dst);
		return -EINVAL;
	}
	rkey_make(&k, p, vni);
	err = cli_open_write(c);
	err = err ?: route_exists(c, &k, dst, vni);
	for (i = 0; !err && i < c->n; i++) {
		err = hadp_txn_update(&t, &c->insts[i].maps[k.map], &k.k4, &rt,
				      BPF_NOEXIST);
		if (err == -EEXIST)
			hadp_err("route %s vni %u appeared meanwhile", dst,
				 vni);
	}
	if (err)
		hadp_txn_rollback(&t);
	else
		hadp_txn_commit(&t);
	return err;
}

static int route_add(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = { "vni", "via", "target-vni" };
	static const char *const flags[] = { "nat" };
	enum { VNI, VIA, TVNI };
	struct hadp_txn t = HADP_TXN_INIT;
	const char *v[ARRAY_SIZE(keys)];
	struct hadp_route rt = { .type = HADP_ROUTE_REMOTE };
	struct hadp_neigh_key nk;
	struct hadp_neigh nv;
	struct hadp_prefix p;
	struct rkey k;
	bool nat;
	__u32 vni;
	int i, err;

	if (argc < 1)
		return cli_missing("PREFIX");
	if (parse_prefix("prefix", argv[0], &p) ||
	    cli_args(argc - 1, argv + 1, keys, ARRAY_SIZE(keys), v, flags,
		     ARRAY_SIZE(flags), &nat))
		return -EINVAL;
	if (!v[VNI])
		return cli_missing("vni");
	if (parse_vni("vni", v[VNI], &vni))
		return -EINVAL;
	if (nat) {
		if (v[VIA] || v[TVNI]) {
			hadp_err("invalid argument \"%s\": a nat route has no "
				 "next hop", v[VIA] ? "via" : "target-vni");
			return -EINVAL;
		}
		return route_add_nat(c, argv[0], &p, vni);
	}
	if (!v[VIA])
		return cli_missing("via\" or \"nat");
	if (parse_ipv6_host("via", v[VIA], rt.nexthop))
		return -EINVAL;
	rt.target_vni = vni;
	if (v[TVNI] && parse_vni("target-vni", v[TVNI], &rt.target_vni))
		return -EINVAL;
	rkey_make(&k, &p, vni);
	memcpy(nk.addr, rt.nexthop, 16);

	err = cli_open_write(c);
	err = err ?: route_exists(c, &k, argv[0], vni);
	if (err)
		return err;
	/* The kernel's neighbour table, not a map: no rollback needed. */
	err = hadp_neigh_resolve(rt.nexthop, &nv, 1000);
	for (i = 0; !err && i < c->n; i++) {
		err = hadp_txn_update(&t, &c->insts[i].maps[HADP_MAP_NEIGHS],
				      &nk, &nv, BPF_ANY);
		err = err ?: hadp_txn_update(&t, &c->insts[i].maps[k.map],
					     &k.k4, &rt, BPF_NOEXIST);
		if (err == -EEXIST)
			hadp_err("route %s vni %u appeared meanwhile", argv[0],
				 vni);
	}
	if (err)
		hadp_txn_rollback(&t);
	else
		hadp_txn_commit(&t);
	return err;
}

static int route_del(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = { "vni" };
	struct hadp_txn t = HADP_TXN_INIT;
	const char *v[ARRAY_SIZE(keys)];
	struct hadp_route rt;
	struct hadp_prefix p;
	struct rkey k;
	char name[HADP_NAME_LEN];
	int i, found = 0, err;
	__u32 vni;

	if (route_parse(argc, argv, keys, ARRAY_SIZE(keys), v, &p, &vni))
		return -EINVAL;
	rkey_make(&k, &p, vni);
	err = cli_open_write(c);
	for (i = 0; !err && i < c->n; i++) {
		struct hadp_inst *inst = &c->insts[i];

		err = route_get(inst, &k, &rt);
		if (err <= 0)
			continue;
		if (rt.type == HADP_ROUTE_LOCAL) {
			hadp_err("route %s vni %u is iface %s's address: "
				 "hadp iface del removes it", argv[0], vni,
				 iface_name(inst, rt.ifindex, name));
			err = -EINVAL;
			break;
		}
		found++;
		err = hadp_txn_delete(&t, &inst->maps[k.map], &k.k4);
		if (err)
			break;
		/* Its next hop goes with the last route through it (or
		 * the NAT that still uses it). */
		if (rt.type == HADP_ROUTE_REMOTE)
			err = nexthop_release(&t, inst, rt.nexthop);
	}
	if (!err && !found) {
		hadp_err("route %s vni %u not found", argv[0], vni);
		err = -ENOENT;
	}
	if (err)
		hadp_txn_rollback(&t);
	else
		hadp_txn_commit(&t);
	return err;
}

static void route_print(const struct hadp_inst *inst, const char *dst,
			__u32 vni, const struct hadp_route *rt)
{
	char a[INET6_ADDRSTRLEN], name[HADP_NAME_LEN], dev[IF_NAMESIZE] = "";

	open_object(NULL);
	print_string("dst", "%s", dst);
	print_uint("vni", " vni %llu", vni);
	print_string("type", " %s", hadp_route_type_name(rt->type));
	if (rt->type == HADP_ROUTE_LOCAL) {
		if_indextoname(rt->ifindex, dev);
		print_string("iface", " iface %s",
			     iface_name(inst, rt->ifindex, name));
		print_string("dev", " dev %s", dev);
		print_uint("ifindex", NULL, rt->ifindex);
	} else if (rt->type == HADP_ROUTE_NAT) {
		/* Through the NAT router: nothing more to say. */
	} else {
		print_string("via", " via %s", fmt_ipv6(rt->nexthop, a));
		print_uint("target_vni", rt->target_vni != vni ?
			   " target-vni %llu" : NULL, rt->target_vni);
	}
	print_nl();
	close_object();
}

static int route_show_map(const struct hadp_inst *inst, int map, bool all,
			  __u32 vni)
{
	const struct hadp_map *m = &inst->maps[map];
	char a[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN + 4];
	struct hadp_route rt;
	size_t i, n;
	char *keys;
	int err;

	err = hadp_map_keys(m, (void **)&keys, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		const void *key = keys + i * m->key_size;
		const struct hadp_route4_key *k4 = key;
		const struct hadp_route6_key *k6 = key;
		__u32 kvni = k4->vni;	/* same place in both */

		if ((!all && kvni != vni) || hadp_map_lookup(m, key, &rt))
			continue;
		if (map == HADP_MAP_ROUTES4)
			snprintf(dst, sizeof(dst), "%s/%u",
				 fmt_ipv4(k4->addr, a), k4->prefixlen - 32);
		else
			snprintf(dst, sizeof(dst), "%s/%u",
				 fmt_ipv6(k6->addr, a), k6->prefixlen - 32);
		route_print(inst, dst, kvni, &rt);
	}
	free(keys);
	return 0;
}

static int route_show(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = { "vni" };
	const char *v[ARRAY_SIZE(keys)];
	__u32 vni = 0;
	int err;

	if (cli_kv(argc, argv, keys, ARRAY_SIZE(keys), v) ||
	    (v[0] && parse_vni("vni", v[0], &vni)))
		return -EINVAL;
	err = cli_open_show(c);
	if (err)
		return err;
	open_array(NULL);
	err = route_show_map(&c->insts[0], HADP_MAP_ROUTES4, !v[0], vni);
	err = err ?: route_show_map(&c->insts[0], HADP_MAP_ROUTES6, !v[0],
				    vni);
	close_array();
	return err;
}

int do_route(struct cli *c, int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "show"))
		return route_show(c, argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "add"))
		return route_add(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "del"))
		return route_del(c, argc - 1, argv + 1);
	return cli_usage_error("route", argv[0]);
}
