// SPDX-License-Identifier: GPL-2.0-only
/*
 * The generic netlink family "hadp", version HADP_FAMILY_VERSION,
 * described in kmod/hadp.yaml.
 *
 * HADP_CMD_INFO_GET (read-only, any user): the module's version, the
 * family version and how many datapath instances a host may run.
 */
#include <linux/kernel.h>
#include <net/genetlink.h>
#include <linux/hadp.h>
#include <hadp/maps.h>

#include "hadp.h"

static const struct nla_policy hadp_info_policy[HADP_A_INFO_MAX + 1] = {
	[HADP_A_INFO_VERSION]		= { .type = NLA_NUL_STRING,
					    .len = HADP_VERSION_LEN - 1 },
	[HADP_A_INFO_FAMILY_VERSION]	= { .type = NLA_U32 },
	[HADP_A_INFO_MAX_INSTANCES]	= { .type = NLA_U32 },
};

static struct genl_family hadp_genl_family;

static int hadp_genl_info_fill(struct sk_buff *skb)
{
	if (nla_put_string(skb, HADP_A_INFO_VERSION, HADP_MOD_VERSION) ||
	    nla_put_u32(skb, HADP_A_INFO_FAMILY_VERSION, HADP_FAMILY_VERSION) ||
	    nla_put_u32(skb, HADP_A_INFO_MAX_INSTANCES, HADP_MAX_INSTANCES))
		return -EMSGSIZE;
	return 0;
}

static int hadp_genl_info_get(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put_reply(msg, info, &hadp_genl_family, 0,
				HADP_CMD_INFO_GET);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free;
	}
	err = hadp_genl_info_fill(msg);
	if (err)
		goto err_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

static const struct genl_small_ops hadp_genl_ops[] = {
	{
		.cmd	= HADP_CMD_INFO_GET,
		.doit	= hadp_genl_info_get,
	},
};

static struct genl_family hadp_genl_family __ro_after_init = {
	.name		= HADP_FAMILY_NAME,
	.version	= HADP_FAMILY_VERSION,
	.maxattr	= HADP_A_INFO_MAX,
	.policy		= hadp_info_policy,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.small_ops	= hadp_genl_ops,
	.n_small_ops	= ARRAY_SIZE(hadp_genl_ops),
};

int __init hadp_genl_init(void)
{
	return genl_register_family(&hadp_genl_family);
}

void hadp_genl_exit(void)
{
	genl_unregister_family(&hadp_genl_family);
}
