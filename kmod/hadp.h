/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hadp.ko internals shared between the module's files.
 *
 *   hadp_main.c    entry points, kmem cache, object counters
 *   hadp_net.c     per-netns list of groups, netlink release notifier
 *   hadp_group.c   a group's life: create, change, destroy, counters
 *   hadp_sock.c    the group's kernel UDP socket, transmit
 *   hadp_rx.c      receive: validate, authenticate, replay, deliver, reply
 *   hadp_session.c which epoch of the peer's is accepted: challenge, response
 *   hadp_tx.c      HADP_CMD_SEND: frame, authenticate, send
 *   hadp_genl.c    the generic netlink family "hadp": policies, commands
 *   hadp_deliver.c received packets to the agent (unicast) and monitors
 *   hadp_wire.c    the wire codec of include/hadp/, compiled in
 */
#ifndef HADP_KMOD_H
#define HADP_KMOD_H

#include <linux/atomic.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/hadp.h>

#include "hadp_wire.h"

#define HADP_MOD_VERSION	"0.2.0"

/* Groups a network namespace may hold: one per datapath instance, and
 * instances are numbered below HADP_MAX_INSTANCES (include/hadp/maps.h).
 * Each group is a kernel socket and a few hundred bytes, charged to the
 * memory cgroup of whoever created it. */
#define HADP_MAX_GROUPS		HADP_MAX_INSTANCES

/* Challenges a group sends at most, one per interval, when packets of an
 * epoch it has not accepted keep coming: the bound on how soon a peer
 * that started over (new epoch) is accepted again, one round trip added,
 * and on what a flood of replays costs the peer. */
#define HADP_CHALLENGE_INTERVAL	(HZ / 10)

/* What the reply worker sends for the session (hadp_group.session_todo). */
#define HADP_SESSION_CHALLENGE	0x1
#define HADP_SESSION_RESPOND	0x2

/* Replies waiting for the reply worker, per group. */
#define HADP_REPLY_QUEUE_MAX	256

struct net;
struct socket;
struct genl_info;
struct nlattr;
struct netlink_ext_ack;

union hadp_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

/*
 * A sync group: one per datapath instance and network namespace.
 *
 * Lifetime: on its netns's list (hadp_net.groups, under hadp_net.lock)
 * from creation to destruction; the receive path reaches it through the
 * socket's sk_user_data under RCU, which destruction clears and waits for
 * before anything is freed.
 *
 * cfg_lock (a BH spinlock) guards what can change while packets flow:
 * peer, key, limits, the replay windows. cfg_gen counts changes of peer
 * and key, so that a packet authenticated outside the lock is not let
 * into a window that a change has reset meanwhile. tx_lock (a mutex) serializes
 * senders so that sequence numbers go out in order.
 */
struct hadp_group {
	struct list_head list;
	struct net *net;
	char name[HADP_GROUP_NAME_LEN];
	union hadp_sockaddr local;
	struct socket *sock;

	spinlock_t cfg_lock;
	union hadp_sockaddr peer;
	u8 key[HADP_KEY_LEN];
	u32 cfg_gen;
	u32 max_coalesce;
	u32 peer_max_coalesce;
	u32 mtu;
	u32 role;
	u32 agent_portid;		/* READ_ONCE in rx; 0 = none */
	struct hadp_wire_replay rx_window;	/* the peer's packets: its session */
	struct hadp_wire_replay reply_window;	/* replies to ours */
	/* hadp_session.c */
	u8 nonce[HADP_WIRE_NONCE_LEN];		/* of our last challenge */
	u8 peer_nonce[HADP_WIRE_NONCE_LEN];	/* of the peer's, to answer */
	bool challenging;			/* nonce not answered yet */
	bool challenged;			/* challenged_at is set */
	unsigned long challenged_at;		/* jiffies, rate limit */
	unsigned int session_todo;		/* HADP_SESSION_* */

	struct mutex tx_lock;
	u32 tx_epoch;
	u64 tx_seq;			/* next one to use */

	struct sk_buff_head replies;
	struct work_struct reply_work;
	bool dead;

	atomic64_t stats[__HADP_STAT_MAX];
};

static inline void hadp_stat_add(struct hadp_group *g, enum hadp_stat s,
				 u64 n)
{
	atomic64_add(n, &g->stats[s]);
}

