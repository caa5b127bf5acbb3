// SPDX-License-Identifier: GPL-2.0-only
/*
 * Connection quotas on the CLI: `conn-limit` of an interface (map
 * "quotas") and of a VIP (struct hadp_vip), shown with what is held
 * ("conn_counts", kept by the datapath). docs/nat.md says why the
 * defaults are what they are.
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "hadp.h"
#include "parse.h"
#include "print.h"
#include "util.h"

#define CONN_LIMIT_MAX	(1u << 24)	/* "conns" is never larger */

int quota_parse(const char *s, __u32 *limit)
{
	if (!strcmp(s, "default")) {
		*limit = 0;
		return 0;
	}
	return parse_u32("conn-limit", s, 1, CONN_LIMIT_MAX, limit);
}

int quota_write(struct hadp_txn *t, const struct hadp_inst *inst,
		__u32 ifindex, __u32 limit)
{
	const struct hadp_map *m = &inst->maps[HADP_MAP_QUOTAS];
	struct hadp_ifindex key = { ifindex };
	struct hadp_quota q = { .conn_limit = limit };
	int err;

	if (limit)
		return hadp_txn_update(t, m, &key, &q, BPF_ANY);
	err = hadp_txn_delete(t, m, &key);
	return err == -ENOENT ? 0 : err;
}

int quota_unwrite(struct hadp_txn *t, const struct hadp_inst *inst,
		  __u32 ifindex)
{
	struct hadp_ifindex key = { ifindex };
	int err;

	err = quota_write(t, inst, ifindex, 0);
	err = err ?: hadp_txn_delete(t, &inst->maps[HADP_MAP_CONN_COUNTS], &key);
	return err == -ENOENT ? 0 : err;
}

/* hadp iface set NAME conn-limit N|default */
int iface_set(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = { "conn-limit" };
	struct hadp_txn t = HADP_TXN_INIT;
	__u32 ifindex[HADP_MAX_INSTANCES], limit;
	const char *v[ARRAY_SIZE(keys)];
	int i, err;

	if (argc < 1)
		return cli_missing("NAME");
	if (parse_name("iface name", argv[0]) ||
	    cli_kv(argc - 1, argv + 1, keys, ARRAY_SIZE(keys), v))
		return -EINVAL;
	if (!v[0])
		return cli_missing("conn-limit");
	if (quota_parse(v[0], &limit))
		return -EINVAL;
	err = cli_open_write(c);
	err = err ?: iface_find_all(c, argv[0], ifindex);
	for (i = 0; !err && i < c->n; i++)
		err = quota_write(&t, &c->insts[i], ifindex[i], limit);
	if (err)
		hadp_txn_rollback(&t);
	else
		hadp_txn_commit(&t);
	return err;
}

static int quota_read(const struct hadp_inst *inst, __u32 ifindex,
		      struct hadp_config *cfg, struct hadp_quota *q,
		      struct hadp_conn_count *n)
{
	struct hadp_ifindex key = { ifindex };
	struct hadp_index zero = { 0 };
	int err;

	memset(q, 0, sizeof(*q));
	memset(n, 0, sizeof(*n));
	err = hadp_map_lookup(&inst->maps[HADP_MAP_CONFIG], &zero, cfg);
	if (err) {
		hadp_err("reading config: %s", strerror(-err));
		return err;
	}
	err = hadp_map_lookup(&inst->maps[HADP_MAP_QUOTAS], &key, q);
	if (err && err != -ENOENT)
		return err;
	err = hadp_map_lookup(&inst->maps[HADP_MAP_CONN_COUNTS], &key, n);
	return err == -ENOENT ? 0 : err;
}

/* The limit in force (the default when none is set) and what is held:
 * the interface's when vip is NULL, else its VIP's inbound share. */
int quota_print(const struct hadp_inst *inst, __u32 ifindex,
		const struct hadp_vip *vip)
{
	struct hadp_config cfg;
	struct hadp_quota q;
	struct hadp_conn_count n;
	__u32 limit;
	__s32 held;
	int err;

	err = quota_read(inst, ifindex, &cfg, &q, &n);
	if (err)
		return err;
	if (vip)
		limit = vip->conn_limit ? vip->conn_limit : cfg.vip_conn_limit;
	else
		limit = q.conn_limit ? q.conn_limit : cfg.conn_limit;
	print_uint("conn_limit", " conn-limit %llu", limit);
	held = vip ? n.vip_conns : n.conns;
	/* Below zero only until the agent's next rebuild. */
	print_uint("conns", " conns %llu", held > 0 ? held : 0);
	return 0;
}
