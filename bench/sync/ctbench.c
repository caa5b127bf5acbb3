// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/sync/ctbench: the measuring side of the conntrackd baseline, run
 * by bench/sync/conntrackd.sh inside the VM. Each command prints "RESULT
 * key value" lines for bench/sync/run.
 *
 *   ctbench make FAR N      N kernel conntrack entries (below), in the
 *       network namespace this runs in
 *   ctbench live FAR N CTL TIMEOUT   N entries made, timed from the first
 *       until the daemon at CTL (B) holds N more in its external cache
 *   ctbench burst FAR N CTL PID TIMEOUT   the same made while the daemon
 *       PID (A) is stopped, timed from its SIGCONT
 *   ctbench resync CTL N TIMEOUT   asks the daemon at CTL (B) to resync
 *       (conntrackd -n), timed until its external cache holds N
 *   ctbench wait CTL CACHE N TIMEOUT   until the daemon's cache (internal
 *       or external) holds N objects; exit status 1 after TIMEOUT s
 *
 * Entries: N UDP entries 10.0.0.1:P -> FAR+i:443, P = 1024 + i % 64512,
 * each with an SNAT mapping to 203.0.113.1:P set up by the kernel's NAT
 * (CTA_NAT_SRC), timeout a day; made through ctnetlink as `conntrack -I`
 * makes them but 256 to a system call, the fastest way found to make real
 * entries, so that what is timed is conntrackd's sync, not the making
 * (bench/sync/README.md). The connections of hadp's bench (syncbench.c:
 * one VM address, a far end of its own for each, the NAT port 1024 + i %
 * 64512), but with the VM's source port equal to the NAT port: the
 * kernel's NAT finds an existing mapping for a source in a hash of source
 * address and port, so with one source port for all it walks every entry
 * made before (quadratic: 270 us an entry at 20,000). An error for any
 * entry fails the run.
 *
 * CTL is a daemon's UNIX socket. conntrackd's client (conntrackd -s) is a
 * new process each time, over a second under emulation on a busy host, so
 * the daemon is asked here, every 10 ms, with the requests its client
 * sends (conntrackd 1.4.7's codes: "-s cache" 29, "-n" 23).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#define VM_IP		"10.0.0.1"
#define NAT_IP		"203.0.113.1"
#define DPORT		443
#define TIMEOUT		86400
#define CT_STATS_CACHE	29
#define CT_RESYNC	23
#define POLL_NS		10000000
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
			fprintf(stderr, "ctbench: reading ctnetlink: %s\n", strerror(errno));
			return -1;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (e->error) {
				fprintf(stderr, "ctbench: creating entry %u: %s\n",
					nlh->nlmsg_seq - 1, strerror(-e->error));
				return -1;
			}
			if (nlh->nlmsg_seq == seq)
				return 0;
		}
	}
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void result(const char *key, double v)
{
	printf("RESULT %s %.6g\n", key, v);
	fflush(stdout);
}

/* @n entries, far ends from @far (dotted quad). */
static int make(const char *far, long n)
{
	static char buf[BATCH * 256];
	struct mnl_socket *nl;
	struct in_addr a;
	long i, j;
	int on = 1;

	if (!inet_aton(far, &a) || n <= 0) {
		fprintf(stderr, "ctbench: bad far end %s or count %ld\n", far, n);
		return -1;
	}
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "ctbench: ctnetlink socket: %s\n", strerror(errno));
		return -1;
	}
	/* Errors without the request echoed: a failing batch's answers
	 * then fit the receive buffer. */
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &on, sizeof(on));
	for (i = 0; i < n; i += BATCH) {
		size_t len = 0;
		long m = n - i < BATCH ? n - i : BATCH;

		for (j = 0; j < m; j++)
			len += entry(buf + len, ntohl(a.s_addr), i + j, i + j + 1,
				     j == m - 1)->nlmsg_len;
		if (mnl_socket_sendto(nl, buf, len) < 0) {
			fprintf(stderr, "ctbench: sending to ctnetlink: %s\n", strerror(errno));
			mnl_socket_close(nl);
			return -1;
		}
		if (answers(nl, i + m) < 0) {
			mnl_socket_close(nl);
			return -1;
		}
	}
	mnl_socket_close(nl);
	return 0;
}

