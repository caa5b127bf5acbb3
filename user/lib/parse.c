// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hadp/maps.h"
#include "parse.h"
#include "util.h"

int parse_u32(const char *what, const char *s, __u32 min, __u32 max,
	      __u32 *out)
{
	unsigned long long v;
	char *end;

	/* strtoull would take " 1", "+1" and "-1" (as a huge number). */
	if (!isdigit((unsigned char)*s))
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	hadp_err("invalid %s \"%s\": expected %u-%u", what, s, min, max);
	return -EINVAL;
}

int parse_vni(const char *what, const char *s, __u32 *vni)
{
	return parse_u32(what, s, 1, HADP_VNI_MAX, vni);
}

int parse_ipv4(const char *what, const char *s, __be32 *out)
{
	if (inet_pton(AF_INET, s, out) == 1)
		return 0;
	hadp_err("invalid %s \"%s\": expected an IPv4 address", what, s);
	return -EINVAL;
}

int parse_ipv6(const char *what, const char *s, __u8 out[16])
{
	if (inet_pton(AF_INET6, s, out) == 1)
		return 0;
	hadp_err("invalid %s \"%s\": expected an IPv6 address", what, s);
	return -EINVAL;
}

int parse_ipv4_host(const char *what, const char *s, __be32 *out)
{
	__u32 a;

	if (inet_pton(AF_INET, s, out) != 1)
		goto bad;
	a = ntohl(*out);
	if (a == 0 || a == 0xffffffff || (a >> 24) == 127 ||
	    (a >> 28) == 0xe || (a >> 16) == 0xa9fe)
		goto bad;
	return 0;
bad:
	hadp_err("invalid %s \"%s\": expected a unicast IPv4 host address",
		 what, s);
	return -EINVAL;
}

int parse_ipv6_host(const char *what, const char *s, __u8 out[16])
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, s, &a) != 1)
		goto bad;
	if (IN6_IS_ADDR_UNSPECIFIED(&a) || IN6_IS_ADDR_LOOPBACK(&a) ||
	    IN6_IS_ADDR_MULTICAST(&a) || IN6_IS_ADDR_LINKLOCAL(&a) ||
	    IN6_IS_ADDR_V4MAPPED(&a))
		goto bad;
	memcpy(out, &a, 16);
	return 0;
bad:
	hadp_err("invalid %s \"%s\": expected a unicast IPv6 host address",
		 what, s);
	return -EINVAL;
}

/* True when no bit past the first len bits of addr (bytes long) is set. */
static bool host_bits_zero(const __u8 *addr, unsigned int bytes,
			   unsigned int len)
{
	unsigned int i;

	for (i = len / 8; i < bytes; i++) {
		__u8 mask = i == len / 8 ? 0xff >> (len % 8) : 0xff;

		if (addr[i] & mask)
			return false;
	}
	return true;
}

int parse_prefix(const char *what, const char *s, struct hadp_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 5];
	const char *slash = strchr(s, '/');
	unsigned int max, bytes;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	__u32 len;

	if (n >= INET6_ADDRSTRLEN)
		goto bad;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, &p->addr.v4) == 1) {
		p->addr.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr.v6) == 1) {
		p->addr.family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	len = max;
	if (slash) {
		char *end;

		if (!isdigit((unsigned char)slash[1]))
			goto bad_len;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || len > max)
			goto bad_len;
	}
	p->len = len;
	bytes = max / 8;
	if (!host_bits_zero(p->addr.family == AF_INET ?
			    (const __u8 *)&p->addr.v4 : p->addr.v6,
			    bytes, len)) {
		hadp_err("invalid %s \"%s\": host bits set", what, s);
		return -EINVAL;
	}
	return 0;
bad_len:
	hadp_err("invalid %s \"%s\": expected a prefix length 0-%u", what, s,
		 max);
	return -EINVAL;
