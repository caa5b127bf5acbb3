// SPDX-License-Identifier: GPL-2.0-only
/*
 * Role (docs/ha.md, "Roles" and "Promotion"). By lock: a thread blocks
 * on an exclusive flock on --active-lockfile and never releases it; the
 * kernel does when the process dies. While it waits the instance is standby; once it has
 * the lock it asks the main loop to promote. Orchestrated (a pair on two
 * hosts): the module group's role, set with `hadp ha role`, decides.
 *
 * Promotion, in this order:
 *   1. take from the old active's pinned maps what the mirror had not
 *      carried yet, and drop what it no longer holds (same host);
 *   2. every connection counts as just seen: its age is the time since
 *      the mirror last wrote it, not since its last packet;
 *   3. write the active entry: one write, both directions at once;
 *   4. wait until no run of the old active's programs is in flight;
 *   5. take again what those last runs created;
 *   6. report the role to the module, start aging and sending deltas.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/file.h>

#include "hadpd.h"

/* The instance active before us on this host, opened; -ENOENT if none
 * (first start, or it was us) or it is gone. */
static int open_old(struct hadpd *d, struct hadp_inst *old, __u32 *was)
{
	int err;

	*was = HADP_NO_INSTANCE;
	err = hadp_active_get(&d->host, was);
	if (err)
		return err;
	if (*was == HADP_NO_INSTANCE || *was == d->inst.index)
		return -ENOENT;
	err = hadp_inst_open(&d->host, *was, old);
	if (err)
		hlog(LOG_WARN_P, "promotion: the old active (index %u) cannot be opened; no reconcile",
		     *was);
	return err;
}

int hadpd_promote(struct hadpd *d)
{
	struct hadp_inst old;
	__u64 before = d->reconciled;
	bool have_old;
	__u32 was;
	int err;

	for (err = 0; err < HADP_MAP_MAX; err++)
		old.maps[err].fd = -1;
	have_old = !open_old(d, &old, &was);
	if (have_old) {
		err = hadpd_reconcile(d, &old, true);
		atomic_store(&d->heartbeat, now_ms());
		if (err)
			hlog(LOG_WARN_P, "promotion: reconcile from %s: %s", old.name,
			     strerror(-err));
	}
	err = hadpd_touch_conns(d);
	atomic_store(&d->heartbeat, now_ms());
	if (err)
		hlog(LOG_WARN_P, "promotion: marking connections as seen: %s",
		     strerror(-err));
	/* The mirror and the reconcile wrote entries the datapath never
	 * counted: the quotas start from what the table holds. */
	hadp_conn_counts_rebuild(&d->inst);
	if (hadp_active_set(&d->host, d->inst.index)) {
		hlog(LOG_ERR_P, "promotion failed: could not write the active entry");
		if (have_old)
			hadp_inst_close(&old);
		hadpd_sync_maps_written(d);
		return -EIO;
	}
	if (have_old) {
		if (!hadp_wait_prog_runs()) {
			err = hadpd_reconcile(d, &old, false);
			if (err)
				hlog(LOG_WARN_P, "promotion: second reconcile from %s: %s",
				     old.name, strerror(-err));
			hadp_conn_counts_rebuild(&d->inst);
		}
		hadp_inst_close(&old);
	}
	atomic_fetch_add(&d->promotions, 1);
	d->promoted_ms = now_ms();
	atomic_store(&d->role, HADP_ROLE_ACTIVE);
	hadpd_sync_role_changed(d);
	hlog(LOG_NOTICE_P, "promoted: instance %s (index %u) is active (was %s); %llu entries reconciled, %llu clashes",
	     d->inst.name, d->inst.index,
	     was == HADP_NO_INSTANCE ? "none" : was == d->inst.index ? "itself" :
	     have_old ? old.name : "unreadable",
	     (unsigned long long)(d->reconciled - before),
	     (unsigned long long)d->clashes);
	return 0;
}

/*
 * Orchestrated only: the other host took over. The fast path here stops
 * (VM side drops and counts, uplink passes to the kernel): a standby
 * makes no state of its own, or it would clash with the active's.
 */
void hadpd_demote(struct hadpd *d)
{
	bool was_active = atomic_load(&d->role) == HADP_ROLE_ACTIVE;

	if (hadp_active_set(&d->host, HADP_NO_INSTANCE))
		hlog(LOG_ERR_P, "demotion: could not clear the active entry");
	atomic_store(&d->role, HADP_ROLE_STANDBY);
	if (was_active)
		hadpd_sync_role_changed(d);
	hlog(LOG_NOTICE_P, "%s: instance %s is standby (role set by the orchestrator); the fast path here stops",
	     was_active ? "demoted" : "not active", d->inst.name);
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
	atomic_store(&d->promote_due, true);
	hadpd_wake(d);
	return NULL;
}

int hadpd_role_start(struct hadpd *d)
{
	pthread_t t;
	int err;

	if (d->orchestrated) {
		hlog(LOG_INFO_P, "standby: the role comes from group %s (hadp ha role)",
		     d->group);
		return 0;
	}
	err = pthread_create(&t, NULL, lock_thread, d);
	if (err) {
		hlog(LOG_ERR_P, "starting the lock thread: %s", strerror(err));
		return -err;
	}
	pthread_detach(t);
	return 0;
}
