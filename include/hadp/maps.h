/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Map keys and values shared by the XDP programs (bpf/), the CLI and the
 * agent (user/) and the tests. The struct names are what `bpftool map dump`
 * prints, so every key and value is a named hadp_* struct, never a bare
 * integer. Addresses are kept in network byte order exactly as they appear
 * on the wire; VNIs and other numbers are host order.
 */
#ifndef HADP_MAPS_H
#define HADP_MAPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* ---------------------------------------------------------------------- */
/* Per-host root object: <bpffs>/hadp/_root/                              */
/* ---------------------------------------------------------------------- */

#define HADP_ROOT_DIR		"_root"
#define HADP_MAX_INSTANCES	8
#define HADP_NAME_LEN		16
#define HADP_NO_INSTANCE	0xffffffffu

/* Slot of an instance's program in the root's program array. */
enum hadp_prog_kind {
	HADP_KIND_VM = 0,	/* VM-facing taps and veths */
	HADP_KIND_UPLINK = 1,	/* underlay NIC */
	HADP_KIND_MAX,
};

#define HADP_SLOT(inst, kind)	((inst) * HADP_KIND_MAX + (kind))
#define HADP_NR_SLOTS		(HADP_MAX_INSTANCES * HADP_KIND_MAX)

/* Key of the one-entry and per-instance arrays. The kernel insists on a
 * plain 4-byte integer as an array's BTF key type, so the BPF side
 * declares __u32; this struct is the same four bytes for userspace. */
struct hadp_index {
	__u32 index;
};

/* "active": one entry, the instance whose programs the root tail-calls. */
struct hadp_active {
	__u32 instance;		/* HADP_NO_INSTANCE when none */
};

/* "instances": instance index -> name; an empty name is a free index. */
struct hadp_instance {
	char name[HADP_NAME_LEN];
};

/* "root_stats": per-CPU, one entry; runs that found their slot empty. */
struct hadp_root_stats {
	__u64 vm_runs;
	__u64 uplink_runs;
	__u64 vm_empty_slot;		/* dropped */
	__u64 uplink_empty_slot;	/* passed */
};

/* ---------------------------------------------------------------------- */
/* Per-instance maps: <bpffs>/hadp/<instance>/                             */
/* ---------------------------------------------------------------------- */

struct hadp_ifindex {
	__u32 ifindex;
};

enum hadp_iface_flags {
	HADP_IFACE_IPV4 = 1 << 0,	/* ipv4 is set */
	HADP_IFACE_IPV6 = 1 << 1,	/* ipv6 is set */
	HADP_IFACE_MAC_STATIC = 1 << 2,	/* mac given by the operator */
};

enum hadp_mac_state {
	HADP_MAC_UNKNOWN = 0,
	HADP_MAC_LEARNING = 1,	/* one CPU is writing it */
	HADP_MAC_KNOWN = 2,	/* locked until the interface is deleted */
};

/* "ifaces": VM-facing interface, keyed by its ifindex. */
struct hadp_iface {
	char name[HADP_NAME_LEN];
	__u32 vni;
	__u32 flags;		/* enum hadp_iface_flags */
	__u32 mac_state;	/* enum hadp_mac_state, changed atomically */
	__u32 mac_version;	/* when learned, as a new conn's version:
				 * a peer's is applied only if newer */
	__u8 mac[6];		/* the VM's MAC */
	__u8 dev_mac[6];	/* the host end's MAC: the virtual gateway's */
	__be32 ipv4;
	__u8 ipv6[16];
	__u8 underlay[16];	/* given by the orchestrator, never generated */
};

/* "underlay": a local underlay address -> the function it belongs to. */
enum hadp_underlay_kind {
	HADP_UL_IFACE = 1,	/* an interface's underlay address */
	HADP_UL_NAT = 2,	/* an interface's SNAT return address */
	HADP_UL_VIP = 3,	/* an interface's virtual IP address */
};

struct hadp_underlay_key {
	__u8 addr[16];
};

struct hadp_underlay {
	__u32 kind;		/* enum hadp_underlay_kind */
	__u32 ifindex;
};

/*
 * "routes4" / "routes6": LPM tries. prefixlen counts the 32 bits of the
 * VNI plus the prefix length of the address, so a lookup with
 * prefixlen = 32 + 32 (or 32 + 128) never matches across VNIs.
 */
struct hadp_route4_key {
	__u32 prefixlen;
	__u32 vni;
	__be32 addr;
};

struct hadp_route6_key {
	__u32 prefixlen;
	__u32 vni;
	__u8 addr[16];
};

