// SPDX-License-Identifier: GPL-2.0-only
/*
 * Datapath instances: each one its own hadp_bpf object, maps and programs,
 * pinned under <bpffs>/hadp/<name>/ and named in the root's "instances"
 * array, whose index is also where its programs sit in "progs".
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hadp.skel.h"
#include "dp_priv.h"
#include "parse.h"
#include "util.h"

const char *const hadp_map_names[HADP_MAP_MAX] = {
	[HADP_MAP_IFACES]	= "ifaces",
	[HADP_MAP_UNDERLAY]	= "underlay",
	[HADP_MAP_ROUTES4]	= "routes4",
	[HADP_MAP_ROUTES6]	= "routes6",
	[HADP_MAP_NEIGHS]	= "neighs",
	[HADP_MAP_UPLINK]	= "uplink",
	[HADP_MAP_CONFIG]	= "config",
	[HADP_MAP_RATELIMIT]	= "ratelimit",
	[HADP_MAP_STATS]	= "stats",
	[HADP_MAP_EVENTS]	= "events",
	[HADP_MAP_SNAT]		= "snat",
	[HADP_MAP_VIPS]		= "vips",
	[HADP_MAP_NAT_IPS]	= "nat_ips",
	[HADP_MAP_CONNS]	= "conns",
	[HADP_MAP_CONNS_REV]	= "conns_rev",
	[HADP_MAP_QUOTAS]	= "quotas",
	[HADP_MAP_CONN_COUNTS]	= "conn_counts",
};

#define SWEEP_PROG		"hadp_sweep"
#define SWEEP_PIN		"prog_sweep"

const char *const hadp_prog_names[HADP_KIND_MAX] = {
	[HADP_KIND_VM]		= "prog_vm",
	[HADP_KIND_UPLINK]	= "prog_uplink",
};

static void inst_path(const struct hadp_host *h, char *buf, size_t len,
		      const char *inst, const char *name)
{
	snprintf(buf, len, "%s/%s/%s", h->dir, inst, name);
}

int hadp_inst_name(struct hadp_host *h, __u32 index, char name[HADP_NAME_LEN])
{
	struct hadp_index key = { index };
	struct hadp_instance v;
	int err;

	err = hadp_map_lookup(&h->root[HADP_ROOT_INSTANCES], &key, &v);
	if (err) {
		hadp_err("reading instance %u: %s", index, strerror(-err));
		return err;
	}
	memcpy(name, v.name, HADP_NAME_LEN);
	name[HADP_NAME_LEN - 1] = '\0';
	return 0;
}

int hadp_inst_find(struct hadp_host *h, const char *name, __u32 *index)
{
	char n[HADP_NAME_LEN];
	__u32 i;
	int err;

	for (i = 0; i < HADP_MAX_INSTANCES; i++) {
		err = hadp_inst_name(h, i, n);
		if (err)
			return err;
		if (n[0] && !strcmp(n, name)) {
			*index = i;
			return 0;
		}
	}
	return -ENOENT;
}

static int set_name(struct hadp_host *h, __u32 index, const char *name)
{
	struct hadp_index key = { index };
	struct hadp_instance v = {};

	strncpy(v.name, name, HADP_NAME_LEN - 1);
	if (bpf_map_update_elem(h->root[HADP_ROOT_INSTANCES].fd, &key, &v,
				BPF_ANY)) {
		int err = -errno;

		hadp_err("writing instance %u: %s", index, strerror(-err));
		return err;
	}
	return 0;
}

static int set_slot(struct hadp_host *h, __u32 index, int kind, int prog_fd)
{
	struct hadp_index key = { HADP_SLOT(index, kind) };
	int fd = h->root[HADP_ROOT_PROGS].fd, err;

	err = prog_fd >= 0 ? bpf_map_update_elem(fd, &key, &prog_fd, BPF_ANY)
			   : bpf_map_delete_elem(fd, &key);
	if (err && !(prog_fd < 0 && errno == ENOENT)) {
		err = -errno;
		hadp_err("%s slot %u: %s", prog_fd >= 0 ? "filling" : "clearing",
			 key.index, strerror(-err));
		return err;
	}
	return 0;
}

void hadp_load_opts_init(struct hadp_load_opts *o)
{
	static const __u8 gw6[16] = { 0xfe, 0x80, [15] = 1 };

	memset(o, 0, sizeof(*o));
	o->gw4 = htonl(0xa9fe0001);	/* 169.254.0.1 */
	memcpy(o->gw6, gw6, 16);
}

