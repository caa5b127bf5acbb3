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
void cli_close(struct cli *c);

/*
 * KEY VALUE pairs: vals[i] gets the value of keys[i] (NULL when absent).
 * An unknown key, a key without a value or a key given twice is a bad
 * argument.
 */
int cli_kv(int argc, char **argv, const char *const keys[], int nkeys,
	   const char *vals[]);
int cli_missing(const char *what);
int cli_usage_error(const char *obj, const char *cmd);

/* -s counters of one ifindex in a "stats" object. */
int print_ifstats(const struct hadp_inst *inst, __u32 ifindex);

int do_iface(struct cli *c, int argc, char **argv);
int do_route(struct cli *c, int argc, char **argv);
int do_uplink(struct cli *c, int argc, char **argv);
int do_neigh(struct cli *c, int argc, char **argv);
int do_dp(struct cli *c, int argc, char **argv);

/* neigh.c: re-resolve every neighs entry of the open instances into t;
 * with report, print what changed. */
int neigh_refresh(struct cli *c, struct hadp_txn *t, bool report);

/* Is ifindex a VM interface (or the uplink) of any loaded instance? */
int ifindex_in_use(struct cli *c, __u32 ifindex, bool uplink);

#endif /* HADP_CLI_H */
