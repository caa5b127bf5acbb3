// SPDX-License-Identifier: GPL-2.0-only
/*
 * Receive, in softirq under RCU, straight from the group's UDP socket:
 *
 *   1. the source must be the group's peer             (unknown_peer)
 *      and the payload at least a header and a MAC      (malformed)
 *      (both before the packet is linearized)
 *   2. header, lengths, count; MAC; the advertised max  (malformed,
 *      count, in that order (hadp_wire_validate)         bad_mac, over_limit)
 *      without holding cfg_lock
 *   3. the epoch is the peer's session's, else a       (no_session)
 *      challenge (hadp_session.c); a session packet
 *      (challenge, response) ends here
 *      (epoch, seq) fresh in the replay window          (replayed)
 *      a reply: our own epoch, a sequence number we used, once
 *      (the only step under cfg_lock)
 *   4. a copy to the "monitor" multicast group (never a delivery)
 *   5. unicast to the registered agent, without waiting (no_listener,
 *      listener_overrun)
 *   6. reply requested and step 5 succeeded: the reply (the packet with
 *      the reply flag, bodies cut when truncation is allowed) goes to the
 *      reply worker, which sends it; otherwise no_reply is counted.
 *
 * Nothing about a packet outlives this function but the replay window.
 * An advert from the peer updates the count we may send it.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <net/sock.h>

#include "hadp.h"

static void hadp_rx_source(struct sock *sk, struct sk_buff *skb,
			   union hadp_sockaddr *src)
{
	memset(src, 0, sizeof(*src));
	if (sk->sk_family == AF_INET) {
		src->v4.sin_family = AF_INET;
		src->v4.sin_addr.s_addr = ip_hdr(skb)->saddr;
		src->v4.sin_port = udp_hdr(skb)->source;
	} else {
		src->v6.sin6_family = AF_INET6;
		src->v6.sin6_addr = ipv6_hdr(skb)->saddr;
		src->v6.sin6_port = udp_hdr(skb)->source;
	}
}

static enum hadp_stat hadp_rx_drop_reason(int err)
{
	switch (-err) {
	case HADP_WIRE_EMAC:
		return HADP_STAT_DROP_BAD_MAC;
	case HADP_WIRE_ELIMIT:
		return HADP_STAT_DROP_OVER_LIMIT;
	case HADP_WIRE_EREPLAY:
	case HADP_WIRE_ESTALE:
		return HADP_STAT_DROP_REPLAYED;
	case HADP_WIRE_ESESSION:
		return HADP_STAT_DROP_NO_SESSION;
	default:
		return HADP_STAT_DROP_MALFORMED;
	}
}

/* The count the peer accepts, from the last advert in a validated
 * packet; 0 if it has none. */
static u32 hadp_rx_advert(const u8 *pkt, size_t len)
{
	struct hadp_wire_advert adv;
	struct hadp_wire_iter it;
	struct hadp_wire_msg m;
	u32 max = 0;

	if (hadp_wire_iter_init(&it, pkt, len))
		return 0;
	while (hadp_wire_next(&it, &m) > 0)
		if (m.type == HADP_WIRE_T_ADVERT &&
		    !hadp_wire_dec_advert(&m, &adv) && adv.max_count)
			max = adv.max_count;
	return max;
}

/* Queue the reply to a delivered packet for the reply worker. */
static void hadp_rx_reply(struct hadp_group *g, const union hadp_sockaddr *peer,
			  const u8 *pkt, size_t len, bool truncate,
			  const struct hadp_wire_key *key)
{
	struct hadp_wire_ctx ctx;
	struct sk_buff *r;
	int rlen;

	if (skb_queue_len(&g->replies) >= HADP_REPLY_QUEUE_MAX)
		goto drop;
	r = alloc_skb(len, GFP_ATOMIC);
	if (!r)
		goto drop;
	hadp_wire_ctx_of(&ctx, &g->local, peer);
	rlen = hadp_wire_reply(skb_put(r, len), len, pkt, len, truncate, key,
			       &ctx);
	if (rlen < 0) {
		kfree_skb(r);
		goto drop;
	}
	skb_trim(r, rlen);
	skb_queue_tail(&g->replies, r);
	schedule_work(&g->reply_work);
	return;
drop:
	hadp_stat_inc(g, HADP_STAT_NO_REPLY);
}

