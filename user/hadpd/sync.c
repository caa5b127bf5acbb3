// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mirroring through hadp.ko (docs/ha.md, "The path of a delta"): the
 * engine of user/lib/mirror.h on a registered generic netlink socket.
 *
 * The active feeds it the ring buffer's deltas and serves dumps; the
 * standby applies what arrives and asks for a dump when it starts. Every
 * batch asks for a reply, which the peer's module sends only once the
 * peer agent has the packet: an ack means the state reached the agent,
 * not merely the host.
 *
 * The module or its group may come later than the agent (modprobe after
 * boot, `hadp ha add` by the orchestrator): the agent runs unsynced, says
 * so once, and tries again every few seconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "hadpd.h"
#include "ha.h"
#include "util.h"

#define RETRY_MS	2000	/* module or group missing: try again */
#define KEEPALIVE_MS	1000	/* the active speaks at least this often */
#define DUMP_RETRY_MS	10000	/* a dump not complete by then: ask again */
#define ROLE_POLL_MS	200	/* orchestrated: read the group's role */
#define DUMP_BUDGET	1024	/* entries streamed per main loop turn */
#define RCVBUF		(16 << 20)

/* A packet that arrived while a request waited for its answer. */
struct held_pkt {
	struct hadp_ha_pkt p;
	void *msgs;
};

struct hadpd_sync {
	struct hadp_ha ha;
	struct held_pkt *held;		/* run from the main loop, in order */
	size_t nheld, capheld;
	bool open;
	bool warned;
	struct hadp_mirror *m;
	struct hadp_mirror_maps maps;
	struct hadp_ha_group g;
	uint64_t retry_ms;
	uint64_t heard_ms;		/* last packet from the peer */
	uint64_t registered_ms;
	uint64_t next_keepalive_ms;
	uint64_t next_refresh_ms;
	bool refresh_due;		/* a repair asked for one */
	uint64_t dump_asked_ms;
	uint64_t dump_moved_ms;		/* a dump entry last arrived */
	uint64_t dump_entries;		/* dump entries received by then */
	uint64_t next_role_ms;
	uint64_t sent_before;		/* packets_sent at the last keepalive */
	struct hadpd_channel channel;	/* channel.c */
};

static int tx_send(void *ctx, const void *msgs, size_t len, unsigned int count,
		   __u32 opaque, __u64 *seq)
{
	struct hadpd *d = ctx;
	struct hadpd_sync *s = d->sync;
	size_t n = 0;
	int err;

	(void)count;
	if (!s->open)
		return -ENOTCONN;
	err = hadp_ha_send(&s->ha, s->g.name,
			   HADP_PKT_F_REPLY_REQ | HADP_PKT_F_TRUNC_OK, opaque,
			   msgs, len, seq, 1, &n);
	if (!err && n != 1)
		err = -EMSGSIZE;	/* the engine sizes a batch to one packet */
	return err;
}

static int on_pkt(const struct hadp_ha_pkt *p, void *data)
{
	struct hadpd *d = data;
	struct hadpd_sync *s = d->sync;
	int err;

	if (p->cmd != HADP_CMD_RECV || strcmp(p->group, s->g.name))
		return 0;
	s->heard_ms = now_ms();
	if (p->flags & HADP_PKT_F_REPLY) {
		hadp_mirror_reply(s->m, p->opaque, p->seq, now_ns());
		return 0;
	}
	err = hadp_mirror_rx(s->m, p->msgs, p->len, now_ns());
	if (err < 0)
		hlog(LOG_WARN_P, "sync: packet %llu from the peer: %s",
		     (unsigned long long)p->seq, hadp_wire_strerror(err));
	return 0;
}

/*
 * Replies and the peer's packets come on the socket that sends: those
 * that arrive while hadp_ha_send() waits for its ack are kept here, not
 * run there. Running them would re-enter the engine from inside its own
 * transmit (a reply that finishes a dump sends its end), and nest a
 * request inside one on the same socket. Never dropped: the module
 * replied to each already, the peer will not send it again.
 */
