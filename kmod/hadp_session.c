// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sessions (docs/protocol.md, "Sessions"): which epoch of the peer's this
 * group accepts, and the challenge and response that prove an epoch live.
 *
 * A group accepts the peer's packets of one epoch only, the one the peer
 * last answered a challenge of ours under. A packet of any other epoch,
 * authenticated or not, is dropped (no_session) and, at most once per
 * HADP_CHALLENGE_INTERVAL, answered with a CHALLENGE carrying a fresh
 * random nonce. The peer answers with a RESPONSE: the nonce, its epoch
 * and its next sequence number, which starts the session there. A
 * recorded packet cannot answer a nonce drawn after it: replays of an
 * old session stay refused after any reset of ours, and since epochs are
 * random, not clocks, a peer whose clock went back is back after one
 * challenge.
 *
 * Each side also challenges its peer when its own view starts over
 * (group created, peer or key changed) and when the peer's challenge
 * names an epoch it has not accepted: two new groups agree in two round
 * trips, before their agents send anything.
 *
 * State is under cfg_lock; packets go out from the reply worker, which
 * may take tx_lock (a response uses a sequence number of ours).
 */
#include <linux/jiffies.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <crypto/algapi.h>

#include "hadp.h"

/* A random epoch, never 0 (0 is "none" in GROUP_GET). */
u32 hadp_session_epoch(void)
{
	u32 e;

	do {
		e = get_random_u32();
	} while (!e);
	return e;
}

/* Under cfg_lock: draw a new nonce and have the worker send it. */
static void hadp_session_challenge(struct hadp_group *g)
{
	get_random_bytes(g->nonce, sizeof(g->nonce));
	g->challenging = true;
	g->session_todo |= HADP_SESSION_CHALLENGE;
	schedule_work(&g->reply_work);
}

/* Under cfg_lock: challenge, unless one went out less than
 * HADP_CHALLENGE_INTERVAL ago (a replay flood costs the peer at most
 * that many responses). */
static void hadp_session_challenge_limited(struct hadp_group *g)
{
	unsigned long now = jiffies;

	if (g->challenged && time_before(now, g->challenged_at +
					 HADP_CHALLENGE_INTERVAL))
		return;
	g->challenged = true;
	g->challenged_at = now;
	hadp_session_challenge(g);
}

void hadp_session_reset(struct hadp_group *g)
{
	memset(&g->rx_window, 0, sizeof(g->rx_window));
	hadp_session_challenge(g);
}

void hadp_session_refused(struct hadp_group *g)
{
	hadp_session_challenge_limited(g);
}

int hadp_session_rx(struct hadp_group *g, const struct hadp_wire_hdr *hdr,
		    const u8 *pkt, size_t len, u32 gen)
{
	u8 nonce[HADP_WIRE_NONCE_LEN];
	u8 type;
	int err;

	err = hadp_wire_dec_session(pkt, len, &type, nonce);
	if (err)
		return err;
	spin_lock(&g->cfg_lock);
	if (g->cfg_gen != gen) {
		err = -HADP_WIRE_EMAC;	/* as in hadp_rx_check() */
	} else if (type == HADP_WIRE_T_CHALLENGE) {
		/* Answer it; and a peer whose epoch we do not hold has
		 * started over: challenge it back. */
		memcpy(g->peer_nonce, nonce, sizeof(nonce));
		g->session_todo |= HADP_SESSION_RESPOND;
		schedule_work(&g->reply_work);
		if (!g->rx_window.valid || g->rx_window.epoch != hdr->epoch)
			hadp_session_challenge_limited(g);
	} else if (g->challenging &&
		   !crypto_memneq(nonce, g->nonce, sizeof(nonce))) {
		g->challenging = false;
		if (g->rx_window.valid && g->rx_window.epoch == hdr->epoch) {
			/* The session we hold: nothing starts over. */
			hadp_wire_replay_update(&g->rx_window, hdr->epoch,
						hdr->seq);
		} else {
			hadp_wire_replay_start(&g->rx_window, hdr->epoch,
					       hdr->seq);
			hadp_stat_inc(g, HADP_STAT_SESSIONS);
		}
	} else {
		/* An answer to no challenge of ours, or to an older one. */
		err = -HADP_WIRE_EREPLAY;
	}
	spin_unlock(&g->cfg_lock);
	return err;
}

/* Frame and send one session packet (process context). */
static void hadp_session_send(struct hadp_group *g, u8 type, u32 epoch,
			      u64 seq, const u8 *nonce,
			      const struct hadp_wire_key *key,
			      const union hadp_sockaddr *peer)
{
	u8 buf[HADP_WIRE_SESSION_PKT_LEN];
	struct hadp_wire_ctx ctx;
	int len;

	hadp_wire_ctx_of(&ctx, &g->local, peer);
	len = hadp_wire_session(buf, sizeof(buf), type, epoch, seq, nonce, key,
				&ctx);
	if (len < 0 || hadp_sock_send(g, buf, len)) {
		hadp_stat_inc(g, HADP_STAT_TX_ERRORS);
		return;
	}
	if (type == HADP_WIRE_T_CHALLENGE)
		hadp_stat_inc(g, HADP_STAT_CHALLENGES);
}

void hadp_session_work(struct hadp_group *g)
{
	u8 nonce[HADP_WIRE_NONCE_LEN], peer_nonce[HADP_WIRE_NONCE_LEN];
	union hadp_sockaddr peer;
	struct hadp_wire_key key;
	unsigned int todo;
	u64 seq;

	spin_lock_bh(&g->cfg_lock);
	todo = g->session_todo;
	if (!todo) {
		spin_unlock_bh(&g->cfg_lock);
		return;
	}
	g->session_todo = 0;
	memcpy(nonce, g->nonce, sizeof(nonce));
	memcpy(peer_nonce, g->peer_nonce, sizeof(peer_nonce));
	memcpy(key.bytes, g->key, sizeof(key.bytes));
	peer = g->peer;
	spin_unlock_bh(&g->cfg_lock);

	if (todo & HADP_SESSION_RESPOND) {
		/* The response takes a number of ours: the peer's session
		 * starts there, and nothing we sent before counts in it. */
		mutex_lock(&g->tx_lock);
		seq = g->tx_seq;
		WRITE_ONCE(g->tx_seq, seq + 1);
		mutex_unlock(&g->tx_lock);
		hadp_session_send(g, HADP_WIRE_T_RESPONSE, g->tx_epoch, seq,
				  peer_nonce, &key, &peer);
	}
	if (todo & HADP_SESSION_CHALLENGE)
		hadp_session_send(g, HADP_WIRE_T_CHALLENGE, g->tx_epoch, 0,
				  nonce, &key, &peer);
	memzero_explicit(&key, sizeof(key));
}