void hadp_reply_work(struct work_struct *work)
{
	struct hadp_group *g = container_of(work, struct hadp_group,
					    reply_work);
	struct hadp_wire_hdr hdr;
	struct sk_buff *skb;

	while ((skb = skb_dequeue(&g->replies))) {
		if (hadp_sock_send(g, skb->data, skb->len)) {
			hadp_stat_inc(g, HADP_STAT_TX_ERRORS);
			hadp_stat_inc(g, HADP_STAT_NO_REPLY);
		} else {
			hadp_stat_inc(g, HADP_STAT_REPLIED);
			if (!hadp_wire_parse_hdr(skb->data, skb->len, &hdr))
				hadp_genl_monitor(g, HADP_DIR_REPLY_TX,
						  hdr.flags, hdr.opaque,
						  hdr.epoch, hdr.seq,
						  ktime_get_real_ns(),
						  skb->data + HADP_WIRE_HDR_LEN,
						  skb->len - HADP_WIRE_OVERHEAD,
						  hdr.count);
		}
		consume_skb(skb);
	}
	hadp_session_work(g);
}

/* Checks 2 and 3 of a packet from the peer, linearized: MAC outside
 * any lock, then the replay window under cfg_lock. gen is the
 * configuration the key was read under. 0: to deliver; 1: a session
 * packet, done with; or a wire error. */
static int hadp_rx_check(struct hadp_group *g, const union hadp_sockaddr *src,
			 const u8 *pkt, size_t len, const struct hadp_wire_key *key,
			 u32 max_coalesce, u32 gen, struct hadp_wire_hdr *hdr)
{
	struct hadp_wire_ctx ctx;
	bool reply;
	u32 adv;
	int err;

	err = hadp_wire_parse_hdr(pkt, len, hdr);
	if (err)
		return err;
	reply = hdr->flags & HADP_WIRE_F_REPLY;
	hadp_wire_ctx_of(&ctx, src, &g->local);
	err = hadp_wire_validate(pkt, len, key, &ctx,
				 reply ? 0 : max_coalesce, hdr);
	if (err)
		return err;
	if (!reply && (hdr->flags & HADP_WIRE_F_SESSION)) {
		err = hadp_session_rx(g, hdr, pkt, len, gen);
		return err ? err : 1;
	}
	adv = reply ? 0 : hadp_rx_advert(pkt, len);

	spin_lock(&g->cfg_lock);
	if (g->cfg_gen != gen) {
		/* Peer or key changed while we verified: what the packet
		 * was authenticated for is no longer in force. */
		err = -HADP_WIRE_EMAC;
	} else if (reply) {
		/* Our own packet coming back: our epoch, a number we used. */
		if (hdr->epoch != g->tx_epoch || hdr->seq >= READ_ONCE(g->tx_seq))
			err = -HADP_WIRE_ESTALE;
		else
			err = hadp_wire_replay_accept(&g->reply_window,
						      hdr->epoch, hdr->seq);
	} else {
		err = hadp_wire_replay_accept(&g->rx_window, hdr->epoch,
					      hdr->seq);
		if (err == -HADP_WIRE_ESESSION)
			hadp_session_refused(g);
		else if (!err && adv)
			g->peer_max_coalesce = adv;
	}
	spin_unlock(&g->cfg_lock);
	return err;
}

/*
 * The cheap checks come first, on the packet as it arrived: the source
 * (one comparison under cfg_lock, where the key is copied too) and the
 * length. Only a packet from the peer of a plausible size is linearized
 * and authenticated, and the MAC is computed without holding cfg_lock,
 * which SEND and SET take.
 */
