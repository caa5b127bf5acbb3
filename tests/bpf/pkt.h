/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packet builders and checksums for the fast-path tests. Deliberately
 * written apart from the datapath (plain byte loops, no shared helpers) so
 * that an expected packet is never computed by the code under test.
 */
#ifndef HADP_TEST_PKT_H
#define HADP_TEST_PKT_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define PKT_MAX 2048

struct pkt {
	uint8_t d[PKT_MAX];
	size_t len;
};

/* Layer by layer; each returns the offset of the layer it wrote. */
size_t pkt_eth(struct pkt *p, const uint8_t dst[6], const uint8_t src[6],
	       uint16_t proto);
/* IPv4 header + @payload bytes of payload written by the caller later;
 * the checksum is computed here. */
size_t pkt_ip4(struct pkt *p, uint32_t saddr, uint32_t daddr, uint8_t proto,
	       uint8_t ttl, bool df, size_t payload);
size_t pkt_ip6(struct pkt *p, const uint8_t saddr[16], const uint8_t daddr[16],
	       uint8_t nexthdr, uint8_t hlim, size_t payload);
/* UDP with a patterned payload; checksum over the right pseudo header. */
size_t pkt_udp(struct pkt *p, size_t ip_off, uint16_t sport, uint16_t dport,
	       size_t payload);
size_t pkt_icmp_echo4(struct pkt *p, uint16_t id, size_t payload);
void pkt_arp(struct pkt *p, uint16_t op, const uint8_t sha[6], uint32_t sip,
	     const uint8_t tha[6], uint32_t tip);
/* Neighbour solicitation (with source link-layer option when @slla). */
void pkt_ns(struct pkt *p, const uint8_t smac[6], const uint8_t saddr[16],
	    const uint8_t target[16], uint8_t hlim, bool slla);

/* Whole packets used by most tests: Ethernet + IP + UDP. */
void pkt_udp4(struct pkt *p, const uint8_t smac[6], const uint8_t dmac[6],
	      uint32_t saddr, uint32_t daddr, uint8_t ttl, bool df,
	      size_t payload);
void pkt_udp6(struct pkt *p, const uint8_t smac[6], const uint8_t dmac[6],
	      const uint8_t saddr[16], const uint8_t daddr[16], uint8_t hlim,
	      size_t payload);

/* RFC 1071 one's complement sum over @len bytes, folded, not inverted. */
uint32_t csum_partial_ref(const void *buf, size_t len, uint32_t sum);
uint16_t csum_ref(const void *buf, size_t len, uint32_t sum);
uint32_t csum_pseudo6_ref(const uint8_t saddr[16], const uint8_t daddr[16],
			  uint32_t len, uint8_t proto);
/* True when every checksum in the IPv4/IPv6 + UDP/ICMP/ICMPv6 packet
 * starting at @l3 verifies. */
bool csum_ok(const uint8_t *frame, size_t len);

/* The documented flow-label hash (docs/datapath.md), written again. */
uint32_t flow_label_ref4(uint32_t saddr, uint32_t daddr, uint8_t proto,
			 uint32_t ports);
uint32_t flow_label_ref6(const uint8_t saddr[16], const uint8_t daddr[16],
			 uint8_t proto, uint32_t ports);

#endif