enum hadp_route_type {
	HADP_ROUTE_LOCAL = 1,	/* an interface on this host */
	HADP_ROUTE_REMOTE = 2,	/* encapsulate towards nexthop */
	HADP_ROUTE_NAT = 3,	/* leave through the NAT gateway (IPv4) */
};

struct hadp_route {
	__u32 type;		/* enum hadp_route_type */
	__u32 ifindex;		/* HADP_ROUTE_LOCAL */
	__u32 target_vni;	/* VNI of the far end (== vni unless given) */
	__u8 nexthop[16];	/* HADP_ROUTE_REMOTE: underlay address */
};

/* "neighs": underlay next hop (a route's via) -> Ethernet next hop. */
struct hadp_neigh_key {
	__u8 addr[16];
};

enum hadp_neigh_state {
	HADP_NEIGH_INCOMPLETE = 0,	/* counted and dropped */
	HADP_NEIGH_VALID = 1,
};

struct hadp_neigh {
	__u32 state;		/* enum hadp_neigh_state */
	__u32 ifindex;		/* uplink the gateway is reached through */
	__u8 mac[6];		/* the gateway's MAC */
	__u8 pad[2];
	__u8 gateway[16];	/* kernel route's gateway, or addr if on-link */
};

/* "uplink": one entry, the underlay NIC. */
struct hadp_uplink {
	__u32 ifindex;		/* 0: not set, encapsulation drops */
	__u32 mtu;		/* underlay MTU; VM packets + 40 must fit */
	__u8 mac[6];
	__u8 pad[2];
};

/* "config": one entry. */
/* Connection timeouts, seconds, indexed by enum hadp_timeout. */
enum hadp_timeout {
	HADP_TO_TCP_OPENING,
	HADP_TO_TCP_ESTABLISHED,
	HADP_TO_TCP_CLOSING,	/* FIN seen, or RST */
	HADP_TO_UDP,
	HADP_TO_ICMP,
	HADP_TO_UNREPLIED,	/* UDP, ICMP: never answered */
	HADP_TO_MAX,
};

#define HADP_DEFAULT_TIMEOUTS	{ 120, 7440, 10, 30, 30, 10 }

struct hadp_config {
	__be32 gw4;		/* virtual gateway, default 169.254.0.1 */
	__u8 gw6[16];		/* default fe80::1 */
	__u32 icmp_rate;	/* ICMP errors per second per interface per CPU */
	__u32 icmp_burst;
	__u8 nat_router[16];	/* public traffic leaves towards it; :: = none */
	__u32 timeout[HADP_TO_MAX];
	__u32 conn_limit;	/* an interface's connections, unless "quotas" says */
	__u32 vip_conn_limit;	/* a VIP's inbound ones, unless its own says */
	__u32 event_rate;	/* NEW and UPDATE deltas a second per interface
				 * per CPU; 0: no budget */
	__u32 event_burst;
};

/* Default quotas, as shares of "conns" (docs/nat.md): an interface may
 * hold a quarter of the table, its VIP's inbound connections half of
 * that, so that a flood from the internet leaves the VM room to open its
 * own. */
#define HADP_DEFAULT_CONN_SHARE		4
#define HADP_DEFAULT_VIP_CONN_SHARE	2

/* The event budget: the ring (at least 256 KiB, 2,700 deltas) drained by an
 * agent that keeps up with far more, so that one interface's deltas can
 * never fill it for the others (docs/nat.md). */
#define HADP_DEFAULT_EVENT_RATE		1000
#define HADP_DEFAULT_EVENT_BURST	500

#define HADP_DEFAULT_ICMP_RATE	100
#define HADP_DEFAULT_ICMP_BURST	20

/* "ratelimit": per-CPU, keyed by ifindex: the interface's token buckets
 * for ICMP errors built in XDP and for its deltas; ifindex 0's says when
 * "conns" was last reported full, and when a sweep last deleted (the
 * agent's repair of lost deltas asks whether a delete may be among them). */
struct hadp_bucket {
	__u64 last_ns;
	__u64 tokens;
};

struct hadp_ratelimit {
	struct hadp_bucket icmp;
	struct hadp_bucket events;
	__u64 full_signalled_ns;
	__u64 swept_ns;		/* at the end of that sweep */
};

/* ---------------------------------------------------------------------- */
/* NAT                                                                    */
/* ---------------------------------------------------------------------- */

/* "snat": a VM interface's SNAT gateway, keyed by its ifindex. */
struct hadp_snat {
	__be32 ip;
	__u16 port_min;		/* host order, inclusive */
	__u16 port_max;
	__u8 underlay[16];	/* return traffic for ip:[min,max] comes here */
};