bad:
	hadp_err("invalid %s \"%s\": expected ADDR[/LEN]", what, s);
	return -EINVAL;
}

static bool mac_is_zero(const __u8 mac[6])
{
	return !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

int parse_mac(const char *what, const char *s, __u8 mac[6])
{
	int i;

	for (i = 0; i < 6; i++) {
		const char *o = s + i * 3;
		char hex[3] = { 0 };

		if (!isxdigit((unsigned char)o[0]) ||
		    !isxdigit((unsigned char)o[1]) ||
		    o[2] != (i == 5 ? '\0' : ':'))
			goto bad;
		hex[0] = o[0];
		hex[1] = o[1];
		mac[i] = strtoul(hex, NULL, 16);
	}
	if ((mac[0] & 1) || mac_is_zero(mac))
		goto bad;
	return 0;
bad:
	hadp_err("invalid %s \"%s\": expected a unicast MAC address "
		 "xx:xx:xx:xx:xx:xx", what, s);
	return -EINVAL;
}

int parse_endpoint(const char *what, const char *s, struct hadp_endpoint *e)
{
	char buf[INET6_ADDRSTRLEN];
	const char *port;
	unsigned long v;
	size_t n;
	char *end;

	memset(e, 0, sizeof(*e));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			goto bad;
		n = close - s - 1;
		port = close + 2;
		e->addr.family = AF_INET6;
		if (n >= sizeof(buf))
			goto bad;
		memcpy(buf, s + 1, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET6, buf, e->addr.v6) != 1)
			goto bad;
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon)
			goto bad;
		n = colon - s;
		port = colon + 1;
		e->addr.family = AF_INET;
		if (n >= sizeof(buf))
			goto bad;
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET, buf, &e->addr.v4) != 1)
			goto bad;
	}
	if (!isdigit((unsigned char)*port))
		goto bad;
	errno = 0;
	v = strtoul(port, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		goto bad;
	e->port = v;
	return 0;
bad:
	hadp_err("invalid %s \"%s\": expected A.B.C.D:PORT or [ADDR]:PORT "
		 "with PORT 1-65535", what, s);
	return -EINVAL;
}

/* A port 1-65535, digits only, ending at end. */
static bool port_parse(const char *s, const char *end, __u16 *port)
{
	unsigned long v = 0;

	if (s == end)
		return false;
	for (; s < end; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		v = v * 10 + (*s - '0');
		if (v > 65535)
			return false;
	}
	if (v < 1 || v > 65535)
		return false;
	*port = v;
	return true;
}

int parse_port_range(const char *what, const char *s, __u16 *min, __u16 *max)
{
	const char *dash = strchr(s, '-');
	__u16 lo, hi;

	if (!dash || !port_parse(s, dash, &lo) ||
	    !port_parse(dash + 1, dash + 1 + strlen(dash + 1), &hi) || lo > hi) {
		hadp_err("invalid %s \"%s\": expected MIN-MAX with "
			 "1 <= MIN <= MAX <= 65535", what, s);
		return -EINVAL;
	}
	*min = lo;
	*max = hi;
	return 0;
}

bool hadp_name_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= HADP_NAME_LEN || s[0] == '_')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_-", s[i]))
			return false;
	return true;
}

int parse_name(const char *what, const char *s)
{
	if (hadp_name_valid(s))
		return 0;
	hadp_err("invalid %s \"%s\": expected 1-%d characters of "
		 "[A-Za-z0-9_-], not starting with '_'", what, s,
		 HADP_NAME_LEN - 1);
	return -EINVAL;
}

const char *fmt_ipv4(__be32 addr, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

const char *fmt_ipv6(const __u8 addr[16], char buf[INET6_ADDRSTRLEN])
{
	return inet_ntop(AF_INET6, addr, buf, INET6_ADDRSTRLEN);
}

const char *fmt_mac(const __u8 mac[6], char buf[HADP_MAC_STRLEN])
{
	snprintf(buf, HADP_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
