// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include "nat_ranges.h"

bool hadp_ports_overlap(__u16 a_min, __u16 a_max, __u16 b_min, __u16 b_max)
{
	return a_min <= b_max && b_min <= a_max;
}

bool hadp_nat_ip_valid(const struct hadp_nat_ip *ip)
{
	__u32 i;

	if (ip->count > HADP_NAT_RANGES)
		return false;
	for (i = 0; i < ip->count; i++) {
		const struct hadp_nat_range *r = &ip->range[i];

		if (r->port_min > r->port_max)
			return false;
		if (i && r->port_min <= ip->range[i - 1].port_max)
			return false;
	}
	return true;
}

int hadp_nat_range_add(struct hadp_nat_ip *ip, const struct hadp_nat_range *r,
		       unsigned int *at)
{
	__u32 i, pos;

	if (r->port_min > r->port_max || !hadp_nat_ip_valid(ip))
		return -EINVAL;
	for (i = 0; i < ip->count; i++) {
		if (hadp_ports_overlap(r->port_min, r->port_max,
				       ip->range[i].port_min,
				       ip->range[i].port_max)) {
			if (at)
				*at = i;
			return -EEXIST;
		}
	}
	if (ip->count == HADP_NAT_RANGES)
		return -ENOSPC;
	for (pos = 0; pos < ip->count; pos++)
		if (ip->range[pos].port_min > r->port_min)
			break;
	memmove(&ip->range[pos + 1], &ip->range[pos],
		(ip->count - pos) * sizeof(ip->range[0]));
	ip->range[pos] = *r;
	ip->count++;
	if (at)
		*at = pos;
	return 0;
}

int hadp_nat_range_find(const struct hadp_nat_ip *ip, __u16 min, __u16 max)
{
	__u32 i, n = ip->count < HADP_NAT_RANGES ? ip->count : HADP_NAT_RANGES;

	for (i = 0; i < n; i++)
		if (ip->range[i].port_min == min && ip->range[i].port_max == max)
			return i;
	return -ENOENT;
}

void hadp_nat_range_remove(struct hadp_nat_ip *ip, unsigned int i)
{
	if (i >= ip->count || ip->count > HADP_NAT_RANGES)
		return;
	memmove(&ip->range[i], &ip->range[i + 1],
		(ip->count - i - 1) * sizeof(ip->range[0]));
	ip->count--;
	memset(&ip->range[ip->count], 0, sizeof(ip->range[0]));
}
