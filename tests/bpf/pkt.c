// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include <arpa/inet.h>
#include "pkt.h"

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v;
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

static uint16_t get16(const uint8_t *b)
{
	return b[0] << 8 | b[1];
}

uint32_t csum_partial_ref(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *b = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

uint16_t csum_ref(const void *buf, size_t len, uint32_t sum)
{
	return ~csum_partial_ref(buf, len, sum) & 0xffff;
}

uint32_t csum_pseudo6_ref(const uint8_t saddr[16], const uint8_t daddr[16],
			  uint32_t len, uint8_t proto)
{
	uint32_t sum = csum_partial_ref(saddr, 16, 0);

	sum = csum_partial_ref(daddr, 16, sum);
	sum += (len >> 16) + (len & 0xffff) + proto;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

size_t pkt_eth(struct pkt *p, const uint8_t dst[6], const uint8_t src[6],
	       uint16_t proto)
{
	memcpy(p->d, dst, 6);
	memcpy(p->d + 6, src, 6);
	put16(p->d + 12, proto);
	p->len = 14;
	return 0;
}

size_t pkt_ip4(struct pkt *p, uint32_t saddr, uint32_t daddr, uint8_t proto,
	       uint8_t ttl, bool df, size_t payload)
{
	size_t off = p->len;
	uint8_t *h = p->d + off;

	memset(h, 0, 20);
	h[0] = 0x45;
	put16(h + 2, 20 + payload);
	put16(h + 4, 0x1234);
	put16(h + 6, df ? 0x4000 : 0);
	h[8] = ttl;
	h[9] = proto;
	memcpy(h + 12, &saddr, 4);
	memcpy(h + 16, &daddr, 4);
	put16(h + 10, csum_ref(h, 20, 0));
	p->len += 20;
	return off;
}

size_t pkt_ip6(struct pkt *p, const uint8_t saddr[16], const uint8_t daddr[16],
	       uint8_t nexthdr, uint8_t hlim, size_t payload)
{
	size_t off = p->len;
	uint8_t *h = p->d + off;

	put32(h, 0x60000000);
	put16(h + 4, payload);
	h[6] = nexthdr;
	h[7] = hlim;
	memcpy(h + 8, saddr, 16);
	memcpy(h + 24, daddr, 16);
	p->len += 40;
	return off;
}

/* Checksum of the transport segment at @l4 (@len bytes) inside the IP
 * packet at @ip; 0 for the IPv4 header itself is never asked here. */
static uint16_t l4_csum(const uint8_t *ip, const uint8_t *l4, size_t len,
			uint8_t proto)
{
	uint32_t sum;

	if ((ip[0] >> 4) == 6) {
		sum = csum_pseudo6_ref(ip + 8, ip + 24, len, proto);
	} else {
		if (proto == 1)	/* ICMPv4 has no pseudo header */
			return csum_ref(l4, len, 0);
		sum = csum_partial_ref(ip + 12, 8, 0) + proto + len;
	}
	return csum_ref(l4, len, sum);
}

size_t pkt_udp(struct pkt *p, size_t ip_off, uint16_t sport, uint16_t dport,
	       size_t payload)
{
	size_t off = p->len, i;
	uint8_t *u = p->d + off;
	uint16_t c;

	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, 8 + payload);
	put16(u + 6, 0);
	for (i = 0; i < payload; i++)
		u[8 + i] = (uint8_t)(i * 7 + 3);
	c = l4_csum(p->d + ip_off, u, 8 + payload, 17);
	put16(u + 6, c ? c : 0xffff);
	p->len += 8 + payload;
	return off;
}

size_t pkt_icmp_echo4(struct pkt *p, uint16_t id, size_t payload)
{
	size_t off = p->len, i;
	uint8_t *c = p->d + off;

	memset(c, 0, 8);
	c[0] = 8;
	put16(c + 4, id);
	put16(c + 6, 1);
	for (i = 0; i < payload; i++)
		c[8 + i] = (uint8_t)i;
	put16(c + 2, csum_ref(c, 8 + payload, 0));
	p->len += 8 + payload;
	return off;
}

void pkt_arp(struct pkt *p, uint16_t op, const uint8_t sha[6], uint32_t sip,
	     const uint8_t tha[6], uint32_t tip)
{
	uint8_t *a = p->d + p->len;

	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, &sip, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, &tip, 4);
	p->len += 28;
}