static void hadp_rx(struct hadp_group *g, struct sock *sk, struct sk_buff *skb)
{
	union hadp_sockaddr src;
	struct hadp_wire_key key;
	struct hadp_wire_hdr hdr;
	struct sk_buff *msg;
	const u8 *pkt;
	size_t len, off;
	u64 tstamp = ktime_get_real_ns();
	u32 max_coalesce, gen;
	bool reply;
	int err;

	hadp_rx_source(sk, skb, &src);
	spin_lock(&g->cfg_lock);
	if (!hadp_sockaddr_equal(&src, &g->peer)) {
		spin_unlock(&g->cfg_lock);
		hadp_stat_inc(g, HADP_STAT_DROP_UNKNOWN_PEER);
		return;
	}
	memcpy(key.bytes, g->key, sizeof(key.bytes));
	max_coalesce = g->max_coalesce;
	gen = g->cfg_gen;
	spin_unlock(&g->cfg_lock);

	off = skb_transport_offset(skb) + sizeof(struct udphdr);
	if (off > skb->len || skb->len - off < HADP_WIRE_MIN_LEN) {
		err = -HADP_WIRE_ETRUNC;
		goto drop;
	}
	if (skb_linearize(skb)) {
		hadp_stat_inc(g, HADP_STAT_DROP_NOMEM);
		goto out;
	}
	pkt = skb->data + off;
	len = skb->len - off;
	err = hadp_rx_check(g, &src, pkt, len, &key, max_coalesce, gen, &hdr);
	if (err > 0)
		goto out;
	if (err)
		goto drop;
	reply = hdr.flags & HADP_WIRE_F_REPLY;

	if (reply) {
		hadp_stat_inc(g, HADP_STAT_REPLIES_RECEIVED);
	} else {
		hadp_stat_inc(g, HADP_STAT_RX_PACKETS);
		hadp_stat_add(g, HADP_STAT_RX_MESSAGES, hdr.count);
		hadp_stat_add(g, HADP_STAT_RX_BYTES, len);
	}
	hadp_genl_monitor(g, HADP_DIR_RX, hdr.flags, hdr.opaque, hdr.epoch,
			  hdr.seq, tstamp, pkt + HADP_WIRE_HDR_LEN,
			  len - HADP_WIRE_OVERHEAD, hdr.count);

	msg = hadp_genl_recv_msg(g, hdr.flags, hdr.opaque, hdr.epoch, hdr.seq,
				 tstamp, pkt + HADP_WIRE_HDR_LEN,
				 len - HADP_WIRE_OVERHEAD, hdr.count);
	if (!msg) {
		hadp_stat_inc(g, HADP_STAT_DROP_NOMEM);
		err = -ENOMEM;
	} else {
		err = hadp_genl_deliver(g, msg);
		if (err == -ENOTCONN)
			hadp_stat_inc(g, HADP_STAT_DROP_NO_LISTENER);
		else if (err)
			hadp_stat_inc(g, HADP_STAT_DROP_OVERRUN);
		else
			hadp_stat_inc(g, HADP_STAT_DELIVERED);
	}
	if (!reply && (hdr.flags & HADP_WIRE_F_REPLY_REQUESTED)) {
		if (err)
			hadp_stat_inc(g, HADP_STAT_NO_REPLY);
		else
			hadp_rx_reply(g, &src, pkt, len,
				      hdr.flags & HADP_WIRE_F_TRUNCATION_ALLOWED,
				      &key);
	}
	goto out;

drop:
	hadp_stat_inc(g, hadp_rx_drop_reason(err));
out:
	memzero_explicit(&key, sizeof(key));
}

/* The socket's encap_rcv: 0, the packet is ours (consumed). */
int hadp_rx_encap(struct sock *sk, struct sk_buff *skb)
{
	struct hadp_group *g = rcu_dereference_sk_user_data(sk);

	if (g)
		hadp_rx(g, sk, skb);
	kfree_skb(skb);
	return 0;
}
