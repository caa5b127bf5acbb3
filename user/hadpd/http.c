// SPDX-License-Identifier: GPL-2.0-only
/*
 * /livez, /readyz and /metrics (Prometheus text) over libmicrohttpd, on
 * its own polling thread. Handlers only read: the atomics of struct
 * hadpd and the pinned maps (bpf syscalls).
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <microhttpd.h>

#include "hadpd.h"
#include "names.h"

/* The main loop beats every 100 ms; alive means it beat lately. */
#define LIVE_MS		5000

static struct MHD_Daemon *daemon_;

struct buf {
	char *p;
	size_t len, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL,
			      b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && b->len + n < b->cap) {
			b->len += n;
			return;
		}
		b->cap = (b->cap + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p) {
			b->cap = b->len = 0;
			return;
		}
	}
}

static bool live(struct hadpd *d)
{
	return now_ms() - atomic_load(&d->heartbeat) < LIVE_MS;
}

/* Ready (docs/ha.md, "Readiness"): active with the active entry
 * naming this instance and its programs in the root's slots; standby
 * with the instance loaded, its bulk sync complete and the peer heard
 * lately (unless mirroring is off by --no-sync). */
bool hadpd_ready(struct hadpd *d, char *why, size_t len)
{
	struct hadp_agent_status st;
	char name[HADP_NAME_LEN];
	__u32 active, id;
	int k;

	if (!atomic_load(&d->opened)) {
		snprintf(why, len, "starting: instance not open yet");
		return false;
	}
	if (!live(d)) {
		snprintf(why, len, "main loop not running");
		return false;
	}
	if (hadp_inst_name(&d->host, d->inst.index, name) ||
	    strcmp(name, d->inst.name)) {
		snprintf(why, len, "instance %s not loaded", d->inst.name);
		return false;
	}
	if (atomic_load(&d->role) != HADP_ROLE_ACTIVE) {
		if (d->no_sync) {
			snprintf(why, len, "standby, unsynced (--no-sync), instance %s loaded",
				 d->inst.name);
			return true;
		}
		pthread_mutex_lock(&d->status_lock);
		st = d->status;
		pthread_mutex_unlock(&d->status_lock);
		if (!(st.flags & HADP_AGENT_F_REGISTERED)) {
			snprintf(why, len, "standby, not registered for sync group %s",
				 d->group);
			return false;
		}
		if (st.sync_state != HADP_MIRROR_SYNC_COMPLETE) {
			snprintf(why, len, "standby, bulk sync not complete");
			return false;
		}
		if (st.lag_ms >= d->ready_lag_ms) {
			snprintf(why, len, "standby, peer not heard for %llu ms",
				 (unsigned long long)st.lag_ms);
			return false;
		}
		snprintf(why, len, "standby, in sync (peer heard %llu ms ago)",
			 (unsigned long long)st.lag_ms);
		return true;
	}
	if (hadp_active_get(&d->host, &active) || active != d->inst.index) {
		snprintf(why, len, "active, but the root's active entry does not name %s",
			 d->inst.name);
		return false;
	}
	for (k = 0; k < HADP_KIND_MAX; k++) {
		if (hadp_slot_get(&d->host, HADP_SLOT(d->inst.index, k), &id) ||
		    !id) {
			snprintf(why, len, "active, but slot %u is empty",
				 HADP_SLOT(d->inst.index, k));
			return false;
		}
	}
	if (atomic_load(&d->attach_checked) && atomic_load(&d->unattached)) {
		snprintf(why, len, "active, but %u interfaces do not run the root (see the audit)",
			 atomic_load(&d->unattached));
		return false;
	}
	snprintf(why, len, "active, programs in the root's slots, the root on every interface");
	return true;
}

/* Prometheus: one counter or gauge with its help line. */
static void metric(struct buf *b, const char *in, const char *name,
		   const char *type, const char *help, unsigned long long v)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s %s\n%s{instance=\"%s\"} %llu\n",
		name, help, name, type, name, in, v);
}

