// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "ha.h"
#include "nl.h"
#include "util.h"

static const char *const stat_names[__HADP_STAT_MAX] = {
	[HADP_STAT_TX_PACKETS]		= "tx_packets",
	[HADP_STAT_TX_MESSAGES]		= "tx_messages",
	[HADP_STAT_TX_BYTES]		= "tx_bytes",
	[HADP_STAT_TX_ERRORS]		= "tx_errors",
	[HADP_STAT_RX_PACKETS]		= "rx_packets",
	[HADP_STAT_RX_MESSAGES]		= "rx_messages",
	[HADP_STAT_RX_BYTES]		= "rx_bytes",
	[HADP_STAT_DELIVERED]		= "delivered",
	[HADP_STAT_REPLIED]		= "replied",
	[HADP_STAT_REPLIES_RECEIVED]	= "replies_received",
	[HADP_STAT_DROP_BAD_MAC]	= "bad_mac",
	[HADP_STAT_DROP_REPLAYED]	= "replayed",
	[HADP_STAT_DROP_MALFORMED]	= "malformed",
	[HADP_STAT_DROP_UNKNOWN_PEER]	= "unknown_peer",
	[HADP_STAT_DROP_OVER_LIMIT]	= "over_limit",
	[HADP_STAT_DROP_NO_LISTENER]	= "no_listener",
	[HADP_STAT_DROP_OVERRUN]	= "listener_overrun",
	[HADP_STAT_DROP_NOMEM]		= "nomem",
	[HADP_STAT_NO_REPLY]		= "no_reply",
	[HADP_STAT_MONITOR_COPIES]	= "monitor_copies",
	[HADP_STAT_DROP_NO_SESSION]	= "no_session",
	[HADP_STAT_CHALLENGES]		= "challenges",
	[HADP_STAT_SESSIONS]		= "sessions",
};

const char *hadp_ha_stat_name(unsigned int stat)
{
	return stat < __HADP_STAT_MAX && stat_names[stat] ? stat_names[stat] :
							    "unknown";
}

const char *hadp_ha_role_name(__u32 role)
{
	switch (role) {
	case HADP_ROLE_ACTIVE:
		return "active";
	case HADP_ROLE_STANDBY:
		return "standby";
	default:
		return "unknown";
	}
}

const char *hadp_ha_flags_str(__u32 flags, char *buf, size_t size)
{
	static const char *const names[] = {
		"reply-req", "trunc-ok", "reply", "truncated",
	};
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < 32; i++) {
		if (!(flags & (1u << i)))
			continue;
		if (i < ARRAY_SIZE(names))
			off += snprintf(buf + off, off < size ? size - off : 0,
					"%s%s", off ? "," : "", names[i]);
		else
			off += snprintf(buf + off, off < size ? size - off : 0,
					"%s0x%x", off ? "," : "", 1u << i);
	}
	if (!off)
		snprintf(buf, size, "-");
	return buf;
}

