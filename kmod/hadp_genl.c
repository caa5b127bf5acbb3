// SPDX-License-Identifier: GPL-2.0-only
/*
 * The generic netlink family "hadp", version HADP_FAMILY_VERSION,
 * described in kmod/hadp.yaml.
 *
 * Every command needs CAP_NET_ADMIN in the user namespace that owns the
 * caller's network namespace (GENL_UNS_ADMIN_PERM): those that change
 * state, and group get and dump too, since peers, epochs and sequence
 * numbers are not for everyone. Info counts the groups and sockets of
 * every namespace: it needs CAP_NET_ADMIN in the initial user namespace
 * (GENL_ADMIN_PERM), so that a container learns nothing of the host's. So does joining the "monitor"
 * multicast group, which carries NAT tables (GENL_MCAST_CAP_NET_ADMIN).
 * A group's key is never reported.
 *
 * Each command has a policy of its own that lists only the attributes it
 * takes; validation is strict, so any other attribute is refused
 * ("Unsupported attribute"), not ignored. The family is new: the
 * genetlink header's reserved field must be 0 on every command
 * (resv_start_op 0). Every refusal of ours says why in the extended ack.
 */
#include <linux/kernel.h>
#include <linux/stringify.h>
#include <linux/ctype.h>
#include <linux/slab.h>
#include <crypto/algapi.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <linux/hadp.h>
#include <hadp/maps.h>

#include "hadp.h"

static const struct nla_policy hadp_info_policy[HADP_A_INFO_MAX + 1] = {
	[HADP_A_INFO_VERSION]		= { .type = NLA_REJECT,
					    .reject_message = "reply-only attribute" },
	[HADP_A_INFO_FAMILY_VERSION]	= { .type = NLA_REJECT,
					    .reject_message = "reply-only attribute" },
	[HADP_A_INFO_MAX_INSTANCES]	= { .type = NLA_REJECT,
					    .reject_message = "reply-only attribute" },
	[HADP_A_INFO_GROUPS]		= { .type = NLA_REJECT,
					    .reject_message = "reply-only attribute" },
	[HADP_A_INFO_SOCKETS]		= { .type = NLA_REJECT,
					    .reject_message = "reply-only attribute" },
};

static const struct nla_policy hadp_endpoint_policy[HADP_A_ENDPOINT_MAX + 1] = {
	[HADP_A_ENDPOINT_ADDR4]	= NLA_POLICY_EXACT_LEN(4),
	[HADP_A_ENDPOINT_ADDR6]	= NLA_POLICY_EXACT_LEN(16),
	[HADP_A_ENDPOINT_PORT]	= NLA_POLICY_MIN(NLA_U16, 1),
};

/* Ranges past s16 need the pointer form. */
static struct netlink_range_validation hadp_count_range __ro_after_init = {
	.min = 1, .max = HADP_WIRE_MAX_COUNT,
};
static struct netlink_range_validation hadp_mtu_range __ro_after_init = {
	.min = 576, .max = 65535,
};

/*
 * One policy per command, validating what kmod/hadp.yaml lists in the
 * command's request (tests/kmod/nlspec.py checks that they agree); an
 * attribute left out (NLA_UNSPEC) is refused under strict validation. Reply-only attributes are refused with their
 * own message wherever a command takes none of them.
 */
#define HADP_REPLY_ONLY { .type = NLA_REJECT, \
			  .reject_message = "reply-only attribute" }
#define HADP_GROUP_NAME_POLICY { .type = NLA_NUL_STRING, \
				 .len = HADP_GROUP_NAME_LEN - 1 }
#define HADP_GROUP_REPLY_ONLY					\
	[HADP_A_GROUP_AGENT_PORTID]	= HADP_REPLY_ONLY,		\
	[HADP_A_GROUP_TX_EPOCH]		= HADP_REPLY_ONLY,		\
	[HADP_A_GROUP_TX_SEQ]		= HADP_REPLY_ONLY,		\
	[HADP_A_GROUP_RX_EPOCH]		= HADP_REPLY_ONLY,		\
	[HADP_A_GROUP_RX_SEQ]		= HADP_REPLY_ONLY,		\
	[HADP_A_GROUP_STATS]		= HADP_REPLY_ONLY