static struct bpf_map *skel_map(struct hadp_bpf *skel, int id)
{
	return bpf_object__find_map_by_name(skel->obj, hadp_map_names[id]);
}

static struct bpf_program *skel_sweep(struct hadp_bpf *skel)
{
	return bpf_object__find_program_by_name(skel->obj, SWEEP_PROG);
}

/* Every map and program the control plane uses is in the object. */
static int skel_check(struct hadp_bpf *skel)
{
	int i;

	for (i = 0; i < HADP_MAP_MAX; i++) {
		if (!skel_map(skel, i)) {
			hadp_err("the datapath object has no map %s",
				 hadp_map_names[i]);
			return -ENOENT;
		}
	}
	if (!skel_sweep(skel)) {
		hadp_err("the datapath object has no program " SWEEP_PROG);
		return -ENOENT;
	}
	return 0;
}

static int set_size(struct hadp_bpf *skel, int id, __u32 n)
{
	return bpf_map__set_max_entries(skel_map(skel, id), n);
}

/*
 * The delta ring holds an eighth of the connection table's records (a
 * record is the 80-byte event and the ring's 8-byte header), rounded up
 * to a power of two: 11 to 22 bytes per table entry, under a tenth of
 * what the entry costs in conns and conns_rev, so the ring grows with the
 * burst a table of that size is built for. At least 256 KiB, the size
 * before this rule; at most 64 MiB (about 760,000 deltas), which a table
 * of 4 million entries reaches: past that, a burst the agent does not
 * drain in time is what the repair (docs/ha.md) is for.
 */
#define EVENTS_RECORD	88
#define EVENTS_MIN	(256u << 10)
#define EVENTS_MAX	(64u << 20)

__u32 hadp_events_size(__u32 conns)
{
	__u64 want = (__u64)conns / 8 * EVENTS_RECORD;
	__u32 size = EVENTS_MIN;

	while (size < want && size < EVENTS_MAX)
		size <<= 1;
	return size;
}

static int set_sizes(struct hadp_bpf *skel, const struct hadp_load_opts *o)
{
	int err = 0;
	__u32 ifaces = o->ifaces;

	if (ifaces)
		err = err ?: set_size(skel, HADP_MAP_IFACES, ifaces);
	else
		ifaces = bpf_map__max_entries(skel_map(skel, HADP_MAP_IFACES));
	/* Up to three underlay addresses per interface: its own, its NAT's
	 * and its VIP's; one SNAT and one VIP. Whatever the object says. */
	err = err ?: set_size(skel, HADP_MAP_UNDERLAY, 3 * ifaces);
	err = err ?: set_size(skel, HADP_MAP_SNAT, ifaces);
	err = err ?: set_size(skel, HADP_MAP_VIPS, ifaces);
	err = err ?: set_size(skel, HADP_MAP_QUOTAS, ifaces);
	err = err ?: set_size(skel, HADP_MAP_CONN_COUNTS, ifaces);
	/* One entry per interface, plus ifindex 0 and the uplink. */
	if (o->ifaces) {
		err = err ?: set_size(skel, HADP_MAP_STATS, ifaces + 2);
		err = err ?: set_size(skel, HADP_MAP_RATELIMIT, ifaces + 2);
	}
	if (o->routes) {
		err = err ?: set_size(skel, HADP_MAP_ROUTES4, o->routes);
		err = err ?: set_size(skel, HADP_MAP_ROUTES6, o->routes);
	}
	if (o->neighs)
		err = err ?: set_size(skel, HADP_MAP_NEIGHS, o->neighs);
	if (o->nat_ips)
		err = err ?: set_size(skel, HADP_MAP_NAT_IPS, o->nat_ips);
	/* Every connection has one entry in each. */
	if (o->conns) {
		err = err ?: set_size(skel, HADP_MAP_CONNS, o->conns);
		err = err ?: set_size(skel, HADP_MAP_CONNS_REV, o->conns);
	}
	err = err ?: set_size(skel, HADP_MAP_EVENTS, o->events ?: hadp_events_size(
		bpf_map__max_entries(skel_map(skel, HADP_MAP_CONNS))));
	if (err)
		hadp_err("sizing the tables: %s", strerror(-err));
	return err;
}

