// SPDX-License-Identifier: GPL-2.0-only
/*
 * A group's kernel UDP socket: bound to the group's local address and
 * port in the group's netns, set up as an encapsulation socket so that
 * every datagram goes straight to hadp_rx_encap() (checksum verified,
 * softirq, under RCU). Sending goes through the socket too, so that the
 * kernel picks the route and the source.
 */
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/udp_tunnel.h>
#include <net/netlink.h>

#include "hadp.h"

bool hadp_sockaddr_equal(const union hadp_sockaddr *a,
			 const union hadp_sockaddr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->v4.sin_port == b->v4.sin_port &&
		       a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return a->v6.sin6_port == b->v6.sin6_port &&
		       ipv6_addr_equal(&a->v6.sin6_addr, &b->v6.sin6_addr);
	return false;
}

int hadp_sock_open(struct hadp_group *g, struct netlink_ext_ack *extack)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.sk_user_data	= g,
		.encap_type	= 1,
		.encap_rcv	= hadp_rx_encap,
	};
	struct udp_port_cfg cfg = {};
	struct socket *sock;
	int err;

	if (g->local.sa.sa_family == AF_INET) {
		cfg.family = AF_INET;
		cfg.local_ip = g->local.v4.sin_addr;
		cfg.local_udp_port = g->local.v4.sin_port;
	} else {
#if IS_ENABLED(CONFIG_IPV6)
		cfg.family = AF_INET6;
		cfg.local_ip6 = g->local.v6.sin6_addr;
		cfg.local_udp_port = g->local.v6.sin6_port;
		cfg.ipv6_v6only = 1;
#else
		NL_SET_ERR_MSG(extack, "IPv6 is not built into this kernel");
		return -EAFNOSUPPORT;
#endif
	}
	err = udp_sock_create(g->net, &cfg, &sock);
	if (err) {
		if (err == -EADDRINUSE)
			NL_SET_ERR_MSG(extack, "local address and port are in use");
		else if (err == -EADDRNOTAVAIL)
			NL_SET_ERR_MSG(extack,
				       "local address is not an address of this network namespace");
		else
			NL_SET_ERR_MSG(extack, "cannot create the UDP socket");
		return err;
	}
	atomic_inc(&hadp_nr_sockets);
	setup_udp_tunnel_sock(g->net, sock, &tcfg);
	g->sock = sock;
	return 0;
}

/* Stop handing packets to g; the caller waits for RCU readers. */
void hadp_sock_detach(struct hadp_group *g)
{
	rcu_assign_sk_user_data(g->sock->sk, NULL);
}

void hadp_sock_close(struct hadp_group *g)
{
	udp_tunnel_sock_release(g->sock);
	g->sock = NULL;
	atomic_dec(&hadp_nr_sockets);
}

int hadp_sock_send(struct hadp_group *g, const void *buf, size_t len)
{
	union hadp_sockaddr peer;
	struct msghdr msg = {
		.msg_name	= &peer,
		.msg_flags	= MSG_DONTWAIT | MSG_NOSIGNAL,
	};
	struct kvec iov = {
		.iov_base	= (void *)buf,
		.iov_len	= len,
	};
	int ret;

	spin_lock_bh(&g->cfg_lock);
	peer = g->peer;
	spin_unlock_bh(&g->cfg_lock);
	msg.msg_namelen = peer.sa.sa_family == AF_INET6 ?
			  sizeof(peer.v6) : sizeof(peer.v4);
	ret = kernel_sendmsg(g->sock, &msg, &iov, 1, len);
	if (ret < 0)
		return ret;
	return ret == len ? 0 : -EMSGSIZE;
}
