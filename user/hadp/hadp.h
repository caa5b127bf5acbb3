/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef HADP_CLI_H
#define HADP_CLI_H

#include <limits.h>
#include <stdbool.h>

#include "bpfmap.h"
#include "dp.h"

struct cli {
	bool json, pretty, stats;
	const char *instance;		/* -I, or NULL */
	char bpffs[PATH_MAX];
	struct hadp_host host;
	struct hadp_inst insts[HADP_MAX_INSTANCES];
	int n;				/* instances open in insts */
};

/*
 * Opening for a change: the host lock, the root, and the instances the
 * change goes to (-I's, or every loaded one). For a show: the root and
 * one instance in insts[0] (-I's, else the active one, else the first
 * loaded). Each reports its own failure.
 */
int cli_open_write(struct cli *c);
int cli_open_show(struct cli *c);
/* For what acts on one instance only, never on all by default (flow
 * flush, flow age): the host lock, and -I's instance, else the active
 * one, in insts[0]. */
int cli_open_one(struct cli *c);

/*
 * KEY VALUE pairs: vals[i] gets the value of keys[i] (NULL when absent).
 * An unknown key, a key without a value or a key given twice is a bad
 * argument.
 */
int cli_kv(int argc, char **argv, const char *const keys[], int nkeys,
	   const char *vals[]);
/* cli_kv(), then the first @nrequired keys must all be given: a missing
 * one is named (cli_missing). */
int cli_kv_required(int argc, char **argv, const char *const keys[], int nkeys,
		    int nrequired, const char *vals[]);
/* The same with words that take no value ("nat"): set[i] tells whether
 * flags[i] was given. */
int cli_args(int argc, char **argv, const char *const keys[], int nkeys,
	     const char *vals[], const char *const flags[], int nflags,
	     bool set[]);
int cli_missing(const char *what);
int cli_usage_error(const char *obj, const char *cmd);

/* -s counters of one ifindex in a "stats" object. */
int print_ifstats(const struct hadp_inst *inst, __u32 ifindex);

struct iface_entry {
	__u32 ifindex;
	struct hadp_iface v;
};

/* Every interface of an instance, malloc()ed. */
int iface_list(const struct hadp_inst *inst, struct iface_entry **out,
	       size_t *n);
/* 1 and the entry when name is an interface of inst, 0 when not. */
int iface_find(const struct hadp_inst *inst, const char *name,
	       struct iface_entry *found);
/* The name of interface ifindex, "" when it is none of inst's. */
const char *iface_name(const struct hadp_inst *inst, __u32 ifindex,
		       char buf[HADP_NAME_LEN]);
/* The interface, in every instance of c, that a NAT or VIP command names:
 * ifindex[i] for insts[i]. Reports "iface X not found (instance Y)". */
int iface_find_all(struct cli *c, const char *name, __u32 ifindex[]);

/* Undo, in journal t, what a per-interface NAT attribute (val, read from
 * map) wrote into inst. */
typedef int (*iface_attr_unwrite)(struct hadp_txn *t,
				  const struct hadp_inst *inst, __u32 ifindex,
				  const void *val);
/* Check val against interface name (ifindex in inst) before any write. */
typedef int (*iface_attr_check)(const struct hadp_inst *inst,
				const char *name, __u32 ifindex,
				const void *val);
/* Write val for interface ifindex of inst, in journal t. */
typedef int (*iface_attr_write)(struct hadp_txn *t,
				const struct hadp_inst *inst, __u32 ifindex,
				const void *val);
/* `OBJECT add iface NAME ...` for a per-interface attribute val: checked
 * in every target instance, then written, all rolled back on failure. */
int iface_attr_add(struct cli *c, const char *name, iface_attr_check check,
		   iface_attr_write write, const void *val);
/* `OBJECT del iface NAME` for a per-interface attribute kept in map
 * (an enum hadp_map_id) with values of vsize bytes, in every target
 * instance; what names it in errors ("NAT ip", "VIP"). */
int iface_attr_del(struct cli *c, int argc, char **argv, int map,
		   size_t vsize, iface_attr_unwrite unwrite, const char *what);

/* 0 when addr is none of inst's underlay addresses; otherwise reports
 * whose it is (as "underlay ADDR is iface vm1's NAT address") and returns
 * -EEXIST. what names the argument. */
int underlay_check(const struct hadp_inst *inst, const char *what,
		   const __u8 addr[16]);
/* 1 and the interface when ip is a VIP of inst, 0 when not. */
int vip_find_ip(const struct hadp_inst *inst, __be32 ip, __u32 *ifindex);
/* 1 when ip has port ranges in inst's nat_ips, 0 when not. */
int nat_ip_known(const struct hadp_inst *inst, __be32 ip);

/* quota.c: `conn-limit N|default` (0 for default), written into t as
 * the interface's limit (quotas); unwrite drops its limit and counts. */
int quota_parse(const char *s, __u32 *limit);
int quota_write(struct hadp_txn *t, const struct hadp_inst *inst,
		__u32 ifindex, __u32 limit);
int quota_unwrite(struct hadp_txn *t, const struct hadp_inst *inst,
		  __u32 ifindex);
int iface_set(struct cli *c, int argc, char **argv);
/* " conn-limit L conns N" of the interface, or of its VIP's inbound
 * share when vip is given. */
int quota_print(const struct hadp_inst *inst, __u32 ifindex,
		const struct hadp_vip *vip);

int do_iface(struct cli *c, int argc, char **argv);
int do_route(struct cli *c, int argc, char **argv);
int do_uplink(struct cli *c, int argc, char **argv);
int do_neigh(struct cli *c, int argc, char **argv);
int do_dp(struct cli *c, int argc, char **argv);
int do_nat(struct cli *c, int argc, char **argv);
int do_vip(struct cli *c, int argc, char **argv);
int do_flow(struct cli *c, int argc, char **argv);
int do_ha(struct cli *c, int argc, char **argv);
int do_monitor(struct cli *c, int argc, char **argv);

/* neigh.c: re-resolve every neighs entry of the open instances into t;
 * with report, print what changed. */
int neigh_refresh(struct cli *c, struct hadp_txn *t, bool report);

/* gateway, dev, lladdr and state of a neighs entry. */
void neigh_print_body(const struct hadp_neigh *n);

/* Does anything of inst still need the neighbour of addr: a remote
 * route's next hop, the NAT router, a neighbour's NAT range? 1, 0 or
 * -errno. */
int nexthop_used(const struct hadp_inst *inst, const __u8 addr[16]);
/* Delete the neighbour of addr when nothing of inst needs it any more. */
int nexthop_release(struct hadp_txn *t, const struct hadp_inst *inst,
		    const __u8 addr[16]);

/* Is ifindex a VM interface (or the uplink) of any loaded instance? */
int ifindex_in_use(struct cli *c, __u32 ifindex, bool uplink);

#endif /* HADP_CLI_H */