#define HADP_GROUP_CFG_POLICY						\
	[HADP_A_GROUP_NAME]		= HADP_GROUP_NAME_POLICY,	\
	[HADP_A_GROUP_PEER]		= NLA_POLICY_NESTED(hadp_endpoint_policy), \
	[HADP_A_GROUP_KEY]		= NLA_POLICY_EXACT_LEN(HADP_KEY_LEN), \
	[HADP_A_GROUP_MAX_COALESCE]	= NLA_POLICY_FULL_RANGE(NLA_U32, \
							&hadp_count_range), \
	[HADP_A_GROUP_PEER_MAX_COALESCE] = NLA_POLICY_FULL_RANGE(NLA_U32, \
							&hadp_count_range), \
	[HADP_A_GROUP_MTU]		= NLA_POLICY_FULL_RANGE(NLA_U32, \
							&hadp_mtu_range), \
	[HADP_A_GROUP_ROLE]		= NLA_POLICY_MAX(NLA_U32, HADP_ROLE_MAX), \
	HADP_GROUP_REPLY_ONLY

static const struct nla_policy hadp_group_new_policy[HADP_A_GROUP_MAX + 1] = {
	HADP_GROUP_CFG_POLICY,
	[HADP_A_GROUP_LOCAL]		= NLA_POLICY_NESTED(hadp_endpoint_policy),
};

static const struct nla_policy hadp_group_set_policy[HADP_A_GROUP_MAX + 1] = {
	HADP_GROUP_CFG_POLICY,
	/* only to be refused with its reason (hadp_genl_group_set) */
	[HADP_A_GROUP_LOCAL]		= NLA_POLICY_NESTED(hadp_endpoint_policy),
};

/* del and get (do) name a group; a dump takes nothing (checked in
 * hadp_genl_group_dump). */
static const struct nla_policy hadp_group_name_policy[HADP_A_GROUP_MAX + 1] = {
	[HADP_A_GROUP_NAME]		= HADP_GROUP_NAME_POLICY,
	HADP_GROUP_REPLY_ONLY,
};

static const struct nla_policy hadp_register_policy[HADP_A_GROUP_MAX + 1] = {
	[HADP_A_GROUP_NAME]		= HADP_GROUP_NAME_POLICY,
	[HADP_A_GROUP_ROLE]		= NLA_POLICY_MAX(NLA_U32, HADP_ROLE_MAX),
	HADP_GROUP_REPLY_ONLY,
};

static const struct nla_policy hadp_pkt_policy[HADP_A_PKT_MAX + 1] = {
	[HADP_A_PKT_GROUP]	= HADP_GROUP_NAME_POLICY,
	[HADP_A_PKT_FLAGS]	= NLA_POLICY_MASK(NLA_U32, HADP_PKT_F_SEND_MASK),
	[HADP_A_PKT_OPAQUE]	= { .type = NLA_U32 },
	[HADP_A_PKT_MSGS]	= { .type = NLA_BINARY, .len = HADP_SEND_MAX },
	[HADP_A_PKT_COUNT]	= HADP_REPLY_ONLY,
	[HADP_A_PKT_EPOCH]	= HADP_REPLY_ONLY,
	[HADP_A_PKT_SEQ]	= HADP_REPLY_ONLY,
	[HADP_A_PKT_TIMESTAMP]	= HADP_REPLY_ONLY,
	[HADP_A_PKT_DIR]	= HADP_REPLY_ONLY,
};

/* True (and the reason set) when a required attribute is missing. */
#define HADP_MISSING(info, attr, what) ({				\
	bool __missing = !(info)->attrs[attr];				\
									\
	if (__missing) {						\
		NL_SET_ERR_MSG((info)->extack, "missing attribute: " what); \
		NL_SET_ERR_ATTR_MISS((info)->extack, NULL, (attr));	\
	}								\
	__missing;							\
})

bool hadp_genl_live;

