// SPDX-License-Identifier: GPL-2.0-only
/*
 * A sync group's life. Groups come from their own kmem cache and are
 * counted in hadp_nr_groups, so that an unload with a group left behind
 * is seen (kmem_cache_destroy complains, and so does hadp_exit).
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <net/net_namespace.h>
#include <net/netlink.h>

#include "hadp.h"

static struct kmem_cache *hadp_group_cache __read_mostly;

int __init hadp_group_cache_init(void)
{
	hadp_group_cache = KMEM_CACHE(hadp_group, 0);
	return hadp_group_cache ? 0 : -ENOMEM;
}

void hadp_group_cache_exit(void)
{
	kmem_cache_destroy(hadp_group_cache);
}

struct hadp_group *hadp_group_find(struct hadp_net *hn, const char *name)
{
	struct hadp_group *g;

	lockdep_assert_held(&hn->lock);
	list_for_each_entry(g, &hn->groups, list)
		if (!strcmp(g->name, name))
			return g;
	return NULL;
}

/* Create a group named name in net, bound to local, and put it on the
 * netns's list. The caller fills in peer, key and limits (under
 * cfg_lock is not needed: nothing can receive before the peer is set,
 * since an unset peer matches no source). */
struct hadp_group *hadp_group_create(struct net *net, const char *name,
				     const union hadp_sockaddr *local,
				     struct netlink_ext_ack *extack)
{
	struct hadp_group *g;
	int err;

	g = kmem_cache_zalloc(hadp_group_cache, GFP_KERNEL_ACCOUNT);
	if (!g) {
		NL_SET_ERR_MSG(extack, "out of memory for the group");
		return ERR_PTR(-ENOMEM);
	}
	atomic_inc(&hadp_nr_groups);
	g->net = net;
	strscpy(g->name, name, sizeof(g->name));
	g->local = *local;
	spin_lock_init(&g->cfg_lock);
	mutex_init(&g->tx_lock);
	skb_queue_head_init(&g->replies);
	INIT_WORK(&g->reply_work, hadp_reply_work);
	g->max_coalesce = HADP_DEFAULT_MAX_COALESCE;
	g->peer_max_coalesce = HADP_DEFAULT_PEER_MAX_COALESCE;
	g->mtu = HADP_DEFAULT_MTU;
	/* Random, not a clock: the peer accepts it only once it answered
	 * the peer's challenge under it (hadp_session.c). */
	g->tx_epoch = hadp_session_epoch();
	g->tx_seq = 1;
	/* Replies to our packets: of our epoch, from 1 on. */
	hadp_wire_replay_start(&g->reply_window, g->tx_epoch, 0);

	err = hadp_sock_open(g, extack);
	if (err)
		goto err_free;
	list_add_tail(&g->list, &hadp_net(net)->groups);
	hadp_net(net)->nr_groups++;
	return g;

err_free:
	atomic_dec(&hadp_nr_groups);
	kmem_cache_free(hadp_group_cache, g);
	return ERR_PTR(err);
}

/* Take g off its list and free it: after the socket stops handing
 * packets to it and every receive in flight is over, the reply worker
 * is stopped, then the socket goes. */
void hadp_group_destroy(struct hadp_group *g)
{
	list_del(&g->list);
	hadp_net(g->net)->nr_groups--;
	hadp_sock_detach(g);
	synchronize_rcu();
	cancel_work_sync(&g->reply_work);
	skb_queue_purge(&g->replies);
	hadp_sock_close(g);
	memzero_explicit(g->key, sizeof(g->key));
	atomic_dec(&hadp_nr_groups);
	kmem_cache_free(hadp_group_cache, g);
}

void hadp_group_forget_port(struct hadp_net *hn, u32 portid)
{
	struct hadp_group *g;

	lockdep_assert_held(&hn->lock);
	list_for_each_entry(g, &hn->groups, list)
		if (READ_ONCE(g->agent_portid) == portid)
			WRITE_ONCE(g->agent_portid, 0);
}
