/* SPDX-License-Identifier: ((GPL-2.0-only WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * uapi of the generic netlink family "hadp" (hadp.ko).
 *
 * Kept by hand in the shape that the kernel's ynl-gen renders from
 * kmod/hadp.yaml: change both together (tests/kmod/nlspec.py, run by
 * `tests/run kmod`, fails when they differ). Userspace includes it as
 * "uapi/linux/hadp.h" (with -Iinclude); the module as <linux/hadp.h>.
 *
 * Objects: one sync group per datapath instance and network namespace
 * (HADP_CMD_GROUP_*), named by the instance. A group owns a kernel UDP
 * socket bound to its local address and talks to exactly one peer. The
 * agent of the instance registers for it (HADP_CMD_REGISTER), sends
 * batches of encoded HA messages through it (HADP_CMD_SEND) and gets the
 * peer's packets by unicast (HADP_CMD_RECV notifications). Monitors join
 * the multicast group "monitor" (HADP_MCGRP_MONITOR) and get a copy of
 * every packet sent and received (HADP_CMD_MONITOR notifications).
 */
#ifndef _UAPI_LINUX_HADP_H
#define _UAPI_LINUX_HADP_H

#define HADP_FAMILY_NAME	"hadp"
#define HADP_FAMILY_VERSION	2
#define HADP_MCGRP_MONITOR	"monitor"

/* Longest version string the module reports, NUL included. */
#define HADP_VERSION_LEN	32
/* Longest group (instance) name, NUL included; as HADP_NAME_LEN. */
#define HADP_GROUP_NAME_LEN	16
/* Length of a group's key. */
#define HADP_KEY_LEN		32
/* Largest batch of encoded messages one HADP_CMD_SEND takes. */
#define HADP_SEND_MAX		65000

enum {
	HADP_A_INFO_VERSION = 1,
	HADP_A_INFO_FAMILY_VERSION,
	HADP_A_INFO_MAX_INSTANCES,
	HADP_A_INFO_GROUPS,		/* u32: live group objects, all netns */
	HADP_A_INFO_SOCKETS,		/* u32: live group sockets, all netns */

	__HADP_A_INFO_MAX,
	HADP_A_INFO_MAX = (__HADP_A_INFO_MAX - 1)
};

/* An address and port, IPv4 or IPv6 (exactly one address). */
enum {
	HADP_A_ENDPOINT_ADDR4 = 1,	/* binary, 4 bytes, network order */
	HADP_A_ENDPOINT_ADDR6,		/* binary, 16 bytes */
	HADP_A_ENDPOINT_PORT,		/* u16, host order, 1-65535 */

	__HADP_A_ENDPOINT_MAX,
	HADP_A_ENDPOINT_MAX = (__HADP_A_ENDPOINT_MAX - 1)
};

/* Role the agent reports (the module does not act on it). */
enum hadp_role {
	HADP_ROLE_UNKNOWN = 0,
	HADP_ROLE_ACTIVE,
	HADP_ROLE_STANDBY,
	__HADP_ROLE_MAX,
	HADP_ROLE_MAX = (__HADP_ROLE_MAX - 1)
};

/* Counters of a group, in HADP_A_GROUP_STATS as attribute (index + 1),
 * u64 each. */
enum hadp_stat {
	HADP_STAT_TX_PACKETS,		/* packets sent (replies not counted) */
	HADP_STAT_TX_MESSAGES,
	HADP_STAT_TX_BYTES,		/* UDP payload bytes */
	HADP_STAT_TX_ERRORS,		/* the socket refused a packet */
	HADP_STAT_RX_PACKETS,		/* accepted (authentic, fresh) packets */
	HADP_STAT_RX_MESSAGES,
	HADP_STAT_RX_BYTES,
	HADP_STAT_DELIVERED,		/* unicast to the agent succeeded */
	HADP_STAT_REPLIED,		/* replies sent */
	HADP_STAT_REPLIES_RECEIVED,	/* replies to our packets */
	HADP_STAT_DROP_BAD_MAC,
	HADP_STAT_DROP_REPLAYED,
	HADP_STAT_DROP_MALFORMED,	/* bad header, version, lengths */
	HADP_STAT_DROP_UNKNOWN_PEER,	/* source is not the peer */
	HADP_STAT_DROP_OVER_LIMIT,	/* more messages than advertised */
	HADP_STAT_DROP_NO_LISTENER,	/* no agent registered */
	HADP_STAT_DROP_OVERRUN,		/* agent's socket buffer full */
	HADP_STAT_DROP_NOMEM,
	HADP_STAT_NO_REPLY,		/* reply requested, not delivered */
	HADP_STAT_MONITOR_COPIES,	/* packets multicast to monitors */
	HADP_STAT_DROP_NO_SESSION,	/* authentic, of an epoch not accepted */
	HADP_STAT_CHALLENGES,		/* session challenges sent */
	HADP_STAT_SESSIONS,		/* peer epochs accepted (responses) */
	__HADP_STAT_MAX,
};

