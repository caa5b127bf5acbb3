// SPDX-License-Identifier: GPL-2.0-only
/*
 * hadp monitor: every HA packet the module sends or receives, decoded as
 * it happens, in the manner of `ip monitor`. Joins hadp.ko's "monitor"
 * multicast group (CAP_NET_ADMIN in the network namespace) and sees the
 * groups of its own network namespace. A monitor never counts as a
 * delivery: the module replies only to what its registered agent got.
 *
 *   hadp monitor [instance NAME] [count N]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ha.h"
#include "hadp.h"
#include "hadp/wire.h"
#include "parse.h"
#include "print.h"
#include "util.h"

struct mon {
	const char *instance;
	__u32 left;		/* packets still to print; 0: no limit */
	bool limited;
};

static const char *type_name(__u8 type)
{
	static const char *const names[HADP_WIRE_T_MAX] = {
		[HADP_WIRE_T_STATE_UPDATE] = "state-update",
		[HADP_WIRE_T_PACKET_UPDATE] = "packet-update",
		[HADP_WIRE_T_ADVERT] = "advert",
		[HADP_WIRE_T_DUMP_REQUEST] = "dump-request",
		[HADP_WIRE_T_DUMP_BEGIN] = "dump-begin",
		[HADP_WIRE_T_DUMP_END] = "dump-end",
	};

	return type < HADP_WIRE_T_MAX && names[type] ? names[type] : "unknown";
}

static const char *op_name(__u8 type, __u8 op)
{
	static const char *const names[HADP_WIRE_OP_MAX] = {
		"none", "create", "update", "delete", "dump",
	};

	if (type == HADP_WIRE_T_ADVERT && op == HADP_WIRE_OP_SOLICIT)
		return "solicit";
	return op < HADP_WIRE_OP_MAX ? names[op] : "unknown";
}

static const char *dir_name(__u32 dir)
{
	switch (dir) {
	case HADP_DIR_RX:
		return "rx";
	case HADP_DIR_TX:
		return "tx";
	case HADP_DIR_REPLY_TX:
		return "reply-tx";
	default:
		return "?";
	}
}

static void print_entry(const struct hadp_wire_entry *e)
{
	char a[INET_ADDRSTRLEN], m[HADP_MAC_STRLEN];

	if (e->kind == HADP_WIRE_K_CONN) {
		const struct hadp_wire_conn *c = &e->conn;

		print_string("kind", " conn", "conn");
		print_uint("vni", " vni %llu", c->key.vni);
		print_uint("proto", " proto %llu", c->key.proto);
		print_string("src", " %s", fmt_ipv4(c->key.src, a));
		print_uint("sport", ":%llu", ntohs(c->key.sport));
		print_string("dst", " > %s", fmt_ipv4(c->key.dst, a));
		print_uint("dport", ":%llu", ntohs(c->key.dport));
		print_string("nat_ip", " nat %s", fmt_ipv4(c->nat_ip, a));
		print_uint("nat_port", ":%llu", ntohs(c->nat_port));
		print_uint("state", " state %llu", c->state);
		print_uint("flags", " flags 0x%llx", c->flags);
		print_uint("ifindex", " ifindex %llu", c->ifindex);
		print_uint("version", " version %llu", c->version);
		print_uint("age", " age %llu", c->age);
	} else if (e->kind == HADP_WIRE_K_MAC) {
		print_string("kind", " mac", "mac");
		print_uint("ifindex", " ifindex %llu", e->mac.ifindex);
		print_string("mac", " %s", fmt_mac(e->mac.mac, m));
		print_uint("version", " version %llu", e->mac.version);
	}
}

