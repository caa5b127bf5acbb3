// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/scale: the cost per packet of established NAT traffic, both ways,
 * with 1 thousand, 100 thousand and 1 million connections in the table,
 * and what a connection costs in memory. Usage (as root; bench/scale/run
 * passes these):
 *
 *   scale --hadp build/hadp --json FILE [--command STR] [--rounds N]
 *         [--repeat N] [--cpu N]
 *
 * One instance sized for a million connections (dp load conns 1048576),
 * 16 interfaces vmN (10.0.1.N+1), each with a NAT IP of its own
 * (203.0.113.N+1) and the whole port range 1024-65535: a million
 * connections without two sharing a NAT IP and port. Connection g is the
 * j = g % 64512th of interface g / 64512: from port 40000 to 100.64.0.0 + j
 * port 443, NAT port 1024 + j. The table is filled in steps with
 * bpf_map_update_batch, measured at each size, and emptied again in
 * steps with bpf_map_delete_batch, measured again at each size.
 *
 * A run on interface N walks its F flows in the order
 * j = i * 2654435761 % F (a prime: each flow once every F runs, and
 * neighbours in the walk far apart in the table); rounds go through every
 * interface in use, so with a million connections a flow's cache lines
 * have been pushed out by the other interfaces' before it comes round
 * again. With the table full, 10 thousand of its connections are also
 * walked on their own: the cost follows what the walk touches.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <net/if.h>
#include "meter.h"

#define VNI		100
#define TABLE		1048576
#define PER_IFACE	64512		/* ports 1024-65535 */
#define NIFACE		16
#define REMOTE		0x64400000	/* 100.64.0.0 */
#define NAT_IP		0xcb007101	/* 203.0.113.1, + interface */
#define SPORT		40000
#define DPORT		443
#define WALK		2654435761u
#define NSIZE		3

static const uint32_t SIZE[NSIZE] = { 1000, 100000, 1000000 };
/* The sizes in the order measured. */
static const int PASS[] = { 0, 1, 2, 1, 0 };
#define NPASS (int)(sizeof(PASS) / sizeof(PASS[0]))
/* Also walked out of the full table, on one interface: the cost follows
 * what a run touches, not what the table holds. */
#define FEW		10000
static const char *const SIZE_NAME[NSIZE] = { "1k", "100k", "1m" };
static const uint8_t GWMAC[6] = { 0x02, 0, 0, 0, 1, 1 };
static const uint8_t NH_F[16] = { 0xfd, 0, 0, 0xf, [15] = 1 };
static int ifx[NIFACE];

static void setup(struct meter *m)
{
	char dev[16];
	int i;

	meter_instance(m, "conns 1048576");
	hadp(m, "nat router fd00:f::1");
	hadp(m, "route add 0.0.0.0/0 vni %d nat", VNI);
	for (i = 0; i < NIFACE; i++) {
		snprintf(dev, sizeof(dev), "vm%d", i);
		veth(dev);
		ifx[i] = if_nametoindex(dev);
		hadp(m, "iface add %s dev %s vni %d mac 52:54:00:00:01:%02x "
		     "ipv4 10.0.1.%d underlay fd00:a::1:%x", dev, dev, VNI, i,
		     i + 1, i);
		hadp(m, "nat add iface %s ip 203.0.113.%d ports 1024-65535 "
		     "underlay fd00:a::2:%x", dev, i + 1, i);
	}
}

/* Bring the table from @from connections to @to, up or down, a batch at
 * a time. */
static int resize(struct meter *m, uint32_t from, uint32_t to)
{
	static struct hadp_conn_key k[PER_IFACE];
	static struct hadp_conn c[PER_IFACE];
	uint32_t lo = from < to ? from : to, hi = from < to ? to : from, g, n;
	struct timespec now;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &now);
	while (lo < hi) {
		for (n = 0, g = lo; g < hi && n < PER_IFACE; g++, n++) {
			uint32_t i = g / PER_IFACE, j = g % PER_IFACE;

			memset(&k[n], 0, sizeof(k[n]));
			k[n].vni = VNI;
			k[n].src = htonl(0x0a000101 + i);
			k[n].dst = htonl(REMOTE + j);
			k[n].sport = htons(SPORT);
			k[n].dport = htons(DPORT);
			k[n].proto = IPPROTO_UDP;
			memset(&c[n], 0, sizeof(c[n]));
			c[n].last_seen = now.tv_sec * 1000000000ull + now.tv_nsec;
			c[n].version = 1;
			c[n].ifindex = ifx[i];
			c[n].nat_ip = htonl(NAT_IP + i);
			c[n].nat_port = htons(1024 + j);
			c[n].state = HADP_CONN_ESTABLISHED;
		}
		err = from < to ? conns_insert(m, k, c, n) :
				  conns_delete(m, k, c, n);
		if (err)
			return -1;
		lo = g;
	}
	return 0;
}

