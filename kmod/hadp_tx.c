// SPDX-License-Identifier: GPL-2.0-only
/*
 * HADP_CMD_SEND: the agent hands a bare stream of encoded messages; the
 * module splits it into packets that honour both the peer's advertised
 * count and the path MTU, frames each (header, epoch, sequence number,
 * MAC) and sends it. Nothing is kept once the packets are out.
 */
#include <linux/slab.h>
#include <net/netlink.h>

#include "hadp.h"

void hadp_wire_ctx_of(struct hadp_wire_ctx *ctx, const union hadp_sockaddr *src,
		      const union hadp_sockaddr *dst)
{
	if (src->sa.sa_family == AF_INET)
		hadp_wire_ctx_set4(ctx, src->v4.sin_addr.s_addr,
				   src->v4.sin_port, dst->v4.sin_addr.s_addr,
				   dst->v4.sin_port);
	else
		hadp_wire_ctx_set(ctx, src->v6.sin6_addr.s6_addr,
				  src->v6.sin6_port, dst->v6.sin6_addr.s6_addr,
				  dst->v6.sin6_port);
}

struct hadp_tx {
	struct hadp_group *g;
	struct hadp_wire_key key;
	struct hadp_wire_ctx ctx;
	u8 *buf;
	size_t cap;
	u32 flags, opaque;
	u64 *seqs;
	u32 npkts;
};

/* Frame and send count messages (len bytes at msgs) as one packet. */
static int hadp_tx_packet(struct hadp_tx *t, const u8 *msgs, size_t len,
			  u32 count, struct netlink_ext_ack *extack)
{
	struct hadp_group *g = t->g;
	struct hadp_wire_hdr hdr = {
		.version	= HADP_WIRE_VERSION,
		.flags		= t->flags,
		.epoch		= g->tx_epoch,
		.seq		= g->tx_seq,
		.opaque		= t->opaque,
	};
	int plen, err;

	plen = hadp_wire_frame(t->buf, t->cap, &hdr, msgs, len, 0, &t->key,
			       &t->ctx);
	if (plen < 0) {
		NL_SET_ERR_MSG(extack, "cannot frame the messages");
		return -EINVAL;
	}
	/* The number is used whatever becomes of the packet. */
	WRITE_ONCE(g->tx_seq, g->tx_seq + 1);
	err = hadp_sock_send(g, t->buf, plen);
	if (err) {
		hadp_stat_inc(g, HADP_STAT_TX_ERRORS);
		NL_SET_ERR_MSG(extack, "the UDP socket refused a packet");
		return err;
	}
	t->seqs[t->npkts++] = hdr.seq;
	hadp_stat_inc(g, HADP_STAT_TX_PACKETS);
	hadp_stat_add(g, HADP_STAT_TX_MESSAGES, count);
	hadp_stat_add(g, HADP_STAT_TX_BYTES, plen);
	hadp_genl_monitor(g, HADP_DIR_TX, hdr.flags, hdr.opaque, hdr.epoch,
			  hdr.seq, ktime_get_real_ns(), msgs, len, count);
	return 0;
}

int hadp_tx_send(struct hadp_group *g, u32 flags, u32 opaque,
		 const u8 *msgs, size_t len, const struct nlattr *attr,
		 u64 **seqs, u32 *npkts, struct netlink_ext_ack *extack)
{
	struct hadp_tx t = { .g = g, .flags = flags, .opaque = opaque };
	union hadp_sockaddr peer;
	struct hadp_wire_iter it;
	struct hadp_wire_msg m;
	size_t room, bytes = 0, size;
	const u8 *start = msgs;
	u32 max, mtu, count = 0;
	int n, ret, err;

	n = hadp_wire_msgs_validate(msgs, len);
	if (n < 0) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "malformed message stream");
		return -EINVAL;
	}
	if (!n) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "no message to send");
		return -EINVAL;
	}

	spin_lock_bh(&g->cfg_lock);
	memcpy(t.key.bytes, g->key, sizeof(t.key.bytes));
	peer = g->peer;
	max = g->peer_max_coalesce;
	mtu = g->mtu;
	spin_unlock_bh(&g->cfg_lock);
	hadp_wire_ctx_of(&t.ctx, &g->local, &peer);

	t.cap = hadp_wire_payload_max(mtu, g->local.sa.sa_family == AF_INET6);
	if (t.cap <= HADP_WIRE_OVERHEAD) {
		NL_SET_ERR_MSG(extack, "the group's mtu leaves no room");
		err = -EINVAL;
		goto out;
	}
	room = t.cap - HADP_WIRE_OVERHEAD;
	t.cap = min(t.cap, len + HADP_WIRE_OVERHEAD);
	t.buf = kmalloc(t.cap, GFP_KERNEL);
	t.seqs = kmalloc_array(n, sizeof(*t.seqs), GFP_KERNEL);
	if (!t.buf || !t.seqs) {
		NL_SET_ERR_MSG(extack, "out of memory for the packets");
		err = -ENOMEM;
		goto out;
	}

	mutex_lock(&g->tx_lock);
	hadp_wire_iter_msgs(&it, msgs, len);
	while ((ret = hadp_wire_next(&it, &m)) > 0) {
		size = HADP_WIRE_MSG_HDR_LEN + m.len;
		if (size > room) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "a message does not fit in one packet of the group's mtu");
			err = -EMSGSIZE;
			goto out_unlock;
		}
		if (count && (count == max || bytes + size > room)) {
			err = hadp_tx_packet(&t, start, bytes, count, extack);
			if (err)
				goto out_unlock;
			start += bytes;
			bytes = 0;
			count = 0;
		}
		bytes += size;
		count++;
	}
	err = ret < 0 ? -EINVAL : 0;
	if (!err && count)
		err = hadp_tx_packet(&t, start, bytes, count, extack);
out_unlock:
	mutex_unlock(&g->tx_lock);
out:
	memzero_explicit(&t.key, sizeof(t.key));
	kfree(t.buf);
	if (err) {
		kfree(t.seqs);
		return err;
	}
	*seqs = t.seqs;
	*npkts = t.npkts;
	return 0;
}
