// SPDX-License-Identifier: GPL-2.0-only
/*
 * hadp ha: the sync groups of hadp.ko, one per datapath instance, in the
 * manner of `wg show`. Changes go to the module only.
 *
 *   hadp ha add INSTANCE local ADDR:PORT peer ADDR:PORT key FILE
 *               [max-coalesce N] [peer-max-coalesce N] [mtu N]
 *   hadp ha set INSTANCE [peer ADDR:PORT] [key FILE] [max-coalesce N]
 *               [peer-max-coalesce N] [mtu N] [role ROLE]
 *   hadp ha role INSTANCE active|standby|unknown
 *   hadp ha del INSTANCE
 *   hadp ha genkey                   a new key, 64 hex digits on stdout
 *   hadp ha show [INSTANCE]          -s: counters, -j: JSON
 *
 * show joins each group to the status its agent (hadpd) pins beside its
 * instance's maps (agent.h), so one command tells what the module and
 * the agent each think; without the module, it shows the agents alone.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "ha.h"
#include "hadp.h"
#include "parse.h"
#include "print.h"
#include "util.h"

/* FILE holds the key: 32 bytes, or 64 hex digits and an optional
 * newline; never all zeros. A file others may read is used, with a
 * warning, as wg does. */
static int read_key(const char *path, __u8 key[HADP_KEY_LEN])
{
	char buf[2 * HADP_KEY_LEN + 2];
	static const __u8 zero[HADP_KEY_LEN];
	struct stat st;
	ssize_t n;
	int fd, i;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hadp_err("invalid key \"%s\": %s", path, strerror(errno));
		return -EINVAL;
	}
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) &&
	    (st.st_mode & (S_IRWXG | S_IRWXO)))
		hadp_warn("key \"%s\" is accessible by group or others "
			  "(chmod 600 it)", path);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n == HADP_KEY_LEN) {
		memcpy(key, buf, HADP_KEY_LEN);
		goto check;
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
check:
	explicit_bzero(buf, sizeof(buf));
	if (!memcmp(key, zero, HADP_KEY_LEN)) {
		hadp_err("invalid key \"%s\": all zeros", path);
		return -EINVAL;
	}
	return 0;
bad:
	explicit_bzero(buf, sizeof(buf));
	hadp_err("invalid key \"%s\": expected a file of %d bytes or %d hex "
		 "digits", path, HADP_KEY_LEN, 2 * HADP_KEY_LEN);
	return -EINVAL;
}

/* hadp ha genkey: a new key from the kernel's random pool, as the 64 hex
 * digits read_key() takes. Make the file private: umask 077. */
