// SPDX-License-Identifier: GPL-2.0-only
/*
 * The datapath objects on a bpffs of their own and, for attachments, in a
 * network namespace of their own. Check forks every test; each one mounts
 * its bpffs in a private mount namespace, so that the mount (and all it
 * pins) goes with the test's process even when an assertion ends it
 * before any teardown can run.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "unit.h"

static char fs[] = "/tmp/hadp-unit-XXXXXX";
static struct hadp_host h;

/* In the parent, once. */
static void make_dir(void)
{
	ck_assert_ptr_nonnull(mkdtemp(fs));
}

static void remove_dir(void)
{
	rmdir(fs);
}

/* In each test's process. */
static void setup(void)
{
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_msg(!mount("bpf", fs, "bpf", 0, NULL), "mount: %s",
		      strerror(errno));
	ck_assert_int_eq(hadp_host_open(&h, fs, true), 0);
	ck_assert_int_eq(hadp_host_lock(&h), 0);
}

static void teardown(void)
{
	hadp_host_close(&h);
}

static bool pinned(const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/hadp/%s", fs, rel);
	return !stat(path, &st);
}

static __u32 slot(__u32 s)
{
	__u32 id;

	ck_assert_int_eq(hadp_slot_get(&h, s, &id), 0);
	return id;
}

static __u32 active(void)
{
	__u32 a;

	ck_assert_int_eq(hadp_active_get(&h, &a), 0);
	return a;
}

