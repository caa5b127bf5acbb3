// SPDX-License-Identifier: GPL-2.0-only
/* hadp uplink: the underlay NIC. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "hadp.h"
#include "nl.h"
#include "parse.h"
#include "print.h"
#include "util.h"

/* The smallest IPv6 link MTU: the underlay is IPv6. */
#define UNDERLAY_MTU_MIN	1280

static int uplink_write(struct hadp_txn *t, struct hadp_inst *inst,
			const struct hadp_uplink *ul, __u32 *old_ifindex)
{
	struct hadp_ifindex key = { ul->ifindex };
	struct hadp_index zero = { 0 };
	struct hadp_uplink old;
	void *counters;
	int err;

	err = hadp_map_lookup(&inst->maps[HADP_MAP_UPLINK], &zero, &old);
	if (err) {
		hadp_err("reading uplink: %s", strerror(-err));
		return err;
	}
	*old_ifindex = old.ifindex;
	counters = hadp_map_zero_value(&inst->maps[HADP_MAP_STATS]);
	if (!counters)
		return -ENOMEM;
	/* Same device again: keep its counters. */
	err = hadp_txn_update(t, &inst->maps[HADP_MAP_STATS], &key, counters,
			      BPF_NOEXIST);
	free(counters);
	if (err && err != -EEXIST)
		return err;
	err = hadp_txn_update(t, &inst->maps[HADP_MAP_UPLINK], &zero, ul,
			      BPF_ANY);
	if (!err && old.ifindex && old.ifindex != ul->ifindex) {
		key.ifindex = old.ifindex;
		err = hadp_txn_delete(t, &inst->maps[HADP_MAP_STATS], &key);
		if (err == -ENOENT)
			err = 0;
	}
	return err;
}

static int uplink_set(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = { "dev", "mtu" };
	struct hadp_txn t = HADP_TXN_INIT;
	const char *v[ARRAY_SIZE(keys)];
	__u32 old[HADP_MAX_INSTANCES] = { 0 };
	struct hadp_uplink ul = {};
	struct hadp_link dev;
	int i, err;

	if (cli_kv(argc, argv, keys, ARRAY_SIZE(keys), v))
		return -EINVAL;
	if (!v[0])
		return cli_missing("dev");
	err = hadp_link_get(v[0], 0, &dev);
	if (err)
		return err;
	if (!dev.has_mac) {
		hadp_err("invalid dev \"%s\": not an Ethernet device", v[0]);
		return -EINVAL;
	}
	if (dev.mtu < UNDERLAY_MTU_MIN) {
		hadp_err("invalid dev \"%s\": MTU %u is below %u", v[0],
			 dev.mtu, UNDERLAY_MTU_MIN);
		return -EINVAL;
	}
	ul.ifindex = dev.ifindex;
	ul.mtu = dev.mtu;
	memcpy(ul.mac, dev.mac, 6);
	if (v[1] && parse_u32("mtu", v[1], UNDERLAY_MTU_MIN, dev.mtu, &ul.mtu))
		return -EINVAL;

	err = cli_open_write(c);
	if (err)
		return err;
	err = ifindex_in_use(c, dev.ifindex, false);
	if (err > 0) {
		hadp_err("dev %s is a VM interface", dev.name);
		return -EBUSY;
	}
	err = err ?: hadp_root_check_attach(&c->host, dev.ifindex,
					    HADP_KIND_UPLINK);
	for (i = 0; !err && i < c->n; i++)
		err = uplink_write(&t, &c->insts[i], &ul, &old[i]);
	/* The next hops may sit behind the new device now. */
	err = err ?: neigh_refresh(c, &t, false);
	err = err ?: hadp_root_attach(&c->host, dev.ifindex, HADP_KIND_UPLINK);
	if (err) {
		hadp_txn_rollback(&t);
		return err;
	}
	hadp_txn_commit(&t);
	/* The old uplink keeps the root while any instance still uses it. */
	for (i = 0; i < c->n; i++) {
		if (!old[i] || old[i] == ul.ifindex)
			continue;
		err = ifindex_in_use(c, old[i], true);
		if (err == 0)
			err = hadp_root_detach(&c->host, old[i],
					       HADP_KIND_UPLINK);
		if (err < 0)
			return err;
	}
	return 0;
}

static int uplink_show(struct cli *c, int argc, char **argv)
{
	const struct hadp_inst *inst;
	struct hadp_index zero = { 0 };
	struct hadp_uplink ul;
	char a[HADP_MAC_STRLEN], dev[IF_NAMESIZE] = "";
	int err;

	if (argc) {
		hadp_err("unknown argument \"%s\"", argv[0]);
		return -EINVAL;
	}
	err = cli_open_show(c);
	if (err)
		return err;
	inst = &c->insts[0];
	err = hadp_map_lookup(&inst->maps[HADP_MAP_UPLINK], &zero, &ul);
	if (err) {
		hadp_err("reading uplink: %s", strerror(-err));
		return err;
	}
	open_array(NULL);
	if (!ul.ifindex) {
		print_text("uplink not set\n");
		goto out;
	}
	if_indextoname(ul.ifindex, dev);
	open_object(NULL);
	print_string("dev", "dev %s", dev);
	print_uint("ifindex", " ifindex %llu", ul.ifindex);
	print_string("mac", " mac %s", fmt_mac(ul.mac, a));
	print_uint("mtu", " mtu %llu", ul.mtu);
	if (c->stats)
		err = print_ifstats(inst, ul.ifindex);
	print_nl();
	close_object();
out:
	close_array();
	return err;
}

int do_uplink(struct cli *c, int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "show"))
		return uplink_show(c, argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "set"))
		return uplink_set(c, argc - 1, argv + 1);
	return cli_usage_error("uplink", argv[0]);
}
