// SPDX-License-Identifier: GPL-2.0-only
/*
 * Handing received packets to userspace: by unicast to a group's one
 * registered agent (a reply is owed only when that succeeded) and, as a
 * copy that never counts as delivery, to the "monitor" multicast group of
 * the group's network namespace.
 */
#include <linux/kernel.h>
#include <net/genetlink.h>
#include <linux/hadp.h>

#include "hadp.h"

/* A RECV (or, with cmd HADP_CMD_MONITOR, a MONITOR) message for a packet. */
static struct sk_buff *hadp_genl_pkt_msg(struct hadp_group *g, u8 cmd,
					 enum hadp_dir dir, u32 flags,
					 u32 opaque, u32 epoch, u64 seq,
					 u64 tstamp, const u8 *msgs, size_t len,
					 u32 count)
{
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(nla_total_size(HADP_GROUP_NAME_LEN) +
			  5 * nla_total_size(sizeof(u32)) +
			  2 * nla_total_size_64bit(sizeof(u64)) +
			  nla_total_size(sizeof(u32)) + nla_total_size(len),
			  GFP_ATOMIC);
	if (!skb)
		return NULL;
	hdr = genlmsg_put(skb, 0, 0, &hadp_genl_family, 0, cmd);
	if (!hdr)
		goto err;
	if (nla_put_string(skb, HADP_A_PKT_GROUP, g->name) ||
	    nla_put_u32(skb, HADP_A_PKT_FLAGS, flags) ||
	    nla_put_u32(skb, HADP_A_PKT_OPAQUE, opaque) ||
	    nla_put_u32(skb, HADP_A_PKT_COUNT, count) ||
	    nla_put_u32(skb, HADP_A_PKT_EPOCH, epoch) ||
	    nla_put_u64_64bit(skb, HADP_A_PKT_SEQ, seq, HADP_A_PKT_PAD) ||
	    nla_put_u64_64bit(skb, HADP_A_PKT_TIMESTAMP, tstamp,
			      HADP_A_PKT_PAD) ||
	    (dir && nla_put_u32(skb, HADP_A_PKT_DIR, dir)) ||
	    nla_put(skb, HADP_A_PKT_MSGS, len, msgs))
		goto err;
	genlmsg_end(skb, hdr);
	return skb;
err:
	nlmsg_free(skb);
	return NULL;
}

struct sk_buff *hadp_genl_recv_msg(struct hadp_group *g, u32 flags,
				   u32 opaque, u32 epoch, u64 seq, u64 tstamp,
				   const u8 *msgs, size_t len, u32 count)
{
	return hadp_genl_pkt_msg(g, HADP_CMD_RECV, 0, flags, opaque, epoch,
				 seq, tstamp, msgs, len, count);
}

/* Unicast skb to g's agent without waiting. 0 when it is queued on the
 * agent's socket, -ENOTCONN without an agent, -EAGAIN when its buffer is
 * full (or the port is gone). Consumes skb. Under rcu_read_lock. */
int hadp_genl_deliver(struct hadp_group *g, struct sk_buff *skb)
{
	u32 portid = READ_ONCE(g->agent_portid);
	int err;

	if (!READ_ONCE(hadp_genl_live) || !portid) {
		nlmsg_free(skb);
		return -ENOTCONN;
	}
	/* genlmsg_unicast is netlink_unicast(..., MSG_DONTWAIT). */
	err = genlmsg_unicast(g->net, skb, portid);
	if (err == -ECONNREFUSED)
		return -ENOTCONN;
	return err ? -EAGAIN : 0;
}

bool hadp_genl_monitored(struct hadp_group *g)
{
	return READ_ONCE(hadp_genl_live) &&
	       genl_has_listeners(&hadp_genl_family, g->net, 0);
}

void hadp_genl_monitor(struct hadp_group *g, enum hadp_dir dir, u32 flags,
		       u32 opaque, u32 epoch, u64 seq, u64 tstamp,
		       const u8 *msgs, size_t len, u32 count)
{
	struct sk_buff *skb;

	if (!hadp_genl_monitored(g))
		return;
	skb = hadp_genl_pkt_msg(g, HADP_CMD_MONITOR, dir, flags, opaque, epoch,
				seq, tstamp, msgs, len, count);
	if (!skb) {
		hadp_stat_inc(g, HADP_STAT_DROP_NOMEM);
		return;
	}
	genlmsg_multicast_netns(&hadp_genl_family, g->net, skb, 0, 0,
				GFP_ATOMIC);
	hadp_stat_inc(g, HADP_STAT_MONITOR_COPIES);
}
