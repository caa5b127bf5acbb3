// SPDX-License-Identifier: GPL-2.0-only
/* The maps store as a standby's agent owns it (user/lib/mirror_maps.c):
 * a copy of conns and conns_rev answers, a packet's writes go in batches
 * at flush, each key in its final state; the interfaces' owners are a
 * read of ifaces. Real BPF hash maps, made here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>

#include "bpfmap.h"
#include "mirror.h"
#include "unit.h"

#define MS	1000000ull
#define NAT_IP	htonl(0xc6336401)

struct fix {
	struct hadp_map conns, rev, ifaces;
	struct hadp_mirror_maps mm;
	struct hadp_mirror_store st;
	__u64 now;
};

static void put_iface(struct fix *f, __u32 ifindex, __u32 vni, __be32 ip)
{
	struct hadp_ifindex k = { ifindex };
	struct hadp_iface ifc = { .vni = vni, .ipv4 = ip, .flags = HADP_IFACE_IPV4 };

	ck_assert_int_eq(bpf_map_update_elem(f->ifaces.fd, &k, &ifc, BPF_ANY), 0);
}

/* Interface 9 is VNI 100's 10.0.0.1 here; the peer numbers it 5, which
 * is VNI 200's here (a pair on two hosts). The store is owned. */
static struct fix *fix_new(void)
{
	struct fix *f = calloc(1, sizeof(*f));

	f->now = 1000 * MS;
	f->conns = unit_hash_map(sizeof(struct hadp_conn_key), sizeof(struct hadp_conn));
	f->rev = unit_hash_map(sizeof(struct hadp_conn_key), sizeof(struct hadp_conn_key));
	f->ifaces = unit_hash_map(sizeof(struct hadp_ifindex), sizeof(struct hadp_iface));
	f->mm = (struct hadp_mirror_maps){ .conns = &f->conns, .conns_rev = &f->rev,
					   .ifaces = &f->ifaces };
	put_iface(f, 9, 100, htonl(0x0a000001));
	put_iface(f, 5, 200, htonl(0x0a000001));
	f->st = hadp_mirror_maps_store(&f->mm);
	f->st.ops->own(f->st.ctx, true);
	return f;
}

static void fix_free(struct fix *f)
{
	f->st.ops->own(f->st.ctx, false);
	hadp_mirror_maps_release(&f->mm);
	hadp_map_close(&f->conns);
	hadp_map_close(&f->rev);
	hadp_map_close(&f->ifaces);
	free(f);
}

/* VNI @vni's 10.0.0.1 port @sport to 1.2.3.4:80, public port @nat_port,
 * as the peer (ifindex 5) sends it. */
static struct hadp_wire_conn conn(__u32 vni, __u16 sport, __u16 nat_port, __u32 version)
{
	return (struct hadp_wire_conn){
		.key = { .vni = vni, .src = htonl(0x0a000001), .dst = htonl(0x01020304),
			 .sport = htons(sport), .dport = htons(80), .proto = 6 },
		.version = version, .ifindex = 5, .nat_ip = NAT_IP,
		.nat_port = htons(nat_port), .state = HADP_CONN_ESTABLISHED,
	};
}

static struct hadp_conn_key rkey(const struct hadp_wire_conn *c)
{
	struct hadp_conn_key r;

	hadp_wire_conn_rkey(c, &r);
	return r;
}

static int set(struct fix *f, const struct hadp_wire_conn *c)
{
	return f->st.ops->conn_set(f->st.ctx, c, f->now);
}

static int del(struct fix *f, const struct hadp_wire_conn *c)
{
	return f->st.ops->conn_del(f->st.ctx, &c->key);
}

static int flush(struct fix *f)
{
	return f->st.ops->flush(f->st.ctx);
}

static bool held(struct fix *f, const struct hadp_wire_conn *c, struct hadp_conn *v)
{
	struct hadp_conn tmp;

	return !hadp_map_lookup(&f->conns, &c->key, v ? v : &tmp);
}

/* conns_rev holds @r and it names @c's key. */
static bool rev_names(struct fix *f, const struct hadp_conn_key *r,
		      const struct hadp_wire_conn *c)
{
	struct hadp_conn_key back;

	return !hadp_map_lookup(&f->rev, r, &back) && !memcmp(&back, &c->key, sizeof(back));
}

static bool rev_held(struct fix *f, const struct hadp_conn_key *r)
{
	struct hadp_conn_key back;

	return !hadp_map_lookup(&f->rev, r, &back);
}

/* Created, updated, deleted and created again (another public port) in
 * one packet: nothing is written before the flush, then the last state
 * alone, in both maps; a key created and deleted in one packet costs
 * nothing. */
