// SPDX-License-Identifier: GPL-2.0-only
/* hadp iface: VM-facing interfaces. */
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

int iface_list(const struct hadp_inst *inst, struct iface_entry **out,
	       size_t *n)
{
	const struct hadp_map *m = &inst->maps[HADP_MAP_IFACES];
	struct hadp_ifindex *keys;
	struct iface_entry *e;
	size_t i, cnt = 0;
	int err;

	err = hadp_map_keys(m, (void **)&keys, n);
	if (err)
		return err;
	e = calloc(*n ? *n : 1, sizeof(*e));
	if (!e) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < *n; i++) {
		/* Deleted since the walk: skip it. */
		if (hadp_map_lookup(m, &keys[i], &e[cnt].v))
			continue;
		e[cnt].v.name[HADP_NAME_LEN - 1] = '\0';
		e[cnt++].ifindex = keys[i].ifindex;
	}
	free(keys);
	*out = e;
	*n = cnt;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct iface_entry *)a)->v.name,
		      ((const struct iface_entry *)b)->v.name);
}

int iface_find(const struct hadp_inst *inst, const char *name,
	       struct iface_entry *found)
{
	struct iface_entry *e;
	size_t i, n;
	int err;

	err = iface_list(inst, &e, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		if (!strcmp(e[i].v.name, name))
			break;
	if (i < n)
		*found = e[i];
	free(e);
	return i < n;
}

const char *iface_name(const struct hadp_inst *inst, __u32 ifindex,
		       char buf[HADP_NAME_LEN])
{
	struct hadp_ifindex key = { ifindex };
	struct hadp_iface ifc;

	buf[0] = '\0';
	if (!hadp_map_lookup(&inst->maps[HADP_MAP_IFACES], &key, &ifc))
		snprintf(buf, HADP_NAME_LEN, "%.*s", HADP_NAME_LEN - 1,
			 ifc.name);
	return buf;
}

int iface_find_all(struct cli *c, const char *name, __u32 ifindex[])
{
	struct iface_entry e;
	int i, err;

	for (i = 0; i < c->n; i++) {
		err = iface_find(&c->insts[i], name, &e);
		if (err < 0)
			return err;
		if (!err) {
			hadp_err("iface %s not found (instance %s)", name,
				 c->insts[i].name);
			return -ENOENT;
		}
		ifindex[i] = e.ifindex;
	}
	return 0;
}

int underlay_check(const struct hadp_inst *inst, const char *what,
		   const __u8 addr[16])
{
	static const char *const whose[] = {
		[HADP_UL_IFACE] = "underlay",
		[HADP_UL_NAT] = "NAT underlay",
		[HADP_UL_VIP] = "VIP underlay",
	};
	struct hadp_underlay_key key;
	struct hadp_underlay v;
	char a[INET6_ADDRSTRLEN], name[HADP_NAME_LEN];
	int err;

	memcpy(key.addr, addr, 16);
	err = hadp_map_lookup(&inst->maps[HADP_MAP_UNDERLAY], &key, &v);
	if (err == -ENOENT)
		return 0;
	if (err) {
		hadp_err("reading underlay: %s", strerror(-err));
		return err;
	}
	if (v.kind >= HADP_UL_IFACE && v.kind <= HADP_UL_VIP)
		hadp_err("%s %s is already iface %s's %s address (instance %s)",
			 what, fmt_ipv6(addr, a),
			 iface_name(inst, v.ifindex, name), whose[v.kind],
			 inst->name);
	else
		hadp_err("%s %s is already in use (instance %s)", what,
			 fmt_ipv6(addr, a), inst->name);
	return -EEXIST;
}

static void host_keys(const struct hadp_iface *ifc,
		      struct hadp_route4_key *k4, struct hadp_route6_key *k6)
{
	memset(k4, 0, sizeof(*k4));
	memset(k6, 0, sizeof(*k6));
	k4->prefixlen = 32 + 32;
	k4->vni = ifc->vni;
	k4->addr = ifc->ipv4;
	k6->prefixlen = 32 + 128;
	k6->vni = ifc->vni;
	memcpy(k6->addr, ifc->ipv6, 16);
}

/* Refuse what would clash with inst's configuration. */
static int iface_conflicts(struct hadp_inst *inst, const struct hadp_iface *n,
			   const struct hadp_link *dev)
{
	struct hadp_ifindex key = { dev->ifindex };
	struct hadp_route4_key k4;
	struct hadp_route6_key k6;
	struct hadp_index zero = { 0 };
	struct hadp_config cfg;
	struct hadp_uplink up;
	struct iface_entry e;
	char a[INET6_ADDRSTRLEN];
	int err;

	err = iface_find(inst, n->name, &e);
	if (err > 0)
		hadp_err("iface %s exists (instance %s)", n->name, inst->name);
	if (err)
		return err < 0 ? err : -EEXIST;
	if (!hadp_map_lookup(&inst->maps[HADP_MAP_IFACES], &key, &e.v)) {
		e.v.name[HADP_NAME_LEN - 1] = '\0';
		hadp_err("dev %s is already iface %s (instance %s)", dev->name,
			 e.v.name, inst->name);
		return -EEXIST;
	}
	if (!hadp_map_lookup(&inst->maps[HADP_MAP_UPLINK], &zero, &up) &&
	    up.ifindex == (__u32)dev->ifindex) {
		hadp_err("dev %s is the uplink (instance %s)", dev->name,
			 inst->name);
		return -EEXIST;
	}
	err = underlay_check(inst, "underlay", n->underlay);
	if (err)
		return err;
	host_keys(n, &k4, &k6);
	if ((n->flags & HADP_IFACE_IPV4) &&
	    hadp_map_has_key(&inst->maps[HADP_MAP_ROUTES4], &k4) == 1) {
		hadp_err("ipv4 %s is already routed in vni %u (instance %s)",
			 fmt_ipv4(n->ipv4, a), n->vni, inst->name);
		return -EEXIST;
	}
	if ((n->flags & HADP_IFACE_IPV6) &&
	    hadp_map_has_key(&inst->maps[HADP_MAP_ROUTES6], &k6) == 1) {
		hadp_err("ipv6 %s is already routed in vni %u (instance %s)",
			 fmt_ipv6(n->ipv6, a), n->vni, inst->name);
		return -EEXIST;
	}
	err = hadp_map_lookup(&inst->maps[HADP_MAP_CONFIG], &zero, &cfg);
	if (err) {
		hadp_err("reading config: %s", strerror(-err));
		return err;
	}
	if ((n->flags & HADP_IFACE_IPV4) && n->ipv4 == cfg.gw4) {
		hadp_err("invalid ipv4 \"%s\": the virtual gateway's address "
			 "(instance %s)", fmt_ipv4(n->ipv4, a), inst->name);
		return -EINVAL;
	}
	if ((n->flags & HADP_IFACE_IPV6) && !memcmp(n->ipv6, cfg.gw6, 16)) {
		hadp_err("invalid ipv6 \"%s\": the virtual gateway's address "
			 "(instance %s)", fmt_ipv6(n->ipv6, a), inst->name);
		return -EINVAL;
	}
	return 0;
}

static int iface_write(struct hadp_txn *t, struct hadp_inst *inst,
		       const struct hadp_iface *n, __u32 ifindex,
		       __u32 conn_limit)
{
	struct hadp_underlay ulv = { .kind = HADP_UL_IFACE, .ifindex = ifindex };
	struct hadp_route rt = { .type = HADP_ROUTE_LOCAL, .ifindex = ifindex,
				 .target_vni = n->vni };
	struct hadp_ifindex key = { ifindex };
	struct hadp_underlay_key ul;
	struct hadp_route4_key k4;
	struct hadp_route6_key k6;
	void *zero;
	int err;

	memcpy(ul.addr, n->underlay, 16);
	host_keys(n, &k4, &k6);
	zero = hadp_map_zero_value(&inst->maps[HADP_MAP_STATS]);
	if (!zero)
		return -ENOMEM;
	/* Counters first: the datapath counts into them from the start. */
	err = hadp_txn_update(t, &inst->maps[HADP_MAP_STATS], &key, zero,
			      BPF_ANY);
	free(zero);
	/* The limit before the interface: its first connection obeys it. */
	err = err ?: quota_write(t, inst, ifindex, conn_limit);
	err = err ?: hadp_txn_update(t, &inst->maps[HADP_MAP_IFACES], &key, n,
				     BPF_NOEXIST);
	err = err ?: hadp_txn_update(t, &inst->maps[HADP_MAP_UNDERLAY], &ul,
				     &ulv, BPF_NOEXIST);
	if (!err && (n->flags & HADP_IFACE_IPV4))
		err = hadp_txn_update(t, &inst->maps[HADP_MAP_ROUTES4], &k4,
				      &rt, BPF_NOEXIST);
	if (!err && (n->flags & HADP_IFACE_IPV6))
		err = hadp_txn_update(t, &inst->maps[HADP_MAP_ROUTES6], &k6,
				      &rt, BPF_NOEXIST);
	if (err == -EEXIST)
		hadp_err("iface %s: an entry appeared meanwhile (instance %s)",
			 n->name, inst->name);
	return err;
}

static int iface_add(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = {
		"dev", "vni", "mac", "ipv4", "ipv6", "underlay", "conn-limit",
	};
	enum { DEV, VNI, MAC, IPV4, IPV6, UNDERLAY, CONN_LIMIT };
	struct hadp_txn t = HADP_TXN_INIT;
	struct hadp_iface n = {};
	const char *v[ARRAY_SIZE(keys)];
	struct hadp_link dev;
	__u32 conn_limit = 0;
	int i, err;

	if (argc < 1)
		return cli_missing("NAME");
	if (parse_name("iface name", argv[0]) ||
	    cli_kv(argc - 1, argv + 1, keys, ARRAY_SIZE(keys), v))
		return -EINVAL;
	strcpy(n.name, argv[0]);
	if (!v[DEV])
		return cli_missing("dev");
	if (!v[VNI])
		return cli_missing("vni");
	if (!v[UNDERLAY])
		return cli_missing("underlay");
	if (!v[IPV4] && !v[IPV6])
		return cli_missing("ipv4\" or \"ipv6");
	if (parse_vni("vni", v[VNI], &n.vni) ||
	    parse_ipv6_host("underlay", v[UNDERLAY], n.underlay) ||
	    (v[MAC] && parse_mac("mac", v[MAC], n.mac)) ||
	    (v[IPV4] && parse_ipv4_host("ipv4", v[IPV4], &n.ipv4)) ||
	    (v[IPV6] && parse_ipv6_host("ipv6", v[IPV6], n.ipv6)) ||
	    (v[CONN_LIMIT] && quota_parse(v[CONN_LIMIT], &conn_limit)))
		return -EINVAL;
	n.flags = (v[IPV4] ? HADP_IFACE_IPV4 : 0) |
		  (v[IPV6] ? HADP_IFACE_IPV6 : 0);
	if (v[MAC]) {
		n.flags |= HADP_IFACE_MAC_STATIC;
		n.mac_state = HADP_MAC_KNOWN;
	}
	err = hadp_link_get(v[DEV], 0, &dev);
	if (err)
		return err;
	if (!dev.has_mac) {
		hadp_err("invalid dev \"%s\": not an Ethernet device", v[DEV]);
		return -EINVAL;
	}
	memcpy(n.dev_mac, dev.mac, 6);

	err = cli_open_write(c);
	for (i = 0; !err && i < c->n; i++)
		err = iface_conflicts(&c->insts[i], &n, &dev);
	if (err)
		return err;
	err = hadp_root_check_attach(&c->host, dev.ifindex, HADP_KIND_VM);
	if (err)
		return err;
	for (i = 0; !err && i < c->n; i++)
		err = iface_write(&t, &c->insts[i], &n, dev.ifindex, conn_limit);
	/* Maps first, then the root: the program finds its interface. */
	err = err ?: hadp_root_attach(&c->host, dev.ifindex, HADP_KIND_VM);
	if (err)
		hadp_txn_rollback(&t);
	else
		hadp_txn_commit(&t);
	return err;
}

static int iface_unwrite(struct hadp_txn *t, struct hadp_inst *inst,
			 const struct iface_entry *e)
{
	struct hadp_ifindex key = { e->ifindex };
	struct hadp_underlay_key ul;
	struct hadp_route4_key k4;
	struct hadp_route6_key k6;
	int err;

	memcpy(ul.addr, e->v.underlay, 16);
	host_keys(&e->v, &k4, &k6);
	err = hadp_txn_delete(t, &inst->maps[HADP_MAP_UNDERLAY], &ul);
	if (!err && (e->v.flags & HADP_IFACE_IPV4))
		err = hadp_txn_delete(t, &inst->maps[HADP_MAP_ROUTES4], &k4);
	if (!err && (e->v.flags & HADP_IFACE_IPV6))
		err = hadp_txn_delete(t, &inst->maps[HADP_MAP_ROUTES6], &k6);
	err = err ?: hadp_txn_delete(t, &inst->maps[HADP_MAP_IFACES], &key);
	err = err ?: hadp_txn_delete(t, &inst->maps[HADP_MAP_STATS], &key);
	/* What the datapath made for it on first use (ICMP errors, quota). */
	if (!err) {
		err = hadp_txn_delete(t, &inst->maps[HADP_MAP_RATELIMIT], &key);
		err = err == -ENOENT ? 0 : err;
	}
	err = err ?: quota_unwrite(t, inst, e->ifindex);
	/* Whatever is missing already is as good as deleted. */
	return err == -ENOENT ? 0 : err;
}

/* NAT and VIP hang on the interface: they go first, by their own
 * commands, so that deleting an interface never drops public addresses
 * by surprise. */
static int iface_nat_check(const struct hadp_inst *inst,
			   const struct iface_entry *e)
{
	struct hadp_ifindex key = { e->ifindex };
	struct hadp_snat sn;
	struct hadp_vip vip;
	char a[INET_ADDRSTRLEN];

	if (!hadp_map_lookup(&inst->maps[HADP_MAP_SNAT], &key, &sn)) {
		hadp_err("iface %s has NAT ip %s (instance %s): hadp nat del "
			 "iface %s first", e->v.name, fmt_ipv4(sn.ip, a),
			 inst->name, e->v.name);
		return -EBUSY;
	}
	if (!hadp_map_lookup(&inst->maps[HADP_MAP_VIPS], &key, &vip)) {
		hadp_err("iface %s has VIP %s (instance %s): hadp vip del "
			 "iface %s first", e->v.name, fmt_ipv4(vip.ip, a),
			 inst->name, e->v.name);
		return -EBUSY;
	}
	return 0;
}

static int iface_del(struct cli *c, int argc, char **argv)
{
	struct hadp_txn t = HADP_TXN_INIT;
	struct iface_entry e;
	int i, found = 0, err;
	__u32 ifindex = 0;

	if (argc < 1)
		return cli_missing("NAME");
	if (argc > 1) {
		hadp_err("unknown argument \"%s\"", argv[1]);
		return -EINVAL;
	}
	if (parse_name("iface name", argv[0]))
		return -EINVAL;
	err = cli_open_write(c);
	for (i = 0; !err && i < c->n; i++) {
		err = iface_find(&c->insts[i], argv[0], &e);
		if (err <= 0)
			continue;
		found++;
		ifindex = e.ifindex;
		err = iface_nat_check(&c->insts[i], &e);
		err = err ?: iface_unwrite(&t, &c->insts[i], &e);
	}
	if (!err && !found) {
		hadp_err("iface %s not found", argv[0]);
		err = -ENOENT;
	}
	if (err) {
		hadp_txn_rollback(&t);
		return err;
	}
	hadp_txn_commit(&t);
	/* Another instance may still carry it (-I): then the root stays. */
	err = ifindex_in_use(c, ifindex, false);
	if (err == 0)
		err = hadp_root_detach(&c->host, ifindex, HADP_KIND_VM);
	return err < 0 ? err : 0;
}

/* The interface's public addresses, when it has any. */
static void iface_print_nat(const struct hadp_inst *inst, __u32 ifindex)
{
	struct hadp_ifindex key = { ifindex };
	char a[INET6_ADDRSTRLEN];
	struct hadp_snat sn;
	struct hadp_vip vip;

	if (!hadp_map_lookup(&inst->maps[HADP_MAP_SNAT], &key, &sn)) {
		print_text("\n   ");
		open_object("nat");
		print_string("ip", " nat ip %s", fmt_ipv4(sn.ip, a));
		print_uint("port_min", " ports %llu", sn.port_min);
		print_uint("port_max", "-%llu", sn.port_max);
		print_string("underlay", " underlay %s",
			     fmt_ipv6(sn.underlay, a));
		close_object();
	}
	if (!hadp_map_lookup(&inst->maps[HADP_MAP_VIPS], &key, &vip)) {
		print_text("\n   ");
		open_object("vip");
		print_string("ip", " vip ip %s", fmt_ipv4(vip.ip, a));
		print_string("underlay", " underlay %s",
			     fmt_ipv6(vip.underlay, a));
		quota_print(inst, ifindex, &vip);
		close_object();
	}
}

static int iface_print(struct cli *c, const struct hadp_inst *inst,
		       const struct iface_entry *e)
{
	char a[INET6_ADDRSTRLEN], dev[IF_NAMESIZE] = "";
	const struct hadp_iface *v = &e->v;

	if_indextoname(e->ifindex, dev);
	open_object(NULL);
	print_string("name", "%s:", v->name);
	print_string("dev", " dev %s", dev);
	print_uint("ifindex", " ifindex %llu", e->ifindex);
	print_uint("vni", " vni %llu", v->vni);
	print_text("\n   ");
	print_string("mac", " mac %s", fmt_mac(v->mac, a));
	print_string("mac_state", " %s", hadp_iface_mac_name(v));
	if (v->flags & HADP_IFACE_IPV4)
		print_string("ipv4", " ipv4 %s", fmt_ipv4(v->ipv4, a));
	if (v->flags & HADP_IFACE_IPV6)
		print_string("ipv6", " ipv6 %s", fmt_ipv6(v->ipv6, a));
	print_string("underlay", " underlay %s", fmt_ipv6(v->underlay, a));
	print_text("\n   ");
	if (quota_print(inst, e->ifindex, NULL))
		return -EIO;
	iface_print_nat(inst, e->ifindex);
	if (c->stats && print_ifstats(inst, e->ifindex))
		return -EIO;
	print_nl();
	close_object();
	return 0;
}

static int iface_show(struct cli *c, int argc, char **argv)
{
	struct iface_entry *e = NULL;
	size_t i, n;
	int err, shown = 0;

	if (argc > 1) {
		hadp_err("unknown argument \"%s\"", argv[1]);
		return -EINVAL;
	}
	if (argc && parse_name("iface name", argv[0]))
		return -EINVAL;
	err = cli_open_show(c);
	err = err ?: iface_list(&c->insts[0], &e, &n);
	if (err)
		return err;
	qsort(e, n, sizeof(*e), cmp_name);
	/* Look first: a refusal prints nothing on stdout, not even []. */
	for (i = 0; i < n && argc; i++)
		shown += !strcmp(e[i].v.name, argv[0]);
	if (argc && !shown) {
		hadp_err("iface %s not found", argv[0]);
		free(e);
		return -ENOENT;
	}
	open_array(NULL);
	for (i = 0; i < n && !err; i++) {
		if (argc && strcmp(e[i].v.name, argv[0]))
			continue;
		err = iface_print(c, &c->insts[0], &e[i]);
	}
	close_array();
	free(e);
	return err;
}

int do_iface(struct cli *c, int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "show"))
		return iface_show(c, argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "add"))
		return iface_add(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "del"))
		return iface_del(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "set"))
		return iface_set(c, argc - 1, argv + 1);
	return cli_usage_error("iface", argv[0]);
}

