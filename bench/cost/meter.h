/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The measuring side of the cost wrapper (cost.bpf.c), shared by
 * bench/cost and bench/scale: a private network and mount namespace with
 * its own bpffs, an instance loaded and configured with the real `hadp`
 * CLI, and test runs of the wrapper tail-calling that instance's pinned
 * programs, each checked to have taken the path it claims to measure.
 */
#ifndef HADP_BENCH_METER_H
#define HADP_BENCH_METER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/bpf.h>
#include "hadp/maps.h"
#include "wrap.h"

/* What the wrapper tail-calls: the baseline, the instance's programs, or
 * the per-host root in front of them (which tail-calls the active
 * instance's program in turn). */
enum meter_target { T_MACSWAP, T_VM, T_UPLINK, T_ROOT_VM, T_MAX };

#define NO_COUNTER ((size_t)-1)
#define COUNTER(field) offsetof(struct hadp_stats, field)

/* One path: a frame, how to vary it, and how to tell that every run of
 * the datapath took this path and no other. */
struct path {
	const char *name;
	enum meter_target target;
	int ifindex;		/* where the frame comes in */
	struct bench_cfg cfg;
	int verdict;		/* of every run */
	int stats_ifindex;	/* whose counters say so */
	size_t grows;		/* counter that grows by one every run */
	size_t still;		/* counter that must not move, or NO_COUNTER */
	unsigned int repeat;
};

struct meter {
	struct cost_bpf *skel;
	int prog[T_MAX];
	int stats_fd;
	int conns_fd;
	int conns_rev_fd;
	struct ring_buffer *events;
	int ncpu;
	char bpffs[64];
	const char *hadp;	/* the CLI binary */
};

/* The command line bench/cost and bench/scale share: --hadp CLI --json
 * FILE [--command STR] [--rounds 1-99] [--repeat N>=100] [--cpu N]. The
 * caller sets the defaults; 0, or 2 after printing the usage of @tool. */
struct meter_opts {
	const char *hadp, *json, *command;
	int rounds, cpu;
	unsigned int repeat;
};
int meter_opts_parse(struct meter_opts *o, const char *tool, int argc,
		     char **argv);

/* Private netns and mount namespace, a bpffs of our own, this thread on
 * CPU @cpu. Everything goes with the process. */
int meter_env(struct meter *m, const char *hadp, int cpu);
/* Run a shell command (printf format); failure is fatal. */
void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run the CLI on our bpffs: hadp(m, "iface add ..."). */
void hadp(struct meter *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A veth pair DEV / DEV-p, both up, DEV-p without IPv6. */
void veth(const char *dev);
/* ul0, the uplink: fd00:1::a/64 with its router fd00:1::1 (UPLINK_NH_MAC)
 * in the neighbour table, so that every next hop resolves; then the
 * instance is loaded with @load_args and ul0 made its uplink. */
void meter_instance(struct meter *m, const char *load_args);
extern const uint8_t UPLINK_NH_MAC[6];

/* Open the wrapper and the pins of instance "default" (after dp load). */
int meter_open(struct meter *m);
void meter_close(struct meter *m);

/* One test run of @p->repeat packets; ns per packet, or a negative value
 * when a check failed (printed). */
double meter_run(struct meter *m, const struct path *p);

/* Insert @n connections (VM-side keys and records) in both tables, the
 * public-side keys derived as the datapath does. */
int conns_insert(struct meter *m, const struct hadp_conn_key *k,
		 const struct hadp_conn *c, uint32_t n);
/* Delete them again (@c gives the public-side keys). */
int conns_delete(struct meter *m, const struct hadp_conn_key *k,
		 const struct hadp_conn *c, uint32_t n);
/* A numeric field of /proc/self/fdinfo/@fd ("memlock", "max_entries"). */
long long fdinfo(int fd, const char *field);

/* Frame builders: every frame is BENCH_FRAME bytes, its IP length filling
 * it exactly (no padding, so the datapath never trims the tail). Each
 * returns the offset of the layer it wrote. Addresses in network order. */
size_t frame_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6],
		 uint16_t proto);
size_t frame_ip4(uint8_t *f, size_t off, uint32_t src, uint32_t dst,
		 uint8_t proto);
size_t frame_ip6(uint8_t *f, size_t off, const uint8_t src[16],
		 const uint8_t dst[16], uint8_t nexthdr);
size_t frame_udp(uint8_t *f, size_t off, uint16_t sport, uint16_t dport);

double median(double *v, int n);

/* The result file (schema: bench/README.md). */
struct json {
	FILE *f;
	int figures;
	const char *command;
};
int json_open(struct json *j, const char *path, const char *bench,
	      const char *method, const char *command);
/* @base_name may be NULL (no baseline); @target like "<= 8" or NULL. */
void json_figure(struct json *j, const char *name, double value,
		 const char *unit, const char *base_name, double base_ns,
		 const char *target, const char *note);
int json_close(struct json *j);

#endif
