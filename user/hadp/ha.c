// SPDX-License-Identifier: GPL-2.0-only
/*
 * hadp ha: the sync groups of hadp.ko, one per datapath instance, in the
 * manner of `wg show`. Talks to the module only (no pinned map).
 *
 *   hadp ha add INSTANCE local ADDR:PORT peer ADDR:PORT key FILE
 *               [max-coalesce N] [peer-max-coalesce N] [mtu N]
 *   hadp ha set INSTANCE [peer ADDR:PORT] [key FILE] [max-coalesce N]
 *               [peer-max-coalesce N] [mtu N] [role ROLE]
 *   hadp ha del INSTANCE
 *   hadp ha show [INSTANCE]          -s: counters, -j: JSON
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ha.h"
#include "hadp.h"
#include "parse.h"
#include "print.h"
#include "util.h"

/* FILE holds the key: 32 bytes, or 64 hex digits and an optional
 * newline. */
static int read_key(const char *path, __u8 key[HADP_KEY_LEN])
{
	char buf[2 * HADP_KEY_LEN + 2];
	ssize_t n;
	int fd, i;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hadp_err("invalid key \"%s\": %s", path, strerror(errno));
		return -EINVAL;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n == HADP_KEY_LEN) {
		memcpy(key, buf, HADP_KEY_LEN);
		memset(buf, 0, sizeof(buf));
		return 0;
	}
	if (n == 2 * HADP_KEY_LEN + 1 && buf[n - 1] == '\n')
		n--;
	if (n != 2 * HADP_KEY_LEN)
		goto bad;
	for (i = 0; i < HADP_KEY_LEN; i++) {
		char hex[3] = { buf[2 * i], buf[2 * i + 1], 0 };

		if (!isxdigit((unsigned char)hex[0]) ||
		    !isxdigit((unsigned char)hex[1]))
			goto bad;
		key[i] = strtoul(hex, NULL, 16);
	}
	memset(buf, 0, sizeof(buf));
	return 0;
bad:
	memset(buf, 0, sizeof(buf));
	hadp_err("invalid key \"%s\": expected a file of %d bytes or %d hex "
		 "digits", path, HADP_KEY_LEN, 2 * HADP_KEY_LEN);
	return -EINVAL;
}

static int parse_role(const char *s, int *role)
{
	if (!strcmp(s, "active"))
		*role = HADP_ROLE_ACTIVE;
	else if (!strcmp(s, "standby"))
		*role = HADP_ROLE_STANDBY;
	else if (!strcmp(s, "unknown"))
		*role = HADP_ROLE_UNKNOWN;
	else {
		hadp_err("invalid role \"%s\": expected active, standby or "
			 "unknown", s);
		return -EINVAL;
	}
	return 0;
}

enum { K_LOCAL, K_PEER, K_KEY, K_MAXC, K_PMAXC, K_MTU, K_ROLE, K_MAX };

static const char *const ha_keys[K_MAX] = {
	"local", "peer", "key", "max-coalesce", "peer-max-coalesce", "mtu",
	"role",
};

static int ha_add_set(struct cli *c, int argc, char **argv, bool add)
{
	const char *v[K_MAX] = { NULL };
	struct hadp_endpoint local, peer;
	struct hadp_ha_cfg cfg = { .role = -1 };
	__u8 key[HADP_KEY_LEN];
	struct hadp_ha h;
	int err, i;

	if (argc < 1)
		return cli_missing("INSTANCE");
	if (parse_name("instance", argv[0]))
		return -EINVAL;
	cfg.name = argv[0];
	/* add takes no role (the agent reports it); set no local. */
	if (cli_kv(argc - 1, argv + 1, ha_keys, add ? K_ROLE : K_MAX, v))
		return -EINVAL;
	if (!add && v[K_LOCAL]) {
		hadp_err("local cannot change: hadp ha del and add %s",
			 argv[0]);
		return -EINVAL;
	}
	if (add)
		for (i = K_LOCAL; i <= K_KEY; i++)
			if (!v[i])
				return cli_missing(ha_keys[i]);
	if (v[K_LOCAL]) {
		if (parse_endpoint("local", v[K_LOCAL], &local))
			return -EINVAL;
		cfg.local = &local;
	}
	if (v[K_PEER]) {
		if (parse_endpoint("peer", v[K_PEER], &peer))
			return -EINVAL;
		cfg.peer = &peer;
	}
	if (cfg.local && cfg.peer &&
	    cfg.local->addr.family != cfg.peer->addr.family) {
		hadp_err("invalid peer \"%s\": not of local's address family",
			 v[K_PEER]);
		return -EINVAL;
	}
	if ((v[K_MAXC] && parse_u32("max-coalesce", v[K_MAXC], 1, 65535,
				    &cfg.max_coalesce)) ||
	    (v[K_PMAXC] && parse_u32("peer-max-coalesce", v[K_PMAXC], 1, 65535,
				     &cfg.peer_max_coalesce)) ||
	    (v[K_MTU] && parse_u32("mtu", v[K_MTU], 576, 65535, &cfg.mtu)) ||
	    (v[K_ROLE] && parse_role(v[K_ROLE], &cfg.role)))
		return -EINVAL;
	if (v[K_KEY]) {
		if (read_key(v[K_KEY], key))
			return -EINVAL;
		cfg.key = key;
	}
	err = hadp_ha_open(&h);
	if (!err) {
		err = add ? hadp_ha_group_new(&h, &cfg) :
			    hadp_ha_group_set(&h, &cfg);
		hadp_ha_close(&h);
	}
	memset(key, 0, sizeof(key));
	return err;
}