static void sync_metrics(struct hadpd *d, struct buf *b)
{
	const char *in = d->instance;
	const struct hadp_mirror_stats *m;
	struct hadp_agent_status st;

	pthread_mutex_lock(&d->status_lock);
	st = d->status;
	pthread_mutex_unlock(&d->status_lock);
	m = &st.mirror;
	metric(b, in, "hadp_sync_registered", "gauge",
	       "1 when the agent is registered for its group in hadp.ko.",
	       !!(st.flags & HADP_AGENT_F_REGISTERED));
	metric(b, in, "hadp_sync_bulk_state", "gauge",
	       "Bulk sync as a standby: 0 none, 1 requested, 2 running, 3 complete.",
	       st.sync_state);
	metric(b, in, "hadp_sync_lag_entries", "gauge",
	       "Entries sent or queued and not acked by the peer yet.", st.lag_entries);
	metric(b, in, "hadp_sync_lag_ms", "gauge",
	       "Milliseconds since the peer was last heard.", st.lag_ms);
	metric(b, in, "hadp_sync_queue_batches", "gauge",
	       "Batches in the resend queue.", st.queued);
	metric(b, in, "hadp_sync_queue_max_batches", "gauge",
	       "Size of the resend queue.", d->queue_max);
	metric(b, in, "hadp_sync_entries_sent_total", "counter",
	       "State entries sent to the peer (first transmissions).", m->entries_sent);
	metric(b, in, "hadp_sync_packets_sent_total", "counter",
	       "Packets sent to the peer (first transmissions).", m->packets_sent);
	metric(b, in, "hadp_sync_retransmits_total", "counter",
	       "Packets sent again for want of an ack.", m->retransmits);
	metric(b, in, "hadp_sync_acked_entries_total", "counter",
	       "Entries the peer acked.", m->acked_entries);
	metric(b, in, "hadp_sync_send_errors_total", "counter",
	       "Batches hadp.ko refused to send.", m->send_errors);
	metric(b, in, "hadp_sync_dropped_entries_total", "counter",
	       "Entries given up unacked: resend queue overflow, or 30 s without an ack.", m->dropped_entries);
	metric(b, in, "hadp_sync_applied_total", "counter",
	       "Peer entries written to the maps.", m->applied);
	metric(b, in, "hadp_sync_deleted_total", "counter",
	       "Peer deletes applied.", m->deleted);
	metric(b, in, "hadp_sync_stale_total", "counter",
	       "Peer entries older than the one held or than a delete seen, ignored.", m->stale + m->tombstoned);
	metric(b, in, "hadp_sync_skipped_total", "counter",
	       "Peer messages that could not be used.", m->skipped);
	metric(b, in, "hadp_sync_apply_errors_total", "counter",
	       "Peer entries the maps refused.", m->apply_errors);
	metric(b, in, "hadp_sync_not_applied_total", "counter",
	       "Peer state received while active, not applied.", m->not_applied);
	metric(b, in, "hadp_sync_dumps_served_total", "counter",
	       "Full dumps streamed to the peer.", m->dumps_served);
	metric(b, in, "hadp_sync_dumps_received_total", "counter",
	       "Complete full dumps received.", m->dumps_received);
	metric(b, in, "hadp_sync_dump_entries_total", "counter",
	       "Entries a dump or refresh carried here.", m->dump_entries);
	metric(b, in, "hadp_sync_swept_total", "counter",
	       "Entries a complete dump showed to be zombies, deleted.", m->swept);
	metric(b, in, "hadp_sync_clashes_total", "counter",
	       "Peer entries that took a public key another connection held (that one deleted).",
	       m->rx_clashes);
	metric(b, in, "hadp_sync_unowned_total", "counter",
	       "Peer entries no local interface owns (VNI and VM address), refused.",
	       m->unowned);
	metric(b, in, "hadp_sync_adverts_refused_total", "counter",
	       "Peer adverts refused: a max-payload no entry fits in.",
	       m->adverts_refused);
	metric(b, in, "hadp_sync_lost_deltas_total", "counter",
	       "Deltas the ring lost while this agent was active (growth of events_lost), repaired.",
	       st.events_lost);
	metric(b, in, "hadp_sync_repairs_total", "counter",
	       "Repairs of lost deltas: walks that sent again what changed since the loss.",
	       m->repairs);
	metric(b, in, "hadp_sync_repair_entries_total", "counter",
	       "Entries repairs sent again.", m->repair_entries);
	metric(b, in, "hadp_sync_repair_refreshes_total", "counter",
	       "Full refreshes started because a sweep deleted while deltas were lost.",
	       st.repair_refreshes);
	metric(b, in, "hadp_sync_overruns_total", "counter",
	       "Times the agent's socket buffer overflowed.",
	       atomic_load(&d->sync_overruns));
	metric(b, in, "hadp_reconciled_total", "counter",
	       "Entries taken from the old active's maps at promotion.", st.reconciled);
	metric(b, in, "hadp_reconcile_clashes_total", "counter",
	       "NAT port clashes resolved at promotion.", st.clashes);
	metric(b, in, "hadp_reconcile_pruned_total", "counter",
	       "Entries deleted at promotion: the old active no longer held them.",
	       st.pruned);
	metric(b, in, "hadp_sync_dumps_aborted_total", "counter",
	       "Dumps served with a batch lost on the way (the peer asks again).",
	       m->dumps_aborted);
	metric(b, in, "hadp_sync_tombs_evicted_total", "counter",
	       "Delete tombstones evicted early to make room.", m->tombs_evicted);
	metric(b, in, "hadp_sync_replies_unknown_total", "counter",
	       "Replies that matched no batch in the resend queue.",
	       m->replies_unknown);
	metric(b, in, "hadp_neigh_events_total", "counter",
	       "Kernel neighbour and route events read.", atomic_load(&d->neigh_events));
	metric(b, in, "hadp_neigh_updates_total", "counter",
	       "Underlay neighbour entries rewritten.", atomic_load(&d->neigh_updates));
	metric(b, in, "hadp_neigh_errors_total", "counter",
	       "Neighbour refreshes that failed.", atomic_load(&d->neigh_errors));
	metric(b, in, "hadp_audit_runs_total", "counter",
	       "Audit passes run.", atomic_load(&d->audit_runs));
	metric(b, in, "hadp_audit_findings_total", "counter",
	       "Audit findings (each logged as a warning).", atomic_load(&d->audit_findings));
}

