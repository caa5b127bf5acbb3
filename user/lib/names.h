/* SPDX-License-Identifier: GPL-2.0-only */
/* Names of the enums in hadp/maps.h, as printed by the CLI (and, later, the
 * agent's metrics), so that both spell them alike. */
#ifndef HADP_NAMES_H
#define HADP_NAMES_H

#include <stddef.h>
#include <linux/types.h>

#include "hadp/maps.h"

/* "no_route" for HADP_DROP_NO_ROUTE; NULL past HADP_DROP_MAX. */
const char *hadp_drop_name(unsigned int reason);

/* The plain counters of struct hadp_stats, in struct order. */
struct hadp_stats_field {
	const char *name;
	size_t offset;
};
extern const struct hadp_stats_field hadp_stats_fields[];
extern const size_t hadp_nr_stats_fields;

static inline __u64 hadp_stats_value(const struct hadp_stats *s,
				     const struct hadp_stats_field *f)
{
	return *(const __u64 *)((const char *)s + f->offset);
}

const char *hadp_route_type_name(__u32 type);
const char *hadp_neigh_state_name(__u32 state);
const char *hadp_kind_name(enum hadp_prog_kind kind);
/* "static", "learned", "learning" or "unknown". */
const char *hadp_iface_mac_name(const struct hadp_iface *iface);

#endif /* HADP_NAMES_H */
