/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Connection records: the two keys of a connection, its protocol state,
 * and the deltas every creation, change and deletion publishes for the HA
 * agent. Used by the NAT paths and by the sweep (aging, flush).
 */
#ifndef HADP_BPF_CONN_H
#define HADP_BPF_CONN_H

#include "dp.h"
#include "quota.h"

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_ACK		0x10
#define ICMP_ECHOREPLY_	0
#define ICMP_ECHO_	8
#define NSEC		1000000000ULL

/*
 * The version a new connection starts at: the clock in units of 65.5 us,
 * not 1. A key deleted and opened again must rank above its earlier
 * incarnation, or a standby still holding that one (or its tombstone)
 * would take the new one for a late, older update. An incarnation makes
 * a handful of changes, so any reopening later than a few hundred
 * microseconds ranks above it; versions compare wrap-safe (RFC 1982
 * style) over 2^31 units, about 39 hours.
 */
static __always_inline __u32 conn_first_version(void)
{
	__u32 v = bpf_ktime_get_ns() >> 16;

	return v ? v : 1;
}

/* The public-side key of a connection, derived from its VM-side key and
 * record: what a packet from outside carries. */
static __always_inline void conn_rkey(struct hadp_conn_key *rk,
				      const struct hadp_conn_key *k,
				      const struct hadp_conn *c)
{
	rk->vni = 0;
	rk->src = k->dst;
	rk->dst = c->nat_ip;
	rk->proto = k->proto;
	rk->pad[0] = rk->pad[1] = rk->pad[2] = 0;
	if (k->proto == IPPROTO_ICMP) {
		rk->sport = c->nat_port;	/* identifier */
		rk->dport = 0;
	} else {
		rk->sport = k->dport;
		rk->dport = c->nat_port;
	}
}

/*
 * Publish a delta. Creations and updates spend a token of the interface's
 * event budget (per CPU): one interface cannot fill the ring the others'
 * deltas go through. What the budget refuses is counted, and reaches the
 * standby with the periodic refresh. Deletes are never refused: a lost
 * one leaves a connection on the standby that the active no longer has.
 */
static __always_inline void conn_publish(__u32 type,
					 const struct hadp_conn_key *k,
					 const struct hadp_conn *c,
					 struct hadp_stats *st)
{
	struct hadp_config *cfg = config_get();
	struct hadp_ratelimit *rl;
	struct hadp_event *ev;

	if (type != HADP_EV_CONN_DELETE && cfg && cfg->event_rate) {
		rl = ratelimit_of(c->ifindex);
		if (!rl || !bucket_take(&rl->events, cfg->event_rate,
					cfg->event_burst)) {
			if (st)
				st->events_throttled++;
			return;
		}
	}
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		if (st)
			st->events_lost++;
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->ifindex = c->ifindex;
	ev->version = c->version;
	ev->conn.key = *k;
	conn_rkey(&ev->conn.rkey, k, c);
	ev->conn.val = *c;
	bpf_ringbuf_submit(ev, 0);
}

/* bpf_ktime_get_ns() in ms, as a connection's opened_ms keeps it. */
static __always_inline __u32 conn_ms(__u64 now)
{
	return now / 1000000;
}

/* A full table is counted by the caller and signalled here, at most once
 * a second per CPU so the signal cannot crowd out the deltas. */
static __always_inline void conn_table_full(struct hadp_stats *st)
{
	struct hadp_ratelimit *rl;
	struct hadp_event *ev;
	__u64 now;

	rl = ratelimit_of(0);
	now = bpf_ktime_get_ns();
	if (!rl || now - rl->full_signalled_ns < NSEC)
		return;
	rl->full_signalled_ns = now;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		st->events_lost++;
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = HADP_EV_CONN_TABLE_FULL;
	bpf_ringbuf_submit(ev, 0);
}

