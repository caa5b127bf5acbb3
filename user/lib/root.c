// SPDX-License-Identifier: GPL-2.0-only
/*
 * The per-host root object, and the host lock (docs/datapath.md,
 * "Programs and the root object"): the root is owned by no instance,
 * attached to every hadp device, and tail-calls the active instance's
 * program from the pinned "progs" array.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp_priv.h"
#include "util.h"

const char *const hadp_root_map_names[HADP_ROOT_MAP_MAX] = {
	[HADP_ROOT_PROGS]	= "progs",
	[HADP_ROOT_ACTIVE]	= "active",
	[HADP_ROOT_INSTANCES]	= "instances",
	[HADP_ROOT_STATS]	= "root_stats",
};

const char *const hadp_root_prog_names[HADP_KIND_MAX] = {
	[HADP_KIND_VM]		= "root_vm",
	[HADP_KIND_UPLINK]	= "root_uplink",
};

int hadp_bpffs_resolve(const char *opt, char *buf, size_t len)
{
	const char *p = opt;

	if (!p || !*p)
		p = getenv(HADP_BPFFS_ENV);
	if (!p || !*p)
		p = HADP_BPFFS_DEFAULT;
	if ((size_t)snprintf(buf, len, "%s", p) >= len) {
		hadp_err("bpffs path too long: %s", p);
		return -ENAMETOOLONG;
	}
	return 0;
}

void hadp_host_init(struct hadp_host *h)
{
	int i;

	memset(h, 0, sizeof(*h));
	h->dir_fd = -1;
	for (i = 0; i < HADP_ROOT_MAP_MAX; i++)
		h->root[i].fd = -1;
	for (i = 0; i < HADP_KIND_MAX; i++)
		h->root_prog[i] = -1;
}

int hadp_host_open(struct hadp_host *h, const char *bpffs, bool create)
{
	struct statfs sfs;
	int err;

	hadp_host_init(h);
	if (statfs(bpffs, &sfs)) {
		hadp_err("bpffs %s: %s", bpffs, strerror(errno));
		/* Reported: not the silent -ENOENT of a missing hadp/. */
		return -EINVAL;
	}
	if (sfs.f_type != BPF_FS_MAGIC) {
		hadp_err("%s is not a bpf filesystem (mount -t bpf bpf %s)",
			 bpffs, bpffs);
		return -EINVAL;
	}
	if ((size_t)snprintf(h->dir, sizeof(h->dir), "%s/hadp", bpffs) >=
	    sizeof(h->dir)) {
		hadp_err("bpffs path too long: %s", bpffs);
		return -ENAMETOOLONG;
	}
	if (create && mkdir(h->dir, 0700) && errno != EEXIST) {
		err = -errno;
		hadp_err("creating %s: %s", h->dir, strerror(-err));
		return err;
	}
	h->dir_fd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->dir_fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			hadp_err("opening %s: %s", h->dir, strerror(-err));
		return err;
	}
	return 0;
}

int hadp_host_lock(struct hadp_host *h)
{
	if (h->locked)
		return 0;
	if (flock(h->dir_fd, LOCK_EX)) {
		int err = -errno;

		hadp_err("locking %s: %s", h->dir, strerror(-err));
		return err;
	}
	h->locked = true;
	return 0;
}

void root_close(struct hadp_host *h)
{
	int i;

	for (i = 0; i < HADP_ROOT_MAP_MAX; i++)
		hadp_map_close(&h->root[i]);
	for (i = 0; i < HADP_KIND_MAX; i++) {
		if (h->root_prog[i] >= 0)
			close(h->root_prog[i]);
		h->root_prog[i] = -1;
		h->root_prog_id[i] = 0;
	}
	h->root_open = false;
}

void hadp_host_close(struct hadp_host *h)
{
	root_close(h);
	if (h->dir_fd >= 0)
		close(h->dir_fd);
	h->dir_fd = -1;
	h->locked = false;
}

