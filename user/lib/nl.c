// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <net/if_arp.h>

#include "nl.h"
#include "parse.h"
#include "util.h"

/* The kernel's NUD_VALID: states in which the entry has an address. */
#define NUD_HAS_ADDR	(NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | \
			 NUD_PROBE | NUD_STALE | NUD_DELAY)

struct nl_req {
	mnl_cb_t cb;		/* per data message, or NULL */
	void *data;
	char extack[256];	/* the kernel's message on failure */
};

int hadp_nl_ack(const struct nlmsghdr *nlh, char *extack, size_t size)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	size_t off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return MNL_CB_ERROR;
	if (!e->error)
		return MNL_CB_STOP;
	/* The TLVs follow the echoed request, or just its header when the
	 * kernel capped it. */
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(e->msg);
		mnl_attr_for_each(a, nlh, off) {
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				snprintf(extack, size, "%s", mnl_attr_get_str(a));
		}
	}
	errno = -e->error;
	return MNL_CB_ERROR;
}

static int cb_error(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_req *r = arg;

	return hadp_nl_ack(nlh, r->extack, sizeof(r->extack));
}

static int cb_data(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_req *r = arg;

	return r->cb ? r->cb(nlh, r->data) : MNL_CB_OK;
}

static int cb_done(const struct nlmsghdr *nlh, void *arg)
{
	return MNL_CB_STOP;
}

/* Send one request and run the replies to the end (an ack or a dump's
 * NLMSG_DONE). Returns -errno, the kernel's message in r->extack. */
static int nl_talk(struct nlmsghdr *nlh, struct nl_req *r)
{
	/* A table replaces libmnl's defaults whole: DONE must stop here. */
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = cb_error,
		[NLMSG_DONE] = cb_done,
	};
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	unsigned int portid;
	int one = 1, ret, err = 0;
	__u32 seq = time(NULL);

	r->extack[0] = '\0';
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	/* Older kernels lack extended acks; that only costs the message. */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	do {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0) {
			err = -errno;
			goto out;
		}
		ret = mnl_cb_run2(buf, ret, seq, portid, cb_data, r, ctl,
				  NLMSG_MIN_TYPE);
	} while (ret > MNL_CB_STOP);
	if (ret < 0)
		err = errno ? -errno : -EIO;
out:
	mnl_socket_close(nl);
	return err;
}

static const char *nl_msg(const struct nl_req *r, int err)
{
	return r->extack[0] ? r->extack : strerror(-err);
}

static int cb_link(const struct nlmsghdr *nlh, void *arg)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct hadp_link *l = arg;
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	l->ifindex = ifi->ifi_index;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				snprintf(l->name, sizeof(l->name), "%s",
					 mnl_attr_get_str(a));
			break;
		case IFLA_ADDRESS:
			/* lo has six zero bytes too: Ethernet only. */
			if (ifi->ifi_type == ARPHRD_ETHER &&
			    mnl_attr_get_payload_len(a) == 6) {
				memcpy(l->mac, mnl_attr_get_payload(a), 6);
				l->has_mac = true;
			}
			break;
		case IFLA_MTU:
			if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
				l->mtu = mnl_attr_get_u32(a);
			break;
		}
	}
	return MNL_CB_OK;
}

int hadp_link_get(const char *name, int ifindex, struct hadp_link *l)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nl_req r = { .cb = cb_link, .data = l };
	struct ifinfomsg *ifi;
	int err;

	memset(l, 0, sizeof(*l));
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (name) {
		if (strlen(name) >= IF_NAMESIZE) {
			hadp_err("device \"%s\" does not exist", name);
			return -ENODEV;
		}
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	}
	/* Statistics and the rest are not wanted, only the basics. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, 0);
	err = nl_talk(nlh, &r);
	if (err == -ENODEV || (!err && !l->ifindex)) {
		if (name)
			hadp_err("device \"%s\" does not exist", name);
		else
			hadp_err("device %d does not exist", ifindex);
		return -ENODEV;
	}
	if (err)
		hadp_err("reading device %s: %s", name ? name : "",
			 nl_msg(&r, err));
	return err;
}

struct route_reply {
	__u8 *gw;
	int oif;
	bool gw_set;
	__u8 type;
};

static int cb_route(const struct nlmsghdr *nlh, void *arg)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct route_reply *rr = arg;
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	rr->type = rtm->rtm_type;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(a)) {
		case RTA_OIF:
			if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
				rr->oif = mnl_attr_get_u32(a);
			break;
		case RTA_GATEWAY:
			if (mnl_attr_get_payload_len(a) == 16) {
				memcpy(rr->gw, mnl_attr_get_payload(a), 16);
				rr->gw_set = true;
			}
			break;
		}
	}
	return MNL_CB_OK;
}

/* The kernel's route to dst: gateway (dst itself when on-link) and the
 * device. -ENETUNREACH silently when there is none. */
