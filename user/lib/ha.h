/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Client of hadp.ko's generic netlink family "hadp" (libmnl): sync
 * groups, agent registration, sending batches, receiving the peer's
 * packets and monitoring. Used by `hadp ha`, `hadp monitor`, hadpd and
 * the module's tests.
 *
 * Errors follow util.h: each failing call reports one line through
 * hadp_err() (the kernel's extended-ack text when it gave one) and
 * returns -errno; the text is also kept in h->extack.
 */
#ifndef HADP_HA_H
#define HADP_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "uapi/linux/hadp.h"
#include "parse.h"

struct mnl_socket;
struct hadp_ha_pkt;

typedef int (*hadp_ha_pkt_cb)(const struct hadp_ha_pkt *p, void *data);

struct hadp_ha {
	struct mnl_socket *nl;
	__u16 family;
	__u32 mcgrp_monitor;	/* the "monitor" group's id */
	__u32 portid;
	__u32 seq;
	/* Called for RECV and MONITOR notifications that arrive while a
	 * request waits for its answer (a registered agent's socket). */
	hadp_ha_pkt_cb notify;
	void *notify_data;
	char extack[256];
};

struct hadp_ha_group {
	char name[HADP_GROUP_NAME_LEN];
	struct hadp_endpoint local, peer;
	__u32 max_coalesce, peer_max_coalesce, mtu, role, agent_portid;
	__u32 tx_epoch, rx_epoch;
	__u64 tx_seq, rx_seq;
	__u64 stats[__HADP_STAT_MAX];
};

/* What add and set send: NULL pointers and zero numbers are left out. */
struct hadp_ha_cfg {
	const char *name;
	const struct hadp_endpoint *local, *peer;
	const __u8 *key;		/* HADP_KEY_LEN bytes */
	__u32 max_coalesce, peer_max_coalesce, mtu;
	int role;			/* -1: leave out */
};

/* A RECV or MONITOR notification; msgs points into the receive buffer. */
struct hadp_ha_pkt {
	__u8 cmd;			/* HADP_CMD_RECV or HADP_CMD_MONITOR */
	char group[HADP_GROUP_NAME_LEN];
	__u32 flags, opaque, count, epoch, dir;
	__u64 seq, tstamp;
	const void *msgs;
	size_t len;
};

/* Resolve the family (loading the module if the kernel may) on a new
 * socket. -ENOENT reported as "hadp.ko is not loaded". */
int hadp_ha_open(struct hadp_ha *h);
void hadp_ha_close(struct hadp_ha *h);

int hadp_ha_group_new(struct hadp_ha *h, const struct hadp_ha_cfg *c);
int hadp_ha_group_set(struct hadp_ha *h, const struct hadp_ha_cfg *c);
int hadp_ha_group_del(struct hadp_ha *h, const char *name);
/* One group (name) or all (NULL), cb per group; cb's non-zero return
 * ends the calls (the answer is still read whole) and is returned. */
int hadp_ha_group_list(struct hadp_ha *h, const char *name,
		       int (*cb)(const struct hadp_ha_group *g, void *data),
		       void *data);
/* This socket becomes the group's agent; role -1 leaves it. */
int hadp_ha_register(struct hadp_ha *h, const char *name, int role);
/* Send a bare message stream; seqs (max entries) gets the sequence
 * numbers of the packets used, *n how many. */
int hadp_ha_send(struct hadp_ha *h, const char *name, __u32 flags,
		 __u32 opaque, const void *msgs, size_t len, __u64 *seqs,
		 size_t max, size_t *n);
int hadp_ha_monitor_join(struct hadp_ha *h);
/* Wait up to timeout_ms (-1: forever) for notifications and run cb on
 * each. 0 on timeout, 1 when something was read, or -errno. */
int hadp_ha_recv(struct hadp_ha *h, hadp_ha_pkt_cb cb, void *data,
		 int timeout_ms);

/* Names of enum hadp_stat ("tx_packets", "bad_mac", ...) and roles. */
const char *hadp_ha_stat_name(unsigned int stat);
const char *hadp_ha_role_name(__u32 role);
/* "reply-req,trunc-ok"; "-" when none. */
const char *hadp_ha_flags_str(__u32 flags, char *buf, size_t size);
/* An endpoint as A.B.C.D:PORT or [ADDR]:PORT. */
const char *hadp_ha_endpoint_str(const struct hadp_endpoint *e, char *buf,
				 size_t size);

#endif /* HADP_HA_H */