/* ---- info -------------------------------------------------------------- */

static int hadp_genl_info_fill(struct sk_buff *skb)
{
	if (nla_put_string(skb, HADP_A_INFO_VERSION, HADP_MOD_VERSION) ||
	    nla_put_u32(skb, HADP_A_INFO_FAMILY_VERSION, HADP_FAMILY_VERSION) ||
	    nla_put_u32(skb, HADP_A_INFO_MAX_INSTANCES, HADP_MAX_INSTANCES) ||
	    nla_put_u32(skb, HADP_A_INFO_GROUPS,
			atomic_read(&hadp_nr_groups)) ||
	    nla_put_u32(skb, HADP_A_INFO_SOCKETS,
			atomic_read(&hadp_nr_sockets)))
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

/* ---- groups ------------------------------------------------------------ */

static int hadp_put_endpoint(struct sk_buff *skb, int type,
			     const union hadp_sockaddr *a)
{
	struct nlattr *nest;

	if (!a->sa.sa_family)
		return 0;
	nest = nla_nest_start(skb, type);
	if (!nest)
		return -EMSGSIZE;
	if (a->sa.sa_family == AF_INET) {
		if (nla_put_in_addr(skb, HADP_A_ENDPOINT_ADDR4,
				    a->v4.sin_addr.s_addr) ||
		    nla_put_u16(skb, HADP_A_ENDPOINT_PORT,
				ntohs(a->v4.sin_port)))
			goto cancel;
	} else {
		if (nla_put_in6_addr(skb, HADP_A_ENDPOINT_ADDR6,
				     &a->v6.sin6_addr) ||
		    nla_put_u16(skb, HADP_A_ENDPOINT_PORT,
				ntohs(a->v6.sin6_port)))
			goto cancel;
	}
	nla_nest_end(skb, nest);
	return 0;
cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int hadp_group_fill(struct sk_buff *skb, struct hadp_group *g,
			   u32 portid, u32 seq, int flags, u8 cmd)
{
	union hadp_sockaddr peer;
	struct nlattr *stats;
	u32 maxc, pmaxc, mtu, role;
	u32 rx_epoch;
	u64 rx_seq, tx_seq;
	void *hdr;
	int i;

	hdr = genlmsg_put(skb, portid, seq, &hadp_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	spin_lock_bh(&g->cfg_lock);
	peer = g->peer;
	maxc = g->max_coalesce;
	pmaxc = g->peer_max_coalesce;
	mtu = g->mtu;
	role = g->role;
	rx_epoch = g->rx_window.epoch;
	rx_seq = g->rx_window.top;
	spin_unlock_bh(&g->cfg_lock);
	tx_seq = READ_ONCE(g->tx_seq);

	if (nla_put_string(skb, HADP_A_GROUP_NAME, g->name) ||
	    hadp_put_endpoint(skb, HADP_A_GROUP_LOCAL, &g->local) ||
	    hadp_put_endpoint(skb, HADP_A_GROUP_PEER, &peer) ||
	    nla_put_u32(skb, HADP_A_GROUP_MAX_COALESCE, maxc) ||
	    nla_put_u32(skb, HADP_A_GROUP_PEER_MAX_COALESCE, pmaxc) ||
	    nla_put_u32(skb, HADP_A_GROUP_MTU, mtu) ||
	    nla_put_u32(skb, HADP_A_GROUP_ROLE, role) ||
	    nla_put_u32(skb, HADP_A_GROUP_AGENT_PORTID,
			READ_ONCE(g->agent_portid)) ||
	    nla_put_u32(skb, HADP_A_GROUP_TX_EPOCH, g->tx_epoch) ||
	    nla_put_u64_64bit(skb, HADP_A_GROUP_TX_SEQ, tx_seq,
			      HADP_A_GROUP_PAD) ||
	    nla_put_u32(skb, HADP_A_GROUP_RX_EPOCH, rx_epoch) ||
	    nla_put_u64_64bit(skb, HADP_A_GROUP_RX_SEQ, rx_seq,
			      HADP_A_GROUP_PAD))
		goto cancel;
	stats = nla_nest_start(skb, HADP_A_GROUP_STATS);
	if (!stats)
		goto cancel;
	for (i = 0; i < __HADP_STAT_MAX; i++)
		if (nla_put_u64_64bit(skb, i + 1,
				      atomic64_read(&g->stats[i]), 0))
			goto cancel;
	nla_nest_end(skb, stats);
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* The instance's name: as the CLI's, [A-Za-z0-9_-], not starting with
 * '_'. The policy already bounds the length. */
static int hadp_check_name(struct nlattr *attr, struct netlink_ext_ack *extack)
{
	const char *s = nla_data(attr);
	size_t i, n = strlen(s);

	if (!n || s[0] == '_')
		goto bad;
	for (i = 0; i < n; i++)
		if (!isalnum(s[i]) && s[i] != '_' && s[i] != '-')
			goto bad;
	return 0;
bad:
	NL_SET_ERR_MSG_ATTR(extack, attr,
			    "group name must be 1-15 characters of [A-Za-z0-9_-], not starting with '_'");
	return -EINVAL;
}

static int hadp_parse_endpoint(struct nlattr *attr, union hadp_sockaddr *a,
			       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[HADP_A_ENDPOINT_MAX + 1];
	int err;

	err = nla_parse_nested(tb, HADP_A_ENDPOINT_MAX, attr,
			       hadp_endpoint_policy, extack);
	if (err)
		return err;
	if (!tb[HADP_A_ENDPOINT_PORT]) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "endpoint without a port");
		return -EINVAL;
	}
	if (!!tb[HADP_A_ENDPOINT_ADDR4] == !!tb[HADP_A_ENDPOINT_ADDR6]) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "endpoint needs exactly one of addr4 and addr6");
		return -EINVAL;
	}
	memset(a, 0, sizeof(*a));
	if (tb[HADP_A_ENDPOINT_ADDR4]) {
		a->v4.sin_family = AF_INET;
		a->v4.sin_addr.s_addr = nla_get_in_addr(tb[HADP_A_ENDPOINT_ADDR4]);
		a->v4.sin_port = htons(nla_get_u16(tb[HADP_A_ENDPOINT_PORT]));
		if (ipv4_is_multicast(a->v4.sin_addr.s_addr) ||
		    ipv4_is_lbcast(a->v4.sin_addr.s_addr) ||
		    ipv4_is_zeronet(a->v4.sin_addr.s_addr)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[HADP_A_ENDPOINT_ADDR4],
					    "endpoint address must be a unicast address");
			return -EINVAL;
		}
	} else {
		a->v6.sin6_family = AF_INET6;
		a->v6.sin6_addr = nla_get_in6_addr(tb[HADP_A_ENDPOINT_ADDR6]);
		a->v6.sin6_port = htons(nla_get_u16(tb[HADP_A_ENDPOINT_PORT]));
		if (ipv6_addr_any(&a->v6.sin6_addr) ||
		    ipv6_addr_is_multicast(&a->v6.sin6_addr) ||
		    (ipv6_addr_type(&a->v6.sin6_addr) & IPV6_ADDR_LINKLOCAL)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[HADP_A_ENDPOINT_ADDR6],
					    "endpoint address must be a global or unique-local unicast address");
			return -EINVAL;
		}
	}
	return 0;
}

