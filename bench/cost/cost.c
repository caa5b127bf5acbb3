// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/cost: the fast path's cost per packet by path, as a ratio to a
 * MAC-swap XDP_TX program run through the same wrapper in the same
 * rounds. Usage (as root; bench/cost/run passes these):
 *
 *   cost --hadp build/hadp --json FILE [--command STR] [--rounds N]
 *        [--repeat N] [--cpu N]
 *
 * The host (in private namespaces, gone at exit):
 *
 *   vm1 10.0.0.1 fd10::1 (fd00:a::1)   vm2 10.0.0.2 fd10::2 (fd00:a::2)
 *   vm3 10.0.0.3, SNAT 203.0.113.1 ports 1024-65535 (fd00:a::103)
 *   vm4 10.0.0.4, VIP 203.0.113.10 (fd00:a::104)
 *   VNI 100: 10.1.0.0/16 and fd10:1::/64 via fd00:b::1, 0.0.0.0/0 nat,
 *   NAT router fd00:f::1; all next hops through ul0's router.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <net/if.h>
#include "meter.h"

#define VNI		100
#define HOT		1024		/* established flows: a hot set */
#define REMOTE		0xc6120000	/* 198.18.0.0: established flows' far end */
#define FRESH		0x64400000	/* 100.64.0.0: new connections' far end */
#define NAT_IP		0xcb007101	/* 203.0.113.1 */
#define VIP		0xcb00710a	/* 203.0.113.10 */
#define SPORT		40000
#define DPORT		443
#define ALWAYS		0xffffffffu	/* b_div that keeps field b constant */

enum { VM1, VM2, VM3, VM4, UL0, NDEV };
static const char *const DEV[NDEV] = { "vm1", "vm2", "vm3", "vm4", "ul0" };
static int ifx[NDEV];
static const uint8_t MAC[4][6] = {
	{ 0x52, 0x54, 0, 0, 0, 1 }, { 0x52, 0x54, 0, 0, 0, 2 },
	{ 0x52, 0x54, 0, 0, 0, 3 }, { 0x52, 0x54, 0, 0, 0, 4 },
};
static const uint8_t GWMAC[6] = { 0x02, 0, 0, 0, 1, 1 };
static const uint8_t V6_VM1[16] = { 0xfd, 0x10, [15] = 1 };
static const uint8_t V6_FAR[16] = { 0xfd, 0x10, 0, 1, [15] = 9 };
static const uint8_t NH_B[16] = { 0xfd, 0, 0, 0xb, [15] = 1 };
static const uint8_t NH_F[16] = { 0xfd, 0, 0, 0xf, [15] = 1 };
static const uint8_t UL_VM1[16] = { 0xfd, 0, 0, 0xa, [15] = 1 };
static const uint8_t UL_NAT[16] = { 0xfd, 0, 0, 0xa, [14] = 1, [15] = 3 };
static const uint8_t UL_VIP[16] = { 0xfd, 0, 0, 0xa, [14] = 1, [15] = 4 };

static void setup(struct meter *m)
{
	int i;

	meter_instance(m, "");
	for (i = 0; i < UL0; i++) {
		char v6[32] = "";

		if (i < VM3)
			snprintf(v6, sizeof(v6), "ipv6 fd10::%d", i + 1);
		veth(DEV[i]);
		hadp(m, "iface add %s dev %s vni %d mac 52:54:00:00:00:0%d "
		     "ipv4 10.0.0.%d %s underlay fd00:a::%d", DEV[i], DEV[i],
		     VNI, i + 1, i + 1, v6, i + 1);
	}
	for (i = 0; i < NDEV; i++)
		ifx[i] = if_nametoindex(DEV[i]);
	hadp(m, "route add 10.1.0.0/16 vni %d via fd00:b::1", VNI);
	hadp(m, "route add fd10:1::/64 vni %d via fd00:b::1", VNI);
	hadp(m, "nat router fd00:f::1");
	hadp(m, "route add 0.0.0.0/0 vni %d nat", VNI);
	hadp(m, "nat add iface vm3 ip 203.0.113.1 ports 1024-65535 "
	     "underlay fd00:a::103");
	/* nat_new opens 44,000 connections on vm3 and never closes them:
	 * its quota is checked on each, and must let them all in. */
	hadp(m, "iface set vm3 conn-limit 65536");
	hadp(m, "vip add iface vm4 ip 203.0.113.10 underlay fd00:a::104");
}

