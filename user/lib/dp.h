/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The datapath objects under <bpffs>/hadp/: the per-host root (_root/) and
 * the instances (<name>/). Pin names are the map names of bpf/, plus
 * _root/root_vm, _root/root_uplink, <name>/prog_vm, <name>/prog_uplink and
 * <name>/prog_sweep (run by the control plane, never attached).
 *
 * Whoever creates, upgrades or removes the root, loads or unloads an
 * instance, or writes configuration holds the host lock: flock(LOCK_EX)
 * on the directory <bpffs>/hadp itself, so it exists before anything is
 * created under it and two processes never race.
 */
#ifndef HADP_DP_H
#define HADP_DP_H

#include <limits.h>
#include <stdbool.h>
#include <linux/types.h>

#include "hadp/maps.h"
#include "bpfmap.h"

#define HADP_BPFFS_ENV		"HADP_BPFFS"
#define HADP_BPFFS_DEFAULT	"/sys/fs/bpf"

enum hadp_root_map {
	HADP_ROOT_PROGS,
	HADP_ROOT_ACTIVE,
	HADP_ROOT_INSTANCES,
	HADP_ROOT_STATS,
	HADP_ROOT_MAP_MAX,
};

enum hadp_map_id {
	HADP_MAP_IFACES,
	HADP_MAP_UNDERLAY,
	HADP_MAP_ROUTES4,
	HADP_MAP_ROUTES6,
	HADP_MAP_NEIGHS,
	HADP_MAP_UPLINK,
	HADP_MAP_CONFIG,
	HADP_MAP_RATELIMIT,
	HADP_MAP_STATS,
	HADP_MAP_EVENTS,
	HADP_MAP_SNAT,
	HADP_MAP_VIPS,
	HADP_MAP_NAT_IPS,
	HADP_MAP_CONNS,
	HADP_MAP_CONNS_REV,
	HADP_MAP_QUOTAS,
	HADP_MAP_CONN_COUNTS,
	HADP_MAP_MAX,
};

/* Pin names, the one list each: _root/ maps and programs, <name>/ maps
 * and programs (by enum hadp_kind). */
extern const char *const hadp_root_map_names[HADP_ROOT_MAP_MAX];
extern const char *const hadp_root_prog_names[HADP_KIND_MAX];
extern const char *const hadp_map_names[HADP_MAP_MAX];
extern const char *const hadp_prog_names[HADP_KIND_MAX];

struct hadp_host {
	char dir[PATH_MAX - 64];	/* <bpffs>/hadp; room for names */
	int dir_fd;			/* the lock */
	bool locked;
	bool root_open;
	struct hadp_map root[HADP_ROOT_MAP_MAX];
	int root_prog[HADP_KIND_MAX];	/* fds of root_vm, root_uplink */
	__u32 root_prog_id[HADP_KIND_MAX];
};

struct hadp_inst {
	char name[HADP_NAME_LEN];
	__u32 index;
	struct hadp_map maps[HADP_MAP_MAX];
};

struct hadp_load_opts {
	__u32 ifaces;		/* table sizes; 0 keeps bpf/'s default */
	__u32 routes;		/* routes4 and routes6 each */
	__u32 neighs;
	__u32 conns;		/* conns and conns_rev each */
	__u32 nat_ips;
	__u32 events;		/* ring buffer bytes; 0: sized from conns */
	__be32 gw4;
	__u8 gw6[16];
};

/* --bpffs, else $HADP_BPFFS, else /sys/fs/bpf. */
int hadp_bpffs_resolve(const char *opt, char *buf, size_t len);

/* Nothing open: what hadp_host_close() can always be called on. */
void hadp_host_init(struct hadp_host *h);
/* Check bpffs is a bpf filesystem and open <bpffs>/hadp, creating it when
 * create is set; without create, silent -ENOENT when it is missing. */
int hadp_host_open(struct hadp_host *h, const char *bpffs, bool create);
int hadp_host_lock(struct hadp_host *h);
/* Closes everything, which also drops the lock. */
void hadp_host_close(struct hadp_host *h);

/* Root: open the pins (silent -ENOENT when there is no root), create
 * (needs the lock), or both. */
int hadp_root_open(struct hadp_host *h);
int hadp_root_create(struct hadp_host *h);
int hadp_root_ensure(struct hadp_host *h);
/* Load a new root on the pinned maps and swap it in, with
 * XDP_FLAGS_REPLACE, on every device of this netns running the old one;
 * then re-pin. On failure devices already swapped are swapped back. */
