// SPDX-License-Identifier: GPL-2.0-only
/* The map layer and its journal against real kernel maps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpfmap.h"
#include "hadp/maps.h"
#include "unit.h"

static struct hadp_map make(enum bpf_map_type type, __u32 ksz, __u32 vsz,
			    __u32 flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);
	struct hadp_map m;
	int fd;

	fd = bpf_map_create(type, "unit", ksz, vsz, 64, &o);
	ck_assert_msg(fd >= 0, "bpf_map_create: %s", strerror(errno));
	ck_assert_int_eq(hadp_map_from_fd(fd, &m), 0);
	return m;
}

static __u32 get(const struct hadp_map *m, __u32 key)
{
	__u32 v;

	ck_assert_int_eq(hadp_map_lookup(m, &key, &v), 0);
	return v;
}

START_TEST(test_txn_hash)
{
	struct hadp_map m = make(BPF_MAP_TYPE_HASH, 4, 4, 0);
	struct hadp_txn t = HADP_TXN_INIT;
	__u32 k1 = 1, k2 = 2, k3 = 3, v10 = 10, v20 = 20, v30 = 30, v;

	log_capture();
	ck_assert_int_eq(bpf_map_update_elem(m.fd, &k1, &v10, 0), 0);
	ck_assert_int_eq(bpf_map_update_elem(m.fd, &k2, &v20, 0), 0);
	ck_assert_int_eq(hadp_txn_update(&t, &m, &k3, &v30, BPF_NOEXIST), 0);
	ck_assert_int_eq(hadp_txn_update(&t, &m, &k1, &v30, BPF_ANY), 0);
	ck_assert_int_eq(hadp_txn_delete(&t, &m, &k2), 0);
	/* Refusals the flags asked for are left to the caller to word. */
	ck_assert_int_eq(hadp_txn_update(&t, &m, &k1, &v10, BPF_NOEXIST),
			 -EEXIST);
	ck_assert_int_eq(hadp_txn_update(&t, &m, &k2, &v10, BPF_EXIST),
			 -ENOENT);
	ck_assert_int_eq(hadp_txn_delete(&t, &m, &k2), -ENOENT);
	ck_assert_int_eq(log_count, 0);
	ck_assert_uint_eq(get(&m, 1), 30);
	ck_assert_uint_eq(get(&m, 3), 30);
	ck_assert_int_eq(hadp_map_lookup(&m, &k2, &v), -ENOENT);

	hadp_txn_rollback(&t);
	ck_assert_uint_eq(get(&m, 1), 10);
	ck_assert_uint_eq(get(&m, 2), 20);
	ck_assert_int_eq(hadp_map_lookup(&m, &k3, &v), -ENOENT);
	ck_assert_int_eq(log_count, 0);

	/* Committed changes stay. */
	ck_assert_int_eq(hadp_txn_update(&t, &m, &k3, &v30, BPF_ANY), 0);
	hadp_txn_commit(&t);
	hadp_txn_rollback(&t);
	ck_assert_uint_eq(get(&m, 3), 30);
	hadp_map_close(&m);
}
END_TEST

struct k4 {
	__u32 prefixlen;
	__u32 vni;
	__u8 addr[4];
};