const char *hadp_ha_endpoint_str(const struct hadp_endpoint *e, char *buf,
				 size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (e->addr.family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", fmt_ipv6(e->addr.v6, a), e->port);
	else if (e->addr.family == AF_INET)
		snprintf(buf, size, "%s:%u", fmt_ipv4(e->addr.v4, a), e->port);
	else
		snprintf(buf, size, "-");
	return buf;
}

/* ---- talking to the kernel ----------------------------------------------- */

struct req {
	struct hadp_ha *h;
	int (*cb)(const struct nlmsghdr *nlh, void *data);
	void *data;
};

static int cb_error(const struct nlmsghdr *nlh, void *arg)
{
	struct req *r = arg;

	return hadp_nl_ack(nlh, r->h->extack, sizeof(r->h->extack));
}

/* mnl_cb_run2 runs its own defaults only for types past the control
 * array: a dump's end needs saying. */
static int cb_done(const struct nlmsghdr *nlh, void *arg)
{
	return MNL_CB_STOP;
}

static int cb_noop(const struct nlmsghdr *nlh, void *arg)
{
	return MNL_CB_OK;
}

static void parse_pkt(const struct nlmsghdr *nlh, struct hadp_ha_pkt *p);

static int cb_data(const struct nlmsghdr *nlh, void *arg)
{
	const struct genlmsghdr *gh = mnl_nlmsg_get_payload(nlh);
	struct req *r = arg;
	struct hadp_ha_pkt p;

	if (nlh->nlmsg_type == r->h->family &&
	    (gh->cmd == HADP_CMD_RECV || gh->cmd == HADP_CMD_MONITOR)) {
		if (!r->h->notify)
			return MNL_CB_OK;
		parse_pkt(nlh, &p);
		return r->h->notify(&p, r->h->notify_data) ? MNL_CB_STOP :
							     MNL_CB_OK;
	}
	return r->cb ? r->cb(nlh, r->data) : MNL_CB_OK;
}

static struct nlmsghdr *req_init(struct hadp_ha *h, char *buf, __u8 cmd,
				 __u16 flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *gh;

	nlh->nlmsg_type = h->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++h->seq;
	gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
	gh->cmd = cmd;
	gh->version = HADP_FAMILY_VERSION;
	return nlh;
}

/* Send nlh and run the answers to the ack or the dump's end. */
static int talk(struct hadp_ha *h, struct nlmsghdr *nlh,
		int (*cb)(const struct nlmsghdr *, void *), void *data)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_NOOP] = cb_noop,
		[NLMSG_ERROR] = cb_error,
		[NLMSG_DONE] = cb_done,
		[NLMSG_OVERRUN] = cb_noop,
	};
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	struct req r = { h, cb, data };
	__u32 seq = nlh->nlmsg_seq;
	int ret;

	h->extack[0] = '\0';
	if (mnl_socket_sendto(h->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ret = mnl_socket_recvfrom(h->nl, buf, sizeof(buf));
		if (ret < 0)
			return -errno;
		ret = mnl_cb_run2(buf, ret, seq, h->portid, cb_data, &r, ctl,
				  NLMSG_MIN_TYPE);
	} while (ret > MNL_CB_STOP);
	if (ret < 0)
		return errno ? -errno : -EIO;
	return 0;
}

/* Report a failed request: "what: the kernel's message". */
static int fail(struct hadp_ha *h, const char *what, int err)
{
	if (!h->extack[0])
		snprintf(h->extack, sizeof(h->extack), "%s", strerror(-err));
	hadp_err("%s: %s", what, h->extack);
	return err;
}

/* ---- family ------------------------------------------------------------- */

static int cb_mcgrp(const struct nlattr *grp, struct hadp_ha *h)
{
	const struct nlattr *a;
	const char *name = NULL;
	__u32 id = 0;

	mnl_attr_for_each_nested(a, grp) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_NAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			name = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_ID &&
			 mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			id = mnl_attr_get_u32(a);
	}
	if (name && !strcmp(name, HADP_MCGRP_MONITOR))
		h->mcgrp_monitor = id;
	return 0;
}

static int cb_family(const struct nlmsghdr *nlh, void *data)
{
	struct hadp_ha *h = data;
	const struct nlattr *a, *g;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case CTRL_ATTR_FAMILY_ID:
			if (mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
				h->family = mnl_attr_get_u16(a);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			mnl_attr_for_each_nested(g, a)
				cb_mcgrp(g, h);
			break;
		}
	}
	return MNL_CB_OK;
}