int hadp_root_upgrade(struct hadp_host *h, unsigned int *nr_devices);
/* Detach the root from every device of this netns and unpin it. */
int hadp_root_remove(struct hadp_host *h);

int hadp_active_get(struct hadp_host *h, __u32 *index);
int hadp_active_set(struct hadp_host *h, __u32 index);
/* Return once every BPF program run that started before the call has
 * finished (an RCU grace period, which the kernel waits for on an
 * update of a map of maps): after hadp_active_set, no run of the old
 * active's programs is still going. */
int hadp_wait_prog_runs(void);
/* Program id in a slot of the program array, 0 when empty. */
int hadp_slot_get(struct hadp_host *h, __u32 slot, __u32 *prog_id);
int hadp_root_stats_get(struct hadp_host *h, struct hadp_root_stats *s);

/* Would attaching the root of this kind to ifindex work? 0 when nothing
 * or the same root program is attached; otherwise -EBUSY with a message
 * naming the program that is there. */
int hadp_root_check_attach(struct hadp_host *h, int ifindex,
			   enum hadp_prog_kind kind);
int hadp_root_attach(struct hadp_host *h, int ifindex,
		     enum hadp_prog_kind kind);
/* Detach only if this kind of root is what is attached; 0 otherwise. */
int hadp_root_detach(struct hadp_host *h, int ifindex,
		     enum hadp_prog_kind kind);
/* The kind of root attached to ifindex, or -1. */
int hadp_root_attached(struct hadp_host *h, int ifindex);

/* Instances, named in the root's "instances" map (index -> name). */
int hadp_inst_find(struct hadp_host *h, const char *name, __u32 *index);
int hadp_inst_name(struct hadp_host *h, __u32 index,
		   char name[HADP_NAME_LEN]);
void hadp_load_opts_init(struct hadp_load_opts *o);
/* The delta ring's size in bytes for a connection table of conns
 * entries, when hadp_load_opts.events leaves it to the loader. */
__u32 hadp_events_size(__u32 conns);
/* Needs the lock; creates the root if there is none. The new instance
 * becomes active when none is: until the HA agent exists and owns the
 * active entry, that is what makes a single instance carry traffic. */
int hadp_inst_load(struct hadp_host *h, const char *name,
		   const struct hadp_load_opts *o, __u32 *index);
/* Needs the lock. An active instance hands over to the lowest other
 * loaded one, or to none; the last one takes the root with it. */
int hadp_inst_unload(struct hadp_host *h, const char *name);

int hadp_inst_open(struct hadp_host *h, __u32 index, struct hadp_inst *i);
void hadp_inst_close(struct hadp_inst *i);
/* Open one instance by name (only != NULL) or every loaded one, in index
 * order, into insts[HADP_MAX_INSTANCES]. -ENOENT (reported) when only is
 * not loaded or none is. */
int hadp_inst_open_all(struct hadp_host *h, const char *only,
		       struct hadp_inst *insts, int *n);
void hadp_inst_close_all(struct hadp_inst *insts, int n);

/*
 * One pass of the instance's <name>/prog_sweep over "conns", run with
 * BPF_PROG_TEST_RUN: HADP_SWEEP_AGE deletes the connections whose timeout
 * has passed, HADP_SWEEP_FLUSH every one (of ifindex, when not 0). Each
 * delete is published on "events" by the program. res gets scanned and
 * deleted.
 */
int hadp_inst_sweep(const struct hadp_host *h, const struct hadp_inst *i,
		    __u32 mode, __u32 ifindex, struct hadp_sweep *res);
/* The same on a program fd. */
int hadp_sweep_run(int prog_fd, __u32 mode, __u32 ifindex,
		   struct hadp_sweep *res);

/*
 * Set "conn_counts" to what "conns" holds, interface by interface (and
 * delete the counts of interfaces that hold none). The datapath keeps the
 * counts on its own inserts and deletes; entries written from userspace
 * (the mirror on a standby, a promotion's reconcile) are not counted
 * until this runs. A connection made or deleted by the datapath while the
 * table is read may be off by one until the next rebuild.
 */
int hadp_conn_counts_rebuild(const struct hadp_inst *i);

#endif /* HADP_DP_H */
