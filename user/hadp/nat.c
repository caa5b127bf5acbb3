// SPDX-License-Identifier: GPL-2.0-only
/*
 * hadp nat: the SNAT gateways of interfaces (a NAT IP, a port range and
 * the underlay address return traffic comes to), the ranges of the same
 * NAT IPs that neighbouring hosts own, and the router that public traffic
 * leaves towards.
 *
 * What each command writes:
 *   nat add        nat_ips[ip] (a range with the ifindex), underlay[UL]
 *                  (HADP_UL_NAT), snat[ifindex]; in that order, so the
 *                  datapath never creates a connection whose way back is
 *                  not there yet
 *   nat del        the same, undone in the reverse order
 *   nat neigh add  neighs[UL] (resolved), nat_ips[ip] (a range, ifindex 0)
 *   nat neigh del  nat_ips[ip], and neighs[UL] once nothing uses it
 *   nat router     config.nat_router, neighs[ADDR]; the old router's
 *                  neighbour once nothing uses it
 * A nat_ips entry whose last range goes is deleted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "hadp.h"
#include "nat_ranges.h"
#include "nl.h"
#include "parse.h"
#include "print.h"
#include "util.h"

/* nat_ips[ip] into v: 1 when there, 0 (v zeroed) when not. */
static int nat_ip_get(const struct hadp_inst *inst, __be32 ip,
		      struct hadp_nat_ip *v)
{
	struct hadp_nat_ip_key key = { ip };
	char a[INET_ADDRSTRLEN];
	int err;

	err = hadp_map_lookup(&inst->maps[HADP_MAP_NAT_IPS], &key, v);
	if (err == -ENOENT) {
		memset(v, 0, sizeof(*v));
		return 0;
	}
	if (err) {
		hadp_err("reading nat_ips: %s", strerror(-err));
		return err;
	}
	if (!hadp_nat_ip_valid(v)) {
		hadp_err("nat_ips entry of %s is not valid (instance %s)",
			 fmt_ipv4(ip, a), inst->name);
		return -EIO;
	}
	return 1;
}

int nat_ip_known(const struct hadp_inst *inst, __be32 ip)
{
	struct hadp_nat_ip v;

	return nat_ip_get(inst, ip, &v);
}

static const char *range_owner(const struct hadp_inst *inst,
			       const struct hadp_nat_range *r, char *buf,
			       size_t len)
{
	char a[INET6_ADDRSTRLEN], name[HADP_NAME_LEN];

	if (r->ifindex)
		snprintf(buf, len, "iface %s",
			 iface_name(inst, r->ifindex, name));
	else
		snprintf(buf, len, "neighbour %s", fmt_ipv6(r->underlay, a));
	return buf;
}

/* nat_ips[ip] with r added, into v; *exists says whether ip had an entry.
 * Reports an overlap or a full entry. */
static int nat_ip_with(const struct hadp_inst *inst, __be32 ip,
		       const struct hadp_nat_range *r, struct hadp_nat_ip *v)
{
	char a[INET_ADDRSTRLEN], owner[64];
	unsigned int at;
	int err;

	err = nat_ip_get(inst, ip, v);
	if (err < 0)
		return err;
	err = hadp_nat_range_add(v, r, &at);
	if (err == -EEXIST)
		hadp_err("ports %u-%u of ip %s overlap %u-%u of %s (instance "
			 "%s)", r->port_min, r->port_max, fmt_ipv4(ip, a),
			 v->range[at].port_min, v->range[at].port_max,
			 range_owner(inst, &v->range[at], owner,
				     sizeof(owner)), inst->name);
	else if (err == -ENOSPC)
		hadp_err("ip %s has %d port ranges already, the most it can "
			 "have (instance %s)", fmt_ipv4(ip, a),
			 HADP_NAT_RANGES, inst->name);
	else if (err)
		hadp_err("ports %u-%u: not a range", r->port_min,
			 r->port_max);
	return err;
}

/* Write v as nat_ips[ip]; no range left deletes the entry. */
static int nat_ip_put(struct hadp_txn *t, const struct hadp_inst *inst,
		      __be32 ip, const struct hadp_nat_ip *v)
{
	const struct hadp_map *m = &inst->maps[HADP_MAP_NAT_IPS];
	struct hadp_nat_ip_key key = { ip };
	int err;

	if (v->count)
		return hadp_txn_update(t, m, &key, v, BPF_ANY);
	err = hadp_txn_delete(t, m, &key);
	return err == -ENOENT ? 0 : err;
}