START_TEST(test_bpffs_resolve)
{
	char buf[PATH_MAX];

	unsetenv(HADP_BPFFS_ENV);
	ck_assert_int_eq(hadp_bpffs_resolve(NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/sys/fs/bpf");
	setenv(HADP_BPFFS_ENV, "/env", 1);
	ck_assert_int_eq(hadp_bpffs_resolve(NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/env");
	ck_assert_int_eq(hadp_bpffs_resolve("/opt", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/opt");
}
END_TEST

START_TEST(test_not_bpffs)
{
	struct hadp_host other;

	log_capture();
	ck_assert_int_eq(hadp_host_open(&other, "/tmp", false), -EINVAL);
	ck_assert_int_eq(log_count, 1);
	ck_assert_ptr_nonnull(strstr(log_last, "not a bpf filesystem"));
	hadp_host_close(&other);
}
END_TEST

START_TEST(test_lock)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (!pid) {
		int fd = open(h.dir, O_RDONLY | O_DIRECTORY);

		_exit(flock(fd, LOCK_EX | LOCK_NB) == -1 &&
		      errno == EWOULDBLOCK ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && !WEXITSTATUS(status),
		      "a second process got the host lock");
}
END_TEST

START_TEST(test_load)
{
	static const __u8 gw6[16] = { 0xfe, 0x80, [15] = 1 };
	struct hadp_load_opts o;
	struct hadp_inst inst;
	struct hadp_index zero = { 0 };
	struct hadp_ifindex none = { 0 };
	struct hadp_config cfg;
	struct hadp_stats st;
	__u32 index = 99;
	int i;

	hadp_load_opts_init(&o);
	o.ifaces = 10;
	o.routes = 100;
	o.neighs = 5;
	o.conns = 256;
	o.nat_ips = 7;
	ck_assert_int_eq(hadp_inst_load(&h, "default", &o, &index), 0);
	ck_assert_uint_eq(index, 0);
	ck_assert(h.root_open);
	for (i = 0; i < HADP_ROOT_MAP_MAX; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "_root/%s", hadp_root_map_names[i]);
		ck_assert_msg(pinned(rel), "%s not pinned", rel);
	}
	ck_assert(pinned("_root/root_vm") && pinned("_root/root_uplink"));
	ck_assert(pinned("default/prog_vm") && pinned("default/prog_uplink"));
	ck_assert(pinned("default/prog_sweep"));
	for (i = 0; i < HADP_MAP_MAX; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "default/%s", hadp_map_names[i]);
		ck_assert_msg(pinned(rel), "%s not pinned", rel);
	}
	ck_assert_uint_eq(active(), 0);
	ck_assert_uint_ne(slot(HADP_SLOT(0, HADP_KIND_VM)), 0);
	ck_assert_uint_ne(slot(HADP_SLOT(0, HADP_KIND_UPLINK)), 0);
	ck_assert_uint_eq(slot(HADP_SLOT(1, HADP_KIND_VM)), 0);

	ck_assert_int_eq(hadp_inst_open(&h, 0, &inst), 0);
	ck_assert_str_eq(inst.name, "default");
	ck_assert_uint_eq(inst.maps[HADP_MAP_IFACES].max_entries, 10);
	/* An interface's own, its NAT's and its VIP's. */
	ck_assert_uint_eq(inst.maps[HADP_MAP_UNDERLAY].max_entries, 30);
	ck_assert_uint_eq(inst.maps[HADP_MAP_SNAT].max_entries, 10);
	ck_assert_uint_eq(inst.maps[HADP_MAP_VIPS].max_entries, 10);
	ck_assert_uint_eq(inst.maps[HADP_MAP_NAT_IPS].max_entries, 7);
	ck_assert_uint_eq(inst.maps[HADP_MAP_CONNS].max_entries, 256);
	ck_assert_uint_eq(inst.maps[HADP_MAP_CONNS_REV].max_entries, 256);
	ck_assert_uint_eq(inst.maps[HADP_MAP_STATS].max_entries, 12);
	ck_assert_uint_eq(inst.maps[HADP_MAP_ROUTES4].max_entries, 100);
	ck_assert_uint_eq(inst.maps[HADP_MAP_ROUTES6].max_entries, 100);
	ck_assert_uint_eq(inst.maps[HADP_MAP_NEIGHS].max_entries, 5);
	ck_assert_int_eq(hadp_map_lookup(&inst.maps[HADP_MAP_CONFIG], &zero,
					 &cfg), 0);
	ck_assert_uint_eq(cfg.gw4, htonl(0xa9fe0001));
	ck_assert_mem_eq(cfg.gw6, gw6, 16);
	ck_assert_uint_eq(cfg.icmp_rate, HADP_DEFAULT_ICMP_RATE);
	ck_assert_uint_eq(cfg.icmp_burst, HADP_DEFAULT_ICMP_BURST);
	{
		static const __u32 to[HADP_TO_MAX] = HADP_DEFAULT_TIMEOUTS;
		static const __u8 none[16];

		ck_assert_mem_eq(cfg.timeout, to, sizeof(to));
		ck_assert_mem_eq(cfg.nat_router, none, 16);
	}
	ck_assert_int_eq(hadp_map_sum_u64(&inst.maps[HADP_MAP_STATS], &none,
					  &st), 0);
	hadp_inst_close(&inst);

	log_capture();
	ck_assert_int_eq(hadp_inst_load(&h, "default", &o, NULL), -EEXIST);
	ck_assert_int_eq(log_count, 1);
	ck_assert_int_eq(hadp_inst_load(&h, "_root", &o, NULL), -EINVAL);
}
END_TEST

START_TEST(test_two_instances)
{
	struct hadp_load_opts o;
	struct hadp_inst insts[HADP_MAX_INSTANCES];
	__u32 index;
	int n;

	hadp_load_opts_init(&o);
	ck_assert_int_eq(hadp_inst_load(&h, "a", &o, &index), 0);
	ck_assert_int_eq(hadp_inst_load(&h, "b", &o, &index), 0);
	ck_assert_uint_eq(index, 1);
	/* The first one stays active: only the HA agent moves it. */
	ck_assert_uint_eq(active(), 0);
	ck_assert_uint_ne(slot(HADP_SLOT(1, HADP_KIND_UPLINK)), 0);
	ck_assert_int_eq(hadp_inst_find(&h, "b", &index), 0);
	ck_assert_uint_eq(index, 1);
	ck_assert_int_eq(hadp_inst_open_all(&h, NULL, insts, &n), 0);
	ck_assert_int_eq(n, 2);
	hadp_inst_close_all(insts, n);
	ck_assert_int_eq(hadp_inst_open_all(&h, "b", insts, &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(insts[0].name, "b");
	hadp_inst_close_all(insts, n);
	log_capture();
	ck_assert_int_eq(hadp_inst_open_all(&h, "c", insts, &n), -ENOENT);
	ck_assert_int_eq(log_count, 1);

	/* Unloading the active one hands over to the other. */
	ck_assert_int_eq(hadp_inst_unload(&h, "a"), 0);
	ck_assert_uint_eq(active(), 1);
	ck_assert_uint_eq(slot(HADP_SLOT(0, HADP_KIND_VM)), 0);
	ck_assert_uint_eq(slot(HADP_SLOT(0, HADP_KIND_UPLINK)), 0);
	ck_assert(!pinned("a"));
	ck_assert_int_eq(hadp_inst_find(&h, "a", &index), -ENOENT);
	/* Its index is free again. */
	ck_assert_int_eq(hadp_inst_load(&h, "c", &o, &index), 0);
	ck_assert_uint_eq(index, 0);
	ck_assert_int_eq(hadp_inst_unload(&h, "c"), 0);
	ck_assert(pinned("_root/progs"));
	/* The last one takes the root along. */
	ck_assert_int_eq(hadp_inst_unload(&h, "b"), 0);
	ck_assert(!pinned("_root"));
	ck_assert(!h.root_open);
}
END_TEST

static int run(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static __u32 xdp_id(const char *dev)
{
	__u32 id = 0;

	ck_assert_int_eq(bpf_xdp_query_id(if_nametoindex(dev), 0, &id), 0);
	return id;
}

START_TEST(test_attach_upgrade)
{
	struct hadp_load_opts o;
	__u32 old_vm, old_ul;
	unsigned int n = 0;
	int a0, a1, b0, fd;
	char path[PATH_MAX];

	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	ck_assert_int_eq(run("ip link add a0 type veth peer name a1 && "
			     "ip link add b0 type veth peer name b1"), 0);
	a0 = if_nametoindex("a0");
	a1 = if_nametoindex("a1");
	b0 = if_nametoindex("b0");
	hadp_load_opts_init(&o);
	ck_assert_int_eq(hadp_inst_load(&h, "default", &o, NULL), 0);

	ck_assert_int_eq(hadp_root_attach(&h, a0, HADP_KIND_VM), 0);
	ck_assert_int_eq(hadp_root_attach(&h, a0, HADP_KIND_VM), 0);
	ck_assert_int_eq(hadp_root_attach(&h, a1, HADP_KIND_UPLINK), 0);
	ck_assert_uint_eq(xdp_id("a0"), h.root_prog_id[HADP_KIND_VM]);
	ck_assert_uint_eq(xdp_id("a1"), h.root_prog_id[HADP_KIND_UPLINK]);
	ck_assert_int_eq(hadp_root_attached(&h, a0), HADP_KIND_VM);
	ck_assert_int_eq(hadp_root_attached(&h, b0), -1);
	log_capture();
	ck_assert_int_eq(hadp_root_check_attach(&h, a0, HADP_KIND_UPLINK),
			 -EBUSY);
	ck_assert_ptr_nonnull(strstr(log_last, "root_vm"));

	/* Somebody else's program is named and left alone. */
	snprintf(path, sizeof(path), "%s/hadp/default/prog_vm", fs);
	fd = bpf_obj_get(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bpf_xdp_attach(b0, fd, 0, NULL), 0);
	log_capture();
	ck_assert_int_eq(hadp_root_attach(&h, b0, HADP_KIND_VM), -EBUSY);
	ck_assert_int_eq(log_count, 1);
	ck_assert_msg(strstr(log_last, "\"hadp_vm\"") && strstr(log_last, "b0"),
		      "%s", log_last);
	ck_assert_int_eq(hadp_root_detach(&h, b0, HADP_KIND_VM), 0);
	ck_assert_uint_ne(xdp_id("b0"), 0);

	old_vm = h.root_prog_id[HADP_KIND_VM];
	old_ul = h.root_prog_id[HADP_KIND_UPLINK];
	ck_assert_int_eq(hadp_root_upgrade(&h, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_ne(h.root_prog_id[HADP_KIND_VM], old_vm);
	ck_assert_uint_ne(h.root_prog_id[HADP_KIND_UPLINK], old_ul);
	ck_assert_uint_eq(xdp_id("a0"), h.root_prog_id[HADP_KIND_VM]);
	ck_assert_uint_eq(xdp_id("a1"), h.root_prog_id[HADP_KIND_UPLINK]);
	/* Same maps: the instance is still active and in its slots. */
	ck_assert_uint_eq(active(), 0);
	ck_assert_uint_ne(slot(HADP_SLOT(0, HADP_KIND_VM)), 0);

	ck_assert_int_eq(hadp_inst_unload(&h, "default"), 0);
	ck_assert_uint_eq(xdp_id("a0"), 0);
	ck_assert_uint_eq(xdp_id("a1"), 0);
	ck_assert_uint_ne(xdp_id("b0"), 0);
	close(fd);
}
END_TEST

/* ---- the sweep ----------------------------------------------------------- */

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A connection as the datapath stores it: both keys. */
static void conn_put(struct hadp_inst *inst, __u8 proto, __u16 sport,
		     __u32 ifindex, __u8 state, __u64 idle_s)
{
	struct hadp_conn_key k = {
		.vni = 100, .src = htonl(0x0a000001), .dst = htonl(0xc0000201),
		.sport = htons(sport), .dport = htons(80), .proto = proto,
	};
	struct hadp_conn c = {
		.last_seen = mono_ns() - idle_s * 1000000000ull,
		.version = 1, .ifindex = ifindex,
		.nat_ip = htonl(0xc6336401), .nat_port = htons(sport + 1000),
		.state = state,
	};
	struct hadp_conn_key rk = {
		.vni = 0, .src = k.dst, .dst = c.nat_ip, .sport = k.dport,
		.dport = c.nat_port, .proto = proto,
	};

	ck_assert_int_eq(bpf_map_update_elem(inst->maps[HADP_MAP_CONNS].fd,
					     &k, &c, BPF_NOEXIST), 0);
	ck_assert_int_eq(bpf_map_update_elem(inst->maps[HADP_MAP_CONNS_REV].fd,
					     &rk, &k, BPF_NOEXIST), 0);
}

static size_t count(const struct hadp_map *m)
{
	size_t n;
	void *keys;

	ck_assert_int_eq(hadp_map_keys(m, &keys, &n), 0);
	free(keys);
	return n;
}

struct deltas {
	int deletes;
	__u32 ifindex_sum;
	__u16 sports[16];
};

static int on_event(void *ctx, void *data, size_t size)
{
	const struct hadp_event *ev = data;
	struct deltas *d = ctx;

	ck_assert_uint_ge(size, sizeof(*ev));
	ck_assert_uint_eq(ev->type, HADP_EV_CONN_DELETE);
	/* The record as it was, its version one past the entry's. */
	ck_assert_uint_eq(ev->conn.val.version, 2);
	ck_assert_uint_eq(ev->conn.key.vni, 100);
	ck_assert_uint_eq(ev->conn.rkey.dport, ev->conn.val.nat_port);
	if (d->deletes < 16)
		d->sports[d->deletes] = ntohs(ev->conn.key.sport);
	d->deletes++;
	d->ifindex_sum += ev->ifindex;
	return 0;
}

START_TEST(test_sweep)
{
	struct hadp_load_opts o;
	struct hadp_inst inst;
	struct hadp_sweep res;
	struct hadp_index zero = { 0 };
	struct hadp_config cfg;
	struct ring_buffer *rb;
	struct deltas d = { 0 };

	hadp_load_opts_init(&o);
	ck_assert_int_eq(hadp_inst_load(&h, "default", &o, NULL), 0);
	ck_assert_int_eq(hadp_inst_open(&h, 0, &inst), 0);
	/* Default sizes: still room for three underlay addresses per
	 * interface. */
	ck_assert_uint_eq(inst.maps[HADP_MAP_UNDERLAY].max_entries,
			  3 * inst.maps[HADP_MAP_IFACES].max_entries);
	ck_assert_uint_eq(inst.maps[HADP_MAP_SNAT].max_entries,
			  inst.maps[HADP_MAP_IFACES].max_entries);
	rb = ring_buffer__new(inst.maps[HADP_MAP_EVENTS].fd, on_event, &d,
			      NULL);
	ck_assert_ptr_nonnull(rb);

	/* Nothing to do on an empty table. */
	ck_assert_int_eq(hadp_inst_sweep(&h, &inst, HADP_SWEEP_AGE, 0, &res),
			 0);
	ck_assert_uint_eq(res.scanned, 0);
	ck_assert_uint_eq(res.deleted, 0);

	/* Timeouts of a few seconds: the clock may not have run for the
	 * defaults' hours since boot. */
	ck_assert_uint_gt(mono_ns(), 30 * 1000000000ull);
	ck_assert_int_eq(hadp_map_lookup(&inst.maps[HADP_MAP_CONFIG], &zero,
					 &cfg), 0);
	cfg.timeout[HADP_TO_TCP_OPENING] = 20;
	cfg.timeout[HADP_TO_TCP_ESTABLISHED] = 8;
	cfg.timeout[HADP_TO_TCP_CLOSING] = 2;
	cfg.timeout[HADP_TO_UDP] = 4;
	cfg.timeout[HADP_TO_ICMP] = 4;
	cfg.timeout[HADP_TO_UNREPLIED] = 4;
	ck_assert_int_eq(bpf_map_update_elem(inst.maps[HADP_MAP_CONFIG].fd,
					     &zero, &cfg, BPF_EXIST), 0);
	conn_put(&inst, 6, 1, 5, HADP_CONN_ESTABLISHED, 3);	/* kept */
	conn_put(&inst, 6, 2, 5, HADP_CONN_ESTABLISHED, 9);	/* aged */
	conn_put(&inst, 6, 3, 5, HADP_CONN_CLOSING, 3);		/* aged */
	conn_put(&inst, 6, 4, 6, HADP_CONN_OPENING, 9);		/* kept */
	conn_put(&inst, 17, 5, 6, HADP_CONN_ESTABLISHED, 5);	/* aged */
	conn_put(&inst, 17, 6, 6, HADP_CONN_OPENING, 1);	/* kept */
	conn_put(&inst, 6, 7, 6, HADP_CONN_CLOSED, 1);		/* kept */
	ck_assert_uint_eq(count(&inst.maps[HADP_MAP_CONNS]), 7);

	ck_assert_int_eq(hadp_inst_sweep(&h, &inst, HADP_SWEEP_AGE, 0, &res),
			 0);
	ck_assert_uint_eq(res.scanned, 7);
	ck_assert_uint_eq(res.deleted, 3);
	ck_assert_uint_eq(count(&inst.maps[HADP_MAP_CONNS]), 4);
	/* No half entry: the public side went with each. */
	ck_assert_uint_eq(count(&inst.maps[HADP_MAP_CONNS_REV]), 4);
	/* Every delete was published. */
	ck_assert_int_ge(ring_buffer__consume(rb), 0);
	ck_assert_int_eq(d.deletes, 3);
	ck_assert_uint_eq(d.ifindex_sum, 5 + 5 + 6);

	/* Shorter timeouts age more: unreplied 1s takes the unanswered udp
	 * one of 1s. */
	cfg.timeout[HADP_TO_UNREPLIED] = 1;
	ck_assert_int_eq(bpf_map_update_elem(inst.maps[HADP_MAP_CONFIG].fd,
					     &zero, &cfg, BPF_EXIST), 0);
	ck_assert_int_eq(hadp_inst_sweep(&h, &inst, HADP_SWEEP_AGE, 0, &res),
			 0);
	ck_assert_uint_eq(res.deleted, 1);
	memset(&d, 0, sizeof(d));
	ck_assert_int_ge(ring_buffer__consume(rb), 0);
	ck_assert_int_eq(d.deletes, 1);
	ck_assert_uint_eq(d.sports[0], 6);

	/* Flush of one interface leaves the other's. */
	ck_assert_int_eq(hadp_inst_sweep(&h, &inst, HADP_SWEEP_FLUSH, 6, &res),
			 0);
	ck_assert_uint_eq(res.scanned, 3);
	ck_assert_uint_eq(res.deleted, 2);
	ck_assert_uint_eq(count(&inst.maps[HADP_MAP_CONNS]), 1);
	ck_assert_uint_eq(count(&inst.maps[HADP_MAP_CONNS_REV]), 1);
	/* Flush of everything. */
	ck_assert_int_eq(hadp_inst_sweep(&h, &inst, HADP_SWEEP_FLUSH, 0, &res),
			 0);
	ck_assert_uint_eq(res.deleted, 1);
	ck_assert_uint_eq(count(&inst.maps[HADP_MAP_CONNS]), 0);
	ck_assert_uint_eq(count(&inst.maps[HADP_MAP_CONNS_REV]), 0);
	memset(&d, 0, sizeof(d));
	ck_assert_int_ge(ring_buffer__consume(rb), 0);
	ck_assert_int_eq(d.deletes, 3);

	/* A request the program does not know: refused, one message. */
	log_capture();
	ck_assert_int_eq(hadp_inst_sweep(&h, &inst, 7, 0, &res), -EINVAL);
	ck_assert_int_eq(log_count, 1);
	ck_assert_ptr_nonnull(strstr(log_last, "hadp_sweep"));

	ring_buffer__free(rb);
	hadp_inst_close(&inst);
}
END_TEST

Suite *dp_suite(void)
{
	Suite *s = suite_create("dp");
	TCase *tc = tcase_create("dp");

	tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_bpffs_resolve);
	tcase_add_test(tc, test_not_bpffs);
	tcase_add_test(tc, test_lock);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_two_instances);
	tcase_add_test(tc, test_attach_upgrade);
	tcase_add_test(tc, test_sweep);
	suite_add_tcase(s, tc);
	return s;
}