/* A group. */
enum {
	HADP_A_GROUP_NAME = 1,		/* string: the instance */
	HADP_A_GROUP_LOCAL,		/* nest: endpoint */
	HADP_A_GROUP_PEER,		/* nest: endpoint */
	HADP_A_GROUP_KEY,		/* binary, 32 bytes; never dumped */
	HADP_A_GROUP_MAX_COALESCE,	/* u32: messages per packet we accept */
	HADP_A_GROUP_PEER_MAX_COALESCE,	/* u32: messages per packet the peer
					 * accepts (agent-set or advertised) */
	HADP_A_GROUP_MTU,		/* u32: path MTU for coalescing */
	HADP_A_GROUP_ROLE,		/* u32: enum hadp_role */
	HADP_A_GROUP_AGENT_PORTID,	/* u32: registered agent, 0 = none */
	HADP_A_GROUP_TX_EPOCH,		/* u32: our session epoch */
	HADP_A_GROUP_TX_SEQ,		/* u64: next sequence number */
	HADP_A_GROUP_RX_EPOCH,		/* u32: the peer's epoch we accept (its
					 * session's), 0 = none yet */
	HADP_A_GROUP_RX_SEQ,		/* u64: highest peer sequence seen */
	HADP_A_GROUP_STATS,		/* nest: u64 per enum hadp_stat */
	HADP_A_GROUP_PAD,

	__HADP_A_GROUP_MAX,
	HADP_A_GROUP_MAX = (__HADP_A_GROUP_MAX - 1)
};

/* Packet flags, the wire header's (include/hadp/wire.h HADP_WIRE_F_*),
 * in HADP_A_PKT_FLAGS. SEND takes REPLY_REQ and TRUNC_OK only. */
#define HADP_PKT_F_REPLY_REQ	(1U << 0)	/* reply requested */
#define HADP_PKT_F_TRUNC_OK	(1U << 1)	/* reply may be truncated */
#define HADP_PKT_F_REPLY	(1U << 2)	/* this packet is a reply */
#define HADP_PKT_F_TRUNCATED	(1U << 3)	/* a reply without bodies */
#define HADP_PKT_F_SEND_MASK	(HADP_PKT_F_REPLY_REQ | HADP_PKT_F_TRUNC_OK)

enum hadp_dir {
	HADP_DIR_RX = 1,	/* received from the peer */
	HADP_DIR_TX,		/* sent by the agent */
	HADP_DIR_REPLY_TX,	/* reply sent by the module */
};

/* A packet: SEND's request and reply, RECV and MONITOR notifications. */
enum {
	HADP_A_PKT_GROUP = 1,		/* string */
	HADP_A_PKT_FLAGS,		/* u32: HADP_PKT_F_* */
	HADP_A_PKT_OPAQUE,		/* u32: the packet's opaque value */
	HADP_A_PKT_MSGS,		/* binary: encoded messages */
	HADP_A_PKT_COUNT,		/* u32: messages in MSGS */
	HADP_A_PKT_EPOCH,		/* u32 */
	HADP_A_PKT_SEQ,			/* u64; SEND's reply: one per packet */
	HADP_A_PKT_TIMESTAMP,		/* u64: receive time, ns, CLOCK_REALTIME */
	HADP_A_PKT_DIR,			/* u32: enum hadp_dir (MONITOR) */
	HADP_A_PKT_PAD,

	__HADP_A_PKT_MAX,
	HADP_A_PKT_MAX = (__HADP_A_PKT_MAX - 1)
};

enum {
	HADP_CMD_INFO_GET = 1,
	HADP_CMD_GROUP_NEW,	/* add */
	HADP_CMD_GROUP_SET,	/* change */
	HADP_CMD_GROUP_DEL,
	HADP_CMD_GROUP_GET,	/* do (by name) and dump */
	HADP_CMD_REGISTER,	/* the caller's port becomes the agent */
	HADP_CMD_SEND,
	HADP_CMD_RECV,		/* notification: unicast to the agent */
	HADP_CMD_MONITOR,	/* notification: multicast "monitor" */

	__HADP_CMD_MAX,
	HADP_CMD_MAX = (__HADP_CMD_MAX - 1)
};

#endif /* _UAPI_LINUX_HADP_H */