/* The hot set of established connections behind vm3's SNAT and vm4's
 * VIP: flow j goes to REMOTE + j; SNAT gave it port 1024 + j. */
static int established(struct meter *m)
{
	static struct hadp_conn_key k[2 * HOT];
	static struct hadp_conn c[2 * HOT];
	struct timespec now;
	int j, v;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (v = 0; v < 2; v++)
		for (j = 0; j < HOT; j++) {
			struct hadp_conn_key *kk = &k[v * HOT + j];
			struct hadp_conn *cc = &c[v * HOT + j];

			kk->vni = VNI;
			kk->src = htonl(v ? 0x0a000004 : 0x0a000003);
			kk->dst = htonl(REMOTE + j);
			kk->sport = htons(SPORT);
			kk->dport = htons(DPORT);
			kk->proto = IPPROTO_UDP;
			cc->last_seen = now.tv_sec * 1000000000ull + now.tv_nsec;
			cc->version = 1;
			cc->ifindex = ifx[v ? VM4 : VM3];
			cc->nat_ip = htonl(v ? VIP : NAT_IP);
			cc->nat_port = htons(v ? SPORT : 1024 + j);
			cc->state = HADP_CONN_ESTABLISHED;
			cc->flags = v ? HADP_CONN_VIP : 0;
		}
	return conns_insert(m, k, c, 2 * HOT);
}

static void vary(struct path *p, uint32_t a_off, uint32_t a_base,
		 uint32_t a_mod, uint32_t b_off, uint32_t b_base,
		 uint32_t b_div, uint64_t flows)
{
	p->cfg.stride = 1;
	p->cfg.flows = flows;
	p->cfg.a_off = a_off;
	p->cfg.a_base = a_base;
	p->cfg.a_mod = a_mod;
	p->cfg.b_off = b_off;
	p->cfg.b_base = b_base;
	p->cfg.b_div = b_div;
}

/* VM @dev sends UDP over IPv4 to @dst (host order); the source port is
 * at 34, the destination address at 30. */
static void from_vm4(struct path *p, int dev, uint32_t dst)
{
	uint8_t *f = p->cfg.frame;

	frame_eth(f, GWMAC, MAC[dev], 0x0800);
	frame_udp(f, frame_ip4(f, 14, htonl(0x0a000001 + dev), htonl(dst),
			       IPPROTO_UDP), SPORT, DPORT);
	p->target = T_VM;
	p->ifindex = p->stats_ifindex = ifx[dev];
	p->verdict = XDP_REDIRECT;
}

/* From underlay address @from to @ul, IPv4 inside: inner source at 66,
 * inner ports at 74 and 76. */
static void to_ul4(struct path *p, const uint8_t from[16],
		   const uint8_t ul[16], uint32_t src, uint32_t dst,
		   uint16_t dport)
{
	uint8_t *f = p->cfg.frame;
	size_t o;

	frame_eth(f, GWMAC, UPLINK_NH_MAC, 0x86dd);
	o = frame_ip6(f, 14, from, ul, 4);
	frame_udp(f, frame_ip4(f, o, htonl(src), htonl(dst), IPPROTO_UDP),
		  DPORT, dport);
	p->target = T_UPLINK;
	p->ifindex = p->stats_ifindex = ifx[UL0];
	p->verdict = XDP_REDIRECT;
}

static void arp_reply(struct path *p)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t arp[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	uint8_t *f = p->cfg.frame;
	uint32_t sip = htonl(0x0a000001), tip = htonl(0xa9fe0001);

	frame_eth(f, bcast, MAC[VM1], 0x0806);
	memcpy(f + 14, arp, 8);
	memcpy(f + 22, MAC[VM1], 6);
	memcpy(f + 28, &sip, 4);
	memcpy(f + 38, &tip, 4);
	p->target = T_VM;
	p->ifindex = p->stats_ifindex = ifx[VM1];
	p->verdict = XDP_REDIRECT;
	p->grows = COUNTER(arp_replies);
	/* Nothing to vary in a request for the gateway: the wrapper writes
	 * into the padding, the same work as for every other path. */
	vary(p, 100, 0, 1, 104, 0, ALWAYS, 1);
}

