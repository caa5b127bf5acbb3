/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the control plane asks the kernel over rtnetlink (libmnl): devices,
 * the route to an underlay address, and the next hop's neighbour entry.
 * Kernel refusals are reported with the netlink extended ack message.
 */
#ifndef HADP_NL_H
#define HADP_NL_H

#include <net/if.h>
#include <stdbool.h>
#include <linux/types.h>

#include "hadp/maps.h"

struct hadp_link {
	int ifindex;
	char name[IF_NAMESIZE];
	__u8 mac[6];
	bool has_mac;		/* an Ethernet device, with its MAC */
	__u32 mtu;
};

/* An NLMSG_ERROR message for mnl_cb_run2's control table: MNL_CB_STOP
 * for an ack, else MNL_CB_ERROR with errno set and the kernel's
 * extended-ack text (if any) in extack. */
struct nlmsghdr;
int hadp_nl_ack(const struct nlmsghdr *nlh, char *extack, size_t size);

/* By name (ifindex 0) or by ifindex (name NULL). -ENODEV reported as
 * "device X does not exist". */
int hadp_link_get(const char *name, int ifindex, struct hadp_link *l);

/*
 * Fill a "neighs" value for the underlay next hop addr: route lookup,
 * the gateway's entry (created managed when missing), and up to
 * timeout_ms of polling for it to resolve. Unresolved or unroutable:
 * 0 with state HADP_NEIGH_INCOMPLETE and a warning.
 */
int hadp_neigh_resolve(const __u8 addr[16], struct hadp_neigh *n,
		       unsigned int timeout_ms);

#endif /* HADP_NL_H */