/* Peer, key and limits of a new or changed group, all checked before
 * anything is changed. */
struct hadp_group_cfg {
	bool has_peer, has_key;
	union hadp_sockaddr peer;
	u8 key[HADP_KEY_LEN];
	u32 max_coalesce, peer_max_coalesce, mtu, role;
	bool has_max, has_peer_max, has_mtu, has_role;
};

static int hadp_parse_cfg(struct genl_info *info, struct hadp_group_cfg *c)
{
	struct nlattr **a = info->attrs;
	int err;

	memset(c, 0, sizeof(*c));
	if (a[HADP_A_GROUP_PEER]) {
		err = hadp_parse_endpoint(a[HADP_A_GROUP_PEER], &c->peer,
					  info->extack);
		if (err)
			return err;
		c->has_peer = true;
	}
	if (a[HADP_A_GROUP_KEY]) {
		nla_memcpy(c->key, a[HADP_A_GROUP_KEY], sizeof(c->key));
		if (!memchr_inv(c->key, 0, sizeof(c->key))) {
			NL_SET_ERR_MSG_ATTR(info->extack, a[HADP_A_GROUP_KEY],
					    "the key is all zeros");
			return -EINVAL;
		}
		c->has_key = true;
	}
	if (a[HADP_A_GROUP_MAX_COALESCE]) {
		c->max_coalesce = nla_get_u32(a[HADP_A_GROUP_MAX_COALESCE]);
		c->has_max = true;
	}
	if (a[HADP_A_GROUP_PEER_MAX_COALESCE]) {
		c->peer_max_coalesce =
			nla_get_u32(a[HADP_A_GROUP_PEER_MAX_COALESCE]);
		c->has_peer_max = true;
	}
	if (a[HADP_A_GROUP_MTU]) {
		c->mtu = nla_get_u32(a[HADP_A_GROUP_MTU]);
		c->has_mtu = true;
	}
	if (a[HADP_A_GROUP_ROLE]) {
		c->role = nla_get_u32(a[HADP_A_GROUP_ROLE]);
		c->has_role = true;
	}
	return 0;
}