static int hold_pkt(const struct hadp_ha_pkt *p, void *data)
{
	struct hadpd *d = data;
	struct hadpd_sync *s = d->sync;
	struct held_pkt *h;

	if (s->nheld == s->capheld) {
		size_t cap = s->capheld ? 2 * s->capheld : 64;

		h = realloc(s->held, cap * sizeof(*h));
		if (!h)
			goto lost;
		s->held = h;
		s->capheld = cap;
	}
	h = &s->held[s->nheld];
	h->p = *p;
	h->msgs = malloc(p->len ? p->len : 1);
	if (!h->msgs)
		goto lost;
	memcpy(h->msgs, p->msgs, p->len);
	h->p.msgs = h->msgs;
	s->nheld++;
	return 0;
lost:
	atomic_fetch_add(&d->sync_overruns, 1);
	return 0;
}

/* From the main loop only; running one may hold more (it may send). */
static void run_held(struct hadpd *d)
{
	struct hadpd_sync *s = d->sync;
	size_t i;

	for (i = 0; i < s->nheld; i++) {
		struct held_pkt h = s->held[i];

		on_pkt(&h.p, d);
		free(h.msgs);
	}
	s->nheld = 0;
}

static int group_cb(const struct hadp_ha_group *g, void *data)
{
	*(struct hadp_ha_group *)data = *g;
	return 1;
}

/* hadp_ha_open in the sync namespace, when there is one: the group and
 * its UDP socket live where the socket that configures them was made.
 * *what says what failed, for the caller's one line. */
static int open_socket(struct hadpd *d, struct hadp_ha *h, const char **what)
{
	char path[PATH_MAX];
	int self, target, err;

	*what = "hadp.ko is not loaded";
	if (!d->sync_netns)
		return hadp_ha_open(h);
	*what = "the sync network namespace cannot be entered";
	if (strchr(d->sync_netns, '/'))
		snprintf(path, sizeof(path), "%s", d->sync_netns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", d->sync_netns);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || target < 0 || setns(target, CLONE_NEWNET)) {
		err = -errno;
		goto out;
	}
	*what = "hadp.ko is not loaded";
	err = hadp_ha_open(h);
	if (setns(self, CLONE_NEWNET)) {
		/* This thread would serve the datapath from the wrong netns. */
		hlog(LOG_ERR_P, "sync: returning from %s: %s", path, strerror(errno));
		abort();
	}
out:
	if (self >= 0)
		close(self);
	if (target >= 0)
		close(target);
	return err;
}

/* The role reported to the module; -1: the orchestrator's to set. */
static int agent_role(const struct hadpd *d)
{
	return d->orchestrated ? -1 : atomic_load(&d->role);
}

static void sync_close(struct hadpd_sync *s)
{
	if (s->open)
		hadp_ha_close(&s->ha);
	s->open = false;
}

static int engine_new(struct hadpd *d)
{
	struct hadpd_sync *s = d->sync;
	struct hadp_mirror_cfg cfg = {
		.queue_max = d->queue_max,
		.path_mtu = s->g.mtu ? s->g.mtu : 1500,
		.ipv6 = s->g.local.addr.family == AF_INET6,
		.retransmit_ns = d->retransmit_ms * 1000000ull,
		.tombs = 65536,
		.tomb_ns = 30 * 1000000000ull,
		.advert = {
			.max_count = s->g.max_coalesce ? s->g.max_coalesce : 64,
			.version_min = HADP_WIRE_VERSION,
			.version_max = HADP_WIRE_VERSION,
		},
	};
	struct hadp_mirror_transport tx = { .send = tx_send, .ctx = d };
	struct hadp_mirror_store store;

	hadp_ha_endpoint_str(&s->g.peer, cfg.peer, sizeof(cfg.peer));

	s->maps.conns = &d->inst.maps[HADP_MAP_CONNS];
	s->maps.conns_rev = &d->inst.maps[HADP_MAP_CONNS_REV];
	s->maps.ifaces = &d->inst.maps[HADP_MAP_IFACES];
	store = hadp_mirror_maps_store(&s->maps);
	s->m = hadp_mirror_new(&cfg, &tx, &store);
	if (!s->m) {
		hlog(LOG_ERR_P, "sync: mirroring engine: %s", strerror(errno));
		return -errno;
	}
	hadp_mirror_set_apply(s->m, atomic_load(&d->role) != HADP_ROLE_ACTIVE);
	return 0;
}

