// SPDX-License-Identifier: GPL-2.0-only
/*
 * hadpd --instance NAME (--active-lockfile PATH | --role-by-orchestrator)
 *       [--bpffs DIR] [sync options] [--http ADDR:PORT] [-v]   (hadpd.8)
 *
 * Start: under the host lock, adopt the pinned instance, or load it when
 * it is not there; a restart never touches the fast path. Then the role
 * thread waits for the active lock (role.c), the HTTP server answers
 * probes (http.c), and the main loop does everything else on one thread:
 * the delta ring buffer into the mirror (sync.c), the peer's packets out
 * of hadp.ko, promotion, aging while active, neighbour events (neigh.c),
 * the audit (audit.c) and the status map that `hadp ha show` reads.
 *
 * SIGTERM/SIGINT: a standby just stops. An active hands over: it stops
 * aging and serving dumps, sends what the ring buffer still holds, waits
 * for the peer's acks, and only then closes the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hadpd.h"
#include "parse.h"
#include "uapi/linux/hadp.h"
#include "util.h"

static bool verbose_log;
static atomic_bool lib_quiet;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void vhlog(int level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level >= LOG_DEBUG_P && !verbose_log)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "<%d>%s\n", level, msg);
	pthread_mutex_unlock(&log_lock);
}

void hlog(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vhlog(level, fmt, ap);
	va_end(ap);
}

/* libhadp's (and through it libbpf's and libxdp's) messages. */
static void lib_sink(enum hadp_log_level level, const char *msg)
{
	if (atomic_load(&lib_quiet))
		return;
	hlog(level == HADP_LOG_ERR ? LOG_ERR_P :
	     level == HADP_LOG_WARN ? LOG_WARN_P : LOG_DEBUG_P, "%s", msg);
}

void hlog_init(bool verbose)
{
	verbose_log = verbose;
	setvbuf(stderr, NULL, _IOLBF, 0);
	hadp_set_log(lib_sink);
	hadp_libs_log_init();
}

void hlog_lib_quiet(bool quiet)
{
	atomic_store(&lib_quiet, quiet);
}

/* CLOCK_MONOTONIC: the clock of hadp_conn.last_seen (bpf_ktime_get_ns). */
uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

void hadpd_wake(struct hadpd *d)
{
	uint64_t one = 1;

	/* A failure means the counter is saturated: a wake-up is pending. */
	if (d->wake_fd >= 0 && write(d->wake_fd, &one, sizeof(one)) < 0)
		return;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hadpd --instance NAME (--active-lockfile PATH | --role-by-orchestrator)\n"
		"             [--bpffs DIR] [--group NAME | --no-sync] [--sync-netns NAME]\n"
		"             [--refresh-interval S] [--retransmit-ms MS] [--queue BATCHES]\n"
		"             [--ready-lag-ms MS] [--handover-ms MS] [--http ADDR:PORT]\n"
		"             [--age-interval S] [--audit-interval S] [-v]\n");
}

