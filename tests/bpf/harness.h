/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A loaded instance with a fixed configuration, in a private network
 * namespace with veth devices standing in for VM interfaces and the
 * uplink (BPF_PROG_TEST_RUN wants a real ingress device):
 *
 *   VNI 100  vm1  52:54:00:00:00:01  10.0.0.1  fd10::1  underlay fd00:a::1
 *   VNI 100  vm2  52:54:00:00:00:02  10.0.0.2  fd10::2  underlay fd00:a::2
 *   VNI 200  vm3  52:54:00:00:00:03  10.0.0.2  fd10::2  underlay fd00:a::3
 *   VNI 100  vm4  (MAC to be learned) 10.0.0.4           underlay fd00:a::4
 *   uplink   ul0  02:aa:00:00:00:01  mtu 1600
 *   VNI 100  10.0.1.0/24, fd10:1::/64 via fd00:b::1 (neighbour 02:bb:00:00:00:01)
 *   VNI 100  10.0.9.0/24 via fd00:c::1 (no neighbour)
 */
#ifndef HADP_TEST_HARNESS_H
#define HADP_TEST_HARNESS_H

#include <check.h>
#include <linux/bpf.h>
#include "hadp/maps.h"
#include "hadp.skel.h"
#include "pkt.h"

enum { VM1, VM2, VM3, VM4, UL0, NDEV };

struct env {
	struct hadp_bpf *skel;
	int vm_fd;		/* hadp_vm */
	int ul_fd;		/* hadp_uplink */
	int ifindex[NDEV];
};

extern struct env E;
extern const uint8_t MAC[NDEV][6];	/* VM MACs (UL0: the uplink's) */
extern const uint8_t DEVMAC[NDEV][6];	/* host ends: the gateway MAC */
extern const uint8_t NH_MAC[6];
extern const uint8_t GW6[16], LL_VM1[16];
extern const uint8_t V6[NDEV][16];	/* VM IPv6 addresses */
extern const uint8_t UNDERLAY[NDEV][16];
extern const uint8_t NH_B[16], NH_C[16], REMOTE6[16];
extern uint32_t GW4, V4[NDEV], REMOTE4, NOROUTE4, NONEIGH4;

/* Called once from main(): private netns, dummy devices, CPU pinning. */
void env_init(void);
/* Check fixture: a fresh instance per test. */
void env_setup(void);
void env_teardown(void);

/* Run @prog_fd on @in as received on @ifindex; the result lands in @out.
 * Returns the XDP verdict. */
int run(int prog_fd, int ifindex, const struct pkt *in, struct pkt *out);
uint64_t stat_drop(int dev, enum hadp_drop_reason r);
/* Sum over CPUs of the counter at byte offset @off of struct hadp_stats. */
uint64_t stat_at(int dev, size_t off);
#define STAT(dev, field) stat_at(dev, offsetof(struct hadp_stats, field))
/* Ifindex 0's counters: drops that belong to no interface. */
#define HOST (-1)

void route4_add(uint32_t vni, const char *prefix, int type, int dev,
		const uint8_t nexthop[16], uint32_t target_vni);
void config_set_rate(uint32_t rate, uint32_t burst);
void uplink_set_mtu(uint32_t mtu);

/* Byte-wise comparison with a readable failure message. */
#define ck_assert_pkt_eq(got, exp)					\
	do {								\
		ck_assert_uint_eq((got)->len, (exp)->len);		\
		for (size_t _i = 0; _i < (exp)->len; _i++)		\
			ck_assert_msg((got)->d[_i] == (exp)->d[_i],	\
				      "byte %zu: got %02x want %02x", _i, \
				      (got)->d[_i], (exp)->d[_i]);	\
	} while (0)

TCase *tcase_vm(void);
TCase *tcase_ndisc(void);
TCase *tcase_encap(void);
TCase *tcase_uplink(void);
TCase *tcase_root(void);
TCase *tcase_nat(void);
TCase *tcase_nat_table(void);
TCase *tcase_tenant(void);

/* Sizes of conns / conns_rev for the next env_setup (0: the default). */
extern uint32_t env_conns_max;
void update_elem(struct bpf_map *m, const void *k, const void *v);

#endif