void pkt_ns(struct pkt *p, const uint8_t smac[6], const uint8_t saddr[16],
	    const uint8_t target[16], uint8_t hlim, bool slla)
{
	static const uint8_t bcast[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };
	uint8_t snm[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
	size_t len = slla ? 32 : 24, ip;
	uint8_t *n;

	memcpy(snm + 13, target + 13, 3);
	pkt_eth(p, bcast, smac, 0x86dd);
	ip = pkt_ip6(p, saddr, snm, 58, hlim, len);
	n = p->d + p->len;
	memset(n, 0, len);
	n[0] = 135;
	memcpy(n + 8, target, 16);
	if (slla) {
		n[24] = 1;
		n[25] = 1;
		memcpy(n + 26, smac, 6);
	}
	put16(n + 2, l4_csum(p->d + ip, n, len, 58));
	p->len += len;
}

void pkt_udp4(struct pkt *p, const uint8_t smac[6], const uint8_t dmac[6],
	      uint32_t saddr, uint32_t daddr, uint8_t ttl, bool df,
	      size_t payload)
{
	size_t ip;

	pkt_eth(p, dmac, smac, 0x0800);
	ip = pkt_ip4(p, saddr, daddr, 17, ttl, df, 8 + payload);
	pkt_udp(p, ip, 4000, 5000, payload);
}

void pkt_udp6(struct pkt *p, const uint8_t smac[6], const uint8_t dmac[6],
	      const uint8_t saddr[16], const uint8_t daddr[16], uint8_t hlim,
	      size_t payload)
{
	size_t ip;

	pkt_eth(p, dmac, smac, 0x86dd);
	ip = pkt_ip6(p, saddr, daddr, 17, hlim, 8 + payload);
	pkt_udp(p, ip, 4000, 5000, payload);
}

/* Verify the transport checksum of the IP packet at @ip (@len bytes). */
static bool l3_csum_ok(const uint8_t *ip, size_t len)
{
	size_t hl, tot;
	uint8_t proto;

	if (len < 20)
		return false;
	if ((ip[0] >> 4) == 4) {
		hl = (ip[0] & 15) * 4;
		tot = get16(ip + 2);
		if (tot > len || csum_ref(ip, hl, 0))
			return false;
		proto = ip[9];
		if (get16(ip + 6) & 0x3fff)	/* fragment: not checked */
			return true;
		if (proto != 1 && proto != 17 && proto != 6)
			return true;
		if (proto == 17 && get16(ip + hl + 6) == 0)
			return true;	/* UDP over IPv4: no checksum */
		return csum_partial_ref(ip + hl, tot - hl,
					proto == 1 ? 0 :
					csum_partial_ref(ip + 12, 8, 0) + proto +
					(uint32_t)(tot - hl)) == 0xffff;
	}
	if (len < 40)
		return false;
	tot = get16(ip + 4);
	if (40 + tot > len)
		return false;
	proto = ip[6];
	if (proto == 4 || proto == 41)
		return l3_csum_ok(ip + 40, tot);
	if (proto != 58 && proto != 17 && proto != 6)
		return true;
	return csum_partial_ref(ip + 40, tot,
				csum_pseudo6_ref(ip + 8, ip + 24, tot, proto)) ==
	       0xffff;
}

bool csum_ok(const uint8_t *frame, size_t len)
{
	uint16_t proto = get16(frame + 12);

	if (proto == 0x0806)
		return true;
	return l3_csum_ok(frame + 14, len - 14);
}

static uint32_t mix(uint32_t h, uint32_t w)
{
	h ^= w;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

static uint32_t finish(uint32_t h)
{
	h ^= h >> 16;
	h &= 0xfffff;
	return h ? h : 1;
}

uint32_t flow_label_ref4(uint32_t saddr, uint32_t daddr, uint8_t proto,
			 uint32_t ports)
{
	uint32_t h = 0x9e3779b9u ^ proto;

	h = mix(h, saddr);
	h = mix(h, daddr);
	return finish(mix(h, ports));
}

uint32_t flow_label_ref6(const uint8_t saddr[16], const uint8_t daddr[16],
			 uint8_t proto, uint32_t ports)
{
	uint32_t h = 0x9e3779b9u ^ proto, w;
	int i;

	for (i = 0; i < 4; i++) {
		memcpy(&w, saddr + 4 * i, 4);
		h = mix(h, w);
	}
	for (i = 0; i < 4; i++) {
		memcpy(&w, daddr + 4 * i, 4);
		h = mix(h, w);
	}
	return finish(mix(h, ports));
}
