// SPDX-License-Identifier: GPL-2.0-only
/*
 * The underlay neighbour map follows the kernel's: the datapath never
 * asks the kernel for a next hop's MAC, so "neighs" must be kept equal
 * to the neighbour table (docs/datapath.md, "Encapsulation").
 * An rtnetlink socket in the neighbour and IPv6 route groups marks a
 * refresh due on any IPv6 neighbour or route change, and the refresh
 * resolves every next hop of this agent's instance again, rewriting what
 * changed. The filter is loose on purpose: the refresh compares, so a
 * needless one costs a few lookups and writes nothing, while a missed
 * change would leave the datapath sending to a stale MAC.
 *
 * Each agent keeps its own instance current, active or standby, so a
 * promoted standby does not start on stale next hops.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "hadpd.h"
#include "names.h"
#include "neigh.h"
#include "parse.h"
#include "util.h"

/* Datagrams read per call: a flood of events cannot starve the loop;
 * the socket stays readable and the next turn goes on. */
#define NEIGH_DRAIN_MAX	64

int hadpd_neigh_open(struct hadpd *d)
{
	static const unsigned int groups[] = {
		RTNLGRP_NEIGH,
		/* The route to a next hop decides its gateway and device. */
		RTNLGRP_IPV6_ROUTE,
	};
	size_t i;
	int err;

	d->neigh_nl = mnl_socket_open2(NETLINK_ROUTE,
				       SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!d->neigh_nl || mnl_socket_bind(d->neigh_nl, 0, MNL_SOCKET_AUTOPID))
		goto err;
	for (i = 0; i < ARRAY_SIZE(groups); i++)
		if (mnl_socket_setsockopt(d->neigh_nl, NETLINK_ADD_MEMBERSHIP,
					  (void *)&groups[i], sizeof(groups[i])))
			goto err;
	d->neigh_fd = mnl_socket_get_fd(d->neigh_nl);
	/* Whatever changed while no agent was listening. */
	d->neigh_dirty = true;
	return d->neigh_fd;
err:
	err = -errno;
	hlog(LOG_ERR_P, "subscribing to neighbour and route events: %s",
	     strerror(-err));
	hadpd_neigh_close(d);
	return err;
}

void hadpd_neigh_close(struct hadpd *d)
{
	if (d->neigh_nl)
		mnl_socket_close(d->neigh_nl);
	d->neigh_nl = NULL;
	d->neigh_fd = -1;
}

static int on_message(const struct nlmsghdr *nlh, void *arg)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct hadpd *d = arg;

	atomic_fetch_add(&d->neigh_events, 1);
	switch (nlh->nlmsg_type) {
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		/* Next hops are IPv6: ARP and bridge FDB entries never are
		 * one. */
		if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*ndm)) &&
		    ndm->ndm_family == AF_INET6)
			d->neigh_dirty = true;
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		/* The group carries IPv6 routes only. */
		d->neigh_dirty = true;
		break;
	}
	return MNL_CB_OK;
}

void hadpd_neigh_on_readable(struct hadpd *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t len;
	int i;

	for (i = 0; i < NEIGH_DRAIN_MAX; i++) {
		len = mnl_socket_recvfrom(d->neigh_nl, buf, sizeof(buf));
		if (len < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == ENOBUFS) {
			/* The socket overflowed: events were lost, so
			 * anything may have changed. */
			hlog(LOG_INFO_P, "neighbour events lost (socket "
			     "buffer full): refreshing every next hop");
			d->neigh_dirty = true;
			continue;
		}
		if (len < 0) {
			hlog(LOG_ERR_P, "reading neighbour events: %s",
			     strerror(errno));
			atomic_fetch_add(&d->neigh_errors, 1);
			return;
		}
		/* Notifications: no sequence number or port to match. */
		if (mnl_cb_run(buf, len, 0, 0, on_message, d) < 0) {
			hlog(LOG_ERR_P, "parsing neighbour events: %s",
			     strerror(errno));
			atomic_fetch_add(&d->neigh_errors, 1);
		}
	}
}

static void log_change(void *ctx, const struct hadp_inst *inst,
		       const struct hadp_neigh_key *key,
		       const struct hadp_neigh *old,
		       const struct hadp_neigh *new)
{
	char addr[INET6_ADDRSTRLEN], gw[INET6_ADDRSTRLEN];
	char mac[HADP_MAC_STRLEN], was[HADP_MAC_STRLEN];
	char dev[IF_NAMESIZE] = "";

	if (new->ifindex && !if_indextoname(new->ifindex, dev))
		snprintf(dev, sizeof(dev), "#%u", new->ifindex);
	hlog(LOG_INFO_P, "neighbour of %s in %s: gateway %s dev %s lladdr %s "
	     "%s (was %s %s)", fmt_ipv6(key->addr, addr), inst->name,
	     fmt_ipv6(new->gateway, gw), dev[0] ? dev : "none",
	     fmt_mac(new->mac, mac), hadp_neigh_state_name(new->state),
	     fmt_mac(old->mac, was), hadp_neigh_state_name(old->state));
}

void hadpd_neigh_refresh(struct hadpd *d)
{
	/* No waiting: the main loop must not stall on a gateway that does
	 * not answer; when it does, its event brings another refresh. */
	struct hadp_neigh_refresh r = {
		.keep_going = true,
		.report = log_change,
	};
	struct hadp_txn t = HADP_TXN_INIT;

	d->neigh_dirty = false;
	hadp_neigh_refresh(&r, &d->inst, &t);
	/* Each rewrite stands on its own: nothing to undo. */
	hadp_txn_commit(&t);
	hadp_neigh_refresh_done(&r);
	atomic_fetch_add(&d->neigh_updates, r.updated);
	atomic_fetch_add(&d->neigh_errors, r.errors);
}