static void print_msg(const struct hadp_wire_msg *msg)
{
	struct hadp_wire_entry e;
	struct hadp_wire_advert adv;
	struct hadp_wire_dump d;
	const __u8 *pkt;
	size_t pkt_len = 0;
	int err;

	open_object(NULL);
	print_text("\n   ");
	print_string("type", " %s", type_name(msg->type));
	print_uint("type_id", NULL, msg->type);
	print_string("op", " %s", op_name(msg->type, msg->op));
	print_uint("opaque", " opaque 0x%llx", msg->opaque);
	print_uint("len", NULL, msg->len);
	if (!msg->len && msg->type != HADP_WIRE_T_ADVERT) {
		print_bool("truncated", " (no body)", true);
		close_object();
		return;
	}
	switch (msg->type) {
	case HADP_WIRE_T_STATE_UPDATE:
	case HADP_WIRE_T_PACKET_UPDATE:
		err = hadp_wire_dec_entry(msg, &e, &pkt, &pkt_len);
		if (!err)
			print_entry(&e);
		else if (err == -HADP_WIRE_EKIND)
			print_uint("kind_id", " kind %llu (unknown)", e.kind);
		else
			print_string("error", " (%s)", hadp_wire_strerror(err));
		if (!err && msg->type == HADP_WIRE_T_PACKET_UPDATE)
			print_uint("packet_len", " packet %llu bytes", pkt_len);
		break;
	case HADP_WIRE_T_ADVERT:
		err = hadp_wire_dec_advert(msg, &adv);
		if (err) {
			print_string("error", " (%s)", hadp_wire_strerror(err));
			break;
		}
		print_uint("max_count", " max-count %llu", adv.max_count);
		print_uint("max_payload", " max-payload %llu", adv.max_payload);
		print_uint("version_min", " versions %llu", adv.version_min);
		print_uint("version_max", "-%llu", adv.version_max);
		print_uint("caps", " caps 0x%llx", adv.caps);
		break;
	case HADP_WIRE_T_DUMP_REQUEST:
	case HADP_WIRE_T_DUMP_BEGIN:
	case HADP_WIRE_T_DUMP_END:
		err = hadp_wire_dec_dump(msg, &d);
		if (err) {
			print_string("error", " (%s)", hadp_wire_strerror(err));
			break;
		}
		print_uint("id", " id %llu", d.id);
		print_uint("kinds", " kinds 0x%llx", d.kinds);
		print_uint("entries", " entries %llu", d.entries);
		print_uint("status", " status %llu", d.status);
		break;
	default:
		print_uint("len", " len %llu", msg->len);
		break;
	}
	close_object();
}

static int on_packet(const struct hadp_ha_pkt *p, void *data)
{
	struct mon *m = data;
	struct hadp_wire_iter it;
	struct hadp_wire_msg msg;
	char flags[64];
	int ret;

	if (p->cmd != HADP_CMD_MONITOR ||
	    (m->instance && strcmp(m->instance, p->group)))
		return 0;
	open_object(NULL);
	print_string("instance", "[%s]", p->group);
	print_string("dir", " %s", dir_name(p->dir));
	print_uint("epoch", " epoch %llu", p->epoch);
	print_uint("seq", " seq %llu", p->seq);
	print_uint("opaque", " opaque 0x%llx", p->opaque);
	print_string("flags", " flags %s",
		     hadp_ha_flags_str(p->flags, flags, sizeof(flags)));
	print_uint("count", " count %llu", p->count);
	print_uint("time_ns", NULL, p->tstamp);
	open_array("messages");
	hadp_wire_iter_msgs(&it, p->msgs, p->len);
	while ((ret = hadp_wire_next(&it, &msg)) > 0)
		print_msg(&msg);
	close_array();
	if (ret < 0)
		print_string("error", "\n    (%s)", hadp_wire_strerror(ret));
	print_nl();
	close_object();
	fflush(stdout);
	if (m->limited && !--m->left)
		return 1;
	return 0;
}

int do_monitor(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = { "instance", "count" };
	const char *v[ARRAY_SIZE(keys)];
	struct mon m = { NULL, 0, false };
	struct hadp_ha h;
	int err;

	if (cli_kv(argc, argv, keys, ARRAY_SIZE(keys), v))
		return -EINVAL;
	if (v[0] && parse_name("instance", v[0]))
		return -EINVAL;
	m.instance = v[0];
	if (v[1]) {
		if (parse_u32("count", v[1], 1, 0xffffffffu, &m.left))
			return -EINVAL;
		m.limited = true;
	}
	err = hadp_ha_open(&h);
	if (err)
		return err;
	err = hadp_ha_monitor_join(&h);
	if (!err) {
		/* Line-buffered so that a pipe sees every packet at once. */
		setvbuf(stdout, NULL, _IOLBF, 0);
		do
			err = hadp_ha_recv(&h, on_packet, &m, -1);
		while (err >= 0 && !(m.limited && !m.left));
		if (err > 0)
			err = 0;
	}
	hadp_ha_close(&h);
	return err;
}