START_TEST(test_packet_final_state)
{
	struct fix *f = fix_new();
	struct hadp_wire_conn c1 = conn(100, 1024, 2001, 1), c2 = conn(100, 1024, 2001, 2);
	struct hadp_wire_conn c4 = conn(100, 1024, 2002, 4), t = conn(100, 1030, 2010, 1);
	struct hadp_conn_key r1 = rkey(&c1), r4 = rkey(&c4);
	struct hadp_conn v;
	__u32 ver;
	__u64 batches;

	ck_assert_int_eq(set(f, &c1), 0);
	ck_assert_int_eq(set(f, &c2), 0);
	ck_assert_int_eq(f->st.ops->conn_version(f->st.ctx, &c1.key, &ver), 0);
	ck_assert_uint_eq(ver, 2);
	ck_assert_int_eq(del(f, &c2), 0);
	ck_assert_int_eq(f->st.ops->conn_version(f->st.ctx, &c1.key, &ver), -ENOENT);
	ck_assert_int_eq(set(f, &c4), 0);
	ck_assert_int_eq(set(f, &t), 0);
	ck_assert_int_eq(del(f, &t), 0);
	ck_assert_msg(!held(f, &c1, NULL), "written before the flush");
	ck_assert_int_eq(flush(f), 0);
	ck_assert(held(f, &c1, &v));
	ck_assert_uint_eq(v.version, 4);
	ck_assert_uint_eq(v.nat_port, htons(2002));
	ck_assert_uint_eq(v.ifindex, 9);	/* VNI 100's here, not the sender's 5 */
	ck_assert(rev_names(f, &r4, &c4));
	ck_assert_msg(!rev_held(f, &r1), "the public key of a deleted incarnation stayed");
	ck_assert(!held(f, &t, NULL));
	/* one delete batch at most, one update batch per map */
	ck_assert_uint_le(f->mm.counts.batches, 2);
	ck_assert_uint_eq(f->mm.counts.missing + f->mm.counts.failed, 0);

	/* held: deleted and created again in one packet is one update; a
	 * refresh of the version held rewrites last_seen, batched too */
	batches = f->mm.counts.batches;
	f->now += 7 * MS;
	ck_assert_int_eq(del(f, &c4), 0);
	c4.version = 5;
	ck_assert_int_eq(set(f, &c4), 0);
	ck_assert_int_eq(flush(f), 0);
	ck_assert(held(f, &c4, &v));
	ck_assert_uint_eq(v.version, 5);
	ck_assert_uint_eq(v.last_seen, f->now);
	ck_assert(rev_names(f, &r4, &c4));
	ck_assert_uint_eq(f->mm.counts.batches - batches, 2);
	f->now += 7 * MS;
	ck_assert_int_eq(set(f, &c4), 0);
	ck_assert_int_eq(flush(f), 0);
	ck_assert(held(f, &c4, &v));
	ck_assert_uint_eq(v.last_seen, f->now);
	ck_assert_uint_eq(f->mm.counts.loads, 1);
	fix_free(f);
}
END_TEST

/* A clash within one packet: the entry set last wins the public key, the
 * loser goes whole; the loser's late delete leaves the winner whole. */
START_TEST(test_packet_clash)
{
	struct fix *f = fix_new();
	struct hadp_wire_conn a = conn(100, 1024, 2001, 1), b = conn(100, 1025, 2001, 1);
	struct hadp_conn_key r = rkey(&a);

	ck_assert_int_eq(set(f, &a), 0);
	ck_assert_int_eq(set(f, &b), 1);
	ck_assert_mem_eq(&f->mm.displaced, &a.key, sizeof(a.key));
	ck_assert_int_eq(flush(f), 0);
	ck_assert(!held(f, &a, NULL));
	ck_assert(held(f, &b, NULL));
	ck_assert(rev_names(f, &r, &b));

	a.version = 2;
	ck_assert_int_eq(del(f, &a), 0);
	ck_assert_int_eq(flush(f), 0);
	ck_assert(held(f, &b, NULL));
	ck_assert_msg(rev_names(f, &r, &b), "the loser's delete took the winner's public key");
	fix_free(f);
}
END_TEST

/* Owned again after an active spell (the datapath wrote the maps), the
 * store reads them afresh: what was written behind it is seen. */