/* A TCP segment that opens a connection: SYN alone. */
static __always_inline bool tcp_opens(__u8 tcp_flags)
{
	return (tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == TCP_SYN;
}

/*
 * Advance the protocol state for a packet seen @from_vm (or from outside)
 * and refresh last_seen. Returns true when the state changed: the caller
 * then publishes an update. The original direction is the VM's unless
 * the connection was opened from outside (to a VIP). Within an
 * incarnation the state only moves forward (CLOSED is terminal: RST and
 * FIN alternating flip nothing); only a new SYN opens the 4-tuple again,
 * and not twice within HADP_REOPEN_MS. So no stream of packets makes an
 * entry publish more than five deltas a second.
 */
static __always_inline bool conn_track(struct hadp_conn *c, __u8 proto,
				       __u8 tcp_flags, bool from_vm, __u64 now)
{
	bool orig = from_vm == !(c->flags & HADP_CONN_INBOUND);
	__u8 old = c->state, state = old, flags = c->flags;

	if (proto == IPPROTO_TCP) {
		if (orig && tcp_opens(tcp_flags) && old >= HADP_CONN_CLOSING &&
		    (__u32)(conn_ms(now) - c->opened_ms) >= HADP_REOPEN_MS) {
			/* The same 4-tuple opened again. */
			state = HADP_CONN_OPENING;
			flags &= ~(HADP_CONN_FIN_OUT | HADP_CONN_FIN_IN);
			c->opened_ms = conn_ms(now);
		} else if (old == HADP_CONN_CLOSED) {
			/* Terminal. */
		} else if (tcp_flags & TCP_RST) {
			state = HADP_CONN_CLOSED;
		} else if (tcp_flags & TCP_FIN) {
			flags |= from_vm ? HADP_CONN_FIN_OUT : HADP_CONN_FIN_IN;
			state = HADP_CONN_CLOSING;
		} else if (!orig && old == HADP_CONN_OPENING) {
			state = HADP_CONN_ESTABLISHED;
		}
	} else if (!orig && old == HADP_CONN_OPENING) {
		state = HADP_CONN_ESTABLISHED;
	}
	if (state == old && flags == c->flags) {
		/* One write a second at most: the record is shared by CPUs. */
		if (now - c->last_seen >= NSEC)
			c->last_seen = now;
		return false;
	}
	c->state = state;
	c->flags = flags;
	c->last_seen = now;
	__sync_fetch_and_add(&c->version, 1);
	return true;
}

/* Seconds a connection may stay idle in its state. */
static __always_inline __u32 conn_timeout(const struct hadp_conn_key *k,
					  const struct hadp_conn *c,
					  const __u32 *to)
{
	if (k->proto == IPPROTO_TCP) {
		if (c->state == HADP_CONN_ESTABLISHED)
			return to[HADP_TO_TCP_ESTABLISHED];
		if (c->state == HADP_CONN_OPENING)
			return to[HADP_TO_TCP_OPENING];
		return to[HADP_TO_TCP_CLOSING];
	}
	/* Never answered: what a flood of new flows leaves behind. */
	if (c->state == HADP_CONN_OPENING)
		return to[HADP_TO_UNREPLIED];
	if (k->proto == IPPROTO_UDP)
		return to[HADP_TO_UDP];
	return to[HADP_TO_ICMP];
}

/* Delete both keys of a connection and publish it. */
static __always_inline bool conn_delete(const struct hadp_conn_key *k,
					struct hadp_conn *c)
{
	/* Copies first: @k and @c may be the map's own memory. */
	struct hadp_conn_key key = *k, rk;
	struct hadp_conn gone = *c;

	conn_rkey(&rk, &key, &gone);
	if (bpf_map_delete_elem(&conns, &key))
		return false;	/* another CPU got there first */
	bpf_map_delete_elem(&conns_rev, &rk);
	quota_put(gone.ifindex, gone.flags);
	gone.version++;
	conn_publish(HADP_EV_CONN_DELETE, &key, &gone, stats_of(gone.ifindex));
	return true;
}

#endif /* HADP_BPF_CONN_H */
