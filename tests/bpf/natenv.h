/* SPDX-License-Identifier: GPL-2.0-only */
/* The NAT tests' environment (natenv.c): addresses, packets, the table. */
#ifndef HADP_TEST_NATENV_H
#define HADP_TEST_NATENV_H

#include "harness.h"

extern const uint8_t NAT_UL[16], VIP_UL[16], PEER_UL[16], ROUTER6[16];
extern const uint8_t ROUTER_MAC[6];
extern uint32_t NAT_IP, VIP_IP, INET;

void neigh_add(const uint8_t addr[16], const uint8_t mac[6]);
void set_timeouts(const uint32_t to[HADP_TO_MAX]);
/* env_setup() and the NAT configuration of natenv.c's comment. */
void nat_setup(void);

void put16(uint8_t *b, uint16_t v);
uint16_t get16(const uint8_t *b);
/* IPv4 + UDP or TCP (20-byte header, flags) from @vm's point of view. */
void l4_packet(struct pkt *p, const uint8_t dmac[6], const uint8_t smac[6],
	       uint32_t saddr, uint32_t daddr, uint8_t proto, uint16_t sport,
	       uint16_t dport, uint8_t tcp_flags, size_t payload);
void icmp_echo(struct pkt *p, const uint8_t dmac[6], const uint8_t smac[6],
	       uint32_t saddr, uint32_t daddr, uint8_t type, uint16_t id);
/* The frame as the router would send it to @ul: IPv4-in-IPv6. */
void from_router(struct pkt *out, const struct pkt *inner, const uint8_t ul[16]);
/* The inner IPv4 frame of an encapsulated packet, as an Ethernet frame. */
void inner_of(struct pkt *inner, const struct pkt *outer);
int vm_send(int vm, const struct pkt *in, struct pkt *out);
int ul_recv(const struct pkt *in, struct pkt *out);

int count_entries(struct bpf_map *m);
/* Consume the ring buffer into ev[0..nev). */
#define MAX_EV 4096
extern struct hadp_event ev[MAX_EV];
extern int nev;
int drain_events(void);
int sweep(uint32_t mode, uint32_t ifindex, struct hadp_sweep *res);

#endif