static void walk(struct path *p, uint32_t flows, uint32_t a_off,
		 uint32_t a_base, uint32_t a_mod, uint32_t b_off)
{
	p->cfg.stride = WALK;
	p->cfg.flows = flows;
	p->cfg.a_off = a_off;
	p->cfg.a_base = a_base;
	p->cfg.a_mod = a_mod;
	p->cfg.b_off = b_off;
	p->cfg.b_base = REMOTE;
	p->cfg.b_div = 1;
}

/* Interface @i's flows, out (established) and back (reply). */
static void iface_paths(struct path *out, struct path *back, int i,
			uint32_t flows, unsigned int repeat)
{
	uint8_t mac[6] = { 0x52, 0x54, 0, 0, 1, i }, ul[16] = { 0xfd, 0, 0, 0xa };
	size_t o;

	memset(out, 0, sizeof(*out));
	out->name = "nat_established";
	frame_eth(out->cfg.frame, GWMAC, mac, 0x0800);
	frame_udp(out->cfg.frame, frame_ip4(out->cfg.frame, 14,
					    htonl(0x0a000101 + i),
					    htonl(REMOTE), IPPROTO_UDP),
		  SPORT, DPORT);
	out->target = T_VM;
	out->ifindex = out->stats_ifindex = ifx[i];
	out->verdict = XDP_REDIRECT;
	out->grows = COUNTER(snat);
	out->still = COUNTER(conns_created);
	out->repeat = repeat;
	walk(out, flows, 34, SPORT, 1, 30);

	memset(back, 0, sizeof(*back));
	back->name = "nat_reply";
	ul[13] = 2;
	ul[15] = i;
	frame_eth(back->cfg.frame, GWMAC, UPLINK_NH_MAC, 0x86dd);
	o = frame_ip6(back->cfg.frame, 14, NH_F, ul, 4);
	frame_udp(back->cfg.frame, frame_ip4(back->cfg.frame, o, htonl(REMOTE),
					     htonl(NAT_IP + i), IPPROTO_UDP),
		  DPORT, 1024);
	back->target = T_UPLINK;
	back->ifindex = back->stats_ifindex = if_nametoindex("ul0");
	back->verdict = XDP_REDIRECT;
	back->grows = COUNTER(dnat);
	back->still = COUNTER(conns_created);
	back->repeat = repeat;
	walk(back, flows, 76, 1024, 65536, 66);
}

/* Per-round figures of one table size, from every pass through it. */
struct samples {
	int n;
	double base[2 * 99], out[2 * 99], back[2 * 99];
	double out_x[2 * 99], back_x[2 * 99];
};

/* The medians of one size. */
struct result {
	double base, out, back;		/* ns */
	double out_x, back_x;		/* x baseline */
};

/* @rounds rounds over every interface holding some of the @n
 * connections; with @keep false, one round that is not recorded. */
static int measure(struct meter *m, uint32_t n, int rounds,
		   unsigned int repeat, struct samples *sm, bool keep)
{
	int r, i, used = (n + PER_IFACE - 1) / PER_IFACE;
	struct path po, pb, pm;

	for (r = 0; r < rounds; r++) {
		double so = 0, sb = 0, t, base;

		iface_paths(&pm, &pb, 0, 1, repeat);
		pm.name = "macswap_xdp_tx";
		pm.target = T_MACSWAP;
		pm.verdict = XDP_TX;
		if ((base = meter_run(m, &pm)) <= 0)
			return -1;
		for (i = 0; i < used; i++) {
			uint32_t flows = i < used - 1 ? PER_IFACE :
					 n - i * PER_IFACE;

			iface_paths(&po, &pb, i, flows, repeat);
			if ((t = meter_run(m, &po)) < 0)
				return -1;
			so += t;
			if ((t = meter_run(m, &pb)) < 0)
				return -1;
			sb += t;
		}
		if (!keep)
			continue;
		sm->base[sm->n] = base;
		sm->out[sm->n] = so / used;
		sm->back[sm->n] = sb / used;
		sm->out_x[sm->n] = so / used / base;
		sm->back_x[sm->n] = sb / used / base;
		sm->n++;
	}
	return 0;
}

static const char METHOD[] =
	"The cost wrapper of bench/cost (BPF_PROG_TEST_RUN, repeat N, kernel "
	"time per run) on established NAT traffic out (hadp_vm, SNAT hit) and "
	"back (hadp_uplink, reverse hit), with the connection table of one "
	"instance (sized 1,048,576) holding 1 thousand, 100 thousand and 1 "
	"million connections, spread over 16 interfaces and NAT IPs; each run "
	"walks one interface's connections in a scattered order, every round "
	"all interfaces in use, so at a million the table (about 240 MB) is "
	"far beyond the caches. Figures at each size are x the MAC-swap "
	"baseline of the same round; the growth figures are ns at a million "
	"over ns at a thousand. Sizes are measured going up (filled with "
	"bpf_map_update_batch) and down again (bpf_map_delete_batch), so that "
	"drift weighs on every size alike; medians of all rounds. Memory per connection is the kernel's "
	"memlock of conns plus conns_rev (/proc/self/fdinfo) over the table "
	"size: the tables are preallocated, so every slot costs it. The 10k_of_1m "
	"figures walk 10 thousand of the million connections, on one "
	"interface.";