/* The first writes into a fresh instance: nothing to roll back but the
 * whole instance. */
static int write_defaults(struct hadp_bpf *skel, const struct hadp_load_opts *o)
{
	struct hadp_config cfg = {
		.gw4 = o->gw4,
		.icmp_rate = HADP_DEFAULT_ICMP_RATE,
		.icmp_burst = HADP_DEFAULT_ICMP_BURST,
		.timeout = HADP_DEFAULT_TIMEOUTS,
		.event_rate = HADP_DEFAULT_EVENT_RATE,
		.event_burst = HADP_DEFAULT_EVENT_BURST,
	};
	__u32 conns = bpf_map__max_entries(skel->maps.conns);
	struct hadp_index zero = { 0 };
	struct hadp_ifindex none = { 0 };
	struct hadp_map stats;
	void *val;
	int err;

	memcpy(cfg.gw6, o->gw6, 16);
	cfg.conn_limit = conns / HADP_DEFAULT_CONN_SHARE ?: 1;
	cfg.vip_conn_limit = cfg.conn_limit / HADP_DEFAULT_VIP_CONN_SHARE ?: 1;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.config), &zero, &cfg,
				BPF_ANY)) {
		err = -errno;
		hadp_err("writing config: %s", strerror(-err));
		return err;
	}
	err = hadp_map_from_fd(dup(bpf_map__fd(skel->maps.stats)), &stats);
	if (err)
		return err;
	val = hadp_map_zero_value(&stats);
	err = val ? 0 : -ENOMEM;
	if (!err && bpf_map_update_elem(stats.fd, &none, val, BPF_NOEXIST)) {
		err = -errno;
		hadp_err("creating the ifindex 0 counters: %s",
			 strerror(-err));
	}
	free(val);
	hadp_map_close(&stats);
	return err;
}

static void unpin_dir(struct hadp_host *h, const char *name)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", h->dir, name);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	if (rmdir(path))
		hadp_warn("removing %s: %s", path, strerror(errno));
}

static int pin_all(struct hadp_host *h, struct hadp_bpf *skel,
		   const char *name)
{
	struct bpf_program *progs[HADP_KIND_MAX] = {
		[HADP_KIND_VM] = skel->progs.hadp_vm,
		[HADP_KIND_UPLINK] = skel->progs.hadp_uplink,
	};
	char path[PATH_MAX];
	int i, err;

	for (i = 0; i < HADP_MAP_MAX; i++) {
		inst_path(h, path, sizeof(path), name, hadp_map_names[i]);
		err = bpf_map__pin(skel_map(skel, i), path);
		if (err)
			goto err;
	}
	for (i = 0; i < HADP_KIND_MAX; i++) {
		inst_path(h, path, sizeof(path), name, hadp_prog_names[i]);
		err = bpf_program__pin(progs[i], path);
		if (err)
			goto err;
	}
	inst_path(h, path, sizeof(path), name, SWEEP_PIN);
	err = bpf_program__pin(skel_sweep(skel), path);
	if (err)
		goto err;
	return 0;
err:
	hadp_err("pinning %s: %s", path, strerror(-err));
	return err;
}