/* Messages from libhadp are held back: while the module or the group is
 * missing this runs every RETRY_MS, and one line says it all. */
static void sync_try_open(struct hadpd *d)
{
	struct hadpd_sync *s = d->sync;
	const char *what;
	int err, fd, buf = RCVBUF;

	s->retry_ms = now_ms() + RETRY_MS;
	hlog_lib_quiet(true);
	err = open_socket(d, &s->ha, &what);
	if (err)
		goto fail;
	s->open = true;
	s->ha.notify = hold_pkt;
	s->ha.notify_data = d;
	what = "its group does not exist (hadp ha add)";
	memset(&s->g, 0, sizeof(s->g));
	/* group_cb stops the walk at the group: a positive return */
	err = hadp_ha_group_list(&s->ha, d->group, group_cb, &s->g);
	if (err > 0)
		err = 0;
	if (!err && strcmp(s->g.name, d->group))
		err = -ENOENT;
	if (err)
		goto fail;
	what = "hadp.ko refused the registration";
	err = hadp_ha_register(&s->ha, d->group, agent_role(d));
	if (err)
		goto fail;
	hlog_lib_quiet(false);
	fd = mnl_socket_get_fd(s->ha.nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (!s->m && engine_new(d))
		goto fail_quiet;
	if (s->g.peer_max_coalesce)
		hadp_mirror_set_peer(s->m, s->g.peer_max_coalesce, 0, now_ns());
	s->warned = false;
	s->heard_ms = 0;
	s->registered_ms = now_ms();
	hlog(LOG_NOTICE_P, "sync: registered for group %s (epoch %u, mtu %u)",
	     s->g.name, s->g.tx_epoch, s->g.mtu);
	hadp_mirror_send_advert(s->m, true, now_ns());
	if (atomic_load(&d->role) != HADP_ROLE_ACTIVE)
		hadpd_sync_request_dump(d);
	return;
fail:
	hlog_lib_quiet(false);
	if (!s->warned)
		hlog(LOG_WARN_P, "sync: group %s: %s (%s%s%s); running unsynced, retrying every %u s",
		     d->group, what, strerror(-err), s->ha.extack[0] ? ": " : "",
		     s->ha.extack, RETRY_MS / 1000);
	s->warned = true;
fail_quiet:
	sync_close(s);
}

int hadpd_sync_init(struct hadpd *d)
{
	if (d->no_sync)
		return 0;
	d->sync = calloc(1, sizeof(*d->sync));
	if (!d->sync)
		return -ENOMEM;
	sync_try_open(d);
	return 0;
}

void hadpd_sync_free(struct hadpd *d)
{
	if (!d->sync)
		return;
	run_held(d);
	free(d->sync->held);
	sync_close(d->sync);
	hadp_mirror_free(d->sync->m);
	hadp_mirror_maps_release(&d->sync->maps);
	free(d->sync);
	d->sync = NULL;
}

int hadpd_sync_fd(const struct hadpd *d)
{
	return d->sync && d->sync->open ? mnl_socket_get_fd(d->sync->ha.nl) : -1;
}

void hadpd_sync_on_readable(struct hadpd *d)
{
	struct hadpd_sync *s = d->sync;
	int ret = 0;

	run_held(d);
	while (s->open && (ret = hadp_ha_recv(&s->ha, on_pkt, d, 0)) > 0)
		run_held(d);
	if (s->open && ret < 0) {
		if (ret == -ENOBUFS) {
			/* The module counted the overrun and sent no reply:
			 * the peer sends those packets again. */
			atomic_fetch_add(&d->sync_overruns, 1);
			return;
		}
		hlog(LOG_WARN_P, "sync: receive failed (%s); reconnecting",
		     strerror(-ret));
		sync_close(s);
	}
}

int hadpd_sync_event(struct hadpd *d, const struct hadp_event *ev)
{
	struct hadpd_sync *s = d->sync;

	if (!s || !s->m || atomic_load(&d->role) != HADP_ROLE_ACTIVE)
		return 0;
	return hadp_mirror_event(s->m, ev, now_ns());
}

int hadpd_sync_publish(struct hadpd *d, const struct hadp_event *ev)
{
	struct hadpd_sync *s = d->sync;

	return s && s->m ? hadp_mirror_event(s->m, ev, now_ns()) : 0;
}

int hadpd_sync_request_dump(struct hadpd *d)
{
	struct hadpd_sync *s = d->sync;

	if (!s || !s->m)
		return 0;
	s->dump_asked_ms = now_ms();
	hlog(LOG_INFO_P, "sync: asking the peer for a full dump");
	return hadp_mirror_request_dump(s->m, now_ns());
}

/* Orchestrated: the role the module's group holds, set by `hadp ha role`. */
static void follow_group_role(struct hadpd *d)
{
	struct hadpd_sync *s = d->sync;
	struct hadp_ha_group g;
	int role = atomic_load(&d->role);

	if (now_ms() < s->next_role_ms)
		return;
	s->next_role_ms = now_ms() + ROLE_POLL_MS;
	__u32 active;

	if (hadp_ha_group_list(&s->ha, s->g.name, group_cb, &g) < 0)
		return;
	if (g.role == HADP_ROLE_ACTIVE && role != HADP_ROLE_ACTIVE) {
		atomic_store(&d->promote_due, true);
	} else if (g.role != HADP_ROLE_ACTIVE) {
		/* Also a standby whose instance the entry still names: the
		 * first instance loaded on a host starts active. */
		if (role == HADP_ROLE_ACTIVE ||
		    (!hadp_active_get(&d->host, &active) && active == d->inst.index))
			atomic_store(&d->demote_due, true);
	}
}

void hadpd_sync_tick(struct hadpd *d)
{
	struct hadpd_sync *s = d->sync;
	const struct hadp_mirror_stats *st;
	bool active = atomic_load(&d->role) == HADP_ROLE_ACTIVE;
	uint64_t ms = now_ms();
	__u64 ns = now_ns();

	if (!s)
		return;
	run_held(d);
	if (!s->open) {
		if (ms >= s->retry_ms)
			sync_try_open(d);
		if (!s->open)
			return;
	}
	if (d->orchestrated)
		follow_group_role(d);
	hadpd_channel_check(&s->channel, &s->ha, s->g.name, ms);
	if (active) {
		hadp_mirror_flush(s->m, ns);
		if (!atomic_load(&d->stopping)) {
			if ((s->refresh_due ||
			     (d->refresh_interval && ms >= s->next_refresh_ms)) &&
			    hadp_mirror_refresh(s->m, ns) != -EBUSY) {
				s->refresh_due = false;
				s->next_refresh_ms = ms + d->refresh_interval * 1000ull;
			}
			hadp_mirror_dump_step(s->m, DUMP_BUDGET, ns);
		}
		/* Silence would look like lag to the standby. */
		st = hadp_mirror_stats(s->m);
		if (ms >= s->next_keepalive_ms) {
			if (st->packets_sent == s->sent_before)
				hadp_mirror_send_advert(s->m, false, ns);
			s->sent_before = st->packets_sent;
			s->next_keepalive_ms = ms + KEEPALIVE_MS;
		}
	} else {
		/* Asked and never begun (the peer was not there, or the
		 * request was lost), or begun and silent (its end was lost,
		 * or the peer restarted): ask again. A dump still streaming
		 * is never cut short, however long the table: asking again
		 * would start it over. */
		enum hadp_mirror_sync ss = hadp_mirror_sync_state(s->m);

		st = hadp_mirror_stats(s->m);
		if (st->dump_entries != s->dump_entries) {
			s->dump_entries = st->dump_entries;
			s->dump_moved_ms = ms;
		}
		if ((ss == HADP_MIRROR_SYNC_NONE || ss == HADP_MIRROR_SYNC_REQUESTED) &&
		    ms >= s->dump_asked_ms + DUMP_RETRY_MS)
			hadpd_sync_request_dump(d);
		else if (ss == HADP_MIRROR_SYNC_RUNNING &&
			 ms >= s->dump_asked_ms + DUMP_RETRY_MS &&
			 ms >= s->dump_moved_ms + DUMP_RETRY_MS)
			hadpd_sync_request_dump(d);
	}
	hadp_mirror_poll(s->m, ns);
}

/*
 * Work the next turn must not sleep before: packets held while sending
 * (their replies may free a dump's window; they woke no poll, they were
 * read already), or a dump whose window has room. Sleeping there paced a
 * bulk sync by the loop's timeout, not by the peer's acks.
 */
bool hadpd_sync_pending(const struct hadpd *d)
{
	const struct hadpd_sync *s = d->sync;

	if (!s || !s->m || !s->open)
		return false;
	return s->nheld || (atomic_load(&d->role) == HADP_ROLE_ACTIVE &&
			    !atomic_load(&d->stopping) && hadp_mirror_walk_ready(s->m));
}

void hadpd_sync_repair(struct hadpd *d, uint64_t since_ns, bool refresh)
{
	struct hadpd_sync *s = d->sync;

	if (!s || !s->m)
		return;
	hadp_mirror_repair(s->m, since_ns);
	s->refresh_due |= refresh;
}

void hadpd_sync_role_changed(struct hadpd *d)
{
	struct hadpd_sync *s = d->sync;
	bool active = atomic_load(&d->role) == HADP_ROLE_ACTIVE;

	if (!s || !s->m)
		return;
	hadp_mirror_set_apply(s->m, !active);
	s->next_refresh_ms = now_ms() + d->refresh_interval * 1000ull;
	if (s->open && !d->orchestrated)
		hadp_ha_register(&s->ha, s->g.name, agent_role(d));
	if (!active)
		hadpd_sync_request_dump(d);
}

void hadpd_sync_maps_written(struct hadpd *d)
{
	struct hadpd_sync *s = d->sync;

	if (s && s->m && atomic_load(&d->role) != HADP_ROLE_ACTIVE)
		hadp_mirror_set_apply(s->m, true);
}

int hadpd_sync_drain(struct hadpd *d, unsigned int timeout_ms)
{
	struct hadpd_sync *s = d->sync;
	uint64_t end = now_ms() + timeout_ms;
	__u64 dropped;

	if (!s || !s->m || !s->open)
		return -ENOTCONN;
	dropped = hadp_mirror_stats(s->m)->dropped_entries;
	hadp_mirror_flush(s->m, now_ns());
	while (hadp_mirror_lag(s->m) && now_ms() < end) {
		atomic_store(&d->heartbeat, now_ms());
		run_held(d);
		hadp_ha_recv(&s->ha, on_pkt, d, 20);
		run_held(d);
		hadp_mirror_poll(s->m, now_ns());
	}
	/* Given up is not acked. */
	if (hadp_mirror_lag(s->m) ||
	    hadp_mirror_stats(s->m)->dropped_entries != dropped)
		return -ETIMEDOUT;
	return 0;
}

void hadpd_sync_status(struct hadpd *d, struct hadp_agent_status *st)
{
	struct hadpd_sync *s = d->sync;

	if (!s)
		return;
	snprintf(st->group, sizeof(st->group), "%s", d->group);
	if (s->open)
		st->flags |= HADP_AGENT_F_REGISTERED;
	if (!s->m)
		return;
	/* Bulk sync is a standby's: an active asks for nothing. */
	st->sync_state = atomic_load(&d->role) == HADP_ROLE_ACTIVE ?
			 HADP_MIRROR_SYNC_NONE : hadp_mirror_sync_state(s->m);
	st->lag_entries = hadp_mirror_lag(s->m);
	st->queued = hadp_mirror_queued(s->m);
	st->lag_ms = now_ms() - (s->heard_ms ? s->heard_ms : s->registered_ms);
	st->mirror = *hadp_mirror_stats(s->m);
}
