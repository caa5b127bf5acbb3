// SPDX-License-Identifier: GPL-2.0-only
/* What a standby applies from its peer (user/lib/mirror_rx.c and the
 * maps store): the peer's engine feeds ours directly, and ours writes
 * real BPF maps made here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>

#include "bpfmap.h"
#include "mirror.h"
#include "mirror_mem.h"
#include "unit.h"

#define MS	1000000ull
#define NAT_IP	htonl(0xc6336401)

struct standby {
	struct hadp_map conns, rev, ifaces;
	struct hadp_mirror_maps mm;
	struct mirror_mem *peer_mem;
	struct hadp_mirror *peer, *us;
	__u64 now;
};

/* Both ways, a packet is delivered at once: no loss, no reorder. */
static int to_us(void *ctx, const void *msgs, size_t len, unsigned int count,
		 __u32 opaque, __u64 *seq)
{
	struct standby *s = ctx;
	static __u64 n;

	*seq = ++n;
	ck_assert_int_eq(hadp_mirror_rx(s->us, msgs, len, s->now), 0);
	return 0;
}

static int to_peer(void *ctx, const void *msgs, size_t len, unsigned int count,
		   __u32 opaque, __u64 *seq)
{
	struct standby *s = ctx;
	static __u64 n;

	*seq = ++n;
	ck_assert_int_eq(hadp_mirror_rx(s->peer, msgs, len, s->now), 0);
	return 0;
}

static void put_iface(struct standby *s, __u32 ifindex, __u32 vni, __be32 ip)
{
	struct hadp_ifindex k = { ifindex };
	struct hadp_iface ifc = { .vni = vni, .ipv4 = ip, .flags = HADP_IFACE_IPV4 };

	ck_assert_int_eq(bpf_map_update_elem(s->ifaces.fd, &k, &ifc, BPF_ANY), 0);
}

/* Our interfaces: 9 is VNI 100's 10.0.0.1, 5 VNI 200's 10.0.0.1 (two
 * tenants, one address). The peer numbers VNI 100's VM 5. */
static struct standby *standby_new(const struct hadp_wire_advert *peer_advert)
{
	struct standby *s = calloc(1, sizeof(*s));
	struct hadp_mirror_cfg cfg = {
		.queue_max = 64, .path_mtu = 1500, .retransmit_ns = 100 * MS,
		.tombs = 64, .tomb_ns = 10000 * MS, .peer = "192.0.2.7:4791",
		.advert = { .max_count = 64, .version_min = 1, .version_max = 1 },
	};
	struct hadp_mirror_transport tx_peer = { to_us, s }, tx_us = { to_peer, s };
	struct hadp_mirror_store st;

	s->now = 1000 * MS;
	s->conns = unit_hash_map(sizeof(struct hadp_conn_key), sizeof(struct hadp_conn));
	s->rev = unit_hash_map(sizeof(struct hadp_conn_key), sizeof(struct hadp_conn_key));
	s->ifaces = unit_hash_map(sizeof(struct hadp_ifindex), sizeof(struct hadp_iface));
	s->mm = (struct hadp_mirror_maps){ .conns = &s->conns, .conns_rev = &s->rev,
					   .ifaces = &s->ifaces };
	put_iface(s, 9, 100, htonl(0x0a000001));
	put_iface(s, 5, 200, htonl(0x0a000001));
	st = hadp_mirror_maps_store(&s->mm);
	s->us = hadp_mirror_new(&cfg, &tx_us, &st);
	s->peer_mem = mirror_mem_new(64);
	st = mirror_mem_store(s->peer_mem);
	if (peer_advert)
		cfg.advert = *peer_advert;
	s->peer = hadp_mirror_new(&cfg, &tx_peer, &st);
	ck_assert_ptr_nonnull(s->us);
	ck_assert_ptr_nonnull(s->peer);
	return s;
}

static void standby_free(struct standby *s)
{
	hadp_mirror_free(s->us);
	hadp_mirror_free(s->peer);
	mirror_mem_free(s->peer_mem);
	hadp_mirror_maps_release(&s->mm);
	hadp_map_close(&s->conns);
	hadp_map_close(&s->rev);
	hadp_map_close(&s->ifaces);
	free(s);
}

/* VNI 100's VM, from port @sport to 1.2.3.4:80, as the outside sees it
 * NAT_IP:@nat_port. */