int hadp_ha_open(struct hadp_ha *h)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int one = 1, err;

	memset(h, 0, sizeof(*h));
	h->seq = time(NULL);
	h->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!h->nl) {
		err = -errno;
		hadp_err("generic netlink socket: %s", strerror(errno));
		return err;
	}
	mnl_socket_setsockopt(h->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(h->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(h->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		hadp_err("generic netlink socket: %s", strerror(errno));
		goto err_close;
	}
	h->portid = mnl_socket_get_portid(h->nl);

	h->family = GENL_ID_CTRL;
	nlh = req_init(h, buf, CTRL_CMD_GETFAMILY, 0);
	((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, HADP_FAMILY_NAME);
	h->family = 0;
	nlh->nlmsg_type = GENL_ID_CTRL;
	err = talk(h, nlh, cb_family, h);
	if (!err && !h->family)
		err = -ENOENT;
	if (err == -ENOENT) {
		hadp_err("hadp.ko is not loaded (modprobe hadp)");
		goto err_close;
	}
	if (err) {
		fail(h, "resolving the hadp netlink family", err);
		goto err_close;
	}
	return 0;

err_close:
	mnl_socket_close(h->nl);
	h->nl = NULL;
	return err;
}

void hadp_ha_close(struct hadp_ha *h)
{
	if (h->nl)
		mnl_socket_close(h->nl);
	h->nl = NULL;
}

/* ---- groups ------------------------------------------------------------- */

static void put_endpoint(struct nlmsghdr *nlh, int type,
			 const struct hadp_endpoint *e)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	if (e->addr.family == AF_INET)
		mnl_attr_put(nlh, HADP_A_ENDPOINT_ADDR4, 4, &e->addr.v4);
	else
		mnl_attr_put(nlh, HADP_A_ENDPOINT_ADDR6, 16, e->addr.v6);
	mnl_attr_put_u16(nlh, HADP_A_ENDPOINT_PORT, e->port);
	mnl_attr_nest_end(nlh, nest);
}

static void put_cfg(struct nlmsghdr *nlh, const struct hadp_ha_cfg *c)
{
	mnl_attr_put_strz(nlh, HADP_A_GROUP_NAME, c->name);
	if (c->local)
		put_endpoint(nlh, HADP_A_GROUP_LOCAL, c->local);
	if (c->peer)
		put_endpoint(nlh, HADP_A_GROUP_PEER, c->peer);
	if (c->key)
		mnl_attr_put(nlh, HADP_A_GROUP_KEY, HADP_KEY_LEN, c->key);
	if (c->max_coalesce)
		mnl_attr_put_u32(nlh, HADP_A_GROUP_MAX_COALESCE,
				 c->max_coalesce);
	if (c->peer_max_coalesce)
		mnl_attr_put_u32(nlh, HADP_A_GROUP_PEER_MAX_COALESCE,
				 c->peer_max_coalesce);
	if (c->mtu)
		mnl_attr_put_u32(nlh, HADP_A_GROUP_MTU, c->mtu);
	if (c->role >= 0)
		mnl_attr_put_u32(nlh, HADP_A_GROUP_ROLE, c->role);
}

int hadp_ha_group_new(struct hadp_ha *h, const struct hadp_ha_cfg *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = req_init(h, buf, HADP_CMD_GROUP_NEW, 0);
	int err;

	put_cfg(nlh, c);
	err = talk(h, nlh, NULL, NULL);
	explicit_bzero(buf, sizeof(buf));	/* the key */
	return err ? fail(h, "ha add", err) : 0;
}

int hadp_ha_group_set(struct hadp_ha *h, const struct hadp_ha_cfg *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = req_init(h, buf, HADP_CMD_GROUP_SET, 0);
	int err;

	put_cfg(nlh, c);
	err = talk(h, nlh, NULL, NULL);
	explicit_bzero(buf, sizeof(buf));	/* the key */
	return err ? fail(h, "ha set", err) : 0;
}

int hadp_ha_group_del(struct hadp_ha *h, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = req_init(h, buf, HADP_CMD_GROUP_DEL, 0);
	int err;

	mnl_attr_put_strz(nlh, HADP_A_GROUP_NAME, name);
	err = talk(h, nlh, NULL, NULL);
	return err ? fail(h, "ha del", err) : 0;
}

static void get_endpoint(const struct nlattr *nest, struct hadp_endpoint *e)
{
	const struct nlattr *a;

	memset(e, 0, sizeof(*e));
	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case HADP_A_ENDPOINT_ADDR4:
			if (mnl_attr_get_payload_len(a) == 4) {
				e->addr.family = AF_INET;
				memcpy(&e->addr.v4, mnl_attr_get_payload(a), 4);
			}
			break;
		case HADP_A_ENDPOINT_ADDR6:
			if (mnl_attr_get_payload_len(a) == 16) {
				e->addr.family = AF_INET6;
				memcpy(e->addr.v6, mnl_attr_get_payload(a), 16);
			}
			break;
		case HADP_A_ENDPOINT_PORT:
			if (mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
				e->port = mnl_attr_get_u16(a);
			break;
		}
	}
}