static int route_get6(const __u8 dst[16], __u8 gw[16], int *oif)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], a[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct route_reply rr = { .gw = gw };
	struct nl_req r = { .cb = cb_route, .data = &rr };
	struct rtmsg *rtm;
	int err;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = 128;
	mnl_attr_put(nlh, RTA_DST, 16, dst);
	err = nl_talk(nlh, &r);
	if (err == -ENETUNREACH || err == -EHOSTUNREACH ||
	    (!err && rr.type != RTN_UNICAST) || (!err && !rr.oif))
		return -ENETUNREACH;
	if (err) {
		hadp_err("route to %s: %s", fmt_ipv6(dst, a), nl_msg(&r, err));
		return err;
	}
	if (!rr.gw_set)
		memcpy(gw, dst, 16);
	*oif = rr.oif;
	return 0;
}

struct neigh_reply {
	__u8 *mac;
	__u16 state;
	bool found, has_mac;
};

static int cb_neigh(const struct nlmsghdr *nlh, void *arg)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct neigh_reply *nr = arg;
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWNEIGH)
		return MNL_CB_OK;
	nr->found = true;
	nr->state = ndm->ndm_state;
	mnl_attr_for_each(a, nlh, sizeof(*ndm)) {
		if (mnl_attr_get_type(a) == NDA_LLADDR &&
		    mnl_attr_get_payload_len(a) == 6) {
			memcpy(nr->mac, mnl_attr_get_payload(a), 6);
			nr->has_mac = true;
		}
	}
	return MNL_CB_OK;
}

/* The neighbour entry of addr on ifindex: mac valid when the state says
 * the kernel has one. -ENOENT silently when there is no entry. */
static int neigh_get6(int ifindex, const __u8 addr[16], __u8 mac[6],
		      __u16 *nud_state, bool *valid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], a[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct neigh_reply nr = { .mac = mac };
	struct nl_req r = { .cb = cb_neigh, .data = &nr };
	struct ndmsg *ndm;
	int err;

	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_INET6;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, 16, addr);
	err = nl_talk(nlh, &r);
	if (err == -ENOENT || (!err && !nr.found))
		return -ENOENT;
	if (err) {
		hadp_err("neighbour %s: %s", fmt_ipv6(addr, a),
			 nl_msg(&r, err));
		return err;
	}
	*nud_state = nr.state;
	*valid = nr.has_mac && (nr.state & NUD_HAS_ADDR);
	return 0;
}

/* Create a managed entry (ip neigh add ADDR dev DEV managed): the kernel
 * then keeps it resolved by itself. An existing entry is left alone. */
static int neigh_add_managed6(int ifindex, const __u8 addr[16])
{
	char buf[MNL_SOCKET_BUFFER_SIZE], a[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nl_req r = {};
	struct ndmsg *ndm;
	int err;

	/* As `ip neigh add ADDR dev DEV managed`: no address and state
	 * NUD_NONE, the kernel resolves it and keeps it resolved. */
	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_INET6;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = NUD_NONE;
	mnl_attr_put(nlh, NDA_DST, 16, addr);
	mnl_attr_put_u32(nlh, NDA_FLAGS_EXT, NTF_EXT_MANAGED);
	err = nl_talk(nlh, &r);
	if (err == -EEXIST)
		return 0;
	if (err)
		hadp_err("creating a managed neighbour %s: %s",
			 fmt_ipv6(addr, a), nl_msg(&r, err));
	return err;
}

int hadp_neigh_resolve(const __u8 addr[16], struct hadp_neigh *n,
		       unsigned int timeout_ms)
{
	const unsigned int step_ms = 20;
	char a[INET6_ADDRSTRLEN];
	unsigned int waited = 0;
	__u16 state;
	bool valid;
	int oif, err;

	memset(n, 0, sizeof(*n));
	n->state = HADP_NEIGH_INCOMPLETE;
	memcpy(n->gateway, addr, 16);
	err = route_get6(addr, n->gateway, &oif);
	if (err == -ENETUNREACH) {
		hadp_warn("no route to %s: next hop left incomplete",
			  fmt_ipv6(addr, a));
		return 0;
	}
	if (err)
		return err;
	n->ifindex = oif;
	for (;;) {
		err = neigh_get6(oif, n->gateway, n->mac, &state, &valid);
		if (err == -ENOENT)
			err = neigh_add_managed6(oif, n->gateway);
		else if (!err && valid)
			break;
		if (err)
			return err;
		if (waited >= timeout_ms) {
			memset(n->mac, 0, sizeof(n->mac));
			hadp_warn("neighbour %s unresolved: next hop %s left "
				  "incomplete", fmt_ipv6(n->gateway, a),
				  fmt_ipv6(addr, a));
			return 0;
		}
		usleep(step_ms * 1000);
		waited += step_ms;
	}
	n->state = HADP_NEIGH_VALID;
	return 0;
}
