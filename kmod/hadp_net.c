// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per network namespace state: the list of sync groups, and the netlink
 * release notifier that forgets an agent whose socket went away.
 */
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "hadp.h"

static unsigned int hadp_net_id __read_mostly;

struct hadp_net *hadp_net(struct net *net)
{
	return net_generic(net, hadp_net_id);
}

static int __net_init hadp_net_init_one(struct net *net)
{
	struct hadp_net *hn = hadp_net(net);

	mutex_init(&hn->lock);
	INIT_LIST_HEAD(&hn->groups);
	return 0;
}

static void __net_exit hadp_net_exit_one(struct net *net)
{
	struct hadp_net *hn = hadp_net(net);
	struct hadp_group *g, *tmp;

	mutex_lock(&hn->lock);
	list_for_each_entry_safe(g, tmp, &hn->groups, list)
		hadp_group_destroy(g);
	mutex_unlock(&hn->lock);
}

static struct pernet_operations hadp_net_ops = {
	.init	= hadp_net_init_one,
	.exit	= hadp_net_exit_one,
	.id	= &hadp_net_id,
	.size	= sizeof(struct hadp_net),
};

/* A generic netlink socket was released: if it was an agent, forget it.
 * The chain is a blocking one, so the mutex may be taken. */
static int hadp_netlink_event(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct netlink_notify *n = ptr;
	struct hadp_net *hn;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !n->portid)
		return NOTIFY_DONE;
	hn = hadp_net(n->net);
	mutex_lock(&hn->lock);
	hadp_group_forget_port(hn, n->portid);
	mutex_unlock(&hn->lock);
	return NOTIFY_DONE;
}

static struct notifier_block hadp_netlink_nb = {
	.notifier_call = hadp_netlink_event,
};

int __init hadp_net_init(void)
{
	int err;

	err = register_pernet_subsys(&hadp_net_ops);
	if (err)
		return err;
	err = netlink_register_notifier(&hadp_netlink_nb);
	if (err)
		goto err_pernet;
	return 0;

err_pernet:
	unregister_pernet_subsys(&hadp_net_ops);
	return err;
}

void hadp_net_exit(void)
{
	netlink_unregister_notifier(&hadp_netlink_nb);
	unregister_pernet_subsys(&hadp_net_ops);
}