void root_path(const struct hadp_host *h, char *buf, size_t len,
	       const char *name)
{
	snprintf(buf, len, "%s/" HADP_ROOT_DIR "/%s", h->dir, name);
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

int hadp_root_open(struct hadp_host *h)
{
	char path[PATH_MAX];
	int i, err;

	if (h->root_open)
		return 0;
	for (i = 0; i < HADP_ROOT_MAP_MAX; i++) {
		root_path(h, path, sizeof(path), hadp_root_map_names[i]);
		err = hadp_map_open(path, &h->root[i]);
		if (err)
			goto err;
	}
	for (i = 0; i < HADP_KIND_MAX; i++) {
		root_path(h, path, sizeof(path), hadp_root_prog_names[i]);
		h->root_prog[i] = bpf_obj_get(path);
		if (h->root_prog[i] < 0) {
			err = -errno;
			if (err != -ENOENT)
				hadp_err("opening %s: %s", path,
					 strerror(-err));
			goto err;
		}
		h->root_prog_id[i] = prog_id(h->root_prog[i]);
	}
	h->root_open = true;
	return 0;
err:
	root_close(h);
	return err;
}

static struct bpf_map *skel_root_map(struct root_bpf *skel, int i)
{
	return bpf_object__find_map_by_name(skel->obj, hadp_root_map_names[i]);
}

struct bpf_program *root_skel_prog(struct root_bpf *skel, int kind)
{
	return kind == HADP_KIND_VM ? skel->progs.root_vm :
				      skel->progs.root_uplink;
}

/*
 * Open and load the root object on whichever of its maps are pinned
 * already; reused[i] tells which. An upgrade needs every one of them: a
 * fresh "progs" array would be empty, and the new root would drop.
 */
int root_load(struct hadp_host *h, struct root_bpf **out,
	      bool reused[HADP_ROOT_MAP_MAX], bool need_all)
{
	struct root_bpf *skel;
	char path[PATH_MAX];
	int i, fd, err;

	skel = root_bpf__open();
	if (!skel) {
		err = -errno;
		hadp_err("opening the root object: %s", strerror(-err));
		return err;
	}
	for (i = 0; i < HADP_ROOT_MAP_MAX; i++) {
		root_path(h, path, sizeof(path), hadp_root_map_names[i]);
		reused[i] = false;
		fd = bpf_obj_get(path);
		if (fd < 0) {
			if (!need_all)
				continue;
			err = -errno;
			hadp_err("opening %s: %s", path, strerror(-err));
			goto err;
		}
		err = bpf_map__reuse_fd(skel_root_map(skel, i), fd);
		close(fd);
		if (err) {
			hadp_err("reusing %s: %s", path, strerror(-err));
			goto err;
		}
		reused[i] = true;
	}
	err = root_bpf__load(skel);
	if (err) {
		hadp_err("loading the root object: %s", strerror(-err));
		goto err;
	}
	*out = skel;
	return 0;
err:
	root_bpf__destroy(skel);
	return err;
}

int hadp_root_create(struct hadp_host *h)
{
	bool reused[HADP_ROOT_MAP_MAX];
	struct hadp_active none = { HADP_NO_INSTANCE };
	struct hadp_index zero = { 0 };
	struct root_bpf *skel;
	char path[PATH_MAX];
	int i, k, err;

	err = root_load(h, &skel, reused, false);
	if (err)
		return err;
	/* An array starts zeroed, and 0 is an instance: say "none" before
	 * anyone can see the map. */
	if (!reused[HADP_ROOT_ACTIVE] &&
	    bpf_map_update_elem(bpf_map__fd(skel->maps.active), &zero, &none,
				BPF_ANY)) {
		err = -errno;
		hadp_err("initialising the active entry: %s", strerror(-err));
		goto out;
	}
	root_path(h, path, sizeof(path), "");
	if (mkdir(path, 0700) && errno != EEXIST) {
		err = -errno;
		hadp_err("creating %s: %s", path, strerror(-err));
		goto out;
	}
	for (i = 0; i < HADP_ROOT_MAP_MAX; i++) {
		if (reused[i])
			continue;
		root_path(h, path, sizeof(path), hadp_root_map_names[i]);
		err = bpf_map__pin(skel_root_map(skel, i), path);
		if (err) {
			hadp_err("pinning %s: %s", path, strerror(-err));
			goto unpin;
		}
	}
	for (k = 0; k < HADP_KIND_MAX; k++) {
		root_path(h, path, sizeof(path), hadp_root_prog_names[k]);
		err = bpf_program__pin(root_skel_prog(skel, k), path);
		if (err) {
			hadp_err("pinning %s: %s", path, strerror(-err));
			goto unpin_progs;
		}
	}
	root_bpf__destroy(skel);
	return hadp_root_open(h);
unpin_progs:
	while (k--) {
		root_path(h, path, sizeof(path), hadp_root_prog_names[k]);
		unlink(path);
	}
unpin:
	while (i--) {
		if (reused[i])
			continue;
		root_path(h, path, sizeof(path), hadp_root_map_names[i]);
		unlink(path);
	}
out:
	root_bpf__destroy(skel);
	return err;
}

int hadp_root_ensure(struct hadp_host *h)
{
	int err = hadp_root_open(h);

	if (err == -ENOENT)
		err = hadp_root_create(h);
	return err;
}

int hadp_active_get(struct hadp_host *h, __u32 *index)
{
	struct hadp_index zero = { 0 };
	struct hadp_active a;
	int err;

	err = hadp_map_lookup(&h->root[HADP_ROOT_ACTIVE], &zero, &a);
	if (err) {
		hadp_err("reading the active entry: %s", strerror(-err));
		return err;
	}
	*index = a.instance;
	return 0;
}

int hadp_active_set(struct hadp_host *h, __u32 index)
{
	struct hadp_index zero = { 0 };
	struct hadp_active a = { index };

	if (bpf_map_update_elem(h->root[HADP_ROOT_ACTIVE].fd, &zero, &a,
				BPF_ANY)) {
		int err = -errno;

		hadp_err("writing the active entry: %s", strerror(-err));
		return err;
	}
	return 0;
}

int hadp_wait_prog_runs(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int inner, outer, err = 0;
	__u32 zero = 0;

	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "hadp_gp_inner", 4, 4, 1, NULL);
	if (inner < 0) {
		err = -errno;
		goto out;
	}
	o.inner_map_fd = inner;
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "hadp_gp_outer", 4, 4,
			       1, &o);
	if (outer < 0) {
		err = -errno;
		close(inner);
		goto out;
	}
	/* The kernel runs synchronize_rcu() before this returns. */
	if (bpf_map_update_elem(outer, &zero, &inner, BPF_ANY))
		err = -errno;
	close(outer);
	close(inner);
out:
	if (err)
		hadp_err("waiting for running BPF programs: %s", strerror(-err));
	return err;
}

int hadp_slot_get(struct hadp_host *h, __u32 slot, __u32 *id)
{
	struct hadp_index key = { slot };

	/* A program array reads back program ids. */
	if (bpf_map_lookup_elem(h->root[HADP_ROOT_PROGS].fd, &key, id)) {
		if (errno != ENOENT) {
			int err = -errno;

			hadp_err("reading slot %u: %s", slot, strerror(-err));
			return err;
		}
		*id = 0;
	}
	return 0;
}

int hadp_root_stats_get(struct hadp_host *h, struct hadp_root_stats *s)
{
	struct hadp_index zero = { 0 };
	int err;

	err = hadp_map_sum_u64(&h->root[HADP_ROOT_STATS], &zero, s);
	if (err)
		hadp_err("reading root_stats: %s", strerror(-err));
	return err;
}
