// SPDX-License-Identifier: GPL-2.0-only
/*
 * hadp.ko: module entry points.
 *
 * The module is hadp's HA message channel (see DESIGN.md section 1). This
 * first version only registers the generic netlink family; the sync link,
 * the per-instance HA status and the wire codec come with the HA issue.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/hadp.h>

#include "hadp.h"

static int __init hadp_init(void)
{
	int err;

	err = hadp_genl_init();
	if (err) {
		pr_err("cannot register generic netlink family: %d\n", err);
		return err;
	}
	pr_info("version %s loaded\n", HADP_MOD_VERSION);
	return 0;
}

static void __exit hadp_exit(void)
{
	hadp_genl_exit();
}

module_init(hadp_init);
module_exit(hadp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hadp: HA state channel for the hadp XDP datapath");
MODULE_AUTHOR("The hadp authors");
MODULE_VERSION(HADP_MOD_VERSION);
MODULE_ALIAS_GENL_FAMILY(HADP_FAMILY_NAME);
