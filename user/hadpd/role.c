// SPDX-License-Identifier: GPL-2.0-only
/*
 * Role by lock (DESIGN.md section 3): a thread blocks on an exclusive
 * flock on --active-lockfile and never releases it; the kernel does when
 * the process dies. While it waits the instance is standby; once it has
 * the lock, promotion is one write of the root's active entry.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/file.h>

#include "hadpd.h"

static void promote(struct hadpd *d)
{
	char old[HADP_NAME_LEN] = "";
	__u32 was = HADP_NO_INSTANCE;

	/* Reconciling from the old active's pinned maps and waiting for
	 * in-flight runs come with mirroring; this slice switches. */
	if (!hadp_active_get(&d->host, &was) && was != HADP_NO_INSTANCE &&
	    hadp_inst_name(&d->host, was, old))
		old[0] = '\0';
	if (hadp_active_set(&d->host, d->inst.index)) {
		hlog(LOG_ERR_P, "promotion failed: could not write the active entry");
		atomic_store(&d->lock_failed, true);
		return;
	}
	atomic_fetch_add(&d->promotions, 1);
	atomic_store(&d->role, HADPD_ACTIVE);
	hlog(LOG_NOTICE_P, "promoted: instance %s (index %u) is active (was %s)",
	     d->inst.name, d->inst.index,
	     was == HADP_NO_INSTANCE ? "none" : old[0] ? old : "unnamed");
}

static void *lock_thread(void *arg)
{
	struct hadpd *d = arg;

	hlog(LOG_INFO_P, "standby: waiting for the active lock %s", d->lockfile);
	while (flock(d->lock_fd, LOCK_EX)) {
		if (errno == EINTR)
			continue;
		hlog(LOG_ERR_P, "locking %s: %s", d->lockfile, strerror(errno));
		atomic_store(&d->lock_failed, true);
		return NULL;
	}
	hlog(LOG_INFO_P, "got the active lock %s", d->lockfile);
	promote(d);
	return NULL;
}

int hadpd_role_start(struct hadpd *d)
{
	pthread_t t;
	int err;

	err = pthread_create(&t, NULL, lock_thread, d);
	if (err) {
		hlog(LOG_ERR_P, "starting the lock thread: %s", strerror(err));
		return -err;
	}
	pthread_detach(t);
	return 0;
}