int hadp_inst_load(struct hadp_host *h, const char *name,
		   const struct hadp_load_opts *o, __u32 *index)
{
	char path[PATH_MAX], n[HADP_NAME_LEN];
	struct hadp_bpf *skel;
	__u32 i, free_idx = HADP_NO_INSTANCE, active;
	int k, err;

	if (!hadp_name_valid(name)) {
		hadp_err("invalid instance name \"%s\"", name);
		return -EINVAL;
	}
	err = hadp_root_ensure(h);
	if (err)
		return err;
	for (i = 0; i < HADP_MAX_INSTANCES; i++) {
		err = hadp_inst_name(h, i, n);
		if (err)
			return err;
		if (!strcmp(n, name)) {
			hadp_err("instance %s is already loaded", name);
			return -EEXIST;
		}
		if (!n[0] && free_idx == HADP_NO_INSTANCE)
			free_idx = i;
	}
	if (free_idx == HADP_NO_INSTANCE) {
		hadp_err("no free instance index (at most %d instances)",
			 HADP_MAX_INSTANCES);
		return -ENOSPC;
	}
	snprintf(path, sizeof(path), "%s/%s", h->dir, name);
	if (mkdir(path, 0700)) {
		err = -errno;
		if (err == -EEXIST)
			hadp_err("%s exists but no instance %s is loaded: "
				 "remove it (hadp -I %s dp unload)", path,
				 name, name);
		else
			hadp_err("creating %s: %s", path, strerror(-err));
		return err;
	}
	skel = hadp_bpf__open();
	if (!skel) {
		err = -errno;
		hadp_err("opening the datapath object: %s", strerror(-err));
		goto err_dir;
	}
	err = skel_check(skel);
	err = err ?: set_sizes(skel, o);
	if (err)
		goto err_skel;
	err = hadp_bpf__load(skel);
	if (err) {
		hadp_err("loading the datapath object: %s", strerror(-err));
		goto err_skel;
	}
	err = pin_all(h, skel, name);
	if (err)
		goto err_skel;
	err = write_defaults(skel, o);
	if (err)
		goto err_skel;
	err = set_name(h, free_idx, name);
	if (err)
		goto err_skel;
	/* Slots before anyone can make the instance active. */
	for (k = 0; k < HADP_KIND_MAX; k++) {
		err = set_slot(h, free_idx, k, bpf_program__fd(
			k == HADP_KIND_VM ? skel->progs.hadp_vm :
					    skel->progs.hadp_uplink));
		if (err)
			goto err_slots;
	}
	err = hadp_active_get(h, &active);
	if (!err && active == HADP_NO_INSTANCE)
		err = hadp_active_set(h, free_idx);
	if (err)
		goto err_slots;
	hadp_bpf__destroy(skel);
	if (index)
		*index = free_idx;
	return 0;
err_slots:
	while (k--)
		set_slot(h, free_idx, k, -1);
	set_name(h, free_idx, "");
err_skel:
	hadp_bpf__destroy(skel);
err_dir:
	unpin_dir(h, name);
	return err;
}

int hadp_inst_unload(struct hadp_host *h, const char *name)
{
	char n[HADP_NAME_LEN];
	__u32 index, active, i, next = HADP_NO_INSTANCE;
	int k, left = 0, err;

	err = hadp_root_open(h);
	if (err == -ENOENT) {
		/* Leftover pins of a half-loaded instance, no root. */
		unpin_dir(h, name);
		return 0;
	}
	if (err)
		return err;
	err = hadp_inst_find(h, name, &index);
	if (err == -ENOENT) {
		unpin_dir(h, name);
		goto root;
	}
	if (err)
		return err;
	for (i = 0; i < HADP_MAX_INSTANCES; i++) {
		err = hadp_inst_name(h, i, n);
		if (err)
			return err;
		if (i != index && n[0] && next == HADP_NO_INSTANCE)
			next = i;
	}
	err = hadp_active_get(h, &active);
	if (!err && active == index)
		err = hadp_active_set(h, next);
	if (err)
		return err;
	for (k = 0; k < HADP_KIND_MAX; k++) {
		err = set_slot(h, index, k, -1);
		if (err)
			return err;
	}
	err = set_name(h, index, "");
	if (err)
		return err;
	unpin_dir(h, name);
root:
	for (i = 0; i < HADP_MAX_INSTANCES; i++) {
		err = hadp_inst_name(h, i, n);
		if (err)
			return err;
		left += !!n[0];
	}
	return left ? 0 : hadp_root_remove(h);
}