static struct hadp_event_conn conn_of(__u32 vni, __u16 sport, __u16 nat_port,
				      __u32 version)
{
	struct hadp_event_conn c = {
		.key = { .vni = vni, .src = htonl(0x0a000001), .dst = htonl(0x01020304),
			 .sport = htons(sport), .dport = htons(80), .proto = 6 },
		.val = { .version = version, .ifindex = 5, .nat_ip = NAT_IP,
			 .nat_port = htons(nat_port), .state = HADP_CONN_ESTABLISHED },
	};

	c.rkey = (struct hadp_conn_key){ .src = c.key.dst, .dst = NAT_IP,
					 .sport = c.key.dport, .dport = htons(nat_port),
					 .proto = 6 };
	return c;
}

/* The peer's datapath publishes a change of @c, and it reaches us. */
static void peer_sends(struct standby *s, __u32 type, const struct hadp_event_conn *c)
{
	struct hadp_event ev = { .type = type, .ifindex = c->val.ifindex,
				 .version = c->val.version, .conn = *c };

	ev.conn.val.last_seen = s->now;
	ck_assert_int_eq(hadp_mirror_event(s->peer, &ev, s->now), 0);
	hadp_mirror_flush(s->peer, s->now);
}

static bool held(struct standby *s, const struct hadp_conn_key *k)
{
	struct hadp_conn v;

	return !hadp_map_lookup(&s->conns, k, &v);
}

/* The reverse entry of @rkey names @k. */
static bool rev_names(struct standby *s, const struct hadp_conn_key *rkey,
		      const struct hadp_conn_key *k)
{
	struct hadp_conn_key back;

	return !hadp_map_lookup(&s->rev, rkey, &back) && !memcmp(&back, k, sizeof(back));
}

/* A connection that took a public key another one held (whose delete
 * has not come yet) wins it; that late delete must leave it whole. */
START_TEST(test_clash_on_set)
{
	struct standby *s = standby_new(NULL);
	struct hadp_event_conn old = conn_of(100, 1024, 2001, 1);
	struct hadp_event_conn new = conn_of(100, 1025, 2001, 1);

	ck_assert_mem_eq(&old.rkey, &new.rkey, sizeof(old.rkey));
	peer_sends(s, HADP_EV_CONN_NEW, &old);
	ck_assert(rev_names(s, &old.rkey, &old.key));
	peer_sends(s, HADP_EV_CONN_NEW, &new);
	ck_assert(rev_names(s, &new.rkey, &new.key));
	ck_assert_msg(!held(s, &old.key), "the loser of a clash stays in conns");
	ck_assert_uint_eq(hadp_mirror_stats(s->us)->rx_clashes, 1);

	old.val.version = 2;
	peer_sends(s, HADP_EV_CONN_DELETE, &old);
	ck_assert(held(s, &new.key));
	ck_assert_msg(rev_names(s, &new.rkey, &new.key),
		      "a delete of the loser took the winner's reverse entry");
	ck_assert_uint_eq(hadp_mirror_stats(s->us)->apply_errors, 0);
	standby_free(s);
}
END_TEST

/* A delete takes a reverse entry only if it names the deleted connection
 * (one an earlier agent left pointing elsewhere is another's). */
START_TEST(test_delete_only_own_reverse)
{
	struct standby *s = standby_new(NULL);
	struct hadp_event_conn a = conn_of(100, 1024, 2001, 1);
	struct hadp_event_conn b = conn_of(100, 1025, 2001, 1);
	struct hadp_conn va = a.val;

	peer_sends(s, HADP_EV_CONN_NEW, &b);
	va.ifindex = 9;
	ck_assert_int_eq(bpf_map_update_elem(s->conns.fd, &a.key, &va, BPF_ANY), 0);
	hadp_mirror_set_apply(s->us, true);	/* written behind it: read afresh */
	ck_assert(rev_names(s, &b.rkey, &b.key));

	a.val.version = 2;
	peer_sends(s, HADP_EV_CONN_DELETE, &a);
	ck_assert(!held(s, &a.key));
	ck_assert_msg(rev_names(s, &b.rkey, &b.key),
		      "a delete took a reverse entry that named another connection");
	standby_free(s);
}
END_TEST

/* An entry is written for the interface that owns its VNI and address;
 * the sender's ifindex is never trusted, here VNI 200's interface. */
START_TEST(test_unowned_refused)
{
	struct standby *s = standby_new(NULL);
	struct hadp_event_conn mine = conn_of(100, 1024, 2001, 1);
	struct hadp_event_conn none = conn_of(300, 1024, 2002, 1);
	struct hadp_conn_key back;
	struct hadp_conn v;

	peer_sends(s, HADP_EV_CONN_NEW, &mine);
	ck_assert_int_eq(hadp_map_lookup(&s->conns, &mine.key, &v), 0);
	ck_assert_uint_eq(v.ifindex, 9);

	peer_sends(s, HADP_EV_CONN_NEW, &none);
	ck_assert_msg(!held(s, &none.key), "an entry of VNI 300 was written (ifindex 5: VNI 200's)");
	ck_assert_int_eq(hadp_map_lookup(&s->rev, &none.rkey, &back), -ENOENT);
	ck_assert_uint_eq(hadp_mirror_stats(s->us)->unowned, 1);
	ck_assert_uint_eq(hadp_mirror_stats(s->us)->applied, 1);
	standby_free(s);
}
END_TEST

