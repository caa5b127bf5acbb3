// SPDX-License-Identifier: GPL-2.0-only
#include "names.h"
#include "util.h"

static const char *const drop_names[] = {
	[HADP_DROP_MALFORMED]		= "malformed",
	[HADP_DROP_UNSUPPORTED]		= "unsupported",
	[HADP_DROP_NO_IFACE]		= "no_iface",
	[HADP_DROP_SPOOF_MAC]		= "spoof_mac",
	[HADP_DROP_SPOOF_IP]		= "spoof_ip",
	[HADP_DROP_LINK_LOCAL]		= "link_local",
	[HADP_DROP_ARP_IGNORED]		= "arp_ignored",
	[HADP_DROP_NO_ROUTE]		= "no_route",
	[HADP_DROP_NO_NEIGH]		= "no_neigh",
	[HADP_DROP_NO_UPLINK]		= "no_uplink",
	[HADP_DROP_MAC_UNKNOWN]		= "mac_unknown",
	[HADP_DROP_MAC_LEARNING]	= "mac_learning",
	[HADP_DROP_TTL_EXPIRED]		= "ttl_expired",
	[HADP_DROP_TOO_BIG]		= "too_big",
	[HADP_DROP_TOO_BIG_NO_DF]	= "too_big_no_df",
	[HADP_DROP_ICMP_RATELIMIT]	= "icmp_ratelimit",
	[HADP_DROP_NOT_TUNNEL]		= "not_tunnel",
	[HADP_DROP_WRONG_DST]		= "wrong_dst",
	[HADP_DROP_NO_ROOM]		= "no_room",
};

/* A reason added to maps.h without a name here fails the build. */
_Static_assert(ARRAY_SIZE(drop_names) == HADP_DROP_MAX,
	       "every enum hadp_drop_reason needs a name");

const char *hadp_drop_name(unsigned int reason)
{
	return reason < HADP_DROP_MAX ? drop_names[reason] : NULL;
}

#define FIELD(f)	{ #f, offsetof(struct hadp_stats, f) }
const struct hadp_stats_field hadp_stats_fields[] = {
	FIELD(rx_packets),
	FIELD(rx_bytes),
	FIELD(tx_packets),
	FIELD(tx_bytes),
	FIELD(arp_replies),
	FIELD(nd_replies),
	FIELD(icmp_errors),
	FIELD(encap),
	FIELD(decap),
	FIELD(events_lost),
};
#undef FIELD
const size_t hadp_nr_stats_fields = ARRAY_SIZE(hadp_stats_fields);

/* The counters above and the drops are the whole struct. */
_Static_assert(offsetof(struct hadp_stats, drops) ==
	       ARRAY_SIZE(hadp_stats_fields) * sizeof(__u64),
	       "a counter was added to struct hadp_stats: name it here");

const char *hadp_route_type_name(__u32 type)
{
	switch (type) {
	case HADP_ROUTE_LOCAL:
		return "local";
	case HADP_ROUTE_REMOTE:
		return "remote";
	}
	return "unknown";
}

const char *hadp_neigh_state_name(__u32 state)
{
	return state == HADP_NEIGH_VALID ? "valid" : "incomplete";
}

const char *hadp_kind_name(enum hadp_prog_kind kind)
{
	return kind == HADP_KIND_VM ? "vm" : "uplink";
}

const char *hadp_iface_mac_name(const struct hadp_iface *iface)
{
	if (iface->flags & HADP_IFACE_MAC_STATIC)
		return "static";
	switch (iface->mac_state) {
	case HADP_MAC_KNOWN:
		return "learned";
	case HADP_MAC_LEARNING:
		return "learning";
	}
	return "unknown";
}