START_TEST(test_txn_lpm)
{
	struct hadp_map m = make(BPF_MAP_TYPE_LPM_TRIE, sizeof(struct k4), 4,
				 BPF_F_NO_PREALLOC);
	struct hadp_txn t = HADP_TXN_INIT;
	struct k4 wide = { 32 + 16, 7, { 10, 1, 0, 0 } };
	struct k4 narrow = { 32 + 24, 7, { 10, 1, 2, 0 } };
	struct k4 host = { 32 + 32, 7, { 10, 1, 2, 3 } };
	struct k4 other_vni = { 32 + 24, 8, { 10, 1, 2, 0 } };
	__u32 a = 1, b = 2, c = 3, v;

	ck_assert_int_eq(bpf_map_update_elem(m.fd, &wide, &a, 0), 0);
	/* The lookup is a longest match; has_key is exact. */
	ck_assert_int_eq(hadp_map_lookup(&m, &narrow, &v), 0);
	ck_assert_uint_eq(v, a);
	ck_assert_int_eq(hadp_map_has_key(&m, &wide), 1);
	ck_assert_int_eq(hadp_map_has_key(&m, &narrow), 0);
	ck_assert_int_eq(hadp_map_has_key(&m, &other_vni), 0);

	/* A new, more specific route: rollback removes just it. */
	ck_assert_int_eq(hadp_txn_update(&t, &m, &narrow, &b, BPF_ANY), 0);
	ck_assert_int_eq(hadp_map_has_key(&m, &narrow), 1);
	/* Replacing the wide one, then deleting it. */
	ck_assert_int_eq(hadp_txn_update(&t, &m, &wide, &c, BPF_ANY), 0);
	ck_assert_int_eq(hadp_txn_delete(&t, &m, &wide), 0);
	ck_assert_int_eq(hadp_txn_delete(&t, &m, &host), -ENOENT);
	ck_assert_int_eq(hadp_map_has_key(&m, &wide), 0);

	hadp_txn_rollback(&t);
	ck_assert_int_eq(hadp_map_has_key(&m, &narrow), 0);
	ck_assert_int_eq(hadp_map_has_key(&m, &wide), 1);
	ck_assert_int_eq(hadp_map_lookup(&m, &host, &v), 0);
	ck_assert_uint_eq(v, a);
	hadp_map_close(&m);
}
END_TEST

START_TEST(test_keys)
{
	struct hadp_map m = make(BPF_MAP_TYPE_HASH, 4, 4, 0);
	__u32 i, *keys, seen = 0;
	size_t n;

	for (i = 0; i < 40; i++)
		ck_assert_int_eq(bpf_map_update_elem(m.fd, &i, &i, 0), 0);
	ck_assert_int_eq(hadp_map_keys(&m, (void **)&keys, &n), 0);
	ck_assert_uint_eq(n, 40);
	for (i = 0; i < n; i++) {
		ck_assert_uint_lt(keys[i], 40);
		seen += keys[i];
	}
	ck_assert_uint_eq(seen, 40 * 39 / 2);
	free(keys);
	hadp_map_close(&m);
}
END_TEST

/* Every entry with its value, and their count: batched past the chunk
 * size for hash maps (plain and per-CPU), key by key for an LPM trie,
 * which has no batch lookup. */
START_TEST(test_entries)
{
	struct hadp_map h, pc, lpm;
	struct { __u32 prefixlen; __u32 addr; } pk;
	int cpus = hadp_possible_cpus(), cpu;
	__u32 i, *keys, *vals, per[512];
	__u64 seen = 0;
	size_t n;
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "unit", 4, 4, 12000, NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(hadp_map_from_fd(fd, &h), 0);
	for (i = 0; i < 9000; i++) {
		__u32 v = i * 3;

		ck_assert_int_eq(bpf_map_update_elem(h.fd, &i, &v, 0), 0);
	}
	ck_assert_int_eq(hadp_map_count(&h), 9000);
	ck_assert_int_eq(hadp_map_entries(&h, (void **)&keys, (void **)&vals, &n), 0);
	ck_assert_uint_eq(n, 9000);
	for (i = 0; i < n; i++) {
		ck_assert_uint_lt(keys[i], 9000);
		ck_assert_uint_eq(vals[i], keys[i] * 3);
		seen += keys[i];
	}
	ck_assert_uint_eq(seen, 9000ull * 8999 / 2);
	free(keys);
	free(vals);
	hadp_map_close(&h);

	ck_assert_int_le(cpus, 512);
	pc = make(BPF_MAP_TYPE_PERCPU_HASH, 4, 4, 0);
	for (i = 0; i < 50; i++) {
		for (cpu = 0; cpu < cpus; cpu++)
			per[2 * cpu] = i + cpu;	/* values are 8-byte aligned */
		ck_assert_int_eq(bpf_map_update_elem(pc.fd, &i, per, 0), 0);
	}
	ck_assert_int_eq(hadp_map_count(&pc), 50);
	ck_assert_int_eq(hadp_map_entries(&pc, (void **)&keys, (void **)&vals, &n), 0);
	ck_assert_uint_eq(n, 50);
	for (i = 0; i < n; i++)
		for (cpu = 0; cpu < cpus; cpu++)
			ck_assert_uint_eq(vals[i * 2 * cpus + 2 * cpu], keys[i] + cpu);
	free(keys);
	free(vals);
	hadp_map_close(&pc);

	lpm = make(BPF_MAP_TYPE_LPM_TRIE, sizeof(pk), 4, BPF_F_NO_PREALLOC);
	for (i = 0; i < 10; i++) {
		pk.prefixlen = 24;
		pk.addr = i << 8;
		ck_assert_int_eq(bpf_map_update_elem(lpm.fd, &pk, &i, 0), 0);
	}
	ck_assert_int_eq(hadp_map_count(&lpm), 10);
	ck_assert_int_eq(hadp_map_entries(&lpm, (void **)&keys, (void **)&vals, &n), 0);
	ck_assert_uint_eq(n, 10);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(keys[2 * i + 1] >> 8, vals[i]);
	free(keys);
	free(vals);
	hadp_map_close(&lpm);
}
END_TEST

