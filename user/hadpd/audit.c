// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent audits itself: the root's program array and active entry
 * point at the right programs, the pins are the maps the agent works on,
 * the root runs on every configured device, and the configuration agrees
 * with the other local instances (the CLI writes it to all of them, so a
 * difference is a write that went astray or a change made behind hadp's
 * back; who writes each map: docs/architecture.md). Each finding is one
 * warning and one count; nothing is repaired, since the audit cannot tell
 * which side is right.
 *
 * Cheap by design: a few dozen syscalls, one dump of the devices, and
 * walks of the configuration maps only, never of conns.
 */
#define _GNU_SOURCE	/* qsort_r */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "hadpd.h"
#include "util.h"

/* What the CLI writes to every instance alike. */
static const int config_maps[] = {
	HADP_MAP_IFACES, HADP_MAP_UNDERLAY, HADP_MAP_ROUTES4, HADP_MAP_ROUTES6,
	HADP_MAP_UPLINK, HADP_MAP_CONFIG, HADP_MAP_SNAT, HADP_MAP_VIPS,
	HADP_MAP_NAT_IPS,
};

static void finding(struct hadpd *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void finding(struct hadpd *d, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hlog(LOG_WARN_P, "audit: %s", msg);
	atomic_fetch_add(&d->audit_findings, 1);
}

/* The id of the program or map pinned as <dir>/<name>; -errno, -ENOENT
 * when nothing is pinned there. */
static int pin_id(const char *dir, const char *name, bool prog, __u32 *id)
{
	union {
		struct bpf_prog_info prog;
		struct bpf_map_info map;
	} info = {};
	__u32 len = prog ? sizeof(info.prog) : sizeof(info.map);
	char path[PATH_MAX];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else
		*id = prog ? info.prog.id : info.map.id;
	close(fd);
	return err;
}

/* <bpffs>/hadp/<instance>: where this instance's pins are. */
static void inst_dir(const struct hadpd *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", d->host.dir, d->inst.name);
}

/* The root's slots of this instance hold its pinned programs. */
static void audit_slots(struct hadpd *d)
{
	char dir[PATH_MAX];
	__u32 slot, want, got;
	int k, err;

	inst_dir(d, dir, sizeof(dir));
	for (k = 0; k < HADP_KIND_MAX; k++) {
		slot = HADP_SLOT(d->inst.index, k);
		err = pin_id(dir, hadp_prog_names[k], true, &want);
		if (err) {
			finding(d, "%s/%s: %s", dir, hadp_prog_names[k],
				strerror(-err));
			continue;
		}
		if (hadp_slot_get(&d->host, slot, &got))
			finding(d, "slot %u of the root's progs is unreadable",
				slot);
		else if (!got)
			finding(d, "slot %u of the root's progs is empty, not "
				"%s's %s (id %u)", slot, d->inst.name,
				hadp_prog_names[k], want);
		else if (got != want)
			finding(d, "slot %u of the root's progs holds program "
				"id %u, not %s's %s (id %u)", slot, got,
				d->inst.name, hadp_prog_names[k], want);
	}
}

/* The active entry names this instance exactly while the agent is
 * active. A promotion or demotion writes the entry, then the role: a
 * pass that sees the role change says nothing. */
static void audit_active(struct hadpd *d)
{
	char name[HADP_NAME_LEN] = "";
	int before, after;
	__u32 active;

	before = atomic_load(&d->role);
	if (hadp_active_get(&d->host, &active)) {
		finding(d, "the root's active entry is unreadable");
		return;
	}
	after = atomic_load(&d->role);
	if (before != after)
		return;
	if (after == HADP_ROLE_ACTIVE && active != d->inst.index) {
		if (active == HADP_NO_INSTANCE ||
		    hadp_inst_name(&d->host, active, name) || !name[0])
			snprintf(name, sizeof(name), "#%u", active);
		finding(d, "%s is active, but the root's active entry names %s",
			d->inst.name,
			active == HADP_NO_INSTANCE ? "no instance" : name);
	} else if (after == HADP_ROLE_STANDBY && active == d->inst.index) {
		finding(d, "%s is standby, but the root's active entry names it",
			d->inst.name);
	}
}

/* The pins are still the maps the agent has open: nobody unloaded and
 * reloaded the instance behind it. */
static void audit_pins(struct hadpd *d)
{
	char dir[PATH_MAX];
	__u32 id;
	int i, err;

	inst_dir(d, dir, sizeof(dir));
	for (i = 0; i < HADP_MAP_MAX; i++) {
		err = pin_id(dir, hadp_map_names[i], false, &id);
		if (err)
			finding(d, "%s/%s: %s", dir, hadp_map_names[i],
				strerror(-err));
		else if (id != d->inst.maps[i].id)
			finding(d, "%s/%s is map id %u, not the one the agent "
				"holds (id %u)", dir, hadp_map_names[i], id,
				d->inst.maps[i].id);
	}
}

/* A device and the XDP program attached to it (0: none). */
struct dev_xdp {
	__u32 ifindex;
	__u32 prog_id;
};

struct dev_list {
	struct dev_xdp *v;
	size_t n, cap;
};

static int cb_link(const struct nlmsghdr *nlh, void *arg)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct dev_list *l = arg;
	const struct nlattr *a, *x;
	struct dev_xdp *v;
	__u32 id = 0;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		if (mnl_attr_get_type(a) != IFLA_XDP)
			continue;
		mnl_attr_for_each_nested(x, a)
			if (mnl_attr_get_type(x) == IFLA_XDP_PROG_ID &&
			    mnl_attr_validate(x, MNL_TYPE_U32) >= 0)
				id = mnl_attr_get_u32(x);
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		v = realloc(l->v, l->cap * sizeof(*v));
		if (!v)
			return MNL_CB_ERROR;
		l->v = v;
	}
	l->v[l->n++] = (struct dev_xdp){ ifi->ifi_index, id };
	return MNL_CB_OK;
}