static const char *const ev_names[HADPD_EV_MAX] = {
	[HADPD_EV_OTHER] = "other",
	[HADP_EV_MAC_LEARNED] = "mac_learned",
	[HADP_EV_CONN_NEW] = "conn_new",
	[HADP_EV_CONN_UPDATE] = "conn_update",
	[HADP_EV_CONN_DELETE] = "conn_delete",
	[HADP_EV_CONN_TABLE_FULL] = "conn_table_full",
};


static void stats_sum(struct hadpd *d, struct hadp_stats *tot)
{
	const struct hadp_map *m = &d->inst.maps[HADP_MAP_STATS];
	struct hadp_stats s;
	void *keys = NULL;
	size_t n = 0, i, j;

	memset(tot, 0, sizeof(*tot));
	if (m->value_size != sizeof(s) || hadp_map_keys(m, &keys, &n))
		return;
	for (i = 0; i < n; i++) {
		if (hadp_map_sum_u64(m, (char *)keys + i * m->key_size, &s))
			continue;
		for (j = 0; j < sizeof(s) / 8; j++)
			((__u64 *)tot)[j] += ((__u64 *)&s)[j];
	}
	free(keys);
}

static void metrics(struct hadpd *d, struct buf *b)
{
	const char *in = d->instance;
	int role = atomic_load(&d->role);
	struct hadp_stats st;
	char why[128];
	long long fill;
	int i;

	bprintf(b, "# HELP hadp_role Role of this agent's instance: 1 for the role it has.\n"
		"# TYPE hadp_role gauge\n"
		"hadp_role{instance=\"%s\",role=\"active\"} %d\n"
		"hadp_role{instance=\"%s\",role=\"standby\"} %d\n",
		in, role == HADP_ROLE_ACTIVE, in, role != HADP_ROLE_ACTIVE);
	if (!atomic_load(&d->opened))
		return;
	bprintf(b, "# HELP hadp_ready 1 when /readyz answers 200.\n"
		"# TYPE hadp_ready gauge\n"
		"hadp_ready{instance=\"%s\"} %d\n", in, hadpd_ready(d, why, sizeof(why)));
	bprintf(b, "# HELP hadp_promotions_total Times this agent became active.\n"
		"# TYPE hadp_promotions_total counter\n"
		"hadp_promotions_total{instance=\"%s\"} %llu\n", in,
		(unsigned long long)atomic_load(&d->promotions));
	bprintf(b, "# HELP hadp_deltas_read_total Deltas read from the events ring buffer, by type.\n"
		"# TYPE hadp_deltas_read_total counter\n");
	for (i = 0; i < HADPD_EV_MAX; i++)
		bprintf(b, "hadp_deltas_read_total{instance=\"%s\",type=\"%s\"} %llu\n",
			in, ev_names[i],
			(unsigned long long)atomic_load(&d->deltas[i]));
	bprintf(b, "# HELP hadp_deltas_malformed_total Ring buffer records too short for a delta.\n"
		"# TYPE hadp_deltas_malformed_total counter\n"
		"hadp_deltas_malformed_total{instance=\"%s\"} %llu\n", in,
		(unsigned long long)atomic_load(&d->deltas_short));
	bprintf(b, "# HELP hadp_delta_hook_errors_total Deltas the delta hook refused.\n"
		"# TYPE hadp_delta_hook_errors_total counter\n"
		"hadp_delta_hook_errors_total{instance=\"%s\"} %llu\n", in,
		(unsigned long long)atomic_load(&d->hook_errors));
	stats_sum(d, &st);
	bprintf(b, "# HELP hadp_events_lost_total Deltas the datapath could not publish (ring buffer full).\n"
		"# TYPE hadp_events_lost_total counter\n"
		"hadp_events_lost_total{instance=\"%s\"} %llu\n", in,
		(unsigned long long)st.events_lost);
	bprintf(b, "# HELP hadp_events_throttled_total Deltas over an interface's event budget, not published (the refresh carries them).\n"
		"# TYPE hadp_events_throttled_total counter\n"
		"hadp_events_throttled_total{instance=\"%s\"} %llu\n", in,
		(unsigned long long)st.events_throttled);
	bprintf(b, "# HELP hadp_drops_total Packets this instance's programs dropped, by reason.\n"
		"# TYPE hadp_drops_total counter\n");
	for (i = 0; i < HADP_DROP_MAX; i++)
		if (hadp_drop_name(i))
			bprintf(b, "hadp_drops_total{instance=\"%s\",reason=\"%s\"} %llu\n",
				in, hadp_drop_name(i), (unsigned long long)st.drops[i]);
	bprintf(b, "# HELP hadp_rx_packets_total Packets taken in by this instance's programs.\n"
		"# TYPE hadp_rx_packets_total counter\n"
		"hadp_rx_packets_total{instance=\"%s\"} %llu\n", in,
		(unsigned long long)st.rx_packets);
	bprintf(b, "# HELP hadp_sweeps_total Aging passes run.\n"
		"# TYPE hadp_sweeps_total counter\n"
		"hadp_sweeps_total{instance=\"%s\"} %llu\n"
		"# HELP hadp_sweep_errors_total Aging passes that failed.\n"
		"# TYPE hadp_sweep_errors_total counter\n"
		"hadp_sweep_errors_total{instance=\"%s\"} %llu\n"
		"# HELP hadp_sweep_deleted_total Connections deleted by aging.\n"
		"# TYPE hadp_sweep_deleted_total counter\n"
		"hadp_sweep_deleted_total{instance=\"%s\"} %llu\n"
		"# HELP hadp_evicted_total Never answered connections evicted from a (nearly) full table.\n"
		"# TYPE hadp_evicted_total counter\n"
		"hadp_evicted_total{instance=\"%s\"} %llu\n",
		in, (unsigned long long)atomic_load(&d->sweeps),
		in, (unsigned long long)atomic_load(&d->sweep_errors),
		in, (unsigned long long)atomic_load(&d->aged),
		in, (unsigned long long)atomic_load(&d->evicted));
	fill = atomic_load(&d->conns_fill);
	bprintf(b, "# HELP hadp_conns_entries Entries in the conns table.\n"
		"# TYPE hadp_conns_entries gauge\n"
		"hadp_conns_entries{instance=\"%s\"} %lld\n"
		"# HELP hadp_conns_max_entries Size of the conns table.\n"
		"# TYPE hadp_conns_max_entries gauge\n"
		"hadp_conns_max_entries{instance=\"%s\"} %u\n",
		in, fill < 0 ? 0 : fill, in,
		d->inst.maps[HADP_MAP_CONNS].max_entries);
	sync_metrics(d, b);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code,
			     const char *type, char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_len, void **con_cls)
{
	struct hadpd *d = cls;
	struct buf b = { 0 };
	enum MHD_Result ret;
	char why[160];
	unsigned int code;
	bool ok;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		snprintf(why, sizeof(why), "method not allowed\n");
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     why, strlen(why));
	}
	if (!strcmp(url, "/livez")) {
		ok = live(d);
		snprintf(why, sizeof(why), "%s\n", ok ? "ok" : "main loop stalled");
		return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			     "text/plain", why, strlen(why));
	}
	if (!strcmp(url, "/readyz")) {
		char msg[200];

		ok = hadpd_ready(d, why, sizeof(why));
		snprintf(msg, sizeof(msg), "%s: %s\n", ok ? "ready" : "not ready", why);
		return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			     "text/plain", msg, strlen(msg));
	}
	if (!strcmp(url, "/metrics")) {
		metrics(d, &b);
		if (!b.p)
			return MHD_NO;
		code = MHD_HTTP_OK;
		ret = reply(c, code, "text/plain; version=0.0.4", b.p, b.len);
		free(b.p);
		return ret;
	}
	snprintf(why, sizeof(why), "not found\n");
	return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", why, strlen(why));
}

