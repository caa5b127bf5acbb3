// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/sync/ctfill: kernel conntrack entries for the conntrackd baseline
 * (bench/sync/conntrackd.sh), made through ctnetlink in the network
 * namespace this runs in, as `conntrack -I` makes them but hundreds to a
 * system call: the fastest way found to make real entries, so that what
 * is timed is conntrackd's sync, not the making (bench/sync/README.md).
 *
 *   ctfill FAR N    N UDP entries 10.0.0.1:P -> FAR+i:443, P = 1024 +
 *                   i % 64512, each with an SNAT mapping to 203.0.113.1:P
 *                   set up by the kernel's NAT (CTA_NAT_SRC), timeout a day
 *
 * The connections of hadp's bench (syncbench.c: one VM address, a far end
 * of its own for each, the NAT port 1024 + i % 64512), but with the VM's
 * source port equal to the NAT port: the kernel's NAT finds an existing
 * mapping for a source in a hash of source address and port, so with one
 * source port for all it walks every entry made before (quadratic: 270 us
 * an entry at 20,000). Every entry is checked: an error for any of them
 * fails the run. Prints "made N in S s" on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#define VM_IP		"10.0.0.1"
#define NAT_IP		"203.0.113.1"
#define DPORT		443
#define TIMEOUT		86400
/* Messages per sendmsg(): about 160 bytes each, well within the socket's
 * default send buffer. */
#define BATCH		256

static void tuple(struct nlmsghdr *nlh, int type, uint32_t src, uint32_t dst,
		  uint16_t sport, uint16_t dport)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, type), *n;

	n = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, src);
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, dst);
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, sport);
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, dport);
	mnl_attr_nest_end(nlh, n);
	mnl_attr_nest_end(nlh, t);
}

/* One IPCTNL_MSG_CT_NEW for entry @i at @buf; the reply tuple is the
 * original's inverse, which the kernel's NAT then rewrites. */
static struct nlmsghdr *entry(char *buf, uint32_t far, long i, uint32_t seq, int ack)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	struct nlattr *nat, *p;
	uint32_t vm = inet_addr(VM_IP), nat_ip = inet_addr(NAT_IP);
	uint32_t dst = htonl(far + i);
	uint16_t port = htons(1024 + i % 64512);

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | (ack ? NLM_F_ACK : 0);
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_INET;
	g->version = NFNETLINK_V0;
	tuple(nlh, CTA_TUPLE_ORIG, vm, dst, port, htons(DPORT));
	tuple(nlh, CTA_TUPLE_REPLY, dst, vm, htons(DPORT), port);
	mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(TIMEOUT));
	nat = mnl_attr_nest_start(nlh, CTA_NAT_SRC);
	mnl_attr_put_u32(nlh, CTA_NAT_V4_MINIP, nat_ip);
	mnl_attr_put_u32(nlh, CTA_NAT_V4_MAXIP, nat_ip);
	p = mnl_attr_nest_start(nlh, CTA_NAT_PROTO);
	mnl_attr_put_u16(nlh, CTA_PROTONAT_PORT_MIN, port);
	mnl_attr_put_u16(nlh, CTA_PROTONAT_PORT_MAX, port);
	mnl_attr_nest_end(nlh, p);
	mnl_attr_nest_end(nlh, nat);
	return nlh;
}

/* The kernel's answers to one batch: an error for any entry fails, the
 * ack of the last (@seq) ends it. */
static int answers(struct mnl_socket *nl, uint32_t seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	for (;;) {
		int len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

		if (len < 0) {
			fprintf(stderr, "ctfill: reading ctnetlink: %s\n", strerror(errno));
			return -1;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (e->error) {
				fprintf(stderr, "ctfill: creating entry %u: %s\n",
					nlh->nlmsg_seq - 1, strerror(-e->error));
				return -1;
			}
			if (nlh->nlmsg_seq == seq)
				return 0;
		}
	}
}

int main(int argc, char **argv)
{
	static char buf[BATCH * 256];
	struct mnl_socket *nl;
	struct in_addr far;
	struct timespec t0, t1;
	long n, i, j;
	int on = 1;

	if (argc != 3 || !inet_aton(argv[1], &far) || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: ctfill FAR N\n");
		return 2;
	}
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "ctfill: ctnetlink socket: %s\n", strerror(errno));
		return 1;
	}
	/* Errors without the request echoed: a failing batch's answers
	 * then fit the receive buffer. */
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &on, sizeof(on));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i += BATCH) {
		size_t len = 0;
		long m = n - i < BATCH ? n - i : BATCH;

		for (j = 0; j < m; j++)
			len += entry(buf + len, ntohl(far.s_addr), i + j, i + j + 1,
				     j == m - 1)->nlmsg_len;
		if (mnl_socket_sendto(nl, buf, len) < 0) {
			fprintf(stderr, "ctfill: sending to ctnetlink: %s\n", strerror(errno));
			return 1;
		}
		if (answers(nl, i + m) < 0)
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "ctfill: made %ld in %.3f s\n", n,
		(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	mnl_socket_close(nl);
	return 0;
}
