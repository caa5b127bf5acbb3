// SPDX-License-Identifier: GPL-2.0-only
/*
 * hadp vip: an interface's 1:1 public IPv4 and the underlay address that
 * traffic for it comes to. vip add writes underlay[UL] (HADP_UL_VIP) and
 * then vips[ifindex]; vip del removes them in the reverse order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "hadp.h"
#include "parse.h"
#include "print.h"
#include "util.h"

int vip_find_ip(const struct hadp_inst *inst, __be32 ip, __u32 *ifindex)
{
	const struct hadp_map *m = &inst->maps[HADP_MAP_VIPS];
	struct hadp_ifindex *keys;
	struct hadp_vip v;
	size_t i, n;
	int err, found = 0;

	err = hadp_map_keys(m, (void **)&keys, &n);
	if (err)
		return err;
	for (i = 0; i < n && !found; i++) {
		if (hadp_map_lookup(m, &keys[i], &v) || v.ip != ip)
			continue;
		*ifindex = keys[i].ifindex;
		found = 1;
	}
	free(keys);
	return found;
}

static int vip_add_check(const struct hadp_inst *inst, const char *name,
			 __u32 ifindex, const void *val)
{
	const struct hadp_vip *vip = val;
	struct hadp_ifindex key = { ifindex };
	char a[INET_ADDRSTRLEN], other[HADP_NAME_LEN];
	struct hadp_iface ifc;
	struct hadp_vip old;
	__u32 owner;
	int err;

	if (!hadp_map_lookup(&inst->maps[HADP_MAP_VIPS], &key, &old)) {
		hadp_err("iface %s already has VIP %s (instance %s): "
			 "hadp vip del iface %s first", name,
			 fmt_ipv4(old.ip, a), inst->name, name);
		return -EEXIST;
	}
	err = hadp_map_lookup(&inst->maps[HADP_MAP_IFACES], &key, &ifc);
	if (!err && !(ifc.flags & HADP_IFACE_IPV4)) {
		hadp_err("iface %s has no ipv4 to translate (instance %s)",
			 name, inst->name);
		return -EINVAL;
	}
	err = vip_find_ip(inst, vip->ip, &owner);
	if (err > 0) {
		hadp_err("ip %s is already iface %s's VIP (instance %s)",
			 fmt_ipv4(vip->ip, a), iface_name(inst, owner, other),
			 inst->name);
		return -EEXIST;
	}
	err = err ?: nat_ip_known(inst, vip->ip);
	if (err > 0) {
		hadp_err("ip %s is a NAT ip of this host (instance %s)",
			 fmt_ipv4(vip->ip, a), inst->name);
		return -EEXIST;
	}
	return err ?: underlay_check(inst, "underlay", vip->underlay);
}

static int vip_add_write(struct hadp_txn *t, const struct hadp_inst *inst,
			 __u32 ifindex, const void *val)
{
	const struct hadp_vip *vip = val;
	struct hadp_underlay ulv = { .kind = HADP_UL_VIP, .ifindex = ifindex };
	struct hadp_ifindex key = { ifindex };
	struct hadp_underlay_key ul;
	int err;

	memcpy(ul.addr, vip->underlay, 16);
	err = hadp_txn_update(t, &inst->maps[HADP_MAP_UNDERLAY], &ul, &ulv,
			      BPF_NOEXIST);
	err = err ?: hadp_txn_update(t, &inst->maps[HADP_MAP_VIPS], &key, vip,
				     BPF_NOEXIST);
	if (err == -EEXIST)
		hadp_err("an entry appeared meanwhile (instance %s)",
			 inst->name);
	return err;
}

static int vip_add(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = {
		"iface", "ip", "underlay", "conn-limit",
	};
	enum { IFACE, IP, UNDERLAY, CONN_LIMIT };
	const char *v[ARRAY_SIZE(keys)];
	struct hadp_vip vip = {};

	if (cli_kv_required(argc, argv, keys, ARRAY_SIZE(keys), CONN_LIMIT, v))
		return -EINVAL;
	if (parse_name("iface", v[IFACE]) ||
	    parse_ipv4_host("ip", v[IP], &vip.ip) ||
	    parse_ipv6_host("underlay", v[UNDERLAY], vip.underlay) ||
	    (v[CONN_LIMIT] && quota_parse(v[CONN_LIMIT], &vip.conn_limit)))
		return -EINVAL;

	return iface_attr_add(c, v[IFACE], vip_add_check, vip_add_write, &vip);
}

/* hadp vip set iface NAME conn-limit N|default */
static int vip_set(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = { "iface", "conn-limit" };
	enum { IFACE, CONN_LIMIT };
	struct hadp_txn t = HADP_TXN_INIT;
	__u32 ifindex[HADP_MAX_INSTANCES], limit;
	const char *v[ARRAY_SIZE(keys)];
	struct hadp_ifindex key;
	struct hadp_vip vip;
	int i, err;

	if (cli_kv_required(argc, argv, keys, ARRAY_SIZE(keys), ARRAY_SIZE(keys), v))
		return -EINVAL;
	if (parse_name("iface", v[IFACE]) || quota_parse(v[CONN_LIMIT], &limit))
		return -EINVAL;
	err = cli_open_write(c);
	err = err ?: iface_find_all(c, v[IFACE], ifindex);
	for (i = 0; !err && i < c->n; i++) {
		key.ifindex = ifindex[i];
		err = hadp_map_lookup(&c->insts[i].maps[HADP_MAP_VIPS], &key, &vip);
		if (err == -ENOENT)
			hadp_err("iface %s has no VIP (instance %s)", v[IFACE],
				 c->insts[i].name);
		if (err)
			break;
		vip.conn_limit = limit;
		err = hadp_txn_update(&t, &c->insts[i].maps[HADP_MAP_VIPS], &key,
				      &vip, BPF_ANY);
	}
	if (err)
		hadp_txn_rollback(&t);
	else
		hadp_txn_commit(&t);
	return err;
}