/* Neither a VIP of inst nor its own underlay address. */
static int nat_ip_free(const struct hadp_inst *inst, __be32 ip)
{
	char a[INET_ADDRSTRLEN], name[HADP_NAME_LEN];
	__u32 ifindex;
	int err;

	err = vip_find_ip(inst, ip, &ifindex);
	if (err > 0) {
		hadp_err("ip %s is iface %s's VIP (instance %s)",
			 fmt_ipv4(ip, a), iface_name(inst, ifindex, name),
			 inst->name);
		return -EEXIST;
	}
	return err;
}

/* ---- nat add / del ------------------------------------------------------ */

static int nat_add_check(const struct hadp_inst *inst, const char *name,
			 __u32 ifindex, const void *val)
{
	const struct hadp_snat *sn = val;
	struct hadp_ifindex key = { ifindex };
	struct hadp_nat_range r = {
		.port_min = sn->port_min,
		.port_max = sn->port_max,
		.ifindex = ifindex,
	};
	struct hadp_iface ifc;
	struct hadp_snat old;
	struct hadp_nat_ip v;
	char a[INET_ADDRSTRLEN];
	int err;

	if (!hadp_map_lookup(&inst->maps[HADP_MAP_SNAT], &key, &old)) {
		hadp_err("iface %s already has NAT ip %s ports %u-%u "
			 "(instance %s): hadp nat del iface %s first", name,
			 fmt_ipv4(old.ip, a), old.port_min, old.port_max,
			 inst->name, name);
		return -EEXIST;
	}
	err = hadp_map_lookup(&inst->maps[HADP_MAP_IFACES], &key, &ifc);
	if (!err && !(ifc.flags & HADP_IFACE_IPV4)) {
		hadp_err("iface %s has no ipv4 to translate (instance %s)",
			 name, inst->name);
		return -EINVAL;
	}
	memcpy(r.underlay, sn->underlay, 16);
	err = nat_ip_free(inst, sn->ip);
	err = err ?: underlay_check(inst, "underlay", sn->underlay);
	return err ?: nat_ip_with(inst, sn->ip, &r, &v);
}

static int nat_add_write(struct hadp_txn *t, const struct hadp_inst *inst,
			 __u32 ifindex, const void *val)
{
	const struct hadp_snat *sn = val;
	struct hadp_underlay ulv = { .kind = HADP_UL_NAT, .ifindex = ifindex };
	struct hadp_ifindex key = { ifindex };
	struct hadp_nat_range r = {
		.port_min = sn->port_min,
		.port_max = sn->port_max,
		.ifindex = ifindex,
	};
	struct hadp_underlay_key ul;
	struct hadp_nat_ip v;
	int err;

	memcpy(r.underlay, sn->underlay, 16);
	memcpy(ul.addr, sn->underlay, 16);
	err = nat_ip_with(inst, sn->ip, &r, &v);
	err = err ?: nat_ip_put(t, inst, sn->ip, &v);
	err = err ?: hadp_txn_update(t, &inst->maps[HADP_MAP_UNDERLAY], &ul,
				     &ulv, BPF_NOEXIST);
	err = err ?: hadp_txn_update(t, &inst->maps[HADP_MAP_SNAT], &key, sn,
				     BPF_NOEXIST);
	if (err == -EEXIST)
		hadp_err("an entry appeared meanwhile (instance %s)",
			 inst->name);
	return err;
}

static int nat_add(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = { "iface", "ip", "ports", "underlay" };
	enum { IFACE, IP, PORTS, UNDERLAY };
	const char *v[ARRAY_SIZE(keys)];
	struct hadp_snat sn = {};

	if (cli_kv_required(argc, argv, keys, ARRAY_SIZE(keys), ARRAY_SIZE(keys), v))
		return -EINVAL;
	if (parse_name("iface", v[IFACE]) ||
	    parse_ipv4_host("ip", v[IP], &sn.ip) ||
	    parse_port_range("ports", v[PORTS], &sn.port_min, &sn.port_max) ||
	    parse_ipv6_host("underlay", v[UNDERLAY], sn.underlay))
		return -EINVAL;

	return iface_attr_add(c, v[IFACE], nat_add_check, nat_add_write, &sn);
}

