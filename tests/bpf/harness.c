// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "harness.h"

struct env E;

static const char *const DEVNAME[NDEV] = { "vm1", "vm2", "vm3", "vm4", "ul0" };
const uint8_t MAC[NDEV][6] = {
	{ 0x52, 0x54, 0, 0, 0, 1 }, { 0x52, 0x54, 0, 0, 0, 2 },
	{ 0x52, 0x54, 0, 0, 0, 3 }, { 0x52, 0x54, 0, 0, 0, 4 },
	{ 0x02, 0xaa, 0, 0, 0, 1 },
};
const uint8_t DEVMAC[NDEV][6] = {
	{ 0x02, 0, 0, 0, 1, 1 }, { 0x02, 0, 0, 0, 1, 2 },
	{ 0x02, 0, 0, 0, 1, 3 }, { 0x02, 0, 0, 0, 1, 4 },
	{ 0x02, 0xaa, 0, 0, 0, 1 },
};
const uint8_t NH_MAC[6] = { 0x02, 0xbb, 0, 0, 0, 1 };
const uint8_t GW6[16] = { 0xfe, 0x80, [15] = 1 };
const uint8_t LL_VM1[16] = { 0xfe, 0x80, [8] = 0x50, [9] = 0x54, [15] = 1 };
const uint8_t V6[NDEV][16] = {
	{ 0xfd, 0x10, [15] = 1 }, { 0xfd, 0x10, [15] = 2 },
	{ 0xfd, 0x10, [15] = 2 }, { 0xfd, 0x10, [15] = 4 },
};
const uint8_t UNDERLAY[NDEV][16] = {
	{ 0xfd, 0, 0, 0xa, [15] = 1 }, { 0xfd, 0, 0, 0xa, [15] = 2 },
	{ 0xfd, 0, 0, 0xa, [15] = 3 }, { 0xfd, 0, 0, 0xa, [15] = 4 },
};
const uint8_t NH_B[16] = { 0xfd, 0, 0, 0xb, [15] = 1 };
const uint8_t NH_C[16] = { 0xfd, 0, 0, 0xc, [15] = 1 };
const uint8_t REMOTE6[16] = { 0xfd, 0x10, 0, 1, [15] = 9 };
uint32_t GW4, V4[NDEV], REMOTE4, NOROUTE4, NONEIGH4;

static const uint32_t VNI[NDEV] = { 100, 100, 200, 100 };