static __u64 get_u64(const struct nlattr *a)
{
	return mnl_attr_validate(a, MNL_TYPE_U64) >= 0 ? mnl_attr_get_u64(a) : 0;
}

static __u32 get_u32(const struct nlattr *a)
{
	return mnl_attr_validate(a, MNL_TYPE_U32) >= 0 ? mnl_attr_get_u32(a) : 0;
}

struct list_ctx {
	int (*cb)(const struct hadp_ha_group *g, void *data);
	void *data;
	int ret;
};

static int cb_group(const struct nlmsghdr *nlh, void *data)
{
	struct list_ctx *l = data;
	struct hadp_ha_group g;
	const struct nlattr *a, *s;

	memset(&g, 0, sizeof(g));
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case HADP_A_GROUP_NAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				snprintf(g.name, sizeof(g.name), "%s",
					 mnl_attr_get_str(a));
			break;
		case HADP_A_GROUP_LOCAL:
			get_endpoint(a, &g.local);
			break;
		case HADP_A_GROUP_PEER:
			get_endpoint(a, &g.peer);
			break;
		case HADP_A_GROUP_MAX_COALESCE:
			g.max_coalesce = get_u32(a);
			break;
		case HADP_A_GROUP_PEER_MAX_COALESCE:
			g.peer_max_coalesce = get_u32(a);
			break;
		case HADP_A_GROUP_MTU:
			g.mtu = get_u32(a);
			break;
		case HADP_A_GROUP_ROLE:
			g.role = get_u32(a);
			break;
		case HADP_A_GROUP_AGENT_PORTID:
			g.agent_portid = get_u32(a);
			break;
		case HADP_A_GROUP_TX_EPOCH:
			g.tx_epoch = get_u32(a);
			break;
		case HADP_A_GROUP_RX_EPOCH:
			g.rx_epoch = get_u32(a);
			break;
		case HADP_A_GROUP_TX_SEQ:
			g.tx_seq = get_u64(a);
			break;
		case HADP_A_GROUP_RX_SEQ:
			g.rx_seq = get_u64(a);
			break;
		case HADP_A_GROUP_STATS:
			mnl_attr_for_each_nested(s, a) {
				unsigned int t = mnl_attr_get_type(s);

				if (t >= 1 && t <= __HADP_STAT_MAX)
					g.stats[t - 1] = get_u64(s);
			}
			break;
		}
	}
	/* Stopping here would leave the rest of the answer (a dump's
	 * DONE, a request's ack) on the socket for the next request to
	 * trip over: read it all, call no more. */
	if (!l->ret)
		l->ret = l->cb(&g, l->data);
	return MNL_CB_OK;
}

int hadp_ha_group_list(struct hadp_ha *h, const char *name,
		       int (*cb)(const struct hadp_ha_group *g, void *data),
		       void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct list_ctx l = { cb, data, 0 };
	int err;

	nlh = req_init(h, buf, HADP_CMD_GROUP_GET, name ? 0 : NLM_F_DUMP);
	if (name)
		mnl_attr_put_strz(nlh, HADP_A_GROUP_NAME, name);
	err = talk(h, nlh, cb_group, &l);
	if (err)
		return fail(h, "ha show", err);
	return l.ret;
}

int hadp_ha_register(struct hadp_ha *h, const char *name, int role)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = req_init(h, buf, HADP_CMD_REGISTER, 0);
	int err;

	mnl_attr_put_strz(nlh, HADP_A_GROUP_NAME, name);
	if (role >= 0)
		mnl_attr_put_u32(nlh, HADP_A_GROUP_ROLE, role);
	err = talk(h, nlh, NULL, NULL);
	return err ? fail(h, "ha register", err) : 0;
}

struct send_ctx {
	__u64 *seqs;
	size_t max, n;
};

static int cb_send(const struct nlmsghdr *nlh, void *data)
{
	struct send_ctx *s = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == HADP_A_PKT_SEQ) {
			if (s->n < s->max)
				s->seqs[s->n] = get_u64(a);
			s->n++;
		}
	return MNL_CB_OK;
}