static int nat_unwrite(struct hadp_txn *t, const struct hadp_inst *inst,
		       __u32 ifindex, const void *val)
{
	const struct hadp_snat *sn = val;
	struct hadp_ifindex key = { ifindex };
	struct hadp_underlay_key ul;
	struct hadp_underlay ulv;
	struct hadp_nat_ip v;
	int err, at;

	/* New connections stop first. */
	err = hadp_txn_delete(t, &inst->maps[HADP_MAP_SNAT], &key);
	if (err)
		return err == -ENOENT ? 0 : err;
	err = nat_ip_get(inst, sn->ip, &v);
	if (err < 0)
		return err;
	at = hadp_nat_range_find(&v, sn->port_min, sn->port_max);
	if (at >= 0 && v.range[at].ifindex == ifindex) {
		hadp_nat_range_remove(&v, at);
		err = nat_ip_put(t, inst, sn->ip, &v);
		if (err)
			return err;
	}
	memcpy(ul.addr, sn->underlay, 16);
	if (!hadp_map_lookup(&inst->maps[HADP_MAP_UNDERLAY], &ul, &ulv) &&
	    ulv.kind == HADP_UL_NAT && ulv.ifindex == ifindex) {
		err = hadp_txn_delete(t, &inst->maps[HADP_MAP_UNDERLAY], &ul);
		if (err && err != -ENOENT)
			return err;
	}
	return 0;
}

static int nat_del(struct cli *c, int argc, char **argv)
{
	return iface_attr_del(c, argc, argv, HADP_MAP_SNAT, sizeof(struct hadp_snat),
			      nat_unwrite, "NAT ip");
}

/* ---- nat neigh add / del ------------------------------------------------ */

static int neigh_add_check(const struct hadp_inst *inst, __be32 ip,
			   const struct hadp_nat_range *r)
{
	struct hadp_nat_ip v;
	int err;

	/* The owner is another host: one of ours would loop. */
	err = underlay_check(inst, "underlay", r->underlay);
	err = err ?: nat_ip_free(inst, ip);
	return err ?: nat_ip_with(inst, ip, r, &v);
}

static int neigh_add(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = { "ip", "ports", "underlay" };
	enum { IP, PORTS, UNDERLAY };
	struct hadp_txn t = HADP_TXN_INIT;
	const char *v[ARRAY_SIZE(keys)];
	struct hadp_nat_range r = { .ifindex = 0 };
	struct hadp_neigh_key nk;
	struct hadp_neigh nv;
	struct hadp_nat_ip n;
	__be32 ip;
	int i, err;

	if (cli_kv_required(argc, argv, keys, ARRAY_SIZE(keys), ARRAY_SIZE(keys), v))
		return -EINVAL;
	if (parse_ipv4_host("ip", v[IP], &ip) ||
	    parse_port_range("ports", v[PORTS], &r.port_min, &r.port_max) ||
	    parse_ipv6_host("underlay", v[UNDERLAY], r.underlay))
		return -EINVAL;
	memcpy(nk.addr, r.underlay, 16);

	err = cli_open_write(c);
	for (i = 0; !err && i < c->n; i++)
		err = neigh_add_check(&c->insts[i], ip, &r);
	if (err)
		return err;
	/* Relayed packets go out of the uplink to the owner. */
	err = hadp_neigh_resolve(r.underlay, &nv, 1000);
	for (i = 0; !err && i < c->n; i++) {
		err = hadp_txn_update(&t, &c->insts[i].maps[HADP_MAP_NEIGHS],
				      &nk, &nv, BPF_ANY);
		err = err ?: nat_ip_with(&c->insts[i], ip, &r, &n);
		err = err ?: nat_ip_put(&t, &c->insts[i], ip, &n);
	}
	if (err)
		hadp_txn_rollback(&t);
	else
		hadp_txn_commit(&t);
	return err;
}