static struct sockaddr_storage listen_addr;

/* ADDR:PORT or [ADDR6]:PORT, numeric; checked before anything is loaded. */
int hadpd_http_parse(const char *spec)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	char host[256], *port;
	int err;

	if (strlen(spec) >= sizeof(host))
		goto bad;
	strcpy(host, spec);
	port = strrchr(host, ':');
	if (!port || !port[1])
		goto bad;
	*port++ = '\0';
	if (host[0] == '[') {
		size_t n = strlen(host);

		if (n < 3 || host[n - 1] != ']')
			goto bad;
		host[n - 1] = '\0';
		memmove(host, host + 1, n - 1);
	}
	err = getaddrinfo(host, port, &hints, &ai);
	if (err) {
		hlog(LOG_ERR_P, "--http %s: %s", spec, gai_strerror(err));
		return -EINVAL;
	}
	memcpy(&listen_addr, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
bad:
	hlog(LOG_ERR_P, "--http %s: want ADDR:PORT or [ADDR6]:PORT", spec);
	return -EINVAL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	hlog(LOG_ERR_P, "libmicrohttpd: %s", msg);
}

int hadpd_http_start(struct hadpd *d)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	if (listen_addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	daemon_ = MHD_start_daemon(flags, 0, NULL, NULL, handler, d,
				   MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				   MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&listen_addr,
				   MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				   MHD_OPTION_END);
	if (!daemon_) {
		hlog(LOG_ERR_P, "--http %s: could not listen", d->http);
		return -EADDRNOTAVAIL;
	}
	hlog(LOG_INFO_P, "serving /livez /readyz /metrics on %s", d->http);
	return 0;
}

void hadpd_http_stop(void)
{
	if (daemon_)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
