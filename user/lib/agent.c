// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's status map (agent.h). A plain array map with no BTF: it is
 * the agent's, not the datapath's, and readers know its one layout by
 * its value size.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "util.h"

static int status_path(char *buf, size_t len, const char *hadp_dir,
		       const char *name)
{
	int n = snprintf(buf, len, "%s/%s/" HADP_AGENT_MAP, hadp_dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The pinned map, if it has this layout; -ENOENT silently when none is
 * pinned, -EINVAL (reported) for another layout. */
static int status_open(const char *path)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
	    info.value_size != sizeof(struct hadp_agent_status) ||
	    info.max_entries != 1) {
		close(fd);
		hadp_err("%s is not an agent status map of this version", path);
		return -EINVAL;
	}
	return fd;
}

int hadp_agent_status_create(const char *hadp_dir, const char *name)
{
	char path[PATH_MAX];
	int fd, err;

	err = status_path(path, sizeof(path), hadp_dir, name);
	if (err) {
		hadp_err("%s/%s: path too long", hadp_dir, name);
		return err;
	}
	fd = status_open(path);
	if (fd >= 0 || fd != -ENOENT) {
		if (fd == -EINVAL) {
			/* An older agent's layout: this one replaces it. */
			if (unlink(path) && errno != ENOENT) {
				err = -errno;
				hadp_err("removing %s: %s", path, strerror(errno));
				return err;
			}
		} else {
			if (fd < 0)
				hadp_err("opening %s: %s", path, strerror(-fd));
			return fd;
		}
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "hadp_agent", 4,
			    sizeof(struct hadp_agent_status), 1, NULL);
	if (fd < 0) {
		err = -errno;
		hadp_err("creating the agent status map: %s", strerror(errno));
		return err;
	}
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		hadp_err("pinning %s: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

int hadp_agent_status_write(int fd, const struct hadp_agent_status *st)
{
	__u32 zero = 0;

	return bpf_map_update_elem(fd, &zero, st, BPF_ANY) ? -errno : 0;
}

int hadp_agent_status_read(const char *hadp_dir, const char *name,
			   struct hadp_agent_status *st)
{
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd, err;

	err = status_path(path, sizeof(path), hadp_dir, name);
	if (err)
		return err;
	fd = status_open(path);
	if (fd < 0) {
		if (fd != -ENOENT && fd != -EINVAL)
			hadp_err("opening %s: %s", path, strerror(-fd));
		return fd;
	}
	err = bpf_map_lookup_elem(fd, &zero, st) ? -errno : 0;
	if (err)
		hadp_err("reading %s: %s", path, strerror(-err));
	close(fd);
	return err;
}

bool hadp_agent_alive(const struct hadp_agent_status *st, __u64 now_ms)
{
	if (!st->pid || (kill(st->pid, 0) && errno == ESRCH))
		return false;
	return now_ms < st->heartbeat_ms + HADP_AGENT_STALE_MS;
}