static int neigh_del(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = { "ip", "ports" };
	enum { IP, PORTS };
	struct hadp_txn t = HADP_TXN_INIT;
	const char *v[ARRAY_SIZE(keys)];
	char a[INET_ADDRSTRLEN], owner[64];
	struct hadp_nat_range r;
	struct hadp_nat_ip n;
	__u16 min, max;
	__be32 ip;
	int i, at, found = 0, err;

	if (cli_kv_required(argc, argv, keys, ARRAY_SIZE(keys), ARRAY_SIZE(keys), v))
		return -EINVAL;
	if (parse_ipv4_host("ip", v[IP], &ip) ||
	    parse_port_range("ports", v[PORTS], &min, &max))
		return -EINVAL;

	err = cli_open_write(c);
	for (i = 0; !err && i < c->n; i++) {
		const struct hadp_inst *inst = &c->insts[i];

		err = nat_ip_get(inst, ip, &n);
		if (err <= 0)
			continue;
		err = 0;
		at = hadp_nat_range_find(&n, min, max);
		if (at < 0)
			continue;
		r = n.range[at];
		if (r.ifindex) {
			hadp_err("ports %u-%u of ip %s are %s's, not a "
				 "neighbour's (instance %s): hadp nat del "
				 "iface %s removes them", min, max,
				 fmt_ipv4(ip, a),
				 range_owner(inst, &r, owner, sizeof(owner)),
				 inst->name, owner + strlen("iface "));
			err = -EINVAL;
			break;
		}
		found++;
		hadp_nat_range_remove(&n, at);
		err = nat_ip_put(&t, inst, ip, &n);
		err = err ?: nexthop_release(&t, inst, r.underlay);
	}
	if (!err && !found) {
		hadp_err("ports %u-%u of ip %s not found", min, max,
			 fmt_ipv4(ip, a));
		err = -ENOENT;
	}
	if (err)
		hadp_txn_rollback(&t);
	else
		hadp_txn_commit(&t);
	return err;
}

static int do_nat_neigh(struct cli *c, int argc, char **argv)
{
	if (argc < 1)
		return cli_usage_error("nat neigh", NULL);
	if (!strcmp(argv[0], "add"))
		return neigh_add(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "del"))
		return neigh_del(c, argc - 1, argv + 1);
	return cli_usage_error("nat neigh", argv[0]);
}

/* ---- nat router --------------------------------------------------------- */

static const __u8 no_router[16];

static int config_get(const struct hadp_inst *inst, struct hadp_config *cfg)
{
	struct hadp_index zero = { 0 };
	int err;

	err = hadp_map_lookup(&inst->maps[HADP_MAP_CONFIG], &zero, cfg);
	if (err)
		hadp_err("reading config: %s", strerror(-err));
	return err;
}

static int router_show(struct cli *c)
{
	const struct hadp_inst *inst;
	struct hadp_neigh_key nk;
	struct hadp_config cfg;
	struct hadp_neigh nv;
	char a[INET6_ADDRSTRLEN];
	int err;

	err = cli_open_show(c);
	if (err)
		return err;
	inst = &c->insts[0];
	err = config_get(inst, &cfg);
	if (err)
		return err;
	open_array(NULL);
	if (!memcmp(cfg.nat_router, no_router, 16)) {
		print_text("router not set\n");
		goto out;
	}
	open_object(NULL);
	print_string("router", "router %s", fmt_ipv6(cfg.nat_router, a));
	memcpy(nk.addr, cfg.nat_router, 16);
	if (!hadp_map_lookup(&inst->maps[HADP_MAP_NEIGHS], &nk, &nv))
		neigh_print_body(&nv);
	print_nl();
	close_object();
out:
	close_array();
	return 0;
}

static int router_write(struct hadp_txn *t, const struct hadp_inst *inst,
			const __u8 addr[16], const struct hadp_neigh *nv)
{
	struct hadp_index zero = { 0 };
	struct hadp_neigh_key nk;
	struct hadp_config cfg;
	__u8 old[16];
	int err;

	err = config_get(inst, &cfg);
	if (err)
		return err;
	memcpy(old, cfg.nat_router, 16);
	memcpy(cfg.nat_router, addr, 16);
	/* The neighbour before the router that needs it. */
	if (memcmp(addr, no_router, 16)) {
		memcpy(nk.addr, addr, 16);
		err = hadp_txn_update(t, &inst->maps[HADP_MAP_NEIGHS], &nk, nv,
				      BPF_ANY);
		if (err)
			return err;
	}
	err = hadp_txn_update(t, &inst->maps[HADP_MAP_CONFIG], &zero, &cfg,
			      BPF_EXIST);
	if (!err && memcmp(old, no_router, 16) && memcmp(old, addr, 16))
		err = nexthop_release(t, inst, old);
	return err;
}