int main(int argc, char **argv)
{
	struct meter_opts o = {
		.hadp = "build/hadp", .command = "bench/run scale",
		.rounds = 7, .repeat = 16384,
	};
	int s, p;
	static struct samples sm[NSIZE], few;
	struct result res[NSIZE + 1];
	char name[64], note[192];
	long long mem;
	struct meter m;
	struct json j;
	struct timespec t0, t1;
	uint32_t filled = 0;

	if (meter_opts_parse(&o, "scale", argc, argv))
		return 2;
	if (meter_env(&m, o.hadp, o.cpu))
		return 1;
	setup(&m);
	if (meter_open(&m))
		return 1;
	mem = fdinfo(m.conns_fd, "memlock") + fdinfo(m.conns_rev_fd, "memlock");
	/* Up and down again: drift over the run (other load on the machine)
	 * weighs on the small sizes as much as on the large one. */
	for (p = 0; p < NPASS; p++) {
		s = PASS[p];
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (resize(&m, filled, SIZE[s]))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("%u to %u connections in %.2f s\n", filled, SIZE[s],
		       t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9);
		filled = SIZE[s];
		/* The first round pages the entries in and is not kept. */
		if (measure(&m, filled, 1, o.repeat, &sm[s], false) ||
		    measure(&m, filled, o.rounds, o.repeat, &sm[s], true))
			return 1;
		/* A few of the million: what costs is the working set. */
		if (s == NSIZE - 1 && !few.n &&
		    measure(&m, FEW, o.rounds, o.repeat, &few, true))
			return 1;
	}
	for (s = 0; s <= NSIZE; s++) {
		struct samples *x = s < NSIZE ? &sm[s] : &few;

		res[s].base = median(x->base, x->n);
		res[s].out = median(x->out, x->n);
		res[s].back = median(x->back, x->n);
		res[s].out_x = median(x->out_x, x->n);
		res[s].back_x = median(x->back_x, x->n);
		printf("%8u connections walked of %7u: out %6.1f ns (%.2f x), "
		       "back %6.1f ns (%.2f x), baseline %.1f ns\n",
		       s < NSIZE ? SIZE[s] : FEW, SIZE[s < NSIZE ? s : NSIZE - 1],
		       res[s].out, res[s].out_x, res[s].back, res[s].back_x,
		       res[s].base);
	}

	if (json_open(&j, o.json, "scale", METHOD, o.command))
		return 1;
	for (s = 0; s < NSIZE; s++) {
		snprintf(note, sizeof(note), "%u connections: %.1f ns a packet "
			 "against %.1f", SIZE[s], res[s].out, res[s].base);
		snprintf(name, sizeof(name), "nat_established_%s", SIZE_NAME[s]);
		json_figure(&j, name, res[s].out_x, "x baseline",
			    "macswap_xdp_tx", res[s].base, NULL, note);
		snprintf(note, sizeof(note), "%u connections: %.1f ns a packet "
			 "against %.1f", SIZE[s], res[s].back, res[s].base);
		snprintf(name, sizeof(name), "nat_reply_%s", SIZE_NAME[s]);
		json_figure(&j, name, res[s].back_x, "x baseline",
			    "macswap_xdp_tx", res[s].base, NULL, note);
	}
	s = NSIZE - 1;
	json_figure(&j, "nat_established_1m_over_1k", res[s].out / res[0].out,
		    "x baseline", "nat_established_1k", res[0].out, "<= 1.5",
		    "ns a packet with 1 million connections over ns with 1 thousand");
	json_figure(&j, "nat_reply_1m_over_1k", res[s].back / res[0].back,
		    "x baseline", "nat_reply_1k", res[0].back, "<= 1.5",
		    "ns a packet with 1 million connections over ns with 1 thousand");
	snprintf(note, sizeof(note), "%u of the %u connections walked, on one "
		 "interface: %.1f ns a packet", FEW, SIZE[s], res[NSIZE].out);
	json_figure(&j, "nat_established_10k_of_1m", res[NSIZE].out_x,
		    "x baseline", "macswap_xdp_tx", res[NSIZE].base, NULL, note);
	snprintf(note, sizeof(note), "%u of the %u connections walked, on one "
		 "interface: %.1f ns a packet", FEW, SIZE[s], res[NSIZE].back);
	json_figure(&j, "nat_reply_10k_of_1m", res[NSIZE].back_x,
		    "x baseline", "macswap_xdp_tx", res[NSIZE].base, NULL, note);
	snprintf(note, sizeof(note), "memlock %lld bytes of conns and conns_rev "
		 "for %d slots, filled or not", mem, TABLE);
	json_figure(&j, "memory_per_connection", (double)mem / TABLE, "bytes",
		    NULL, 0, NULL, note);
	json_figure(&j, "connections", SIZE[s], "count", NULL, 0, NULL,
		    "the largest table measured");
	meter_close(&m);
	return json_close(&j) ? 1 : 0;
}