START_TEST(test_reread_after_active)
{
	struct fix *f = fix_new();
	struct hadp_wire_conn a = conn(100, 1024, 2001, 3), b = conn(100, 1025, 2002, 1);
	struct hadp_conn va = { .last_seen = 1, .version = 3, .ifindex = 9,
				.nat_ip = NAT_IP, .nat_port = htons(2001) };
	struct hadp_conn_key ra = rkey(&a);
	__u32 ver;

	ck_assert_int_eq(set(f, &b), 0);
	ck_assert_int_eq(flush(f), 0);
	f->st.ops->own(f->st.ctx, false);
	ck_assert_int_eq(bpf_map_update_elem(f->conns.fd, &a.key, &va, BPF_ANY), 0);
	ck_assert_int_eq(bpf_map_update_elem(f->rev.fd, &ra, &a.key, BPF_ANY), 0);
	f->st.ops->own(f->st.ctx, true);
	ck_assert_int_eq(f->st.ops->conn_version(f->st.ctx, &a.key, &ver), 0);
	ck_assert_uint_eq(ver, 3);
	ck_assert_uint_eq(f->mm.counts.loads, 2);
	/* and its sweep from the copy takes it, both keys */
	ck_assert_int_eq(f->st.ops->conn_sweep(f->st.ctx, 2), 1);
	ck_assert(!held(f, &a, NULL));
	ck_assert(!rev_held(f, &ra));
	ck_assert(held(f, &b, NULL));
	fix_free(f);
}
END_TEST

/* A key deleted behind the store: the delete batch stops at it; the rest
 * of the batch is still deleted, the miss counted, the copy read afresh. */
START_TEST(test_delete_missing)
{
	struct fix *f = fix_new();
	struct hadp_wire_conn c[4];
	unsigned int i;

	for (i = 0; i < 4; i++) {
		c[i] = conn(100, 1024 + i, 2001 + i, 1);
		ck_assert_int_eq(set(f, &c[i]), 0);
	}
	ck_assert_int_eq(flush(f), 0);
	ck_assert_int_eq(bpf_map_delete_elem(f->conns.fd, &c[1].key), 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(del(f, &c[i]), 0);
	ck_assert_int_eq(flush(f), 0);
	for (i = 0; i < 4; i++) {
		struct hadp_conn_key r = rkey(&c[i]);

		ck_assert_msg(!held(f, &c[i], NULL), "entry %u left in conns", i);
		ck_assert_msg(!rev_held(f, &r), "entry %u's public key left", i);
	}
	ck_assert_uint_eq(f->mm.counts.missing, 1);
	ck_assert_uint_eq(f->mm.counts.failed, 0);
	ck_assert_int_eq(set(f, &c[0]), 0);
	ck_assert_uint_eq(f->mm.counts.loads, 2);
	fix_free(f);
}
END_TEST

/* The interfaces' owners: a pair on two hosts numbers its interfaces
 * differently; one added here is found on the first miss (one read a
 * packet, however many miss); one renumbered here is found once the
 * read is a second old. */
START_TEST(test_owners)
{
	struct fix *f = fix_new();
	struct hadp_wire_conn a = conn(100, 1024, 2001, 1);
	struct hadp_wire_conn x = conn(300, 1024, 2002, 1), y = conn(300, 1025, 2003, 1);
	struct hadp_ifindex k9 = { 9 };
	struct hadp_conn v;
	__u64 reads;

	ck_assert_int_eq(set(f, &a), 0);
	ck_assert_int_eq(flush(f), 0);
	ck_assert(held(f, &a, &v));
	ck_assert_uint_eq(v.ifindex, 9);

	reads = f->mm.counts.owner_reads;
	f->now += MS;
	ck_assert_int_eq(set(f, &x), -EADDRNOTAVAIL);
	ck_assert_int_eq(set(f, &y), -EADDRNOTAVAIL);
	ck_assert_uint_eq(f->mm.counts.owner_reads, reads + 1);
	ck_assert_int_eq(flush(f), 0);
	put_iface(f, 14, 300, htonl(0x0a000001));
	f->now += MS;
	ck_assert_int_eq(set(f, &x), 0);
	ck_assert_int_eq(flush(f), 0);
	ck_assert(held(f, &x, &v));
	ck_assert_uint_eq(v.ifindex, 14);

	/* VNI 100's VM is now interface 12 */
	ck_assert_int_eq(bpf_map_delete_elem(f->ifaces.fd, &k9), 0);
	put_iface(f, 12, 100, htonl(0x0a000001));
	f->now += 1000 * MS;
	a.version = 2;
	ck_assert_int_eq(set(f, &a), 0);
	ck_assert_int_eq(flush(f), 0);
	ck_assert(held(f, &a, &v));
	ck_assert_uint_eq(v.ifindex, 12);
	fix_free(f);
}
END_TEST

Suite *mirror_maps_suite(void)
{
	Suite *s = suite_create("mirror_maps");
	TCase *tc = tcase_create("mirror_maps");

	tcase_add_test(tc, test_packet_final_state);
	tcase_add_test(tc, test_packet_clash);
	tcase_add_test(tc, test_reread_after_active);
	tcase_add_test(tc, test_delete_missing);
	tcase_add_test(tc, test_owners);
	suite_add_tcase(s, tc);
	return s;
}