static int nat_router(struct cli *c, int argc, char **argv)
{
	struct hadp_txn t = HADP_TXN_INIT;
	struct hadp_neigh nv = {};
	__u8 addr[16] = { 0 };
	int i, err;

	if (argc < 1)
		return router_show(c);
	if (argc > 1) {
		hadp_err("unknown argument \"%s\"", argv[1]);
		return -EINVAL;
	}
	if (strcmp(argv[0], "none") &&
	    parse_ipv6_host("router", argv[0], addr))
		return -EINVAL;
	err = cli_open_write(c);
	for (i = 0; !err && i < c->n; i++)
		if (memcmp(addr, no_router, 16))
			err = underlay_check(&c->insts[i], "router", addr);
	if (err)
		return err;
	if (memcmp(addr, no_router, 16))
		err = hadp_neigh_resolve(addr, &nv, 1000);
	for (i = 0; !err && i < c->n; i++)
		err = router_write(&t, &c->insts[i], addr, &nv);
	if (err)
		hadp_txn_rollback(&t);
	else
		hadp_txn_commit(&t);
	return err;
}

/* ---- nat show ----------------------------------------------------------- */

struct nat_entry {
	__be32 ip;
	struct hadp_nat_ip v;
};

static int cmp_ip(const void *a, const void *b)
{
	__u32 x = ntohl(((const struct nat_entry *)a)->ip);
	__u32 y = ntohl(((const struct nat_entry *)b)->ip);

	return x < y ? -1 : x > y;
}

static int range_print(struct cli *c, const struct hadp_inst *inst,
		       __be32 ip, const struct hadp_nat_range *r)
{
	char a[INET6_ADDRSTRLEN], name[HADP_NAME_LEN];
	int err = 0;

	open_object(NULL);
	print_string("ip", "%s", fmt_ipv4(ip, a));
	print_uint("port_min", " ports %llu", r->port_min);
	print_uint("port_max", "-%llu", r->port_max);
	if (r->ifindex) {
		print_string("owner", NULL, "iface");
		print_string("iface", " iface %s",
			     iface_name(inst, r->ifindex, name));
		print_uint("ifindex", NULL, r->ifindex);
	} else {
		print_string("owner", " %s", "neigh");
	}
	print_string("underlay", " underlay %s", fmt_ipv6(r->underlay, a));
	if (c->stats && r->ifindex)
		err = print_ifstats(inst, r->ifindex);
	print_nl();
	close_object();
	return err;
}

static int nat_show(struct cli *c, int argc, char **argv)
{
	const struct hadp_inst *inst;
	struct hadp_nat_ip_key *keys;
	struct nat_entry *e;
	size_t i, n, cnt = 0;
	__u32 r;
	int err;

	if (argc) {
		hadp_err("unknown argument \"%s\"", argv[0]);
		return -EINVAL;
	}
	err = cli_open_show(c);
	if (err)
		return err;
	inst = &c->insts[0];
	err = hadp_map_keys(&inst->maps[HADP_MAP_NAT_IPS], (void **)&keys,
			    &n);
	if (err)
		return err;
	e = calloc(n ? n : 1, sizeof(*e));
	if (!e) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		/* Deleted since the walk: skip it. */
		if (nat_ip_get(inst, keys[i].ip, &e[cnt].v) <= 0)
			continue;
		e[cnt++].ip = keys[i].ip;
	}
	free(keys);
	qsort(e, cnt, sizeof(*e), cmp_ip);
	open_array(NULL);
	for (i = 0; i < cnt && !err; i++)
		for (r = 0; r < e[i].v.count && !err; r++)
			err = range_print(c, inst, e[i].ip, &e[i].v.range[r]);
	close_array();
	free(e);
	return err;
}

int do_nat(struct cli *c, int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "show"))
		return nat_show(c, argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "add"))
		return nat_add(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "del"))
		return nat_del(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "neigh"))
		return do_nat_neigh(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "router"))
		return nat_router(c, argc - 1, argv + 1);
	return cli_usage_error("nat", argv[0]);
}