static int hadp_check_cfg(struct hadp_group *g, const struct hadp_group_cfg *c,
			  struct genl_info *info)
{
	sa_family_t fam = g->local.sa.sa_family;
	u32 mtu = c->has_mtu ? c->mtu : g->mtu;

	if (c->has_peer && c->peer.sa.sa_family != fam) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[HADP_A_GROUP_PEER],
				    "peer and local addresses must be of the same family");
		return -EINVAL;
	}
	if (fam == AF_INET6 && mtu < IPV6_MIN_MTU) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[HADP_A_GROUP_MTU],
				    "mtu below 1280 on IPv6");
		return -EINVAL;
	}
	return 0;
}

static void hadp_apply_cfg(struct hadp_group *g, const struct hadp_group_cfg *c)
{
	u32 gen;

	spin_lock_bh(&g->cfg_lock);
	gen = g->cfg_gen;
	if (c->has_peer && !hadp_sockaddr_equal(&g->peer, &c->peer)) {
		g->peer = c->peer;
		g->cfg_gen++;
	}
	if (c->has_key && crypto_memneq(g->key, c->key, sizeof(g->key))) {
		memcpy(g->key, c->key, sizeof(g->key));
		g->cfg_gen++;
	}
	/* A new peer or key (a new group has both) starts a new session. */
	if (g->cfg_gen != gen)
		hadp_session_reset(g);
	if (c->has_max)
		g->max_coalesce = c->max_coalesce;
	if (c->has_peer_max)
		g->peer_max_coalesce = c->peer_max_coalesce;
	if (c->has_mtu)
		g->mtu = c->mtu;
	if (c->has_role)
		g->role = c->role;
	spin_unlock_bh(&g->cfg_lock);
}

