/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hadpd, the HA agent of one datapath instance (docs/ha.md; where it
 * sits among the parts: docs/architecture.md): adopt or load the
 * instance, role by the active lock or the orchestrator, promotion,
 * mirroring through hadp.ko (sync.c), aging while active, neighbour
 * following, the audit, the status map and /livez /readyz /metrics.
 */
#ifndef HADPD_H
#define HADPD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>

#include "agent.h"
#include "uapi/linux/hadp.h"
#include "dp.h"

struct mnl_socket;

/* Delta types counted in metrics; index HADPD_EV_OTHER for unknown. */
#define HADPD_EV_MAX	(HADP_EV_CONN_TABLE_FULL + 1)
#define HADPD_EV_OTHER	0

/*
 * Called for every delta read from the instance's "events" ring buffer,
 * after it is counted, on the main thread. This is where mirroring to the
 * peer plugs in. A negative return is logged and counted, never fatal.
 */
typedef int (*hadpd_delta_fn)(void *ctx, const struct hadp_event *ev,
			      size_t len);

struct hadpd {
	/* options */
	const char *instance;
	const char *lockfile;
	char bpffs[PATH_MAX];
	const char *http;
	unsigned int age_interval;	/* seconds */
	bool verbose;
	bool orchestrated;		/* role by `hadp ha role`, no lock */
	bool no_sync;
	const char *group;		/* the module's sync group */
	const char *sync_netns;		/* where the group lives */
	unsigned int refresh_interval;	/* seconds, 0: never */
	unsigned int retransmit_ms;
	unsigned int queue_max;		/* batches */
	unsigned int ready_lag_ms;
	unsigned int handover_ms;	/* SIGTERM: wait this long for acks */

	struct hadp_host host;
	struct hadp_inst inst;
	int lock_fd;
	int wake_fd;			/* eventfd: the main loop has work */

	hadpd_delta_fn delta_hook;
	void *delta_ctx;
	struct hadpd_sync *sync;	/* NULL: --no-sync */
	int status_fd;			/* the pinned agent status map */
	uint64_t started_ms;

	/* status as the main loop last saw it, for the HTTP threads */
	pthread_mutex_t status_lock;
	struct hadp_agent_status status;

	/* shared with the lock thread and the HTTP threads */
	atomic_int role;		/* HADP_ROLE_ACTIVE or _STANDBY */
	atomic_bool opened;		/* host and inst open: maps readable */
	atomic_bool lock_failed;
	atomic_uint_fast64_t heartbeat;		/* CLOCK_MONOTONIC, ms */
	atomic_uint_fast64_t deltas[HADPD_EV_MAX];
	atomic_uint_fast64_t deltas_short;	/* shorter than a header */
	atomic_uint_fast64_t hook_errors;
	atomic_uint_fast64_t sweeps;
	atomic_uint_fast64_t sweep_errors;
	atomic_uint_fast64_t swept;		/* entries scanned */
	atomic_uint_fast64_t aged;		/* entries deleted */
	atomic_uint_fast64_t evicted;		/* never answered, table near full */
	atomic_bool evict_due;		/* the table is full or nearly */
	atomic_uint_fast64_t promotions;
	atomic_bool promote_due;	/* lock taken, or the orchestrator said so */
	atomic_bool demote_due;		/* orchestrated only */
	atomic_bool stopping;		/* planned handover */
	atomic_uint_fast64_t sync_overruns;
	uint64_t promoted_ms;
	uint64_t reconciled, clashes, pruned;

	/* loss.c: the main loop's watch over the ring's losses */
	bool loss_known;		/* lost_read is a baseline */
	uint64_t loss_next_ms;
	uint64_t loss_checked_ns;	/* when lost_read was read */
	uint64_t lost_read;		/* events_lost summed, then */
	uint64_t lost_seen;		/* its growth while active */
	uint64_t repair_refreshes;	/* refreshes for lost deletes */

	/* neigh.c: the underlay neighbour map follows the kernel's */
	int neigh_fd;				/* rtnetlink, -1 when closed */
	struct mnl_socket *neigh_nl;
	bool neigh_dirty;			/* refresh at next turn */
	atomic_uint_fast64_t neigh_events;
	atomic_uint_fast64_t neigh_updates;	/* entries rewritten */
	atomic_uint_fast64_t neigh_errors;

