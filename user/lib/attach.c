// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attaching the root to devices. These are netlink XDP attachments made
 * with bpf_xdp_attach(), not bpf links: they outlive the process, which is
 * what lets the control plane restart without touching the fast path.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "dp_priv.h"
#include "util.h"

static const char *ifname(int ifindex, char buf[IF_NAMESIZE])
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
	return buf;
}

/* The program on ifindex and the mode flag it was attached in, so that
 * a replace or detach addresses that very attachment. */
static int xdp_query(int ifindex, __u32 *id, __u32 *mode_flag)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[IF_NAMESIZE];
	int err;

	err = bpf_xdp_query(ifindex, 0, &q);
	if (err) {
		hadp_err("querying XDP on %s: %s", ifname(ifindex, name),
			 strerror(-err));
		return err;
	}
	*id = q.prog_id;
	switch (q.attach_mode) {
	case XDP_ATTACHED_DRV:
		*mode_flag = XDP_FLAGS_DRV_MODE;
		break;
	case XDP_ATTACHED_SKB:
		*mode_flag = XDP_FLAGS_SKB_MODE;
		break;
	case XDP_ATTACHED_HW:
		*mode_flag = XDP_FLAGS_HW_MODE;
		break;
	default:
		*mode_flag = 0;
	}
	return 0;
}

int hadp_root_attached(struct hadp_host *h, int ifindex)
{
	__u32 id, mode;
	int k;

	if (xdp_query(ifindex, &id, &mode) || !id)
		return -1;
	for (k = 0; k < HADP_KIND_MAX; k++)
		if (id == h->root_prog_id[k])
			return k;
	return -1;
}

/* Name a foreign program. libxdp knows its own dispatcher and falls back
 * to the kernel's name for anything else. */
static void foreign_name(int ifindex, __u32 id, char *buf, size_t len)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;

	snprintf(buf, len, "id %u", id);
	if (libxdp_get_error(mp) || !mp)
		return;
	p = xdp_multiprog__main_prog(mp);
	if (p && xdp_program__name(p))
		snprintf(buf, len, "\"%s\" (id %u)", xdp_program__name(p), id);
	xdp_multiprog__close(mp);
}

int hadp_root_check_attach(struct hadp_host *h, int ifindex,
			   enum hadp_prog_kind kind)
{
	char name[IF_NAMESIZE], prog[64];
	__u32 id, mode;
	int err;

	err = xdp_query(ifindex, &id, &mode);
	if (err)
		return err;
	if (!id || id == h->root_prog_id[kind])
		return 0;
	if (id == h->root_prog_id[!kind]) {
		hadp_err("%s already runs hadp's %s: it is %s", 
			 ifname(ifindex, name), hadp_root_prog_names[!kind],
			 kind == HADP_KIND_VM ? "the uplink" :
						"a VM interface");
		return -EBUSY;
	}
	foreign_name(ifindex, id, prog, sizeof(prog));
	hadp_err("%s already has XDP program %s attached; detach it first",
		 ifname(ifindex, name), prog);
	return -EBUSY;
}

int hadp_root_attach(struct hadp_host *h, int ifindex,
		     enum hadp_prog_kind kind)
{
	char name[IF_NAMESIZE];
	__u32 id, mode;
	int err;

	/* Look first: a refused attach makes libbpf log on its own. */
	err = xdp_query(ifindex, &id, &mode);
	if (err)
		return err;
	if (id == h->root_prog_id[kind])
		return 0;
	if (id)
		return hadp_root_check_attach(h, ifindex, kind);
	err = bpf_xdp_attach(ifindex, h->root_prog[kind],
			     XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	/* Someone attached meanwhile: say who. */
	if (err == -EBUSY || err == -EEXIST)
		return hadp_root_check_attach(h, ifindex, kind);
	if (err)
		hadp_err("attaching %s to %s: %s", hadp_root_prog_names[kind],
			 ifname(ifindex, name), strerror(-err));
	return err;
}

int hadp_root_detach(struct hadp_host *h, int ifindex,
		     enum hadp_prog_kind kind)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o,
		    .old_prog_fd = h->root_prog[kind]);
	char name[IF_NAMESIZE];
	__u32 id, mode;
	int err;

	err = xdp_query(ifindex, &id, &mode);
	if (err || id != h->root_prog_id[kind])
		return err;
	/* REPLACE with the old fd: never detach a program someone put there
	 * since the query. */
	err = bpf_xdp_detach(ifindex, XDP_FLAGS_REPLACE | mode, &o);
	if (err && err != -EEXIST) {
		hadp_err("detaching %s from %s: %s", hadp_root_prog_names[kind],
			 ifname(ifindex, name), strerror(-err));
		return err;
	}
	return 0;
}

