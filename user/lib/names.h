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
const char *hadp_underlay_kind_name(__u32 kind);
const char *hadp_event_name(__u32 type);
const char *hadp_conn_state_name(__u32 state);

/* The bits of enum hadp_conn_flags. */
struct hadp_flag_name {
	__u32 flag;
	const char *name;
};
extern const struct hadp_flag_name hadp_conn_flag_names[];
extern const size_t hadp_nr_conn_flag_names;

/* "tcp-established" for HADP_TO_TCP_ESTABLISHED, as `hadp flow timeouts`
 * takes it; NULL past HADP_TO_MAX. */
const char *hadp_timeout_name(unsigned int to);
/* "tcp", "udp", "icmp", else the number in buf. */
const char *hadp_proto_name(__u8 proto, char buf[8]);

#endif /* HADP_NAMES_H */