static int ha_del(struct cli *c, int argc, char **argv)
{
	struct hadp_ha h;
	int err;

	if (argc < 1)
		return cli_missing("INSTANCE");
	if (parse_name("instance", argv[0]))
		return -EINVAL;
	if (argc > 1) {
		hadp_err("unknown argument \"%s\"", argv[1]);
		return -EINVAL;
	}
	err = hadp_ha_open(&h);
	if (err)
		return err;
	err = hadp_ha_group_del(&h, argv[0]);
	hadp_ha_close(&h);
	return err;
}

static int show_one(const struct hadp_ha_group *g, void *data)
{
	const struct cli *c = data;
	char buf[64];
	unsigned int i;

	open_object(NULL);
	print_string("instance", "%s:", g->name);
	print_string("local", " local %s",
		     hadp_ha_endpoint_str(&g->local, buf, sizeof(buf)));
	print_string("peer", " peer %s",
		     hadp_ha_endpoint_str(&g->peer, buf, sizeof(buf)));
	print_string("role", " role %s", hadp_ha_role_name(g->role));
	if (print_is_json())
		print_uint("agent", NULL, g->agent_portid);
	else if (g->agent_portid)
		print_text(" agent %u", g->agent_portid);
	else
		print_text(" agent none");
	print_text("\n   ");
	print_uint("max_coalesce", " max-coalesce %llu", g->max_coalesce);
	print_uint("peer_max_coalesce", " peer-max-coalesce %llu",
		   g->peer_max_coalesce);
	print_uint("mtu", " mtu %llu", g->mtu);
	print_text("\n   ");
	print_uint("epoch", " epoch %llu", g->tx_epoch);
	print_uint("next_seq", " next-seq %llu", g->tx_seq);
	print_uint("peer_epoch", " peer-epoch %llu", g->rx_epoch);
	print_uint("peer_seq", " peer-seq %llu", g->rx_seq);
	if (c->stats) {
		open_object("stats");
		for (i = 0; i < __HADP_STAT_MAX; i++) {
			if (i % 4 == 0)
				print_text("\n   ");
			print_text(" %s", hadp_ha_stat_name(i));
			print_uint(hadp_ha_stat_name(i), " %llu", g->stats[i]);
		}
		close_object();
	}
	print_nl();
	close_object();
	return 0;
}

static int ha_show(struct cli *c, int argc, char **argv)
{
	struct hadp_ha h;
	int err;

	if (argc > 0 && parse_name("instance", argv[0]))
		return -EINVAL;
	if (argc > 1) {
		hadp_err("unknown argument \"%s\"", argv[1]);
		return -EINVAL;
	}
	err = hadp_ha_open(&h);
	if (err)
		return err;
	open_array(NULL);
	err = hadp_ha_group_list(&h, argc ? argv[0] : NULL, show_one, c);
	close_array();
	hadp_ha_close(&h);
	return err;
}

int do_ha(struct cli *c, int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "show"))
		return ha_show(c, argc ? argc - 1 : 0, argv + 1);
	if (!strcmp(argv[0], "add"))
		return ha_add_set(c, argc - 1, argv + 1, true);
	if (!strcmp(argv[0], "set"))
		return ha_add_set(c, argc - 1, argv + 1, false);
	if (!strcmp(argv[0], "del"))
		return ha_del(c, argc - 1, argv + 1);
	return cli_usage_error("ha", argv[0]);
}
