/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Argument parsing and formatting. Every parser takes the argument's name
 * ("vni", "underlay") and, on a bad value, reports one line naming it:
 *   invalid vni "x": expected 1-16777215
 * then returns -EINVAL. Nothing else is printed and nothing is changed.
 */
#ifndef HADP_PARSE_H
#define HADP_PARSE_H

#include <stdbool.h>
#include <netinet/in.h>
#include <linux/types.h>

#define HADP_VNI_MAX		0xffffffu	/* 24 bits, 0 reserved */
#define HADP_MAC_STRLEN		18

struct hadp_addr {
	int family;			/* AF_INET or AF_INET6 */
	union {
		__be32 v4;
		__u8 v6[16];
	};
};

struct hadp_prefix {
	struct hadp_addr addr;
	__u8 len;
};

struct hadp_endpoint {
	struct hadp_addr addr;
	__u16 port;
};

int parse_u32(const char *what, const char *s, __u32 min, __u32 max,
	      __u32 *out);
int parse_vni(const char *what, const char *s, __u32 *vni);
int parse_ipv4(const char *what, const char *s, __be32 *out);
int parse_ipv6(const char *what, const char *s, __u8 out[16]);
/* A host address a VM or the underlay can own: no unspecified, loopback,
 * multicast, broadcast or link-local address, no IPv4-mapped IPv6. */
int parse_ipv4_host(const char *what, const char *s, __be32 *out);
int parse_ipv6_host(const char *what, const char *s, __u8 out[16]);
/* ADDR/LEN or a bare ADDR (a host prefix); host bits must be zero. */
int parse_prefix(const char *what, const char *s, struct hadp_prefix *p);
/* Six colon-separated hex octets, unicast and not all zero. */
int parse_mac(const char *what, const char *s, __u8 mac[6]);
/* A.B.C.D:PORT or [IPV6]:PORT, port 1-65535. */
int parse_endpoint(const char *what, const char *s, struct hadp_endpoint *e);
/* MIN-MAX, 1 <= MIN <= MAX <= 65535, digits only (no sign, no space). */
int parse_port_range(const char *what, const char *s, __u16 *min,
		     __u16 *max);
/* 1 to HADP_NAME_LEN - 1 characters of [A-Za-z0-9_-], not starting with
 * '_': no instance can be called "_root", and bpffs refuses dots. */
int parse_name(const char *what, const char *s);

bool hadp_name_valid(const char *s);

const char *fmt_ipv4(__be32 addr, char buf[INET_ADDRSTRLEN]);
const char *fmt_ipv6(const __u8 addr[16], char buf[INET6_ADDRSTRLEN]);
const char *fmt_mac(const __u8 mac[6], char buf[HADP_MAC_STRLEN]);

#endif /* HADP_PARSE_H */