static void encap_ipv6(struct path *p)
{
	uint8_t *f = p->cfg.frame;

	frame_eth(f, GWMAC, MAC[VM1], 0x86dd);
	frame_udp(f, frame_ip6(f, 14, V6_VM1, V6_FAR, IPPROTO_UDP), SPORT, DPORT);
	p->target = T_VM;
	p->ifindex = p->stats_ifindex = ifx[VM1];
	p->verdict = XDP_REDIRECT;
	p->grows = COUNTER(encap);
	vary(p, 54, 10000, 4096, 50, 9, ALWAYS, 1 << 20);
}

static void decap_ipv6(struct path *p)
{
	uint8_t *f = p->cfg.frame;
	size_t o;

	frame_eth(f, GWMAC, UPLINK_NH_MAC, 0x86dd);
	o = frame_ip6(f, 14, NH_B, UL_VM1, 41);
	frame_udp(f, frame_ip6(f, o, V6_FAR, V6_VM1, IPPROTO_UDP), DPORT, SPORT);
	p->target = T_UPLINK;
	p->ifindex = p->stats_ifindex = ifx[UL0];
	p->verdict = XDP_REDIRECT;
	p->grows = COUNTER(decap);
	vary(p, 94, 10000, 4096, 74, 9, ALWAYS, 1 << 20);
}

enum {
	P_BASE, P_ARP, P_ENC4, P_ROOT, P_ENC6, P_DEC4, P_DEC6, P_LOCAL, P_NEW,
	P_EST, P_REPLY, P_VIP_OUT, P_VIP_IN, NPATH
};

static const char *const TARGET[NPATH] = {
	[P_ENC4] = "<= 8", [P_ENC6] = "<= 8", [P_DEC4] = "<= 8",
	[P_DEC6] = "<= 8", [P_EST] = "<= 10",
};

static void paths(struct path *p, unsigned int repeat)
{
	int i;

	memset(p, 0, NPATH * sizeof(*p));
	for (i = 0; i < NPATH; i++) {
		p[i].still = NO_COUNTER;
		p[i].repeat = repeat;
	}

	p[P_ENC4].name = "encap_ipv4";
	from_vm4(&p[P_ENC4], VM1, 0x0a010009);
	p[P_ENC4].grows = COUNTER(encap);
	vary(&p[P_ENC4], 34, 10000, 4096, 30, 0x0a010009, ALWAYS, 1 << 20);

	/* The baseline runs the same frame through the same wrapper work. */
	p[P_BASE] = p[P_ENC4];
	p[P_BASE].name = "macswap_xdp_tx";
	p[P_BASE].target = T_MACSWAP;
	p[P_BASE].verdict = XDP_TX;

	/* As attached: the root in front, one more tail call. */
	p[P_ROOT] = p[P_ENC4];
	p[P_ROOT].name = "encap_ipv4_via_root";
	p[P_ROOT].target = T_ROOT_VM;

	p[P_ARP].name = "arp_reply";
	arp_reply(&p[P_ARP]);
	p[P_ENC6].name = "encap_ipv6";
	encap_ipv6(&p[P_ENC6]);
	p[P_DEC6].name = "decap_ipv6";
	decap_ipv6(&p[P_DEC6]);

	p[P_DEC4].name = "decap_ipv4";
	to_ul4(&p[P_DEC4], NH_B, UL_VM1, 0x0a010009, 0x0a000001, SPORT);
	p[P_DEC4].grows = COUNTER(decap);
	vary(&p[P_DEC4], 74, 10000, 4096, 66, 0x0a010009, ALWAYS, 1 << 20);

	p[P_LOCAL].name = "local_redirect";
	from_vm4(&p[P_LOCAL], VM1, 0x0a000002);
	p[P_LOCAL].stats_ifindex = ifx[VM2];
	p[P_LOCAL].grows = COUNTER(tx_packets);
	vary(&p[P_LOCAL], 34, 10000, 4096, 30, 0x0a000002, ALWAYS, 1 << 20);

	/* A new far end every run: each is a new connection, and the first
	 * port SNAT tries is free. */
	p[P_NEW].name = "nat_new";
	from_vm4(&p[P_NEW], VM3, FRESH);
	p[P_NEW].grows = COUNTER(conns_created);
	vary(&p[P_NEW], 34, SPORT, 1, 30, FRESH, 1, 1u << 30);

	p[P_EST].name = "nat_established";
	from_vm4(&p[P_EST], VM3, REMOTE);
	p[P_EST].grows = COUNTER(snat);
	p[P_EST].still = COUNTER(conns_created);
	vary(&p[P_EST], 34, SPORT, 1, 30, REMOTE, 1, HOT);

	p[P_REPLY].name = "nat_reply";
	to_ul4(&p[P_REPLY], NH_F, UL_NAT, REMOTE, NAT_IP, 1024);
	p[P_REPLY].grows = COUNTER(dnat);
	p[P_REPLY].still = COUNTER(conns_created);
	vary(&p[P_REPLY], 76, 1024, 65536, 66, REMOTE, 1, HOT);

	p[P_VIP_OUT].name = "vip_out";
	from_vm4(&p[P_VIP_OUT], VM4, REMOTE);
	p[P_VIP_OUT].grows = COUNTER(snat);
	p[P_VIP_OUT].still = COUNTER(conns_created);
	vary(&p[P_VIP_OUT], 34, SPORT, 1, 30, REMOTE, 1, HOT);

	p[P_VIP_IN].name = "vip_in";
	to_ul4(&p[P_VIP_IN], NH_F, UL_VIP, REMOTE, VIP, SPORT);
	p[P_VIP_IN].grows = COUNTER(dnat);
	p[P_VIP_IN].still = COUNTER(conns_created);
	vary(&p[P_VIP_IN], 76, SPORT, 1, 66, REMOTE, 1, HOT);
}