int hadp_ha_send(struct hadp_ha *h, const char *name, __u32 flags,
		 __u32 opaque, const void *msgs, size_t len, __u64 *seqs,
		 size_t max, size_t *n)
{
	static char buf[HADP_SEND_MAX + 4096];
	struct send_ctx s = { seqs, max, 0 };
	struct nlmsghdr *nlh;
	int err;

	if (len > HADP_SEND_MAX) {
		hadp_err("ha send: %zu bytes of messages, at most %d", len,
			 HADP_SEND_MAX);
		return -EMSGSIZE;
	}
	nlh = req_init(h, buf, HADP_CMD_SEND, 0);
	mnl_attr_put_strz(nlh, HADP_A_PKT_GROUP, name);
	mnl_attr_put_u32(nlh, HADP_A_PKT_FLAGS, flags);
	mnl_attr_put_u32(nlh, HADP_A_PKT_OPAQUE, opaque);
	mnl_attr_put(nlh, HADP_A_PKT_MSGS, len, msgs);
	err = talk(h, nlh, cb_send, &s);
	if (err)
		return fail(h, "ha send", err);
	if (n)
		*n = s.n;
	return 0;
}

int hadp_ha_monitor_join(struct hadp_ha *h)
{
	int grp = h->mcgrp_monitor;

	if (!grp) {
		hadp_err("hadp.ko has no \"%s\" multicast group",
			 HADP_MCGRP_MONITOR);
		return -ENOENT;
	}
	if (mnl_socket_setsockopt(h->nl, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0) {
		int err = -errno;

		hadp_err("joining the monitor group: %s", strerror(errno));
		return err;
	}
	return 0;
}

/* ---- notifications -------------------------------------------------------- */

static void parse_pkt(const struct nlmsghdr *nlh, struct hadp_ha_pkt *p)
{
	const struct genlmsghdr *gh = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	memset(p, 0, sizeof(*p));
	p->cmd = gh->cmd;
	mnl_attr_for_each(a, nlh, sizeof(*gh)) {
		switch (mnl_attr_get_type(a)) {
		case HADP_A_PKT_GROUP:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				snprintf(p->group, sizeof(p->group), "%s",
					 mnl_attr_get_str(a));
			break;
		case HADP_A_PKT_FLAGS:
			p->flags = get_u32(a);
			break;
		case HADP_A_PKT_OPAQUE:
			p->opaque = get_u32(a);
			break;
		case HADP_A_PKT_COUNT:
			p->count = get_u32(a);
			break;
		case HADP_A_PKT_EPOCH:
			p->epoch = get_u32(a);
			break;
		case HADP_A_PKT_DIR:
			p->dir = get_u32(a);
			break;
		case HADP_A_PKT_SEQ:
			p->seq = get_u64(a);
			break;
		case HADP_A_PKT_TIMESTAMP:
			p->tstamp = get_u64(a);
			break;
		case HADP_A_PKT_MSGS:
			p->msgs = mnl_attr_get_payload(a);
			p->len = mnl_attr_get_payload_len(a);
			break;
		}
	}
}

int hadp_ha_recv(struct hadp_ha *h, hadp_ha_pkt_cb cb, void *data,
		 int timeout_ms)
{
	static char buf[256 * 1024];
	struct pollfd pfd = { .fd = mnl_socket_get_fd(h->nl), .events = POLLIN };
	struct nlmsghdr *nlh;
	struct hadp_ha_pkt p;
	int ret, len;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	if (!ret)
		return 0;
	len = recv(pfd.fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (len < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		ret = -errno;
		if (errno != ENOBUFS)
			hadp_err("netlink receive: %s", strerror(errno));
		return ret;
	}
	for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
	     nlh = mnl_nlmsg_next(nlh, &len)) {
		const struct genlmsghdr *gh = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_type != h->family ||
		    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*gh)) ||
		    (gh->cmd != HADP_CMD_RECV && gh->cmd != HADP_CMD_MONITOR))
			continue;
		parse_pkt(nlh, &p);
		ret = cb(&p, data);
		if (ret)
			return ret < 0 ? ret : 1;
	}
	return 1;
}