/* Every device of the netns with its XDP program, from one link dump.
 * Not bpf_xdp_query per device: each of those dumps every link, which
 * is quadratic on a host with hundreds of VM interfaces. */
static int dev_list_read(struct dev_list *l)
{
	char buf[32768];	/* a dump's messages come in up to 32 KiB */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned int seq = time(NULL), portid;
	struct mnl_socket *nl;
	struct ifinfomsg *ifi;
	int ret = -1;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	do {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret > 0)
			ret = mnl_cb_run(buf, ret, seq, portid, cb_link, l);
	} while (ret > MNL_CB_STOP);
out:
	ret = ret < 0 ? (errno ? -errno : -EIO) : 0;
	if (nl)
		mnl_socket_close(nl);
	return ret;
}

static int cmp_dev(const void *a, const void *b)
{
	const struct dev_xdp *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

/* The device ifindex runs the root of its kind, whose id is root_id. */
static bool audit_device(struct hadpd *d, const struct dev_list *l,
			 __u32 ifindex, enum hadp_prog_kind kind,
			 __u32 root_id)
{
	static const char *const what[HADP_KIND_MAX] = {
		[HADP_KIND_VM] = "VM interface",
		[HADP_KIND_UPLINK] = "uplink",
	};
	struct dev_xdp key = { .ifindex = ifindex }, *dev;
	char name[IF_NAMESIZE];

	dev = bsearch(&key, l->v, l->n, sizeof(*l->v), cmp_dev);
	if (dev && dev->prog_id == root_id)
		return true;
	if (!dev) {
		finding(d, "%s's %s (ifindex %u) does not exist", d->inst.name,
			what[kind], ifindex);
		return false;
	}
	if (!if_indextoname(ifindex, name))
		snprintf(name, sizeof(name), "#%u", ifindex);
	if (!dev->prog_id)
		finding(d, "%s's %s %s (ifindex %u) runs no XDP program, not "
			"the root's %s", d->inst.name, what[kind], name,
			ifindex, hadp_root_prog_names[kind]);
	else
		finding(d, "%s's %s %s (ifindex %u) runs program id %u, not "
			"the root's %s (id %u)", d->inst.name, what[kind], name,
			ifindex, dev->prog_id, hadp_root_prog_names[kind], root_id);
	return false;
}

/* The root runs on every device the configuration names. The root as
 * pinned now, not as the agent opened it: `hadp dp upgrade` replaces its
 * programs, and that is no finding. */
static void audit_devices(struct hadpd *d)
{
	const struct hadp_map *m = &d->inst.maps[HADP_MAP_IFACES];
	__u32 root_id[HADP_KIND_MAX];
	struct hadp_index zero = { 0 };
	struct dev_list l = { 0 };
	struct hadp_ifindex *keys;
	struct hadp_uplink ul;
	char dir[PATH_MAX];
	unsigned int bad = 0;
	size_t i, n;
	int k, err;

	snprintf(dir, sizeof(dir), "%s/" HADP_ROOT_DIR, d->host.dir);
	for (k = 0; k < HADP_KIND_MAX; k++) {
		err = pin_id(dir, hadp_root_prog_names[k], true, &root_id[k]);
		if (err) {
			finding(d, "%s/%s: %s", dir, hadp_root_prog_names[k],
				strerror(-err));
			return;
		}
	}
	err = dev_list_read(&l);
	if (err) {
		finding(d, "reading the devices' XDP programs: %s",
			strerror(-err));
		goto out;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_dev);
	if (hadp_map_keys(m, (void **)&keys, &n)) {
		finding(d, "%s's ifaces is unreadable", d->inst.name);
	} else {
		for (i = 0; i < n; i++)
			bad += !audit_device(d, &l, keys[i].ifindex, HADP_KIND_VM,
					     root_id[HADP_KIND_VM]);
		free(keys);
	}
	if (hadp_map_lookup(&d->inst.maps[HADP_MAP_UPLINK], &zero, &ul))
		finding(d, "%s's uplink is unreadable", d->inst.name);
	else if (ul.ifindex)
		bad += !audit_device(d, &l, ul.ifindex, HADP_KIND_UPLINK,
				     root_id[HADP_KIND_UPLINK]);
	/* What /readyz of an active asks (docs/ha.md, "Readiness"): ready
	 * only once the root runs on every configured device. */
	atomic_store(&d->unattached, bad);
	atomic_store(&d->attach_checked, true);
out:
	free(l.v);
}

/* Every key of m, sorted: two maps' key sets then compare in one pass
 * (an LPM trie walks in no order that two tries share). */
static int sorted_keys(const struct hadp_map *m, char **keys, size_t *n)
{
	int err = hadp_map_keys(m, (void **)keys, n);

	if (!err)
		qsort_r(*keys, *n, m->key_size, hadp_map_key_cmp,
			(void *)&m->key_size);
	return err;
}

/* How many of the sorted keys a are not among the sorted keys b. */
static size_t only_in(const char *a, size_t na, const char *b, size_t nb,
		      __u32 size)
{
	size_t i = 0, j = 0, n = 0;
	int c;

	while (i < na) {
		c = j < nb ? memcmp(a + i * size, b + j * size, size) : -1;
		if (c < 0) {
			n++;
			i++;
		} else if (c > 0) {
			j++;
		} else {
			i++;
			j++;
		}
	}
	return n;
}

/* An array's entries, byte for byte. */
static bool values_differ(const struct hadp_map *a, const struct hadp_map *b)
{
	void *va = hadp_map_zero_value(a), *vb = hadp_map_zero_value(b);
	bool differ = !va || !vb;
	__u32 i;

	for (i = 0; i < a->max_entries && !differ; i++)
		differ = hadp_map_lookup(a, &i, va) ||
			 hadp_map_lookup(b, &i, vb) ||
			 memcmp(va, vb, a->buf_size);
	free(va);
	free(vb);
	return differ;
}

/* Map id of this instance (mine, its keys sorted unless an array)
 * against the same map of instance other. Table sizes may differ (set
 * at load); the layout may not. */
static void compare_map(struct hadpd *d, int id, const char *mine_keys,
			size_t nmine, const char *other,
			const struct hadp_map *theirs)
{
	const struct hadp_map *mine = &d->inst.maps[id];
	const char *map = hadp_map_names[id];
	size_t n, a, b;
	char *keys;

	if (mine->type != theirs->type || mine->key_size != theirs->key_size ||
	    mine->buf_size != theirs->buf_size ||
	    (mine->type == BPF_MAP_TYPE_ARRAY &&
	     mine->max_entries != theirs->max_entries)) {
		finding(d, "%s of %s and of %s differ in layout", map,
			d->inst.name, other);
		return;
	}
	if (mine->type == BPF_MAP_TYPE_ARRAY) {
		if (values_differ(mine, theirs))
			finding(d, "%s of %s and of %s differ", map,
				d->inst.name, other);
		return;
	}
	if (sorted_keys(theirs, &keys, &n)) {
		finding(d, "%s of %s is unreadable", map, other);
		return;
	}
	a = only_in(mine_keys, nmine, keys, n, mine->key_size);
	b = only_in(keys, n, mine_keys, nmine, mine->key_size);
	if (a || b)
		finding(d, "%s of %s and of %s differ: keys only in %s: %zu, "
			"only in %s: %zu", map, d->inst.name, other,
			d->inst.name, a, other, b);
	free(keys);
}

/* The configuration maps agree with every other local instance's. */
static void audit_config(struct hadpd *d)
{
	char others[HADP_MAX_INSTANCES][HADP_NAME_LEN], path[PATH_MAX];
	struct hadp_map theirs;
	char *keys = NULL;
	int i, id, nothers = 0, err;
	size_t k, n = 0;
	__u32 idx;

	for (idx = 0; idx < HADP_MAX_INSTANCES; idx++) {
		if (idx != d->inst.index &&
		    !hadp_inst_name(&d->host, idx, others[nothers]) &&
		    others[nothers][0])
			nothers++;
	}
	for (k = 0; k < ARRAY_SIZE(config_maps) && nothers; k++) {
		id = config_maps[k];
		if (d->inst.maps[id].type != BPF_MAP_TYPE_ARRAY &&
		    sorted_keys(&d->inst.maps[id], &keys, &n)) {
			finding(d, "%s of %s is unreadable", hadp_map_names[id],
				d->inst.name);
			continue;
		}
		for (i = 0; i < nothers; i++) {
			snprintf(path, sizeof(path), "%s/%s/%s", d->host.dir,
				 others[i], hadp_map_names[id]);
			err = hadp_map_open(path, &theirs);
			if (err) {
				finding(d, "%s: %s", path, strerror(-err));
				continue;
			}
			compare_map(d, id, keys, n, others[i], &theirs);
			hadp_map_close(&theirs);
		}
		free(keys);
		keys = NULL;
		n = 0;
	}
}

void hadpd_audit(struct hadpd *d)
{
	char name[HADP_NAME_LEN];
	int fd;

	/* Whoever changes the datapath holds the host lock: audit between
	 * changes, not in the middle of one (a route written to one
	 * instance and not yet to the next). Shared, and on a file of its
	 * own: flock belongs to the open file, and on the agent's dir_fd
	 * it would convert whatever lock that holds. Never waited for: the
	 * main loop must not stall behind an operator's command; the next
	 * pass comes soon enough. */
	fd = open(d->host.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		finding(d, "%s: %s", d->host.dir, strerror(errno));
		atomic_fetch_add(&d->audit_runs, 1);
		return;
	}
	if (flock(fd, LOCK_SH | LOCK_NB)) {
		hlog(LOG_DEBUG_P, "audit: %s is locked (a change is under way); "
		     "next pass", d->host.dir);
		close(fd);
		return;
	}
	atomic_fetch_add(&d->audit_runs, 1);
	if (hadp_inst_name(&d->host, d->inst.index, name) ||
	    strcmp(name, d->inst.name)) {
		finding(d, "instance %s is no longer loaded at index %u",
			d->inst.name, d->inst.index);
	} else {
		audit_slots(d);
		audit_active(d);
		audit_pins(d);
		audit_devices(d);
		audit_config(d);
	}
	close(fd);
}