static int hadp_genl_group_new(struct sk_buff *skb, struct genl_info *info)
{
	struct hadp_net *hn = hadp_net(genl_info_net(info));
	struct nlattr **a = info->attrs;
	struct hadp_group_cfg cfg;
	union hadp_sockaddr local;
	struct hadp_group *g;
	int err;

	if (HADP_MISSING(info, HADP_A_GROUP_NAME, "name") ||
	    HADP_MISSING(info, HADP_A_GROUP_LOCAL, "local") ||
	    HADP_MISSING(info, HADP_A_GROUP_PEER, "peer") ||
	    HADP_MISSING(info, HADP_A_GROUP_KEY, "key"))
		return -EINVAL;
	err = hadp_check_name(a[HADP_A_GROUP_NAME], info->extack);
	if (err)
		return err;
	err = hadp_parse_endpoint(a[HADP_A_GROUP_LOCAL], &local, info->extack);
	if (err)
		return err;
	err = hadp_parse_cfg(info, &cfg);
	if (err)
		goto out_wipe;

	mutex_lock(&hn->lock);
	if (hn->nr_groups >= HADP_MAX_GROUPS) {
		NL_SET_ERR_MSG(info->extack,
			       "too many groups in this network namespace (at most "
			       __stringify(HADP_MAX_GROUPS) ")");
		err = -ENOSPC;
		goto out_unlock;
	}
	if (hadp_group_find(hn, nla_data(a[HADP_A_GROUP_NAME]))) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[HADP_A_GROUP_NAME],
				    "group exists");
		err = -EEXIST;
		goto out_unlock;
	}
	if (cfg.peer.sa.sa_family != local.sa.sa_family) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[HADP_A_GROUP_PEER],
				    "peer and local addresses must be of the same family");
		err = -EINVAL;
		goto out_unlock;
	}
	if (local.sa.sa_family == AF_INET6 && cfg.has_mtu &&
	    cfg.mtu < IPV6_MIN_MTU) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[HADP_A_GROUP_MTU],
				    "mtu below 1280 on IPv6");
		err = -EINVAL;
		goto out_unlock;
	}
	g = hadp_group_create(genl_info_net(info),
			      nla_data(a[HADP_A_GROUP_NAME]), &local,
			      info->extack);
	if (IS_ERR(g)) {
		err = PTR_ERR(g);
		goto out_unlock;
	}
	hadp_apply_cfg(g, &cfg);
	err = 0;
out_unlock:
	mutex_unlock(&hn->lock);
out_wipe:
	memzero_explicit(&cfg, sizeof(cfg));
	return err;
}

/* The group named by attribute attr, or NULL with the reason set. */
static struct hadp_group *hadp_genl_group(struct hadp_net *hn,
					  struct genl_info *info, int attr)
{
	struct hadp_group *g;

	if (HADP_MISSING(info, attr, "group name"))
		return NULL;
	g = hadp_group_find(hn, nla_data(info->attrs[attr]));
	if (!g)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[attr],
				    "no such group");
	return g;
}

static int hadp_genl_group_set(struct sk_buff *skb, struct genl_info *info)
{
	struct hadp_net *hn = hadp_net(genl_info_net(info));
	struct hadp_group_cfg cfg;
	struct hadp_group *g;
	int err;

	if (info->attrs[HADP_A_GROUP_LOCAL]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[HADP_A_GROUP_LOCAL],
				    "local address cannot change: delete and add the group");
		return -EOPNOTSUPP;
	}
	err = hadp_parse_cfg(info, &cfg);
	if (err)
		goto out_wipe;
	mutex_lock(&hn->lock);
	g = hadp_genl_group(hn, info, HADP_A_GROUP_NAME);
	if (!g) {
		err = info->attrs[HADP_A_GROUP_NAME] ? -ENOENT : -EINVAL;
		goto out_unlock;
	}
	err = hadp_check_cfg(g, &cfg, info);
	if (!err)
		hadp_apply_cfg(g, &cfg);
out_unlock:
	mutex_unlock(&hn->lock);
out_wipe:
	memzero_explicit(&cfg, sizeof(cfg));
	return err;
}

static int hadp_genl_group_del(struct sk_buff *skb, struct genl_info *info)
{
	struct hadp_net *hn = hadp_net(genl_info_net(info));
	struct hadp_group *g;
	int err = 0;

	mutex_lock(&hn->lock);
	g = hadp_genl_group(hn, info, HADP_A_GROUP_NAME);
	if (g)
		hadp_group_destroy(g);
	else
		err = info->attrs[HADP_A_GROUP_NAME] ? -ENOENT : -EINVAL;
	mutex_unlock(&hn->lock);
	return err;
}

