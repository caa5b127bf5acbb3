// SPDX-License-Identifier: GPL-2.0-only
/*
 * hadpd --instance NAME --active-lockfile PATH [--bpffs DIR]
 *       [--http ADDR:PORT] [--age-interval SECONDS] [-v]
 *
 * Start: under the host lock, adopt the pinned instance, or load it when
 * it is not there; a restart never touches the fast path. Then the role
 * thread waits for the active lock (role.c), the HTTP server answers
 * probes (http.c), and the main loop reads the delta ring buffer and,
 * while active, runs the aging pass. SIGTERM/SIGINT end it; an active
 * agent's exit closes the lock, and a waiting standby takes over.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "hadpd.h"
#include "util.h"

static bool verbose_log;
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

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hadpd --instance NAME --active-lockfile PATH [--bpffs DIR]\n"
		"             [--http ADDR:PORT] [--age-interval SECONDS] [-v]\n");
}

static int parse_args(struct hadpd *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'I' },
		{ "active-lockfile", required_argument, NULL, 'l' },
		{ "bpffs", required_argument, NULL, 'b' },
		{ "http", required_argument, NULL, 'H' },
		{ "age-interval", required_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *bpffs = NULL;
	char *end;
	long v;
	int c;

	d->age_interval = 5;
	while ((c = getopt_long(argc, argv, "I:l:b:H:a:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'I': d->instance = optarg; break;
		case 'l': d->lockfile = optarg; break;
		case 'b': bpffs = optarg; break;
		case 'H': d->http = optarg; break;
		case 'a':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 86400) {
				fprintf(stderr, "hadpd: invalid --age-interval \"%s\" (1..86400 seconds)\n",
					optarg);
				return -1;
			}
			d->age_interval = v;
			break;
		case 'v': d->verbose = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hadpd: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (!d->instance || !d->lockfile) {
		fprintf(stderr, "hadpd: --instance and --active-lockfile are required\n");
		usage(stderr);
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
}

int main(int argc, char **argv)
{
	static struct hadpd d;
	struct ring_buffer *rb = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t sigs, old;
	uint64_t next_age = 0;
	int err, ret = 1;

	d.lock_fd = -1;
	hadp_host_init(&d.host);
	for (err = 0; err < HADP_MAP_MAX; err++)
		d.inst.maps[err].fd = -1;
	if (parse_args(&d, argc, argv))
		return 1;
	hlog_init(d.verbose);
	if (d.http && hadpd_http_parse(d.http))
		return 1;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Threads started from here on never take the stop signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);

	atomic_store(&d.heartbeat, now_ms());
	/* Listen first: a busy address fails before anything is loaded;
	 * until the instance is open /readyz says not ready. */
	if (d.http && hadpd_http_start(&d))
		goto out;
	if (start_instance(&d))
		goto out;
	atomic_store(&d.opened, true);
	rb = ring_buffer__new(d.inst.maps[HADP_MAP_EVENTS].fd, on_event, &d, NULL);
	if (!rb) {
		hlog(LOG_ERR_P, "opening the events ring buffer of %s: %s",
		     d.inst.name, strerror(errno));
		goto out;
	}
	d.lock_fd = open(d.lockfile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d.lock_fd < 0) {
		hlog(LOG_ERR_P, "opening %s: %s", d.lockfile, strerror(errno));
		goto out;
	}
	if (hadpd_role_start(&d))
		goto out;
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	while (!stop_sig) {
		atomic_store(&d.heartbeat, now_ms());
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR) {
			hlog(LOG_ERR_P, "reading the events ring buffer: %s",
			     strerror(-err));
			goto out;
		}
		if (atomic_load(&d.lock_failed))
			goto out;
		if (atomic_load(&d.role) == HADPD_ACTIVE && now_ms() >= next_age) {
			age(&d);
			next_age = now_ms() + d.age_interval * 1000ull;
		}
	}
	/* Drain what the datapath already published. */
	ring_buffer__consume(rb);
	if (atomic_load(&d.role) == HADPD_ACTIVE)
		hlog(LOG_NOTICE_P, "%s: planned handover: instance %s releases the "
		     "active lock (flushing deltas and waiting for the peer's acks "
		     "come with mirroring)", strsignal(stop_sig), d.inst.name);
	else
		hlog(LOG_NOTICE_P, "%s: standby %s stops", strsignal(stop_sig),
		     d.inst.name);
	ret = 0;
out:
	hadpd_http_stop();
	ring_buffer__free(rb);
	/* Closing the lock file releases the active lock. */
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	hadp_inst_close(&d.inst);
	hadp_host_close(&d.host);
	return ret;
}