	/* audit.c */
	unsigned int audit_interval;		/* seconds */
	atomic_uint_fast64_t audit_runs;
	atomic_uint_fast64_t audit_findings;
	atomic_uint unattached;			/* devices not running the root */
	atomic_bool attach_checked;		/* unattached is known */
	atomic_llong conns_fill;		/* entries in conns, -1: unknown */
};

/* Logging to stderr with systemd level prefixes (<3> err ... <7> debug). */
#define LOG_ERR_P	3
#define LOG_WARN_P	4
#define LOG_NOTICE_P	5
#define LOG_INFO_P	6
#define LOG_DEBUG_P	7
void hlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hlog_init(bool verbose);
/* Drop libhadp's messages (a retry loop that already said what fails). */
void hlog_lib_quiet(bool quiet);

uint64_t now_ms(void);
uint64_t now_ns(void);

/* Wake the main loop (from another thread). */
void hadpd_wake(struct hadpd *d);

/* role.c: the lock thread sets promote_due when it gets the lock; the
 * main loop then promotes (reconcile, switch, wait, reconcile). */
int hadpd_role_start(struct hadpd *d);
int hadpd_promote(struct hadpd *d);
void hadpd_demote(struct hadpd *d);

/* reconcile.c: take from the instance old what this one lacks or holds
 * older; prune: delete what old no longer has (before the switch only). */
int hadpd_reconcile(struct hadpd *d, const struct hadp_inst *old, bool prune);
/* Every connection counts as just seen (a promoted standby's view). */
int hadpd_touch_conns(struct hadpd *d);

/* sync.c: mirroring through hadp.ko. */
struct hadpd_sync;
int hadpd_sync_init(struct hadpd *d);
void hadpd_sync_free(struct hadpd *d);
int hadpd_sync_fd(const struct hadpd *d);		/* -1: none */
void hadpd_sync_on_readable(struct hadpd *d);
int hadpd_sync_event(struct hadpd *d, const struct hadp_event *ev);
/* Whatever the role: a change the agent made itself (a clash resolved). */
int hadpd_sync_publish(struct hadpd *d, const struct hadp_event *ev);
int hadpd_sync_request_dump(struct hadpd *d);
void hadpd_sync_tick(struct hadpd *d);
void hadpd_sync_role_changed(struct hadpd *d);
/* The maps were written behind the engine (a promotion that failed after
 * its reconcile): a standby's copy of them is read afresh. */
bool hadpd_sync_pending(const struct hadpd *d);
void hadpd_sync_maps_written(struct hadpd *d);
/* Send what is pending and wait up to timeout_ms for the peer's acks. */
int hadpd_sync_drain(struct hadpd *d, unsigned int timeout_ms);
/* Resend what changed since since_ns (hadp_mirror_repair); refresh: and
 * then a full refresh, as soon as no dump runs. */
void hadpd_sync_repair(struct hadpd *d, uint64_t since_ns, bool refresh);
void hadpd_sync_status(struct hadpd *d, struct hadp_agent_status *st);

/* channel.c: the module refusing the peer's packets (no session for
 * their epoch), logged; called every turn, polls the group itself. */
struct hadp_ha;
struct hadpd_channel {
	uint64_t next_ms, since_ms, warned_ms;
	uint64_t refused, accepted, refused_since;	/* counters last read */
	bool polled, refusing;
};
void hadpd_channel_check(struct hadpd_channel *c, struct hadp_ha *ha,
			 const char *group, uint64_t now_ms);

/* neigh.c: subscribe to the kernel's neighbour and route events (the fd
 * to poll, or -errno); on_readable reads them and marks a refresh due;
 * refresh rewrites this instance's "neighs" entries that changed. */
int hadpd_neigh_open(struct hadpd *d);
void hadpd_neigh_on_readable(struct hadpd *d);
void hadpd_neigh_refresh(struct hadpd *d);
void hadpd_neigh_close(struct hadpd *d);

/* loss.c: as the active, after each drain of the ring: when the
 * datapath's events_lost grew, repair (every 100 ms at most). */
void hadpd_loss_check(struct hadpd *d);

/* audit.c: one pass; findings are logged (warning) and counted. */
void hadpd_audit(struct hadpd *d);

/* http.c. ready: what /readyz answers, why says why. */
bool hadpd_ready(struct hadpd *d, char *why, size_t len);
int hadpd_http_parse(const char *spec);
int hadpd_http_start(struct hadpd *d);
void hadpd_http_stop(void);

#endif /* HADPD_H */