static int ha_genkey(int argc, char **argv)
{
	__u8 key[HADP_KEY_LEN];
	ssize_t n;
	int i;

	if (argc > 0) {
		hadp_err("unknown argument \"%s\"", argv[0]);
		return -EINVAL;
	}
	n = getrandom(key, sizeof(key), 0);
	if (n != (ssize_t)sizeof(key)) {
		hadp_err("ha genkey: getrandom: %s",
			 n < 0 ? strerror(errno) : "short read");
		return -EIO;
	}
	for (i = 0; i < HADP_KEY_LEN; i++)
		printf("%02x", key[i]);
	printf("\n");
	explicit_bzero(key, sizeof(key));
	if (fflush(stdout) || ferror(stdout)) {
		hadp_err("ha genkey: writing the key: %s", strerror(errno));
		return -EIO;
	}
	return 0;
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
	explicit_bzero(key, sizeof(key));
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

/* The agents of this host's instances, from their pinned status maps. */
struct agents {
	int n;
	char inst[HADP_MAX_INSTANCES][HADP_NAME_LEN];
	struct hadp_agent_status st[HADP_MAX_INSTANCES];
	__u64 now_ms;
};

struct show {
	const struct cli *c;
	const struct agents *agents;
};

/* The message a quiet call would have printed: the first error only,
 * since each failure reports one line. */
static char held[256];

static void hold_err(enum hadp_log_level level, const char *msg)
{
	if (level == HADP_LOG_ERR && !held[0])
		snprintf(held, sizeof(held), "%s", msg);
}

static void quiet(bool on)
{
	if (on)
		held[0] = '\0';
	hadp_set_log(on ? hold_err : NULL);
}

/*
 * Read the status of every loaded instance's agent into a. No bpffs, no
 * datapath or no agent is not a failure: a host may run hadp.ko alone
 * (and `ip netns exec` hides the bpffs). Failing to read a status map
 * that is there is, reported.
 */
static int agents_read(struct cli *c, struct agents *a)
{
	struct timespec ts;
	char name[HADP_NAME_LEN];
	__u32 i;
	int err;

	a->n = 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	a->now_ms = ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
	quiet(true);
	err = hadp_host_open(&c->host, c->bpffs, false);
	if (!err)
		err = hadp_root_open(&c->host);
	quiet(false);
	if (err)
		return 0;
	for (i = 0; i < HADP_MAX_INSTANCES; i++) {
		struct hadp_agent_status *st = &a->st[a->n];

		err = hadp_inst_name(&c->host, i, name);
		if (err)
			return err;
		if (!name[0])
			continue;
		err = hadp_agent_status_read(c->host.dir, name, st);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		st->group[HADP_NAME_LEN - 1] = '\0';
		memcpy(a->inst[a->n++], name, HADP_NAME_LEN);
	}
	return 0;
}

/* The agent of a sync group: the one that says it serves the group,
 * else the one of the instance of that name (the default), or -1. */
static int agent_of(const struct agents *a, const char *group)
{
	int i;

	for (i = 0; i < a->n; i++)
		if (!strcmp(a->st[i].group, group))
			return i;
	for (i = 0; i < a->n; i++)
		if (!strcmp(a->inst[i], group))
			return i;
	return -1;
}

static const char *sync_name(__u32 state)
{
	switch (state) {
	case HADP_MIRROR_SYNC_NONE:
		return "none";
	case HADP_MIRROR_SYNC_REQUESTED:
		return "requested";
	case HADP_MIRROR_SYNC_RUNNING:
		return "running";
	case HADP_MIRROR_SYNC_COMPLETE:
		return "complete";
	default:
		return "unknown";
	}
}

#define MIRROR(f) { #f, offsetof(struct hadp_agent_status, mirror.f) }
#define AGENT(f) { #f, offsetof(struct hadp_agent_status, f) }

/* The -s counters, named as their fields (struct hadp_mirror_stats,
 * then the agent's own). */
static const struct {
	const char *name;
	size_t off;
} agent_counters[] = {
	MIRROR(events), MIRROR(events_ignored), MIRROR(packets_sent),
	MIRROR(entries_sent), MIRROR(retransmits), MIRROR(send_errors),
	MIRROR(acked_packets), MIRROR(acked_entries), MIRROR(replies_unknown),
	MIRROR(dropped_packets), MIRROR(dropped_entries), MIRROR(rx_msgs),
	MIRROR(applied), MIRROR(refreshed), MIRROR(deleted), MIRROR(stale),
	MIRROR(tombstoned), MIRROR(skipped), MIRROR(apply_errors),
	MIRROR(not_applied), MIRROR(tombs_evicted), MIRROR(dump_entries),
	MIRROR(dumps_served),
	MIRROR(dumps_aborted), MIRROR(dumps_received), MIRROR(swept),
	MIRROR(rx_clashes), MIRROR(unowned), MIRROR(adverts_refused),
	MIRROR(repair_entries), AGENT(repair_refreshes),
	AGENT(neigh_updates), AGENT(audit_runs), AGENT(audit_findings),
};

/* The "agent" member of a group's object; in text, one line from where
 * the caller left off and one more (and the counters with -s). */
static void print_agent(const struct show *s, int i)
{
	const struct hadp_agent_status *st = &s->agents->st[i];
	const char *inst = s->agents->inst[i];
	bool alive = hadp_agent_alive(st, s->agents->now_ms);
	unsigned int k;
	__u64 v;

	open_object("agent");
	print_string("instance", " agent %s", inst);
	print_uint("pid", alive ? " pid %llu" : " (not running, pid %llu)",
		   st->pid);
	print_bool("alive", NULL, alive);
	print_string("role", " role %s", hadp_ha_role_name(st->role));
	print_bool("ready", " ready", st->flags & HADP_AGENT_F_READY);
	if (!(st->flags & HADP_AGENT_F_READY))
		print_text(" not-ready");
	print_bool("registered", " registered",
		   st->flags & HADP_AGENT_F_REGISTERED);
	print_bool("orchestrated", " orchestrated",
		   st->flags & HADP_AGENT_F_ORCHESTRATED);
	print_bool("stopping", " stopping", st->flags & HADP_AGENT_F_STOPPING);
	print_string("bulk_sync", " bulk-sync %s", sync_name(st->sync_state));
	print_text("\n   ");
	print_uint("lag_entries", " lag-entries %llu", st->lag_entries);
	print_uint("lag_ms", " lag-ms %llu", st->lag_ms);
	print_uint("queued", " queued %llu", st->queued);
	print_uint("promotions", " promotions %llu", st->promotions);
	print_uint("reconciled", " reconciled %llu", st->reconciled);
	print_uint("clashes", " clashes %llu", st->clashes);
	print_uint("pruned", " pruned %llu", st->pruned);
	print_uint("events_lost", " events-lost %llu", st->events_lost);
	print_uint("repairs", " repairs %llu", st->mirror.repairs);
	for (k = 0; s->c->stats && k < ARRAY_SIZE(agent_counters); k++) {
		memcpy(&v, (const char *)st + agent_counters[k].off, sizeof(v));
		if (k % 4 == 0)
			print_text("\n   ");
		print_text(" %s", agent_counters[k].name);
		print_uint(agent_counters[k].name, " %llu", v);
	}
	close_object();
}

static int show_one(const struct hadp_ha_group *g, void *data)
{
	const struct show *s = data;
	int agent = agent_of(s->agents, g->name);
	char buf[64];
	unsigned int i;

	open_object(NULL);
	print_string("instance", "%s:", g->name);
	print_string("local", " local %s",
		     hadp_ha_endpoint_str(&g->local, buf, sizeof(buf)));
	print_string("peer", " peer %s",
		     hadp_ha_endpoint_str(&g->peer, buf, sizeof(buf)));
	print_string("role", " role %s", hadp_ha_role_name(g->role));
	/* The socket the module delivers to; the agent's own view of
	 * itself is the "agent" object below. */
	if (print_is_json())
		print_uint("agent_portid", NULL, g->agent_portid);
	else if (g->agent_portid)
		print_text(" agent-portid %u", g->agent_portid);
	else
		print_text(" agent-portid none");
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
	if (s->c->stats) {
		open_object("stats");
		for (i = 0; i < __HADP_STAT_MAX; i++) {
			if (i % 4 == 0)
				print_text("\n   ");
			print_text(" %s", hadp_ha_stat_name(i));
			print_uint(hadp_ha_stat_name(i), " %llu", g->stats[i]);
		}
		close_object();
	}
	print_text("\n   ");
	if (agent >= 0)
		print_agent(s, agent);
	else
		print_text(" agent: none");
	print_nl();
	close_object();
	return 0;
}

/* hadp.ko is not loaded: the agents alone, so that a host without the
 * module still shows their state. With none to show, the module's
 * absence is the error. */
static int show_agents(const struct show *s, const char *name,
		       const char *why)
{
	const struct agents *a = s->agents;
	int i, only = name ? agent_of(a, name) : -1;

	if (!a->n || (name && only < 0)) {
		hadp_err("%s", why);
		return -ENOENT;
	}
	hadp_warn("hadp.ko is not loaded: showing agents only");
	open_array(NULL);
	for (i = 0; i < a->n; i++) {
		if (name && i != only)
			continue;
		open_object(NULL);
		/* The group it serves, as when the module lists it. */
		print_string("instance", "%s:",
			     a->st[i].group[0] ? a->st[i].group : a->inst[i]);
		print_agent(s, i);
		print_nl();
		close_object();
	}
	close_array();
	return 0;
}

static int ha_show(struct cli *c, int argc, char **argv)
{
	const char *name = argc ? argv[0] : NULL;
	struct agents agents;
	struct show s = { c, &agents };
	struct hadp_ha h;
	char why[sizeof(held)];
	bool module;
	int err;

	if (name && parse_name("instance", name))
		return -EINVAL;
	if (argc > 1) {
		hadp_err("unknown argument \"%s\"", argv[1]);
		return -EINVAL;
	}
	/* Held back: when the module is missing, agents may still show. */
	quiet(true);
	err = hadp_ha_open(&h);
	quiet(false);
	snprintf(why, sizeof(why), "%s", held);
	if (err && err != -ENOENT) {
		hadp_err("%s", why);
		return err;
	}
	module = !err;
	err = agents_read(c, &agents);
	if (err || !module) {
		if (module)
			hadp_ha_close(&h);
		return err ?: show_agents(&s, name, why);
	}
	open_array(NULL);
	err = hadp_ha_group_list(&h, name, show_one, &s);
	close_array();
	hadp_ha_close(&h);
	return err;
}

/* How an orchestrator hands a role to the agent of a two-host pair
 * (hadpd --role-by-orchestrator watches its group's role): the same
 * request as `ha set INSTANCE role ROLE`. */
static int ha_role(struct cli *c, int argc, char **argv)
{
	struct hadp_ha_cfg cfg = { .role = -1 };
	struct hadp_ha h;
	int err;

	if (argc < 1)
		return cli_missing("INSTANCE");
	if (parse_name("instance", argv[0]))
		return -EINVAL;
	if (argc < 2)
		return cli_missing("ROLE");
	if (argc > 2) {
		hadp_err("unknown argument \"%s\"", argv[2]);
		return -EINVAL;
	}
	if (parse_role(argv[1], &cfg.role))
		return -EINVAL;
	cfg.name = argv[0];
	err = hadp_ha_open(&h);
	if (err)
		return err;
	err = hadp_ha_group_set(&h, &cfg);
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
	if (!strcmp(argv[0], "role"))
		return ha_role(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "genkey"))
		return ha_genkey(argc - 1, argv + 1);
	return cli_usage_error("ha", argv[0]);
}