void hadp_inst_close(struct hadp_inst *inst)
{
	int i;

	for (i = 0; i < HADP_MAP_MAX; i++)
		hadp_map_close(&inst->maps[i]);
}

int hadp_inst_open(struct hadp_host *h, __u32 index, struct hadp_inst *inst)
{
	char path[PATH_MAX];
	int i, err;

	memset(inst, 0, sizeof(*inst));
	for (i = 0; i < HADP_MAP_MAX; i++)
		inst->maps[i].fd = -1;
	inst->index = index;
	err = hadp_inst_name(h, index, inst->name);
	if (err)
		return err;
	if (!inst->name[0])
		return -ENOENT;
	for (i = 0; i < HADP_MAP_MAX; i++) {
		inst_path(h, path, sizeof(path), inst->name,
			  hadp_map_names[i]);
		err = hadp_map_open(path, &inst->maps[i]);
		if (err) {
			if (err == -ENOENT)
				hadp_err("instance %s: %s is not pinned",
					 inst->name, path);
			hadp_inst_close(inst);
			return err;
		}
	}
	return 0;
}

int hadp_inst_open_all(struct hadp_host *h, const char *only,
		       struct hadp_inst *insts, int *n)
{
	__u32 i;
	int err;

	*n = 0;
	for (i = 0; i < HADP_MAX_INSTANCES; i++) {
		err = hadp_inst_open(h, i, &insts[*n]);
		if (err == -ENOENT)
			continue;
		if (err)
			goto err;
		if (only && strcmp(insts[*n].name, only)) {
			hadp_inst_close(&insts[*n]);
			continue;
		}
		(*n)++;
	}
	if (*n)
		return 0;
	if (only)
		hadp_err("instance %s is not loaded", only);
	else
		hadp_err("no instance is loaded (hadp dp load)");
	return -ENOENT;
err:
	hadp_inst_close_all(insts, *n);
	*n = 0;
	return err;
}

void hadp_inst_close_all(struct hadp_inst *insts, int n)
{
	while (n--)
		hadp_inst_close(&insts[n]);
}

int hadp_sweep_run(int prog_fd, __u32 mode, __u32 ifindex,
		   struct hadp_sweep *res)
{
	/* An XDP test run wants at least an Ethernet header's worth of
	 * packet: the request, padded with zeros. */
	__u8 in[64] = { 0 }, out[256] = { 0 };
	struct hadp_sweep req = { .mode = mode, .ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = in,
		    .data_size_in = sizeof(in),
		    .data_out = out,
		    .data_size_out = sizeof(out),
		    .repeat = 1);
	int err;

	memcpy(in, &req, sizeof(req));
	err = bpf_prog_test_run_opts(prog_fd, &o);
	if (err) {
		err = -errno;
		hadp_err("running " SWEEP_PROG ": %s", strerror(-err));
		return err;
	}
	/* XDP_ABORTED: a request it does not understand, or no config. */
	if (o.retval != XDP_PASS) {
		hadp_err(SWEEP_PROG " refused the request (mode %u): "
			 "verdict %u", mode, o.retval);
		return -EINVAL;
	}
	if (o.data_size_out < sizeof(*res)) {
		hadp_err(SWEEP_PROG " returned %u bytes, not a result",
			 o.data_size_out);
		return -EIO;
	}
	memcpy(res, out, sizeof(*res));
	if (res->mode != mode || res->ifindex != ifindex) {
		hadp_err(SWEEP_PROG " returned another request than it got");
		return -EIO;
	}
	return 0;
}

int hadp_inst_sweep(const struct hadp_host *h, const struct hadp_inst *inst,
		    __u32 mode, __u32 ifindex, struct hadp_sweep *res)
{
	char path[PATH_MAX];
	int fd, err;

	inst_path(h, path, sizeof(path), inst->name, SWEEP_PIN);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		hadp_err("opening %s: %s", path, strerror(-err));
		return err;
	}
	err = hadp_sweep_run(fd, mode, ifindex, res);
	close(fd);
	return err;
}