static int hadp_genl_group_get(struct sk_buff *skb, struct genl_info *info)
{
	struct hadp_net *hn = hadp_net(genl_info_net(info));
	struct hadp_group *g;
	struct sk_buff *msg;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&hn->lock);
	g = hadp_genl_group(hn, info, HADP_A_GROUP_NAME);
	if (!g) {
		err = info->attrs[HADP_A_GROUP_NAME] ? -ENOENT : -EINVAL;
		goto err_unlock;
	}
	err = hadp_group_fill(msg, g, info->snd_portid, info->snd_seq, 0,
			      HADP_CMD_GROUP_GET);
	if (err)
		goto err_unlock;
	mutex_unlock(&hn->lock);
	return genlmsg_reply(msg, info);

err_unlock:
	mutex_unlock(&hn->lock);
	nlmsg_free(msg);
	return err;
}

/* cb->args[0]: how many groups earlier parts of the dump carried. A dump
 * lists every group of the netns: a name would be ignored, so it is
 * refused (get with a name is the do request). Here, not in a start
 * callback: this kernel passes no extended ack to those. */
static int hadp_genl_group_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nlattr **attrs = genl_dumpit_info(cb)->attrs;
	const struct nlattr *name = attrs ? attrs[HADP_A_GROUP_NAME] : NULL;
	struct hadp_net *hn = hadp_net(sock_net(skb->sk));
	struct hadp_group *g;
	long idx = 0;
	int err = 0;

	if (name) {
		NL_SET_ERR_MSG_ATTR(cb->extack, name, "a dump takes no group name");
		return -EINVAL;
	}
	mutex_lock(&hn->lock);
	list_for_each_entry(g, &hn->groups, list) {
		if (idx++ < cb->args[0])
			continue;
		err = hadp_group_fill(skb, g, NETLINK_CB(cb->skb).portid,
				      cb->nlh->nlmsg_seq, NLM_F_MULTI,
				      HADP_CMD_GROUP_GET);
		if (err) {
			idx--;
			break;
		}
	}
	mutex_unlock(&hn->lock);
	cb->args[0] = idx;
	/* A group that does not fit in an empty message never will. */
	if (err && !skb->len)
		return err;
	return skb->len;
}

static int hadp_genl_register(struct sk_buff *skb, struct genl_info *info)
{
	struct hadp_net *hn = hadp_net(genl_info_net(info));
	struct nlattr **a = info->attrs;
	struct hadp_group *g;
	u32 cur;
	int err = 0;

	mutex_lock(&hn->lock);
	g = hadp_genl_group(hn, info, HADP_A_GROUP_NAME);
	if (!g) {
		err = a[HADP_A_GROUP_NAME] ? -ENOENT : -EINVAL;
		goto out;
	}
	cur = READ_ONCE(g->agent_portid);
	if (cur && cur != info->snd_portid) {
		NL_SET_ERR_MSG(info->extack, "group already has an agent");
		err = -EBUSY;
		goto out;
	}
	WRITE_ONCE(g->agent_portid, info->snd_portid);
	if (a[HADP_A_GROUP_ROLE]) {
		spin_lock_bh(&g->cfg_lock);
		g->role = nla_get_u32(a[HADP_A_GROUP_ROLE]);
		spin_unlock_bh(&g->cfg_lock);
	}
out:
	mutex_unlock(&hn->lock);
	return err;
}

