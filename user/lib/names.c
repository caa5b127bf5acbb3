// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>

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
	[HADP_DROP_NO_NAT]		= "no_nat",
	[HADP_DROP_NAT_EXHAUSTED]	= "nat_exhausted",
	[HADP_DROP_CONN_TABLE_FULL]	= "conn_table_full",
	[HADP_DROP_NO_CONN]		= "no_conn",
	[HADP_DROP_FRAGMENT]		= "fragment",
	[HADP_DROP_CONN_QUOTA]		= "conn_quota",
	[HADP_DROP_CONN_NOT_OWNED]	= "conn_not_owned",
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
	FIELD(snat),
	FIELD(dnat),
	FIELD(nat_relayed),
	FIELD(conns_created),
	FIELD(events_lost),
	FIELD(events_throttled),
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
	case HADP_ROUTE_NAT:
		return "nat";
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

const char *hadp_underlay_kind_name(__u32 kind)
{
	switch (kind) {
	case HADP_UL_IFACE:
		return "iface";
	case HADP_UL_NAT:
		return "nat";
	case HADP_UL_VIP:
		return "vip";
	}
	return "unknown";
}

static const char *const event_names[] = {
	[HADP_EV_MAC_LEARNED]		= "mac_learned",
	[HADP_EV_CONN_NEW]		= "conn_new",
	[HADP_EV_CONN_UPDATE]		= "conn_update",
	[HADP_EV_CONN_DELETE]		= "conn_delete",
	[HADP_EV_CONN_TABLE_FULL]	= "conn_table_full",
};

const char *hadp_event_name(__u32 type)
{
	return type < ARRAY_SIZE(event_names) && event_names[type] ?
	       event_names[type] : "unknown";
}

const char *hadp_conn_state_name(__u32 state)
{
	switch (state) {
	case HADP_CONN_OPENING:
		return "opening";
	case HADP_CONN_ESTABLISHED:
		return "established";
	case HADP_CONN_CLOSING:
		return "closing";
	case HADP_CONN_CLOSED:
		return "closed";
	}
	return "unknown";
}

#define CONN_FLAG(f, n)	{ HADP_CONN_##f, n }
const struct hadp_flag_name hadp_conn_flag_names[] = {
	CONN_FLAG(VIP, "vip"),
	CONN_FLAG(INBOUND, "inbound"),
	CONN_FLAG(FIN_OUT, "fin_out"),
	CONN_FLAG(FIN_IN, "fin_in"),
};
#undef CONN_FLAG
const size_t hadp_nr_conn_flag_names = ARRAY_SIZE(hadp_conn_flag_names);

static const char *const timeout_names[] = {
	[HADP_TO_TCP_OPENING]		= "tcp-opening",
	[HADP_TO_TCP_ESTABLISHED]	= "tcp-established",
	[HADP_TO_TCP_CLOSING]		= "tcp-closing",
	[HADP_TO_UDP]			= "udp",
	[HADP_TO_ICMP]			= "icmp",
	[HADP_TO_UNREPLIED]		= "unreplied",
};

_Static_assert(ARRAY_SIZE(timeout_names) == HADP_TO_MAX,
	       "every enum hadp_timeout needs a name");

const char *hadp_timeout_name(unsigned int to)
{
	return to < HADP_TO_MAX ? timeout_names[to] : NULL;
}

const char *hadp_proto_name(__u8 proto, char buf[8])
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	}
	snprintf(buf, 8, "%u", proto);
	return buf;
}