static int replace(int ifindex, int new_fd, int old_fd, __u32 mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = old_fd);
	char name[IF_NAMESIZE];
	int err;

	err = bpf_xdp_attach(ifindex, new_fd, XDP_FLAGS_REPLACE | mode, &o);
	if (err)
		hadp_err("replacing the root on %s: %s", ifname(ifindex, name),
			 strerror(-err));
	return err;
}

/* Pin under a temporary name and rename over the old pin: bpffs renames
 * atomically, so the path never goes missing. (bpffs refuses names with
 * a dot.) */
static int repin(struct hadp_host *h, struct bpf_program *p, int kind)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int err;

	root_path(h, path, sizeof(path), hadp_root_prog_names[kind]);
	snprintf(tmp, sizeof(tmp), "%s_new", path);
	unlink(tmp);
	err = bpf_program__pin(p, tmp);
	if (err) {
		hadp_err("pinning %s: %s", tmp, strerror(-err));
		return err;
	}
	if (rename(tmp, path)) {
		err = -errno;
		hadp_err("renaming %s: %s", tmp, strerror(-err));
		unlink(tmp);
	}
	return err;
}

struct swapped {
	int ifindex;
	int kind;
	__u32 mode;
};

int hadp_root_upgrade(struct hadp_host *h, unsigned int *nr_devices)
{
	struct if_nameindex *ifs, *it;
	struct swapped *done = NULL;
	bool reused[HADP_ROOT_MAP_MAX];
	struct root_bpf *skel;
	int new_fd[HADP_KIND_MAX];
	size_t n = 0, nifs = 0;
	int k, err;

	err = root_load(h, &skel, reused, true);
	if (err)
		return err;
	new_fd[HADP_KIND_VM] = bpf_program__fd(skel->progs.root_vm);
	new_fd[HADP_KIND_UPLINK] = bpf_program__fd(skel->progs.root_uplink);
	ifs = if_nameindex();
	if (!ifs) {
		err = -errno;
		hadp_err("listing devices: %s", strerror(-err));
		goto out;
	}
	for (it = ifs; it->if_index; it++)
		nifs++;
	done = calloc(nifs + 1, sizeof(*done));
	if (!done) {
		err = -ENOMEM;
		goto out;
	}
	for (it = ifs; it->if_index; it++) {
		__u32 id, mode;

		err = xdp_query(it->if_index, &id, &mode);
		if (err)
			goto undo;
		for (k = 0; k < HADP_KIND_MAX; k++)
			if (id && id == h->root_prog_id[k])
				break;
		if (k == HADP_KIND_MAX)
			continue;
		err = replace(it->if_index, new_fd[k], h->root_prog[k], mode);
		if (err)
			goto undo;
		done[n++] = (struct swapped){ it->if_index, k, mode };
	}
	for (k = 0; k < HADP_KIND_MAX; k++) {
		err = repin(h, root_skel_prog(skel, k), k);
		if (err)
			goto undo;
	}
	*nr_devices = n;
	root_close(h);
	err = hadp_root_open(h);
	goto out;
undo:
	while (n--)
		replace(done[n].ifindex, h->root_prog[done[n].kind],
			new_fd[done[n].kind], done[n].mode);
	/* Re-pinning the old programs cannot fail where pinning new ones
	 * did not, except for the first one that did; restore both. */
	for (k = 0; k < HADP_KIND_MAX; k++) {
		char path[PATH_MAX];

		root_path(h, path, sizeof(path), hadp_root_prog_names[k]);
		unlink(path);
		if (bpf_obj_pin(h->root_prog[k], path))
			hadp_err("restoring %s: %s", path, strerror(errno));
	}
out:
	free(done);
	if (ifs)
		if_freenameindex(ifs);
	root_bpf__destroy(skel);
	return err;
}

int hadp_root_remove(struct hadp_host *h)
{
	struct if_nameindex *ifs, *it;
	char path[PATH_MAX];
	int i, k, err = 0;

	ifs = if_nameindex();
	if (!ifs) {
		err = -errno;
		hadp_err("listing devices: %s", strerror(-err));
		return err;
	}
	for (it = ifs; it->if_index; it++)
		for (k = 0; k < HADP_KIND_MAX && !err; k++)
			err = hadp_root_detach(h, it->if_index, k);
	if_freenameindex(ifs);
	/* Still attached somewhere: the program array must stay pinned, or
	 * the kernel empties it when the last user reference goes. */
	if (err)
		return err;
	for (k = 0; k < HADP_KIND_MAX; k++) {
		root_path(h, path, sizeof(path), hadp_root_prog_names[k]);
		unlink(path);
	}
	for (i = 0; i < HADP_ROOT_MAP_MAX; i++) {
		root_path(h, path, sizeof(path), hadp_root_map_names[i]);
		unlink(path);
	}
	root_path(h, path, sizeof(path), "");
	if (rmdir(path) && errno != ENOENT)
		hadp_warn("removing %s: %s", path, strerror(errno));
	root_close(h);
	return 0;
}
