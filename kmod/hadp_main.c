// SPDX-License-Identifier: GPL-2.0-only
/*
 * hadp.ko: module entry points.
 *
 * The module is hadp's HA message channel (docs/architecture.md, "A sync
 * message"): per network namespace, one sync group per datapath
 * instance, each with a kernel UDP socket to its peer, driven through the
 * generic netlink family "hadp".
 *
 * Leak check: groups come from a kmem cache of their own (destroying it
 * with an object left complains loudly) and groups and sockets are
 * counted; unload reports both counters, which must be 0.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/rcupdate.h>
#include <net/genetlink.h>
#include <linux/hadp.h>

#include "hadp.h"

atomic_t hadp_nr_groups = ATOMIC_INIT(0);
atomic_t hadp_nr_sockets = ATOMIC_INIT(0);

static int __init hadp_init(void)
{
	int err;

	err = hadp_group_cache_init();
	if (err)
		return err;
	err = hadp_net_init();
	if (err)
		goto err_cache;
	err = hadp_genl_init();
	if (err) {
		pr_err("cannot register generic netlink family: %d\n", err);
		goto err_net;
	}
	pr_info("version %s loaded\n", HADP_MOD_VERSION);
	return 0;

err_net:
	hadp_net_exit();
err_cache:
	hadp_group_cache_exit();
	return err;
}

static void __exit hadp_exit(void)
{
	int groups, sockets;

	/* No command runs after this; then every netns's groups go. */
	hadp_genl_exit();
	hadp_net_exit();
	rcu_barrier();
	groups = atomic_read(&hadp_nr_groups);
	sockets = atomic_read(&hadp_nr_sockets);
	hadp_group_cache_exit();
	WARN(groups || sockets, "hadp: leaked %d groups, %d sockets\n",
	     groups, sockets);
	pr_info("unloaded: %d groups, %d sockets left\n", groups, sockets);
}

module_init(hadp_init);
module_exit(hadp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hadp: HA state channel for the hadp XDP datapath");
MODULE_AUTHOR("The hadp authors");
MODULE_VERSION(HADP_MOD_VERSION);
MODULE_ALIAS_GENL_FAMILY(HADP_FAMILY_NAME);