static const char METHOD[] =
	"Program cost only, in BPF_PROG_TEST_RUN with repeat N on one CPU: "
	"a wrapper XDP program (bench/cost/cost.bpf.c, loaded like the root) "
	"restores the 128-byte frame and its head offset, writes the next "
	"flow into it, and tail-calls the instance's pinned hadp_vm or "
	"hadp_uplink, loaded and configured by the hadp CLI; the baseline is "
	"a MAC-swap XDP_TX program reached through the same wrapper, so the "
	"wrapper and the tail call are in both. Every run is checked by the "
	"datapath's own counters to have taken its path (no drop, the path's "
	"counter up by N). Time per run as the kernel reports it (whole ns): "
	"wall time around the syscall would add the XDP dispatcher update "
	"every test run makes, milliseconds. The median of the rounds, "
	"baseline and paths interleaved in each round; "
	"ratios are medians of per-round ratios. Redirects are not carried "
	"out by a test run: the driver's transmit is not in these figures.";

int main(int argc, char **argv)
{
	struct meter_opts o = {
		.hadp = "build/hadp", .command = "bench/run cost",
		.rounds = 21, .repeat = 20000,
	};
	int r, i;
	double ns[NPATH][99], ratio[NPATH][99], base;
	struct path p[NPATH];
	struct meter m;
	struct json j;
	char note[160];

	if (meter_opts_parse(&o, "cost", argc, argv))
		return 2;
	if (meter_env(&m, o.hadp, o.cpu))
		return 1;
	setup(&m);
	if (meter_open(&m) || established(&m))
		return 1;
	paths(p, o.repeat);
	/* New connections publish a delta each: a run must fit the ring
	 * buffer (256 KiB, 88 bytes a delta), drained between runs. */
	p[P_NEW].repeat = 2000;

	/* Round 0 warms up (JIT images, table pages) and is not counted. */
	for (r = 0; r <= o.rounds; r++)
		for (i = 0; i < NPATH; i++) {
			double t = meter_run(&m, &p[i]);

			if (t < 0)
				return 1;
			if (!r)
				continue;
			ns[i][r - 1] = t;
			ratio[i][r - 1] = t / ns[P_BASE][r - 1];
		}

	if (json_open(&j, o.json, "cost", METHOD, o.command))
		return 1;
	base = median(ns[P_BASE], o.rounds);

	json_figure(&j, "macswap_xdp_tx_ns", base, "ns", NULL, 0, NULL,
		    "the baseline itself, wrapper and tail call included");
	for (i = 1; i < NPATH; i++) {
		double t = median(ns[i], o.rounds);

		snprintf(note, sizeof(note), "%.1f ns a packet against %.1f; "
			 "median of %d rounds of %u", t, base, o.rounds,
			 p[i].repeat);
		json_figure(&j, p[i].name, median(ratio[i], o.rounds),
			    "x baseline", "macswap_xdp_tx", base, TARGET[i],
			    note);
		printf("%-20s %7.1f ns  %5.2f x baseline\n", p[i].name, t,
		       median(ratio[i], o.rounds));
	}
	printf("%-20s %7.1f ns\n", "macswap_xdp_tx", base);
	meter_close(&m);
	return json_close(&j) ? 1 : 0;
}