/* A number option: one line naming it and its range when it is bad. */
static int num_opt(const char *name, const char *s, long min, long max,
		   unsigned int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "hadpd: invalid --%s \"%s\" (%ld..%ld)\n", name, s,
			min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_args(struct hadpd *d, int argc, char **argv)
{
	enum { O_GROUP = 256, O_NOSYNC, O_NETNS, O_REFRESH, O_RETX, O_QUEUE,
	       O_LAG, O_HANDOVER, O_AUDIT, O_ORCH };
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'I' },
		{ "active-lockfile", required_argument, NULL, 'l' },
		{ "role-by-orchestrator", no_argument, NULL, O_ORCH },
		{ "bpffs", required_argument, NULL, 'b' },
		{ "http", required_argument, NULL, 'H' },
		{ "age-interval", required_argument, NULL, 'a' },
		{ "group", required_argument, NULL, O_GROUP },
		{ "no-sync", no_argument, NULL, O_NOSYNC },
		{ "sync-netns", required_argument, NULL, O_NETNS },
		{ "refresh-interval", required_argument, NULL, O_REFRESH },
		{ "retransmit-ms", required_argument, NULL, O_RETX },
		{ "queue", required_argument, NULL, O_QUEUE },
		{ "ready-lag-ms", required_argument, NULL, O_LAG },
		{ "handover-ms", required_argument, NULL, O_HANDOVER },
		{ "audit-interval", required_argument, NULL, O_AUDIT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *bpffs = NULL;
	int c, bad = 0;

	d->age_interval = 5;
	d->refresh_interval = 60;
	d->retransmit_ms = 200;
	d->queue_max = 4096;
	d->ready_lag_ms = 3000;
	d->handover_ms = 5000;
	d->audit_interval = 10;
	while (!bad && (c = getopt_long(argc, argv, "I:l:b:H:a:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'I': d->instance = optarg; break;
		case 'l': d->lockfile = optarg; break;
		case O_ORCH: d->orchestrated = true; break;
		case 'b': bpffs = optarg; break;
		case 'H': d->http = optarg; break;
		case 'a': bad = num_opt("age-interval", optarg, 1, 86400, &d->age_interval); break;
		case O_GROUP: d->group = optarg; break;
		case O_NOSYNC: d->no_sync = true; break;
		case O_NETNS: d->sync_netns = optarg; break;
		case O_REFRESH: bad = num_opt("refresh-interval", optarg, 0, 86400, &d->refresh_interval); break;
		case O_RETX: bad = num_opt("retransmit-ms", optarg, 10, 60000, &d->retransmit_ms); break;
		case O_QUEUE: bad = num_opt("queue", optarg, 16, 1 << 20, &d->queue_max); break;
		case O_LAG: bad = num_opt("ready-lag-ms", optarg, 100, 3600000, &d->ready_lag_ms); break;
		case O_HANDOVER: bad = num_opt("handover-ms", optarg, 0, 600000, &d->handover_ms); break;
		case O_AUDIT: bad = num_opt("audit-interval", optarg, 0, 86400, &d->audit_interval); break;
		case 'v': d->verbose = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (bad)
		return -1;
	if (optind < argc) {
		fprintf(stderr, "hadpd: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (!d->instance || (!d->lockfile && !d->orchestrated)) {
		fprintf(stderr, "hadpd: --instance and --active-lockfile (or --role-by-orchestrator) are required\n");
		usage(stderr);
		return -1;
	}
	if (!hadp_name_valid(d->instance)) {
		fprintf(stderr, "hadpd: invalid --instance \"%s\" (1-15 of A-Z a-z 0-9 _ -, not starting with _)\n",
			d->instance);
		return -1;
	}
	if (d->lockfile && d->orchestrated) {
		fprintf(stderr, "hadpd: --active-lockfile and --role-by-orchestrator exclude each other\n");
		return -1;
	}
	if (d->no_sync && (d->group || d->sync_netns || d->orchestrated)) {
		fprintf(stderr, "hadpd: --no-sync excludes --group, --sync-netns and --role-by-orchestrator\n");
		return -1;
	}
	if (!d->group)
		d->group = d->instance;
	if (strlen(d->group) >= HADP_GROUP_NAME_LEN) {
		fprintf(stderr, "hadpd: invalid --group \"%s\" (at most %d characters)\n",
			d->group, HADP_GROUP_NAME_LEN - 1);
		return -1;
	}
	if (hadp_bpffs_resolve(bpffs, d->bpffs, sizeof(d->bpffs)))
		return -1;
	return 0;
}

/* Under the host lock: adopt the pinned instance, else load it. */
static int start_instance(struct hadpd *d)
{
	struct hadp_load_opts o;
	__u32 index;
	int err;

	err = hadp_host_open(&d->host, d->bpffs, true);
	err = err ?: hadp_host_lock(&d->host);
	if (err)
		return err;
	err = hadp_root_open(&d->host);
	if (!err)
		err = hadp_inst_find(&d->host, d->instance, &index);
	if (!err) {
		hlog(LOG_NOTICE_P, "adopting the pinned instance %s (index %u): "
		     "the fast path is not touched", d->instance, index);
	} else if (err == -ENOENT) {
		hadp_load_opts_init(&o);
		err = hadp_inst_load(&d->host, d->instance, &o, &index);
		if (err)
			goto out;
		hlog(LOG_NOTICE_P, "loaded instance %s (index %u), pinned under %s/%s",
		     d->instance, index, d->host.dir, d->instance);
		err = hadp_root_open(&d->host);	/* a no-op when open */
		if (err)
			goto out;
	} else {
		goto out;
	}
	err = hadp_inst_open(&d->host, index, &d->inst);
out:
	/* The host lock serves creation only; the maps stay open. */
	flock(d->host.dir_fd, LOCK_UN);
	d->host.locked = false;
	return err;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct hadpd *d = ctx;
	const struct hadp_event *ev = data;
	__u32 type;

	if (len < sizeof(ev->type)) {
		atomic_fetch_add(&d->deltas_short, 1);
		return 0;
	}
	type = ev->type;
	atomic_fetch_add(&d->deltas[type < HADPD_EV_MAX ? type : HADPD_EV_OTHER], 1);
	hlog(LOG_DEBUG_P, "delta type %u ifindex %u version %llu", type,
	     ev->ifindex, (unsigned long long)(len >= 16 ? ev->version : 0));
	if (type == HADP_EV_CONN_TABLE_FULL)
		atomic_store(&d->evict_due, true);
	if (len < sizeof(*ev))
		return 0;	/* a record with no payload (table full) */
	if (d->delta_hook && d->delta_hook(d->delta_ctx, ev, len) < 0)
		atomic_fetch_add(&d->hook_errors, 1);
	return 0;
}

static void age(struct hadpd *d)
{
	struct hadp_sweep res = { 0 };

	if (hadp_inst_sweep(&d->host, &d->inst, HADP_SWEEP_AGE, 0, &res)) {
		atomic_fetch_add(&d->sweep_errors, 1);
		return;
	}
	atomic_fetch_add(&d->sweeps, 1);
	atomic_fetch_add(&d->swept, res.scanned);
	atomic_fetch_add(&d->aged, res.deleted);
	hlog(res.deleted ? LOG_INFO_P : LOG_DEBUG_P,
	     "aging: %llu connections scanned, %llu deleted",
	     (unsigned long long)res.scanned, (unsigned long long)res.deleted);
	/* Seven eighths full after aging: room is made before it is out. */
	if ((res.scanned - res.deleted) * 8 >=
	    7ull * d->inst.maps[HADP_MAP_CONNS].max_entries)
		atomic_store(&d->evict_due, true);
}

/* The table is (nearly) full: the never answered go, each delete
 * published like the datapath's, so the standby follows. */
static void evict(struct hadpd *d)
{
	struct hadp_sweep res = { 0 };

	if (hadp_inst_sweep(&d->host, &d->inst, HADP_SWEEP_EVICT, 0, &res)) {
		atomic_fetch_add(&d->sweep_errors, 1);
		return;
	}
	atomic_fetch_add(&d->evicted, res.deleted);
	hlog(LOG_NOTICE_P, "connection table full: %llu never answered connections evicted of %llu",
	     (unsigned long long)res.deleted, (unsigned long long)res.scanned);
}

/* The delta hook: the active mirrors every delta to its peer. */
static int sync_hook(void *ctx, const struct hadp_event *ev, size_t len)
{
	(void)len;
	return hadpd_sync_event(ctx, ev);
}

/* The status the CLI reads (pinned map) and the HTTP threads use. */
static void publish_status(struct hadpd *d)
{
	struct hadp_agent_status st = {
		.pid = getpid(),
		.role = atomic_load(&d->role),
		.started_ms = d->started_ms,
		.heartbeat_ms = now_ms(),
		.promoted_ms = d->promoted_ms,
		.promotions = atomic_load(&d->promotions),
		.reconciled = d->reconciled,
		.clashes = d->clashes,
		.pruned = d->pruned,
		.neigh_updates = atomic_load(&d->neigh_updates),
		.audit_runs = atomic_load(&d->audit_runs),
		.audit_findings = atomic_load(&d->audit_findings),
		.events_lost = d->lost_seen,
		.repair_refreshes = d->repair_refreshes,
	};
	char why[160];

	if (d->orchestrated)
		st.flags |= HADP_AGENT_F_ORCHESTRATED;
	if (atomic_load(&d->stopping))
		st.flags |= HADP_AGENT_F_STOPPING;
	hadpd_sync_status(d, &st);
	pthread_mutex_lock(&d->status_lock);
	d->status = st;
	pthread_mutex_unlock(&d->status_lock);
	if (hadpd_ready(d, why, sizeof(why)))
		st.flags |= HADP_AGENT_F_READY;
	pthread_mutex_lock(&d->status_lock);
	d->status.flags = st.flags;
	pthread_mutex_unlock(&d->status_lock);
	if (d->status_fd >= 0)
		hadp_agent_status_write(d->status_fd, &st);
}

/* SIGTERM on the active (docs/ha.md, "Planned handover"). */
static void hand_over(struct hadpd *d, struct ring_buffer *rb)
{
	int err;

	atomic_store(&d->stopping, true);
	ring_buffer__consume(rb);
	err = hadpd_sync_drain(d, d->handover_ms);
	if (err == -ENOTCONN)
		hlog(LOG_NOTICE_P, "planned handover: no peer to flush to (unsynced)");
	else if (err)
		hlog(LOG_WARN_P, "planned handover: the peer did not ack everything within %u ms; the standby takes the rest from the pinned maps",
		     d->handover_ms);
	else
		hlog(LOG_NOTICE_P, "planned handover: every delta acked by the peer");
	/* What the datapath made while we waited: published, if the
	 * peer takes it before the lock goes, so much the better. */
	ring_buffer__consume(rb);
	hadpd_sync_drain(d, 200);
	publish_status(d);
}

int main(int argc, char **argv)
{
	static struct hadpd d;
	struct ring_buffer *rb = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd pfd[4];
	sigset_t sigs, old;
	uint64_t next_age = 0, next_audit = 0, next_neigh = 0, next_status = 0;
	uint64_t next_evict = 0;
	int err, ret = 1, n, sfd;

	d.lock_fd = d.status_fd = d.wake_fd = d.neigh_fd = -1;
	atomic_init(&d.role, HADP_ROLE_STANDBY);
	pthread_mutex_init(&d.status_lock, NULL);
	hadp_host_init(&d.host);
	for (err = 0; err < HADP_MAP_MAX; err++)
		d.inst.maps[err].fd = -1;
	if (parse_args(&d, argc, argv))
		return 1;
	hlog_init(d.verbose);
	if (d.http && hadpd_http_parse(d.http))
		return 1;
	d.started_ms = now_ms();

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Threads started from here on never take the stop signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);

	atomic_store(&d.heartbeat, now_ms());
	d.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d.wake_fd < 0) {
		hlog(LOG_ERR_P, "eventfd: %s", strerror(errno));
		goto out;
	}
	/* Listen first: a busy address fails before anything is loaded;
	 * until the instance is open /readyz says not ready. */
	if (d.http && hadpd_http_start(&d))
		goto out;
	if (start_instance(&d))
		goto out;
	d.status_fd = hadp_agent_status_create(d.host.dir, d.inst.name);
	if (d.status_fd < 0)
		hlog(LOG_WARN_P, "no status map: hadp ha show will not see this agent");
	atomic_store(&d.opened, true);
	rb = ring_buffer__new(d.inst.maps[HADP_MAP_EVENTS].fd, on_event, &d, NULL);
	if (!rb) {
		hlog(LOG_ERR_P, "opening the events ring buffer of %s: %s",
		     d.inst.name, strerror(errno));
		goto out;
	}
	d.delta_hook = sync_hook;
	d.delta_ctx = &d;
	if (hadpd_sync_init(&d))
		goto out;
	if (hadpd_neigh_open(&d) < 0)
		hlog(LOG_WARN_P, "not following neighbour events: `hadp neigh sync` keeps the underlay next hops current");
	if (d.lockfile) {
		d.lock_fd = open(d.lockfile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (d.lock_fd < 0) {
			hlog(LOG_ERR_P, "opening %s: %s", d.lockfile, strerror(errno));
			goto out;
		}
	}
	if (hadpd_role_start(&d))
		goto out;
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	while (!stop_sig) {
		atomic_store(&d.heartbeat, now_ms());
		n = 0;
		pfd[n++] = (struct pollfd){ .fd = ring_buffer__epoll_fd(rb), .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = d.wake_fd, .events = POLLIN };
		sfd = hadpd_sync_fd(&d);
		if (sfd >= 0)
			pfd[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		if (d.neigh_fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = d.neigh_fd, .events = POLLIN };
		if (poll(pfd, n, hadpd_sync_pending(&d) ? 0 : 50) < 0 && errno != EINTR) {
			hlog(LOG_ERR_P, "poll: %s", strerror(errno));
			goto out;
		}
		if (pfd[1].revents) {
			uint64_t v;

			/* Nothing to read is a spurious wake-up: fine. */
			if (read(d.wake_fd, &v, sizeof(v)) < 0)
				v = 0;
		}
		err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR) {
			hlog(LOG_ERR_P, "reading the events ring buffer: %s",
			     strerror(-err));
			goto out;
		}
		hadpd_loss_check(&d);
		if (sfd >= 0)
			hadpd_sync_on_readable(&d);
		if (d.neigh_fd >= 0)
			hadpd_neigh_on_readable(&d);
		if (atomic_load(&d.lock_failed))
			goto out;
		if (atomic_exchange(&d.promote_due, false) &&
		    atomic_load(&d.role) != HADP_ROLE_ACTIVE && hadpd_promote(&d)) {
			if (!d.orchestrated)
				goto out;	/* holding the lock, unable to serve */
		}
		if (atomic_exchange(&d.demote_due, false))
			hadpd_demote(&d);
		hadpd_sync_tick(&d);
		if (atomic_load(&d.role) == HADP_ROLE_ACTIVE && now_ms() >= next_age) {
			age(&d);
			next_age = now_ms() + d.age_interval * 1000ull;
		}
		/* A scan of the whole table: once a second at most. */
		if (atomic_load(&d.role) == HADP_ROLE_ACTIVE && now_ms() >= next_evict &&
		    atomic_exchange(&d.evict_due, false)) {
			evict(&d);
			next_evict = now_ms() + 1000;
		}
		if (d.neigh_dirty && now_ms() >= next_neigh) {
			d.neigh_dirty = false;
			hadpd_neigh_refresh(&d);
			next_neigh = now_ms() + 200;
		}
		if (now_ms() >= next_audit) {
			/* A walk of the table: not on every /metrics scrape. */
			atomic_store(&d.conns_fill,
				     hadp_map_count(&d.inst.maps[HADP_MAP_CONNS]));
			if (d.audit_interval)
				hadpd_audit(&d);
			next_audit = now_ms() + (d.audit_interval ?: 10) * 1000ull;
		}
		if (now_ms() >= next_status) {
			publish_status(&d);
			next_status = now_ms() + 100;
		}
	}
	if (atomic_load(&d.role) == HADP_ROLE_ACTIVE) {
		hlog(LOG_NOTICE_P, "%s: planned handover: instance %s flushes its deltas, then releases the active lock",
		     strsignal(stop_sig), d.inst.name);
		hand_over(&d, rb);
	} else {
		ring_buffer__consume(rb);
		hlog(LOG_NOTICE_P, "%s: standby %s stops", strsignal(stop_sig),
		     d.inst.name);
	}
	ret = 0;
out:
	hadpd_http_stop();
	/* Closing the lock file releases the active lock. */
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	ring_buffer__free(rb);
	hadpd_neigh_close(&d);
	hadpd_sync_free(&d);
	if (d.status_fd >= 0) {
		publish_status(&d);
		close(d.status_fd);
	}
	if (d.wake_fd >= 0)
		close(d.wake_fd);
	hadp_inst_close(&d.inst);
	hadp_host_close(&d.host);
	return ret;
}