/* One request to the daemon at @ctl; its answer (text, up to @size - 1
 * bytes) in @buf. */
static int ask(const char *ctl, int req, char *buf, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0;
	ssize_t r = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ctl);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, &req, sizeof(req), 0) != sizeof(req)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (len < size - 1 && (r = read(fd, buf + len, size - 1 - len)) > 0)
		len += r;
	buf[len] = 0;
	close(fd);
	return r < 0 ? -1 : 0;
}

/* Objects in the daemon's @cache ("internal" or "external"); -1 when it
 * does not answer (not up yet). */
static long cached(const char *ctl, const char *cache)
{
	char buf[8192], name[32], *p;

	snprintf(name, sizeof(name), "cache:%s", cache);
	if (ask(ctl, CT_STATS_CACHE, buf, sizeof(buf)) || !(p = strstr(buf, name)) ||
	    !(p = strstr(p, "active objects:")))
		return -1;
	return strtol(p + strlen("active objects:"), NULL, 10);
}

/* Polls until @cache holds @n: the time it was seen, or 0 after
 * @timeout seconds. */
static double until(const char *ctl, const char *cache, long n, double timeout)
{
	struct timespec gap = { 0, POLL_NS };
	double end = now() + timeout;

	while (cached(ctl, cache) < n) {
		if (now() > end)
			return 0;
		nanosleep(&gap, NULL);
	}
	return now();
}

static int late(const char *ctl, long n)
{
	fprintf(stderr, "ctbench: %s holds %ld of %ld entries\n", ctl,
		cached(ctl, "external"), n);
	return 1;
}

static int cmd_live(const char *far, long n, const char *ctl, double timeout)
{
	long base = cached(ctl, "external");
	double t0 = now(), made, done;

	if (base < 0 || make(far, n))
		return 1;
	made = now();
	done = until(ctl, "external", base + n, timeout);
	if (!done)
		return late(ctl, base + n);
	result("ct_live_n", n);
	result("ct_live_made_s", made - t0);
	result("ct_live_s", done - t0);
	return 0;
}

static int cmd_burst(const char *far, long n, const char *ctl, int pid, double timeout)
{
	long base = cached(ctl, "external");
	double t0, done;

	if (base < 0 || kill(pid, SIGSTOP))
		return 1;
	if (make(far, n)) {
		kill(pid, SIGCONT);
		return 1;
	}
	t0 = now();
	kill(pid, SIGCONT);
	done = until(ctl, "external", base + n, timeout);
	if (!done)
		return late(ctl, base + n);
	result("ct_burst_n", n);
	result("ct_burst_s", done - t0);
	return 0;
}

/* A timeout is a figure, not a failure: what B held then is reported. */
static int cmd_resync(const char *ctl, long n, double timeout)
{
	char buf[256];
	double t0 = now(), done;

	if (ask(ctl, CT_RESYNC, buf, sizeof(buf))) {
		fprintf(stderr, "ctbench: %s: resync request: %s\n", ctl, strerror(errno));
		return 1;
	}
	done = until(ctl, "external", n, timeout);
	result("ct_resync_complete", done != 0);
	result("ct_resync_s", done ? done - t0 : timeout);
	result("ct_resync_held", cached(ctl, "external"));
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "make") && argc == 4)
		return make(argv[2], atol(argv[3])) ? 1 : 0;
	if (!strcmp(cmd, "live") && argc == 6)
		return cmd_live(argv[2], atol(argv[3]), argv[4], atof(argv[5]));
	if (!strcmp(cmd, "burst") && argc == 7)
		return cmd_burst(argv[2], atol(argv[3]), argv[4], atoi(argv[5]),
				 atof(argv[6]));
	if (!strcmp(cmd, "resync") && argc == 5)
		return cmd_resync(argv[2], atol(argv[3]), atof(argv[4]));
	if (!strcmp(cmd, "wait") && argc == 6)
		return until(argv[2], argv[3], atol(argv[4]), atof(argv[5])) ? 0 : 1;
	fprintf(stderr, "usage: ctbench make|live|burst|resync|wait ... "
		"(bench/sync/ctbench.c)\n");
	return 2;
}