void env_init(void)
{
	cpu_set_t cpus;
	char cmd[128];
	int i;

	/* The ICMP rate limiter is per CPU: keep every run on one. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) ||
	    unshare(CLONE_NEWNET)) {
		perror("env_init");
		exit(2);
	}
	for (i = 0; i < NDEV; i++) {
		snprintf(cmd, sizeof(cmd), "ip link add name %s type veth peer name %s-p",
			 DEVNAME[i], DEVNAME[i]);
		if (system(cmd)) {
			fprintf(stderr, "env_init: %s failed\n", cmd);
			exit(2);
		}
		E.ifindex[i] = if_nametoindex(DEVNAME[i]);
	}
	GW4 = inet_addr("169.254.0.1");
	V4[VM1] = inet_addr("10.0.0.1");
	V4[VM2] = inet_addr("10.0.0.2");
	V4[VM3] = inet_addr("10.0.0.2");
	V4[VM4] = inet_addr("10.0.0.4");
	REMOTE4 = inet_addr("10.0.1.9");
	NOROUTE4 = inet_addr("10.0.5.5");
	NONEIGH4 = inet_addr("10.0.9.9");
}

uint32_t env_conns_max;

void update_elem(struct bpf_map *m, const void *k, const void *v)
{
	ck_assert_int_eq(bpf_map_update_elem(bpf_map__fd(m), k, v, BPF_ANY), 0);
}

void route4_add(uint32_t vni, const char *prefix, int type, int dev,
		const uint8_t nexthop[16], uint32_t target_vni)
{
	struct hadp_route4_key k = { .vni = vni };
	struct hadp_route r = { .type = type, .target_vni = target_vni };
	char addr[32];
	char *slash;

	snprintf(addr, sizeof(addr), "%s", prefix);
	slash = strchr(addr, '/');
	*slash = 0;
	k.prefixlen = 32 + atoi(slash + 1);
	inet_pton(AF_INET, addr, &k.addr);
	if (dev >= 0)
		r.ifindex = E.ifindex[dev];
	if (nexthop)
		memcpy(r.nexthop, nexthop, 16);
	update_elem(E.skel->maps.routes4, &k, &r);
}

static void route6_add(uint32_t vni, const uint8_t addr[16], int plen,
		       int type, int dev, const uint8_t nexthop[16])
{
	struct hadp_route6_key k = { .vni = vni, .prefixlen = 32 + plen };
	struct hadp_route r = { .type = type, .target_vni = vni };

	memcpy(k.addr, addr, 16);
	if (dev >= 0)
		r.ifindex = E.ifindex[dev];
	if (nexthop)
		memcpy(r.nexthop, nexthop, 16);
	update_elem(E.skel->maps.routes6, &k, &r);
}

void config_set_rate(uint32_t rate, uint32_t burst)
{
	struct hadp_config c = { .gw4 = GW4, .icmp_rate = rate,
				 .icmp_burst = burst,
				 .timeout = HADP_DEFAULT_TIMEOUTS };
	uint32_t zero = 0;

	memcpy(c.gw6, GW6, 16);
	update_elem(E.skel->maps.config, &zero, &c);
}

void uplink_set_mtu(uint32_t mtu)
{
	struct hadp_uplink u = { .ifindex = E.ifindex[UL0], .mtu = mtu };
	uint32_t zero = 0;

	memcpy(u.mac, MAC[UL0], 6);
	update_elem(E.skel->maps.uplink, &zero, &u);
}

static void stats_create(int ifindex)
{
	int ncpu = libbpf_num_possible_cpus();
	struct hadp_ifindex k = { .ifindex = ifindex };
	void *zero = calloc(ncpu, sizeof(struct hadp_stats));

	update_elem(E.skel->maps.stats, &k, zero);
	free(zero);
}

void env_setup(void)
{
	struct hadp_neigh_key nk;
	struct hadp_neigh nb = { .state = HADP_NEIGH_VALID };
	int i;

	E.skel = hadp_bpf__open();
	ck_assert_ptr_nonnull(E.skel);
	if (env_conns_max) {
		bpf_map__set_max_entries(E.skel->maps.conns, env_conns_max);
		bpf_map__set_max_entries(E.skel->maps.conns_rev, env_conns_max);
	}
	ck_assert_int_eq(hadp_bpf__load(E.skel), 0);
	E.vm_fd = bpf_program__fd(E.skel->progs.hadp_vm);
	E.ul_fd = bpf_program__fd(E.skel->progs.hadp_uplink);

	config_set_rate(HADP_DEFAULT_ICMP_RATE, HADP_DEFAULT_ICMP_BURST);
	uplink_set_mtu(1600);
	stats_create(0);
	for (i = 0; i < NDEV; i++) {
		struct hadp_ifindex k = { .ifindex = E.ifindex[i] };
		struct hadp_iface v = { .vni = VNI[i] };
		struct hadp_underlay_key uk;
		struct hadp_underlay ul = { .kind = HADP_UL_IFACE,
					    .ifindex = E.ifindex[i] };

		stats_create(E.ifindex[i]);
		if (i == UL0)
			continue;
		snprintf(v.name, sizeof(v.name), "if-%s", DEVNAME[i]);
		v.flags = HADP_IFACE_IPV4 | (i == VM4 ? 0 : HADP_IFACE_IPV6);
		if (i != VM4) {
			v.flags |= HADP_IFACE_MAC_STATIC;
			v.mac_state = HADP_MAC_KNOWN;
			memcpy(v.mac, MAC[i], 6);
			memcpy(v.ipv6, V6[i], 16);
			route6_add(VNI[i], V6[i], 128, HADP_ROUTE_LOCAL, i, NULL);
		}
		memcpy(v.dev_mac, DEVMAC[i], 6);
		v.ipv4 = V4[i];
		memcpy(v.underlay, UNDERLAY[i], 16);
		update_elem(E.skel->maps.ifaces, &k, &v);
		memcpy(uk.addr, UNDERLAY[i], 16);
		update_elem(E.skel->maps.underlay, &uk, &ul);
		route4_add(VNI[i], i == VM4 ? "10.0.0.4/32" :
			   i == VM1 ? "10.0.0.1/32" : "10.0.0.2/32",
			   HADP_ROUTE_LOCAL, i, NULL, VNI[i]);
	}
	route4_add(100, "10.0.1.0/24", HADP_ROUTE_REMOTE, -1, NH_B, 100);
	route4_add(100, "10.0.9.0/24", HADP_ROUTE_REMOTE, -1, NH_C, 100);
	route6_add(100, REMOTE6, 64, HADP_ROUTE_REMOTE, -1, NH_B);
	memcpy(nk.addr, NH_B, 16);
	nb.ifindex = E.ifindex[UL0];
	memcpy(nb.mac, NH_MAC, 6);
	memcpy(nb.gateway, NH_B, 16);
	update_elem(E.skel->maps.neighs, &nk, &nb);
}

void env_teardown(void)
{
	hadp_bpf__destroy(E.skel);
	E.skel = NULL;
}

int run(int prog_fd, int ifindex, const struct pkt *in, struct pkt *out)
{
	/* The kernel wants data_end to match the frame it is handed. */
	struct xdp_md ctx = { .data_end = in->len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = in->d, .data_size_in = in->len,
		    .data_out = out->d, .data_size_out = sizeof(out->d),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = 1);

	ck_assert_int_eq(bpf_prog_test_run_opts(prog_fd, &opts), 0);
	out->len = opts.data_size_out;
	return opts.retval;
}

uint64_t stat_at(int dev, size_t off)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct hadp_ifindex k = { .ifindex = dev == HOST ? 0 : E.ifindex[dev] };
	struct hadp_stats *v = calloc(ncpu, sizeof(*v));
	uint64_t sum = 0;

	ck_assert_int_eq(bpf_map_lookup_elem(bpf_map__fd(E.skel->maps.stats),
					     &k, v), 0);
	for (i = 0; i < ncpu; i++)
		sum += *(uint64_t *)((uint8_t *)&v[i] + off);
	free(v);
	return sum;
}

uint64_t stat_drop(int dev, enum hadp_drop_reason r)
{
	return stat_at(dev, offsetof(struct hadp_stats, drops) +
			    r * sizeof(uint64_t));
}