START_TEST(test_percpu)
{
	struct hadp_map m = make(BPF_MAP_TYPE_PERCPU_HASH,
				 sizeof(struct hadp_ifindex),
				 sizeof(struct hadp_stats), 0);
	int cpus = hadp_possible_cpus(), cpu;
	struct hadp_txn t = HADP_TXN_INIT;
	struct hadp_ifindex key = { 5 };
	struct hadp_stats *per, sum;

	ck_assert_int_gt(cpus, 0);
	ck_assert_uint_eq(m.buf_size, sizeof(struct hadp_stats) * cpus);
	per = hadp_map_zero_value(&m);
	ck_assert_ptr_nonnull(per);
	ck_assert_int_eq(hadp_txn_update(&t, &m, &key, per, BPF_NOEXIST), 0);
	hadp_txn_commit(&t);
	for (cpu = 0; cpu < cpus; cpu++) {
		per[cpu].rx_packets = cpu + 1;
		per[cpu].drops[HADP_DROP_MAX - 1] = 2;
	}
	ck_assert_int_eq(bpf_map_update_elem(m.fd, &key, per, BPF_EXIST), 0);
	ck_assert_int_eq(hadp_map_sum_u64(&m, &key, &sum), 0);
	ck_assert_uint_eq(sum.rx_packets, (__u64)cpus * (cpus + 1) / 2);
	ck_assert_uint_eq(sum.drops[HADP_DROP_MAX - 1], 2ull * cpus);
	ck_assert_uint_eq(sum.tx_packets, 0);

	/* Rollback restores every CPU's value. */
	memset(per, 0, m.buf_size);
	ck_assert_int_eq(hadp_txn_update(&t, &m, &key, per, BPF_ANY), 0);
	ck_assert_int_eq(hadp_map_sum_u64(&m, &key, &sum), 0);
	ck_assert_uint_eq(sum.rx_packets, 0);
	hadp_txn_rollback(&t);
	ck_assert_int_eq(hadp_map_sum_u64(&m, &key, &sum), 0);
	ck_assert_uint_eq(sum.rx_packets, (__u64)cpus * (cpus + 1) / 2);
	free(per);
	hadp_map_close(&m);
}
END_TEST

Suite *maps_suite(void)
{
	Suite *s = suite_create("maps");
	TCase *tc = tcase_create("maps");

	tcase_add_test(tc, test_txn_hash);
	tcase_add_test(tc, test_txn_lpm);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_entries);
	tcase_add_test(tc, test_percpu);
	suite_add_tcase(s, tc);
	return s;
}
