// SPDX-License-Identifier: GPL-2.0-only
/*
 * evdump: read an instance's "events" ring buffer and print every record
 * as one JSON line, for the netns suites (tests/netns/natevents.sh). Not
 * built by the Makefile: the suite compiles it into its scratch directory.
 *
 *   evdump PIN          follow: print records as they come; on SIGINT or
 *                       SIGTERM drain what is left, print {"type":"eof"}
 *                       and exit 0
 *   evdump -d PIN       drain: print what is in the ring now and exit
 *
 * PIN is <bpffs>/hadp/<instance>/events. The first line is
 * {"type":"ready"} once the ring is mapped: nothing produced after it can
 * be missed. The consumer position lives in the map itself, so a second
 * run continues exactly where the last one stopped.
 *
 * Lines (fields are those of struct hadp_event, include/hadp/maps.h;
 * addresses dotted, ports host order):
 *   {"type":"new"|"update"|"delete","ifindex":N,"version":N,
 *    "key":{"vni":N,"src":"A","dst":"A","sport":N,"dport":N,"proto":N},
 *    "rkey":{...},"val":{"last_seen":N,"version":N,"ifindex":N,
 *    "nat_ip":"A","nat_port":N,"state":N,"flags":N}}
 *   {"type":"mac_learned","ifindex":N,"mac":"xx:..."}
 *   {"type":"table_full","ifindex":N}
 *   {"type":"unknown","raw":N,"size":N}   anything else, or a short record
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hadp/maps.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void print_key(const char *name, const struct hadp_conn_key *k)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &k->src, src, sizeof(src));
	inet_ntop(AF_INET, &k->dst, dst, sizeof(dst));
	printf("\"%s\":{\"vni\":%u,\"src\":\"%s\",\"dst\":\"%s\",\"sport\":%u,"
	       "\"dport\":%u,\"proto\":%u}",
	       name, k->vni, src, dst, ntohs(k->sport), ntohs(k->dport), k->proto);
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct hadp_event *ev = data;
	const size_t conn_size = offsetof(struct hadp_event, conn) + sizeof(ev->conn);
	const char *type = NULL;
	char ip[INET_ADDRSTRLEN];

	(void)ctx;
	if (size < offsetof(struct hadp_event, conn)) {
		printf("{\"type\":\"unknown\",\"raw\":-1,\"size\":%zu}\n", size);
		return 0;
	}
	switch (ev->type) {
	case HADP_EV_CONN_NEW:
		type = "new";
		break;
	case HADP_EV_CONN_UPDATE:
		type = "update";
		break;
	case HADP_EV_CONN_DELETE:
		type = "delete";
		break;
	case HADP_EV_MAC_LEARNED:
		printf("{\"type\":\"mac_learned\",\"ifindex\":%u,"
		       "\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\"}\n", ev->ifindex,
		       ev->mac[0], ev->mac[1], ev->mac[2], ev->mac[3], ev->mac[4], ev->mac[5]);
		return 0;
	case HADP_EV_CONN_TABLE_FULL:
		printf("{\"type\":\"table_full\",\"ifindex\":%u}\n", ev->ifindex);
		return 0;
	}
	if (!type || size < conn_size) {
		printf("{\"type\":\"unknown\",\"raw\":%u,\"size\":%zu}\n", ev->type, size);
		return 0;
	}
	printf("{\"type\":\"%s\",\"ifindex\":%u,\"version\":%llu,", type, ev->ifindex,
	       (unsigned long long)ev->version);
	print_key("key", &ev->conn.key);
	putchar(',');
	print_key("rkey", &ev->conn.rkey);
	inet_ntop(AF_INET, &ev->conn.val.nat_ip, ip, sizeof(ip));
	printf(",\"val\":{\"last_seen\":%llu,\"version\":%u,\"ifindex\":%u,"
	       "\"nat_ip\":\"%s\",\"nat_port\":%u,\"state\":%u,\"flags\":%u}}\n",
	       (unsigned long long)ev->conn.val.last_seen, ev->conn.val.version,
	       ev->conn.val.ifindex, ip, ntohs(ev->conn.val.nat_port),
	       ev->conn.val.state, ev->conn.val.flags);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct ring_buffer *rb;
	int drain = 0, fd, err;
	const char *pin;

	if (argc == 3 && !strcmp(argv[1], "-d")) {
		drain = 1;
		pin = argv[2];
	} else if (argc == 2) {
		pin = argv[1];
	} else {
		fprintf(stderr, "usage: evdump [-d] <bpffs>/hadp/<instance>/events\n");
		return 2;
	}
	fd = bpf_obj_get(pin);
	if (fd < 0) {
		fprintf(stderr, "evdump: %s: %s\n", pin, strerror(errno));
		return 1;
	}
	rb = ring_buffer__new(fd, on_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "evdump: ring_buffer__new: %s\n", strerror(errno));
		return 1;
	}
	/* No SA_RESTART: a signal ends epoll_wait at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("{\"type\":\"ready\"}\n");
	fflush(stdout);

	while (!drain && !stop) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "evdump: ring_buffer__poll: %s\n", strerror(-err));
			return 1;
		}
		/* Records submitted with BPF_RB_NO_WAKEUP wake nobody. */
		ring_buffer__consume(rb);
		fflush(stdout);
	}
	err = ring_buffer__consume(rb);
	if (err < 0) {
		fprintf(stderr, "evdump: ring_buffer__consume: %s\n", strerror(-err));
		return 1;
	}
	if (!drain)
		printf("{\"type\":\"eof\"}\n");
	fflush(stdout);
	ring_buffer__free(rb);
	return 0;
}