static int vip_unwrite(struct hadp_txn *t, const struct hadp_inst *inst,
		       __u32 ifindex, const void *val)
{
	const struct hadp_vip *vip = val;
	struct hadp_ifindex key = { ifindex };
	struct hadp_underlay_key ul;
	struct hadp_underlay ulv;
	int err;

	err = hadp_txn_delete(t, &inst->maps[HADP_MAP_VIPS], &key);
	if (err)
		return err == -ENOENT ? 0 : err;
	memcpy(ul.addr, vip->underlay, 16);
	if (!hadp_map_lookup(&inst->maps[HADP_MAP_UNDERLAY], &ul, &ulv) &&
	    ulv.kind == HADP_UL_VIP && ulv.ifindex == ifindex) {
		err = hadp_txn_delete(t, &inst->maps[HADP_MAP_UNDERLAY], &ul);
		if (err && err != -ENOENT)
			return err;
	}
	return 0;
}

static int vip_del(struct cli *c, int argc, char **argv)
{
	return iface_attr_del(c, argc, argv, HADP_MAP_VIPS, sizeof(struct hadp_vip),
			      vip_unwrite, "VIP");
}

struct vip_entry {
	__u32 ifindex;
	char name[HADP_NAME_LEN];
	struct hadp_vip v;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct vip_entry *)a)->name,
		      ((const struct vip_entry *)b)->name);
}

static int vip_show(struct cli *c, int argc, char **argv)
{
	const struct hadp_inst *inst;
	const struct hadp_map *m;
	struct hadp_ifindex *keys;
	struct vip_entry *e;
	char a[INET6_ADDRSTRLEN];
	size_t i, n, cnt = 0;
	int err;

	if (argc) {
		hadp_err("unknown argument \"%s\"", argv[0]);
		return -EINVAL;
	}
	err = cli_open_show(c);
	if (err)
		return err;
	inst = &c->insts[0];
	m = &inst->maps[HADP_MAP_VIPS];
	err = hadp_map_keys(m, (void **)&keys, &n);
	if (err)
		return err;
	e = calloc(n ? n : 1, sizeof(*e));
	if (!e) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (hadp_map_lookup(m, &keys[i], &e[cnt].v))
			continue;
		e[cnt].ifindex = keys[i].ifindex;
		iface_name(inst, keys[i].ifindex, e[cnt].name);
		cnt++;
	}
	free(keys);
	qsort(e, cnt, sizeof(*e), cmp_name);
	open_array(NULL);
	for (i = 0; i < cnt && !err; i++) {
		open_object(NULL);
		print_string("iface", "%s:", e[i].name);
		print_uint("ifindex", NULL, e[i].ifindex);
		print_string("ip", " ip %s", fmt_ipv4(e[i].v.ip, a));
		print_string("underlay", " underlay %s",
			     fmt_ipv6(e[i].v.underlay, a));
		err = quota_print(inst, e[i].ifindex, &e[i].v);
		if (!err && c->stats)
			err = print_ifstats(inst, e[i].ifindex);
		print_nl();
		close_object();
	}
	close_array();
	free(e);
	return err;
}

int do_vip(struct cli *c, int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "show"))
		return vip_show(c, argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "add"))
		return vip_add(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "del"))
		return vip_del(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "set"))
		return vip_set(c, argc - 1, argv + 1);
	return cli_usage_error("vip", argv[0]);
}
