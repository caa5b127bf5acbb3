/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The port ranges of a NAT IP ("nat_ips" values), as pure functions: the
 * control plane keeps them sorted by port_min, never overlapping, at most
 * HADP_NAT_RANGES of them, whoever owns each (an interface of this host or
 * a neighbour). Nothing here touches a map.
 */
#ifndef HADP_NAT_RANGES_H
#define HADP_NAT_RANGES_H

#include <stdbool.h>
#include <linux/types.h>

#include "hadp/maps.h"

/* Do [a_min, a_max] and [b_min, b_max] share a port? */
bool hadp_ports_overlap(__u16 a_min, __u16 a_max, __u16 b_min, __u16 b_max);

/* count in bounds, every range min <= max, sorted, no overlap. */
bool hadp_nat_ip_valid(const struct hadp_nat_ip *ip);

/*
 * Insert r where port_min keeps the ranges sorted. -EEXIST when it
 * overlaps a range (its index in *at), -ENOSPC when HADP_NAT_RANGES are
 * taken, -EINVAL when r is not a range or ip is not valid. ip is left
 * alone on error.
 */
int hadp_nat_range_add(struct hadp_nat_ip *ip, const struct hadp_nat_range *r,
		       unsigned int *at);

/* Index of the range that is exactly [min, max], or -ENOENT. */
int hadp_nat_range_find(const struct hadp_nat_ip *ip, __u16 min, __u16 max);

/* Remove range i (< count); the freed slot is zeroed. */
void hadp_nat_range_remove(struct hadp_nat_ip *ip, unsigned int i);

#endif /* HADP_NAT_RANGES_H */