/* "vips": a VM interface's 1:1 public IPv4, keyed by its ifindex. */
struct hadp_vip {
	__be32 ip;
	__u8 underlay[16];
	__u32 conn_limit;	/* inbound connections; 0: config's */
};

/*
 * "nat_ips": every port range of a NAT IP known to this host, its own
 * (ifindex != 0) and its neighbours' (ifindex == 0: relay to underlay).
 * Ranges never overlap; the control plane keeps them sorted.
 */
#define HADP_NAT_RANGES		16

struct hadp_nat_ip_key {
	__be32 ip;
};

struct hadp_nat_range {
	__u16 port_min;
	__u16 port_max;
	__u32 ifindex;		/* 0: owned by the host at underlay */
	__u8 underlay[16];
};

struct hadp_nat_ip {
	__u32 count;
	struct hadp_nat_range range[HADP_NAT_RANGES];
};

/*
 * Connections. "conns" maps the VM-side key (vni != 0: source is the VM)
 * to the record; "conns_rev" maps the public-side key (vni == 0: the
 * packet as it arrives from outside, destination the NAT IP or VIP) to
 * the VM-side key. For ICMP echo, sport is the identifier, dport 0.
 */
struct hadp_conn_key {
	__u32 vni;
	__be32 src;
	__be32 dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

enum hadp_conn_state {
	HADP_CONN_OPENING = 1,	/* TCP: SYN seen; UDP/ICMP: no reply yet */
	HADP_CONN_ESTABLISHED,	/* TCP: reply seen; UDP/ICMP: reply seen */
	HADP_CONN_CLOSING,	/* TCP: FIN seen */
	HADP_CONN_CLOSED,	/* TCP: RST seen; left only by a new SYN,
				 * HADP_REOPEN_MS after the last opening */
};

enum hadp_conn_flags {
	HADP_CONN_VIP = 1 << 0,		/* translated to the VIP, else SNAT */
	HADP_CONN_INBOUND = 1 << 1,	/* opened from outside (VIP only) */
	HADP_CONN_FIN_OUT = 1 << 2,	/* FIN from the VM */
	HADP_CONN_FIN_IN = 1 << 3,	/* FIN from outside */
};

/* A connection is opened again (a new SYN on its 4-tuple once it is
 * closing or closed) at most once in this long: within an incarnation the
 * state only moves forward, so an entry publishes at most five deltas a
 * second however its packets flip it (docs/nat.md). */
#define HADP_REOPEN_MS		1000

/*
 * The interface that owns a connection's VM side (@k, from "conns"): the
 * one with its VNI and IPv4 address. The datapath delivers a connection
 * only into it, and the standby writes a peer's entry only with it: an
 * ifindex alone may be another tenant's interface.
 */
static inline __attribute__((always_inline)) int
hadp_iface_owns(const struct hadp_iface *ifc, const struct hadp_conn_key *k)
{
	return (ifc->flags & HADP_IFACE_IPV4) && ifc->vni == k->vni &&
	       ifc->ipv4 == k->src;
}

struct hadp_conn {
	__u64 last_seen;	/* bpf_ktime_get_ns(), refreshed at most 1/s */
	__u32 version;		/* +1 on every state change */
	__u32 ifindex;		/* the VM interface */
	__be32 nat_ip;		/* the VM's address as the outside sees it */
	__be16 nat_port;	/* ... and its port (ICMP: identifier) */
	__u8 state;		/* enum hadp_conn_state */
	__u8 flags;		/* enum hadp_conn_flags */
	__u32 opened_ms;	/* when this incarnation began (ms, wraps) */
};

/*
 * Connection quotas (docs/nat.md). Every connection counts against the
 * VM interface it belongs to (conn.ifindex), whatever its direction; one
 * opened from outside to a VIP counts against the VIP's inbound share
 * too. "quotas" holds the operator's limits, written by the CLI alone;
 * "conn_counts" what is held, kept by the datapath with atomic adds on
 * every insert and delete, and rebuilt from "conns" by the agent when
 * entries were written from userspace (promotion). Both keyed by ifindex.
 */
struct hadp_quota {
	__u32 conn_limit;	/* 0: config's conn_limit */
};

struct hadp_conn_count {
	__s32 conns;		/* signed: a rebuild races with deletes */
	__s32 vip_conns;	/* HADP_CONN_INBOUND ones */
};

/*
 * "hadp_sweep" is run by the control plane with BPF_PROG_TEST_RUN; the
 * packet it is handed is this request, and it writes the result back into
 * it. Deletes it makes are published like the datapath's own.
 */
enum hadp_sweep_mode {
	HADP_SWEEP_AGE = 1,	/* delete what has timed out */
	HADP_SWEEP_FLUSH = 2,	/* delete everything (of ifindex, if set) */
	HADP_SWEEP_EVICT = 3,	/* delete the never answered, idle 1 s */
};

#define HADP_EVICT_IDLE_MS	1000

struct hadp_sweep {
	__u32 mode;
	__u32 ifindex;		/* 0: every interface */
	__u64 scanned;		/* out */
	__u64 deleted;		/* out */
};

/* "stats": per-CPU counters keyed by ifindex; ifindex 0 holds drops that
 * belong to no configured interface. */
enum hadp_drop_reason {
	HADP_DROP_MALFORMED,	/* truncated or invalid header */
	HADP_DROP_UNSUPPORTED,	/* ethertype, VLAN, IPv6 extension header */
	HADP_DROP_NO_IFACE,	/* root attached, interface not configured */
	HADP_DROP_SPOOF_MAC,
	HADP_DROP_SPOOF_IP,
	HADP_DROP_LINK_LOCAL,	/* DAD, RS, MLD, NS not for the gateway */
	HADP_DROP_ARP_IGNORED,	/* ARP not asking for the gateway */
	HADP_DROP_NO_ROUTE,
	HADP_DROP_NO_NEIGH,
	HADP_DROP_NO_UPLINK,
	HADP_DROP_MAC_UNKNOWN,	/* destination VM's MAC not learned yet */
	HADP_DROP_MAC_LEARNING,	/* another CPU is learning the MAC */
	HADP_DROP_TTL_EXPIRED,	/* answered with ICMP time exceeded */
	HADP_DROP_TOO_BIG,	/* answered with frag needed / packet too big */
	HADP_DROP_TOO_BIG_NO_DF,
	HADP_DROP_ICMP_RATELIMIT,
	HADP_DROP_NOT_TUNNEL,	/* to a local underlay address, not IP-in-IPv6 */
	HADP_DROP_WRONG_DST,	/* decapsulated, not for that interface */
	HADP_DROP_NO_ROOM,	/* driver refused to grow or move the frame */
	HADP_DROP_NO_NAT,	/* NAT route, but no VIP or SNAT on the iface */
	HADP_DROP_NAT_EXHAUSTED,	/* every port of the range is taken */
	HADP_DROP_CONN_TABLE_FULL,	/* counted and signalled, never evicted */
	HADP_DROP_NO_CONN,	/* to a NAT IP and port no connection holds */
	HADP_DROP_FRAGMENT,	/* non-first IPv4 fragment through NAT */
	HADP_DROP_CONN_QUOTA,	/* the interface's or its VIP's quota is held */
	HADP_DROP_CONN_NOT_OWNED,	/* the conn's interface does not own
					 * its VNI and VM address */
	HADP_DROP_MAX,
};

struct hadp_stats {
	__u64 rx_packets;	/* taken in by XDP on this interface */
	__u64 rx_bytes;
	__u64 tx_packets;	/* sent out through this interface */
	__u64 tx_bytes;
	__u64 arp_replies;
	__u64 nd_replies;
	__u64 icmp_errors;	/* built and sent back */
	__u64 encap;
	__u64 decap;
	__u64 snat;		/* translated VM -> outside */
	__u64 dnat;		/* translated outside -> VM */
	__u64 nat_relayed;	/* sent on to the neighbour owning the port */
	__u64 conns_created;
	__u64 events_lost;	/* ring buffer full: the agent missed a delta */
	__u64 events_throttled;	/* over the interface's event budget */
	__u64 drops[HADP_DROP_MAX];
};

/* "events": ring buffer of deltas for the HA agent. */
enum hadp_event_type {
	HADP_EV_MAC_LEARNED = 1,	/* mac */
	HADP_EV_CONN_NEW = 2,		/* conn: created */
	HADP_EV_CONN_UPDATE = 3,	/* conn: state changed */
	HADP_EV_CONN_DELETE = 4,	/* conn: deleted (datapath or sweep) */
	HADP_EV_CONN_TABLE_FULL = 5,	/* no payload; at most 1/s per CPU */
};

struct hadp_event_conn {
	struct hadp_conn_key key;	/* VM side */
	struct hadp_conn_key rkey;	/* public side */
	struct hadp_conn val;
};

struct hadp_event {
	__u32 type;		/* enum hadp_event_type */
	__u32 ifindex;
	__u64 version;		/* the entry's version after the change */
	union {
		__u8 mac[6];
		struct hadp_event_conn conn;
	};
};

#define HADP_ETH_ALEN		6
#define HADP_ENCAP_LEN		40	/* outer IPv6 header */

#endif /* HADP_MAPS_H */