static inline void hadp_stat_inc(struct hadp_group *g, enum hadp_stat s)
{
	atomic64_inc(&g->stats[s]);
}

/* hadp_main.c: object counters, for the leak check on unload. */
extern atomic_t hadp_nr_groups;
extern atomic_t hadp_nr_sockets;

/* hadp_net.c */
struct hadp_net {
	struct mutex lock;
	struct list_head groups;
	unsigned int nr_groups;		/* on the list; at most HADP_MAX_GROUPS */
};

struct hadp_net *hadp_net(struct net *net);
int hadp_net_init(void);
void hadp_net_exit(void);

/* hadp_group.c; callers hold hadp_net(net)->lock. */
int hadp_group_cache_init(void);
void hadp_group_cache_exit(void);
struct hadp_group *hadp_group_find(struct hadp_net *hn, const char *name);
struct hadp_group *hadp_group_create(struct net *net, const char *name,
				     const union hadp_sockaddr *local,
				     struct netlink_ext_ack *extack);
void hadp_group_destroy(struct hadp_group *g);
/* Called when netlink port portid of net goes away. */
void hadp_group_forget_port(struct hadp_net *hn, u32 portid);

/* hadp_sock.c */
int hadp_sock_open(struct hadp_group *g, struct netlink_ext_ack *extack);
void hadp_sock_detach(struct hadp_group *g);
void hadp_sock_close(struct hadp_group *g);
/* Send one UDP payload to the group's peer (process context). */
int hadp_sock_send(struct hadp_group *g, const void *buf, size_t len);
bool hadp_sockaddr_equal(const union hadp_sockaddr *a,
			 const union hadp_sockaddr *b);

/* hadp_rx.c */
int hadp_rx_encap(struct sock *sk, struct sk_buff *skb);
void hadp_reply_work(struct work_struct *work);

/* hadp_session.c. Under cfg_lock: _reset when our view of the peer
 * starts over (new group, peer or key), _refused for a packet of an epoch
 * not accepted. _rx takes cfg_lock: a validated session packet, 0 or a
 * wire error; gen as hadp_group.cfg_gen when the key was read. _work:
 * from the reply worker. */
u32 hadp_session_epoch(void);
void hadp_session_reset(struct hadp_group *g);
void hadp_session_refused(struct hadp_group *g);
int hadp_session_rx(struct hadp_group *g, const struct hadp_wire_hdr *hdr,
		    const u8 *pkt, size_t len, u32 gen);
void hadp_session_work(struct hadp_group *g);

/* hadp_tx.c */
/* Split the bare message stream msgs into packets within the peer's
 * advertised count and the path MTU, frame, authenticate and send them.
 * *seqs (kmalloc()ed, the caller frees) gets the sequence number of each
 * of the *npkts packets. attr is MSGS, for the extended ack. */
int hadp_tx_send(struct hadp_group *g, u32 flags, u32 opaque,
		 const u8 *msgs, size_t len, const struct nlattr *attr,
		 u64 **seqs, u32 *npkts, struct netlink_ext_ack *extack);
/* The wire's MAC context of a packet from src to dst. */
void hadp_wire_ctx_of(struct hadp_wire_ctx *ctx, const union hadp_sockaddr *src,
		      const union hadp_sockaddr *dst);

/* hadp_genl.c */
extern struct genl_family hadp_genl_family;
/* Cleared (and waited for, under RCU) before the family goes away, so
 * that the receive path never unicasts or multicasts through it after. */
extern bool hadp_genl_live;
int hadp_genl_init(void);
void hadp_genl_exit(void);

/* hadp_deliver.c: to the agent and to monitors; nothing once the family
 * is going away. */
int hadp_genl_deliver(struct hadp_group *g, struct sk_buff *skb);
void hadp_genl_monitor(struct hadp_group *g, enum hadp_dir dir, u32 flags,
		       u32 opaque, u32 epoch, u64 seq, u64 tstamp,
		       const u8 *msgs, size_t len, u32 count);
bool hadp_genl_monitored(struct hadp_group *g);
struct sk_buff *hadp_genl_recv_msg(struct hadp_group *g, u32 flags,
				   u32 opaque, u32 epoch, u64 seq, u64 tstamp,
				   const u8 *msgs, size_t len, u32 count);

#endif /* HADP_KMOD_H */