static int hadp_genl_send(struct sk_buff *skb, struct genl_info *info)
{
	struct hadp_net *hn = hadp_net(genl_info_net(info));
	struct nlattr **a = info->attrs;
	struct hadp_group *g;
	struct sk_buff *msg;
	u32 flags = 0, opaque = 0, npkts = 0, i;
	u64 *seqs = NULL;
	void *hdr;
	int err;

	if (HADP_MISSING(info, HADP_A_PKT_MSGS, "msgs"))
		return -EINVAL;
	if (a[HADP_A_PKT_FLAGS])
		flags = nla_get_u32(a[HADP_A_PKT_FLAGS]);
	if (a[HADP_A_PKT_OPAQUE])
		opaque = nla_get_u32(a[HADP_A_PKT_OPAQUE]);

	mutex_lock(&hn->lock);
	g = hadp_genl_group(hn, info, HADP_A_PKT_GROUP);
	if (!g) {
		err = a[HADP_A_PKT_GROUP] ? -ENOENT : -EINVAL;
		goto err_unlock;
	}
	/* The group stays while hn->lock is held: sends are serialized per
	 * netns, which keeps sequence numbers in order at no extra cost. */
	err = hadp_tx_send(g, flags, opaque, nla_data(a[HADP_A_PKT_MSGS]),
			   nla_len(a[HADP_A_PKT_MSGS]), a[HADP_A_PKT_MSGS],
			   &seqs, &npkts, info->extack);
	if (err)
		goto err_unlock;
	msg = genlmsg_new(nla_total_size(HADP_GROUP_NAME_LEN) +
			  npkts * nla_total_size_64bit(sizeof(u64)),
			  GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto err_unlock;
	}
	hdr = genlmsg_put_reply(msg, info, &hadp_genl_family, 0, HADP_CMD_SEND);
	if (!hdr || nla_put_string(msg, HADP_A_PKT_GROUP, g->name))
		goto err_msg;
	for (i = 0; i < npkts; i++)
		if (nla_put_u64_64bit(msg, HADP_A_PKT_SEQ, seqs[i],
				      HADP_A_PKT_PAD))
			goto err_msg;
	genlmsg_end(msg, hdr);
	mutex_unlock(&hn->lock);
	kfree(seqs);
	return genlmsg_reply(msg, info);

err_msg:
	nlmsg_free(msg);
	err = -EMSGSIZE;
err_unlock:
	mutex_unlock(&hn->lock);
	kfree(seqs);
	return err;
}

/* ---- the family ------------------------------------------------------- */

static const struct genl_ops hadp_genl_ops[] = {
	{
		.cmd	= HADP_CMD_INFO_GET,
		.doit	= hadp_genl_info_get,
		.policy	= hadp_info_policy,
		.maxattr = HADP_A_INFO_MAX,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= HADP_CMD_GROUP_NEW,
		.doit	= hadp_genl_group_new,
		.policy	= hadp_group_new_policy,
		.maxattr = HADP_A_GROUP_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= HADP_CMD_GROUP_SET,
		.doit	= hadp_genl_group_set,
		.policy	= hadp_group_set_policy,
		.maxattr = HADP_A_GROUP_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= HADP_CMD_GROUP_DEL,
		.doit	= hadp_genl_group_del,
		.policy	= hadp_group_name_policy,
		.maxattr = HADP_A_GROUP_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= HADP_CMD_GROUP_GET,
		.doit	= hadp_genl_group_get,
		.dumpit	= hadp_genl_group_dump,
		.policy	= hadp_group_name_policy,
		.maxattr = HADP_A_GROUP_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= HADP_CMD_REGISTER,
		.doit	= hadp_genl_register,
		.policy	= hadp_register_policy,
		.maxattr = HADP_A_GROUP_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= HADP_CMD_SEND,
		.doit	= hadp_genl_send,
		.policy	= hadp_pkt_policy,
		.maxattr = HADP_A_PKT_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
};

/* Joining "monitor" takes CAP_NET_ADMIN in the netns's user namespace;
 * genetlink checks the flag in its bind callback. */
static const struct genl_multicast_group hadp_genl_mcgrps[] = {
	/* Joining needs CAP_NET_ADMIN in the group's network namespace:
	 * the copies carry NAT tables. */
	{ .name = HADP_MCGRP_MONITOR, .flags = GENL_MCAST_CAP_NET_ADMIN },
};

struct genl_family hadp_genl_family __ro_after_init = {
	.name		= HADP_FAMILY_NAME,
	.version	= HADP_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= hadp_genl_ops,
	.n_ops		= ARRAY_SIZE(hadp_genl_ops),
	.mcgrps		= hadp_genl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(hadp_genl_mcgrps),
};

int __init hadp_genl_init(void)
{
	int err;

	err = genl_register_family(&hadp_genl_family);
	if (!err)
		WRITE_ONCE(hadp_genl_live, true);
	return err;
}

void hadp_genl_exit(void)
{
	WRITE_ONCE(hadp_genl_live, false);
	synchronize_rcu();
	genl_unregister_family(&hadp_genl_family);
}