int iface_attr_add(struct cli *c, const char *name, iface_attr_check check,
		   iface_attr_write write, const void *val)
{
	struct hadp_txn t = HADP_TXN_INIT;
	__u32 ifindex[HADP_MAX_INSTANCES];
	int i, err;

	err = cli_open_write(c);
	err = err ?: iface_find_all(c, name, ifindex);
	for (i = 0; !err && i < c->n; i++)
		err = check(&c->insts[i], name, ifindex[i], val);
	for (i = 0; !err && i < c->n; i++)
		err = write(&t, &c->insts[i], ifindex[i], val);
	if (err)
		hadp_txn_rollback(&t);
	else
		hadp_txn_commit(&t);
	return err;
}

int iface_attr_del(struct cli *c, int argc, char **argv, int map,
		   size_t vsize, iface_attr_unwrite unwrite, const char *what)
{
	static const char *const keys[] = { "iface" };
	struct hadp_txn t = HADP_TXN_INIT;
	const char *v[ARRAY_SIZE(keys)];
	struct iface_entry e;
	int i, ifaces = 0, found = 0, err;
	__u8 val[256];

	if (vsize > sizeof(val))
		return -EINVAL;
	if (cli_kv(argc, argv, keys, ARRAY_SIZE(keys), v))
		return -EINVAL;
	if (!v[0])
		return cli_missing("iface");
	if (parse_name("iface", v[0]))
		return -EINVAL;
	err = cli_open_write(c);
	for (i = 0; !err && i < c->n; i++) {
		struct hadp_ifindex key;

		err = iface_find(&c->insts[i], v[0], &e);
		if (err <= 0)
			continue;
		ifaces++;
		key.ifindex = e.ifindex;
		err = hadp_map_lookup(&c->insts[i].maps[map], &key, val);
		if (err == -ENOENT) {
			err = 0;
			continue;
		}
		if (err) {
			hadp_err("reading %s: %s", c->insts[i].maps[map].name,
				 strerror(-err));
			break;
		}
		found++;
		err = unwrite(&t, &c->insts[i], e.ifindex, val);
	}
	if (!err && !found) {
		if (ifaces)
			hadp_err("iface %s has no %s", v[0], what);
		else
			hadp_err("iface %s not found", v[0]);
		err = -ENOENT;
	}
	if (err)
		hadp_txn_rollback(&t);
	else
		hadp_txn_commit(&t);
	return err;
}