static void peer_learns(struct standby *s, __u32 ifindex, __u8 last, __u32 version)
{
	struct hadp_event ev = { .type = HADP_EV_MAC_LEARNED, .ifindex = ifindex,
				 .version = version, .mac = { 2, 0, 0, 0, 0, last } };

	ck_assert_int_eq(hadp_mirror_event(s->peer, &ev, s->now), 0);
	hadp_mirror_flush(s->peer, s->now);
}

static __u8 mac_held(struct standby *s, __u32 ifindex, __u32 *version)
{
	struct hadp_ifindex k = { ifindex };
	struct hadp_iface ifc;

	ck_assert_int_eq(hadp_map_lookup(&s->ifaces, &k, &ifc), 0);
	ck_assert_uint_eq(ifc.mac_state, HADP_MAC_KNOWN);
	*version = ifc.mac_version;
	return ifc.mac[5];
}

/* Learned MACs carry the number of times the interface learned one: a
 * late one never undoes a newer. */
START_TEST(test_mac_versions)
{
	struct standby *s = standby_new(NULL);
	__u32 v;

	peer_learns(s, 9, 0x22, 2);
	ck_assert_uint_eq(mac_held(s, 9, &v), 0x22);
	ck_assert_uint_eq(v, 2);
	peer_learns(s, 9, 0x11, 1);	/* late */
	ck_assert_msg(mac_held(s, 9, &v) == 0x22, "a late learned MAC overwrote a newer one");
	ck_assert_uint_eq(v, 2);
	ck_assert_uint_eq(hadp_mirror_stats(s->us)->stale, 1);
	peer_learns(s, 9, 0x33, 3);
	ck_assert_uint_eq(mac_held(s, 9, &v), 0x33);
	ck_assert_uint_eq(v, 3);
	ck_assert_uint_eq(hadp_mirror_stats(s->us)->applied, 2);
	standby_free(s);
}
END_TEST

/* A peer that says it takes 50 bytes a packet would have every entry
 * refused as too big: its advert is refused, loudly, and the sync goes
 * on under the limits it had. */
START_TEST(test_advert_bounded)
{
	struct hadp_wire_advert tiny = { .max_count = 64, .max_payload = 50,
					 .version_min = 1, .version_max = 1 };
	struct standby *s = standby_new(&tiny);
	struct hadp_event_conn c = conn_of(100, 1024, 2001, 1);
	struct hadp_event ev = { .type = HADP_EV_CONN_NEW, .ifindex = 5,
				 .version = 1, .conn = c };

	log_capture();
	ck_assert_int_eq(hadp_mirror_send_advert(s->peer, false, s->now), 0);
	ck_assert_uint_eq(hadp_mirror_stats(s->us)->adverts_refused, 1);
	ck_assert_int_eq(log_count, 1);
	ck_assert_msg(strstr(log_last, "192.0.2.7:4791") && strstr(log_last, "50"),
		      "the log line names neither the peer nor the value: %s", log_last);

	ck_assert_int_eq(hadp_mirror_event(s->us, &ev, s->now), 0);
	hadp_mirror_flush(s->us, s->now);
	ck_assert_uint_eq(hadp_mirror_stats(s->us)->events_ignored, 0);
	ck_assert_uint_eq(hadp_mirror_stats(s->us)->entries_sent, 1);
	ck_assert_uint_eq(mirror_mem_count(s->peer_mem), 1);

	/* the smallest that fits one entry is taken */
	ck_assert_int_eq(hadp_mirror_set_peer(s->us, 1, HADP_MIRROR_MIN_PAYLOAD, s->now), 0);
	ck_assert_int_eq(hadp_mirror_set_peer(s->us, 1, HADP_MIRROR_MIN_PAYLOAD - 1, s->now),
			 -ERANGE);
	standby_free(s);
}
END_TEST

Suite *mirror_trust_suite(void)
{
	Suite *s = suite_create("mirror_trust");
	TCase *tc = tcase_create("mirror_trust");

	tcase_add_test(tc, test_clash_on_set);
	tcase_add_test(tc, test_delete_only_own_reverse);
	tcase_add_test(tc, test_unowned_refused);
	tcase_add_test(tc, test_mac_versions);
	tcase_add_test(tc, test_advert_bounded);
	suite_add_tcase(s, tc);
	return s;
}
