/*
 * The user-mode network stack (-n mode=user, the default): a NAT for the
 * guest built on ordinary host sockets, no root needed.
 *
 * The guest sees the network 10.0.2.0/24: lkvm is the gateway 10.0.2.2
 * (the host's 127.0.0.1) and the DNS server 10.0.2.3 (the first IPv4
 * nameserver of the host's /etc/resolv.conf); DHCP hands out 10.0.2.15.
 *
 *   ARP       answered for the gateway and the DNS address
 *   DHCP      DISCOVER -> OFFER, REQUEST -> ACK (or NAK)
 *   UDP       one connected host socket per guest (port, destination)
 *   TCP       one nonblocking host socket per connection the guest opens;
 *             on the guest side a small TCP: SYN-ACK once the host socket
 *             connected (RST if it could not), sequence and window
 *             tracking, go-back-N retransmission, FIN/RST both ways
 *   ICMP      echo: answered for 10.0.2.2/3, else through a SOCK_DGRAM
 *             ICMP socket where the host allows it
 *
 * Frames from the guest arrive on the device's I/O thread
 * (net_user__input); host sockets are served by the stack's own thread
 * (net_user__poll in a loop). Both hold u->lock. Every header is checked
 * against the frame length before it is read; a bad frame is counted and
 * dropped. Flows are bounded (NU_MAX_TCP, NU_MAX_UDP) and their sockets
 * closed as soon as both sides are done.
 */
#include "virtio/net.h"
#include "kvm/seccomp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <netinet/if_ether.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define ETH_HDR		14
#define IP_HDR		20
#define TCP_HDR		20
#define UDP_HDR		8
#define NU_MTU		1500
#define NU_MSS		(NU_MTU - IP_HDR - TCP_HDR)
#define NU_UDP_MAX	(NU_MTU - IP_HDR - UDP_HDR)
#define NU_FRAME_MAX	(ETH_HDR + 65535)
#define NU_GSO_MAX	(65535 - IP_HDR - 60)	/* TCP payload in one GSO frame */

#define NU_MAX_TCP	512
#define NU_MAX_UDP	128		/* UDP and ICMP flows */
#define NU_SBUF		(256 << 10)	/* host -> guest: unacked and unsent */
#define NU_RBUF		(256 << 10)	/* guest -> host: not taken by the socket yet */
#define NU_WSCALE	3		/* NU_RBUF >> NU_WSCALE fits the window field */
#define NU_PEND_MAX	128		/* frames waiting for guest receive buffers */
#define NU_HASH		256
#define NU_EVENTS	64

#define NS_PER_MS		1000000ull
#define NU_TICK_MS		50
#define NU_RTO_MIN_MS		1000	/* nested guests are slow; the wire never drops */
#define NU_RTO_MAX_MS		4000
#define NU_TCP_RETRIES		15
#define NU_CONNECT_MS		30000
#define NU_HALF_CLOSED_MS	120000
#define NU_UDP_MS		60000
#define NU_DNS_MS		10000
#define NU_ICMP_MS		10000

#define DHCP_SERVER_PORT	67
#define DHCP_CLIENT_PORT	68
#define DHCP_MAGIC		0x63825363
#define DHCP_LEASE		86400

enum {
	NU_TCP_CONNECTING,	/* host socket connecting; the guest waits for SYN-ACK */
	NU_TCP_SYN_RCVD,	/* SYN-ACK sent */
	NU_TCP_ESTABLISHED,	/* the rest, half-closes in flags */
};

/* The guest's side of a flow, all in network byte order. */
struct nu_key {
	u32	gaddr;
	u32	daddr;
	u16	gport;		/* ICMP: the guest's echo id */
	u16	dport;
};

struct nu_flow {
	struct nu_flow	*hnext;		/* hash chain */
	struct nu_flow	*prev, *next;	/* every flow, for timers */
	struct nu_flow	*ack_next;	/* owes the guest an ACK */
	struct nu_key	key;
	u8		proto;
	bool		dead;		/* freed at the start of the next poll round */
	bool		on_ack_list;
	int		fd;
	u32		events;		/* registered with epoll; 0: not registered */
	u64		expires;	/* ns: connect/idle deadline */
	/* TCP */
	u8		state;
	bool		host_eof;	/* the host socket said EOF */
	bool		fin_out;	/* our FIN went out at least once */
	bool		fin_acked;
	bool		fin_rcvd;	/* the guest's FIN, acked */
	bool		shut_wr;	/* host socket shut down for writing */
	bool		need_ack;
	u8		snd_ws, rcv_ws;
	u16		mss;
	u32		iss;
	u32		snd_una, snd_nxt, snd_max, snd_wnd;
	u32		rcv_nxt, adv_wnd;
	u8		*sbuf;		/* ring: s_len bytes from snd_una at s_head */
	u32		s_head, s_len;
	u8		*rbuf;		/* ring: guest data the socket did not take */
	u32		r_head, r_len;
	u64		rto_at;		/* 0: no timer */
	u32		rto_ms;
	u8		retries;
};

struct nu_pkt {
	struct nu_pkt			*next;
	struct virtio_net_hdr_v1	hdr;
	size_t				len;
	u8				data[];
};

struct net_user {
	struct net_user_config		cfg;
	const struct net_user_ops	*ops;
	void				*opaque;
	pthread_mutex_t			lock;
	int				epoll_fd;
	int				wake_fd;
	pthread_t			thread;
	bool				running;
	bool				stopping;
	bool				csum_offload;	/* the guest takes partial checksums */
	bool				tso;		/* ... and TSO4 frames */
	bool				rx_blocked;	/* the guest had no buffers */
	bool				rx_sent;	/* rx_done owed */
	u8				guest_mac[6];
	u32				dns_host;	/* network order; 0: no DNS */
	u16				ip_id;
	struct nu_flow			*hash[NU_HASH];
	struct nu_flow			*flows;
	struct nu_flow			*ack_list;
	int				nr_tcp, nr_udp;
	struct nu_pkt			*pend_head, *pend_tail;
	int				nr_pend;
	u64				next_tick;
	struct net_user_stats		stats;
	u8				*out;		/* the frame being built: out_buf + 2 */
	u8				out_buf[NU_FRAME_MAX + 2] __attribute__((aligned(16)));
};

static void nu_tcp_abort(struct net_user *u, struct nu_flow *f, bool tell_guest);

/* ---- checksums ---- */

u32 net__csum_add(u32 sum, const void *buf, size_t len)
{
	const u8 *p = buf;
	u64 s = sum;

	while (len >= 4) {
		u32 w;

		memcpy(&w, p, 4);
		s += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		u16 w;

		memcpy(&w, p, 2);
		s += w;
		p += 2;
		len -= 2;
	}
	if (len)
		s += *p;	/* little endian: the odd byte is the low half */
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	return (u32)s;
}

u16 net__csum_fold(u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (u16)sum;
}

static u32 nu_pseudo(u32 saddr, u32 daddr, u8 proto, u32 len)
{
	u32 sum = net__csum_add(0, &saddr, 4);

	sum = net__csum_add(sum, &daddr, 4);
	return (u32)net__csum_fold(sum) + htons(proto) + htons(len);
}

static bool nu_l4_csum_ok(u32 saddr, u32 daddr, u8 proto, const void *l4, u32 len)
{
	return net__csum_fold(net__csum_add(nu_pseudo(saddr, daddr, proto, len), l4, len)) == 0xffff;
}

static u64 nu_now(void)
{
	return util__now_ns();
}

/* ---- output to the guest ---- */

static bool nu_flush_pending(struct net_user *u)
{
	while (u->pend_head) {
		struct nu_pkt *p = u->pend_head;

		if (u->ops->rx(u->opaque, &p->hdr, p->data, p->len))
			return false;
		u->rx_sent = true;
		u->pend_head = p->next;
		if (!u->pend_head)
			u->pend_tail = NULL;
		u->nr_pend--;
		free(p);
	}
	return true;
}

static void nu_queue(struct net_user *u, const struct virtio_net_hdr_v1 *hdr, size_t len)
{
	struct nu_pkt *p;

	if (u->nr_pend >= NU_PEND_MAX || !(p = malloc(sizeof(*p) + len))) {
		u->stats.rx_dropped++;
		return;
	}
	p->next = NULL;
	p->hdr = *hdr;
	p->len = len;
	memcpy(p->data, u->out, len);
	if (u->pend_tail)
		u->pend_tail->next = p;
	else
		u->pend_head = p;
	u->pend_tail = p;
	u->nr_pend++;
}

/*
 * Hand u->out to the guest, behind anything already waiting. @keep: queue
 * it when the guest has no room (control frames); else -EAGAIN (TCP data,
 * which stays in its flow's buffer).
 */
static int nu_emit(struct net_user *u, const struct virtio_net_hdr_v1 *hdr, size_t len, bool keep)
{
	if (nu_flush_pending(u) && !u->ops->rx(u->opaque, hdr, u->out, len)) {
		u->rx_sent = true;
		return 0;
	}
	u->rx_blocked = true;
	if (!keep)
		return -EAGAIN;
	nu_queue(u, hdr, len);
	return 0;
}

/* Ethernet and IPv4 headers in u->out for @l4len bytes of @proto. */
static void nu_ip_header(struct net_user *u, const u8 *dmac, u8 proto, u32 saddr, u32 daddr,
			 u32 l4len)
{
	struct ether_header *eh = (struct ether_header *)u->out;
	struct iphdr *ip = (struct iphdr *)(u->out + ETH_HDR);

	memcpy(eh->ether_dhost, dmac, ETH_ALEN);
	memcpy(eh->ether_shost, u->cfg.host_mac, ETH_ALEN);
	eh->ether_type = htons(ETHERTYPE_IP);
	memset(ip, 0, IP_HDR);
	ip->version = 4;
	ip->ihl = IP_HDR / 4;
	ip->tot_len = htons(IP_HDR + l4len);
	ip->id = htons(u->ip_id++);
	ip->frag_off = htons(IP_DF);
	ip->ttl = 64;
	ip->protocol = proto;
	ip->saddr = saddr;
	ip->daddr = daddr;
	ip->check = ~net__csum_fold(net__csum_add(0, ip, IP_HDR));
}

/* Checksum the TCP/UDP segment in u->out: partially when the guest takes that. */
static void nu_l4_csum(struct net_user *u, struct virtio_net_hdr_v1 *hdr, u8 proto,
		       u32 saddr, u32 daddr, u32 len, u16 check_off)
{
	u8 *l4 = u->out + ETH_HDR + IP_HDR;
	u32 sum = nu_pseudo(saddr, daddr, proto, len);
	u16 c;

	memset(l4 + check_off, 0, 2);
	if (u->csum_offload) {
		hdr->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		hdr->csum_start = ETH_HDR + IP_HDR;
		hdr->csum_offset = check_off;
		c = net__csum_fold(sum);
	} else {
		c = ~net__csum_fold(net__csum_add(sum, l4, len));
		if (proto == IPPROTO_UDP && !c)
			c = 0xffff;
	}
	memcpy(l4 + check_off, &c, 2);
}

/* A UDP datagram to the guest; @payload may already sit in u->out. */
static void nu_udp_out(struct net_user *u, const u8 *dmac, u32 saddr, u16 sport, u32 daddr,
		       u16 dport, const void *payload, u32 len)
{
	struct virtio_net_hdr_v1 hdr = { 0 };
	struct udphdr *uh = (struct udphdr *)(u->out + ETH_HDR + IP_HDR);

	if (payload)
		memmove(uh + 1, payload, len);
	uh->uh_sport = sport;
	uh->uh_dport = dport;
	uh->uh_ulen = htons(UDP_HDR + len);
	nu_ip_header(u, dmac, IPPROTO_UDP, saddr, daddr, UDP_HDR + len);
	nu_l4_csum(u, &hdr, IPPROTO_UDP, saddr, daddr, UDP_HDR + len,
		   offsetof(struct udphdr, uh_sum));
	nu_emit(u, &hdr, ETH_HDR + IP_HDR + UDP_HDR + len, true);
}

/* ---- flows ---- */

static u32 nu_hash(const struct nu_key *k, u8 proto)
{
	u32 h = k->gaddr ^ k->daddr ^ ((u32)k->gport << 16 | k->dport) ^ proto;

	h ^= h >> 16;
	h *= 0x45d9f3b;
	h ^= h >> 16;
	return h % NU_HASH;
}

static struct nu_flow *nu_find(struct net_user *u, const struct nu_key *k, u8 proto)
{
	struct nu_flow *f;

	for (f = u->hash[nu_hash(k, proto)]; f; f = f->hnext)
		if (f->proto == proto && !memcmp(&f->key, k, sizeof(*k)))
			return f;
	return NULL;
}

static struct nu_flow *nu_flow_new(struct net_user *u, const struct nu_key *k, u8 proto)
{
	struct nu_flow *f = calloc(1, sizeof(*f));
	u32 h = nu_hash(k, proto);

	if (!f)
		return NULL;
	f->key = *k;
	f->proto = proto;
	f->fd = -1;
	f->hnext = u->hash[h];
	u->hash[h] = f;
	f->next = u->flows;
	if (u->flows)
		u->flows->prev = f;
	u->flows = f;
	if (proto == IPPROTO_TCP)
		u->nr_tcp++;
	else
		u->nr_udp++;
	return f;
}

static int nu_epoll_set(struct net_user *u, struct nu_flow *f, u32 events)
{
	struct epoll_event ev = { .events = events, .data.ptr = f };
	int op;

	if (f->fd < 0 || events == f->events)
		return 0;
	op = !events ? EPOLL_CTL_DEL : f->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(u->epoll_fd, op, f->fd, &ev) && op != EPOLL_CTL_DEL)
		return -errno;
	f->events = events;
	return 0;
}

static void nu_close_fd(struct net_user *u, struct nu_flow *f, bool reset)
{
	if (f->fd < 0)
		return;
	nu_epoll_set(u, f, 0);
	if (reset) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(f->fd);
	f->fd = -1;
}

/* Unhash and close now; the memory goes at the next poll round (events may name it). */
static void nu_flow_free(struct net_user *u, struct nu_flow *f, bool reset)
{
	struct nu_flow **pp;

	if (f->dead)
		return;
	nu_close_fd(u, f, reset);
	for (pp = &u->hash[nu_hash(&f->key, f->proto)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == f) {
			*pp = f->hnext;
			break;
		}
	}
	f->dead = true;
	if (f->proto == IPPROTO_TCP)
		u->nr_tcp--;
	else
		u->nr_udp--;
	free(f->sbuf);
	free(f->rbuf);
	f->sbuf = f->rbuf = NULL;
}

static void nu_reap(struct net_user *u)
{
	struct nu_flow *f = u->flows, *next;

	for (; f; f = next) {
		next = f->next;
		if (!f->dead || f->on_ack_list)
			continue;
		if (f->prev)
			f->prev->next = f->next;
		else
			u->flows = f->next;
		if (f->next)
			f->next->prev = f->prev;
		free(f);
	}
}

/* Where a guest's destination is on the host: false if nowhere. */
static bool nu_map(struct net_user *u, u32 daddr, u16 dport, struct sockaddr_in *sa)
{
	u32 mask = htonl(0xffffff00);
	u32 a = ntohl(daddr);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = dport;
	if (daddr == u->cfg.host_ip)
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (daddr == u->cfg.dns_ip && u->dns_host)
		sa->sin_addr.s_addr = u->dns_host;
	else if ((daddr & mask) == (u->cfg.host_ip & mask) || !a || a >= 0xe0000000 ||
		 (a >> 24) == 127)
		return false;
	else
		sa->sin_addr.s_addr = daddr;
	return true;
}

static int nu_socket(int type, int proto)
{
	return socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
}

/* ---- ARP ---- */

static void nu_arp_input(struct net_user *u, const u8 *frame, size_t len)
{
	const struct ether_arp *req = (const struct ether_arp *)(frame + ETH_HDR);
	struct ether_arp *rep = (struct ether_arp *)(u->out + ETH_HDR);
	struct ether_header *eh = (struct ether_header *)u->out;
	struct virtio_net_hdr_v1 hdr = { 0 };
	u32 tip;

	if (len < ETH_HDR + sizeof(*req) || ntohs(req->arp_hrd) != ARPHRD_ETHER ||
	    ntohs(req->arp_pro) != ETHERTYPE_IP || req->arp_hln != ETH_ALEN ||
	    req->arp_pln != 4) {
		u->stats.malformed++;
		return;
	}
	memcpy(&tip, req->arp_tpa, 4);
	if (ntohs(req->arp_op) != ARPOP_REQUEST ||
	    (tip != u->cfg.host_ip && tip != u->cfg.dns_ip))
		return;
	memcpy(eh->ether_dhost, req->arp_sha, ETH_ALEN);
	memcpy(eh->ether_shost, u->cfg.host_mac, ETH_ALEN);
	eh->ether_type = htons(ETHERTYPE_ARP);
	rep->ea_hdr = req->ea_hdr;
	rep->arp_op = htons(ARPOP_REPLY);
	memcpy(rep->arp_sha, u->cfg.host_mac, ETH_ALEN);
	memcpy(rep->arp_spa, &tip, 4);
	memcpy(rep->arp_tha, req->arp_sha, ETH_ALEN);
	memcpy(rep->arp_tpa, req->arp_spa, 4);
	/* Padded to the Ethernet minimum. */
	memset(u->out + ETH_HDR + sizeof(*rep), 0, 60 - ETH_HDR - sizeof(*rep));
	nu_emit(u, &hdr, 60, true);
}

/* ---- DHCP ---- */

struct dhcp_msg {
	u8	op, htype, hlen, hops;
	u32	xid;
	u16	secs, flags;
	u32	ciaddr, yiaddr, siaddr, giaddr;
	u8	chaddr[16];
	u8	sname[64];
	u8	file[128];
	u32	magic;
	u8	options[];
} __attribute__((packed));

#define DHCP_FIXED	sizeof(struct dhcp_msg)	/* 240 */
#define DHCP_MIN_REPLY	300			/* BOOTP's minimum size */

enum { DHCPDISCOVER = 1, DHCPOFFER, DHCPREQUEST, DHCPDECLINE, DHCPACK, DHCPNAK };

/* Find option @code in @opt[0..len): its length, or -1. */
static int dhcp__option(const u8 *opt, size_t len, u8 code, const u8 **val)
{
	size_t i = 0;

	while (i < len) {
		u8 c = opt[i];

		if (c == 255)
			break;
		if (c == 0) {
			i++;
			continue;
		}
		if (i + 1 >= len || i + 2 + opt[i + 1] > len)
			return -1;
		if (c == code) {
			*val = opt + i + 2;
			return opt[i + 1];
		}
		i += 2 + opt[i + 1];
	}
	return -1;
}

static u8 *dhcp__put(u8 *p, u8 code, u8 len, const void *val)
{
	*p++ = code;
	*p++ = len;
	memcpy(p, val, len);
	return p + len;
}

static void nu_dhcp_reply(struct net_user *u, const struct dhcp_msg *req, u8 type)
{
	static const u8 bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct dhcp_msg *rep = (struct dhcp_msg *)(u->out + ETH_HDR + IP_HDR + UDP_HDR);
	u32 mask = htonl(0xffffff00), lease = htonl(DHCP_LEASE);
	u8 *p = rep->options;
	u32 len, daddr = htonl(INADDR_BROADCAST);
	bool broadcast = ntohs(req->flags) & 0x8000;

	memset(rep, 0, DHCP_MIN_REPLY);
	rep->op = 2;
	rep->htype = 1;
	rep->hlen = ETH_ALEN;
	rep->xid = req->xid;
	rep->flags = req->flags;
	rep->ciaddr = req->ciaddr;
	rep->yiaddr = type == DHCPNAK ? 0 : u->cfg.guest_ip;
	rep->siaddr = u->cfg.host_ip;
	memcpy(rep->chaddr, req->chaddr, sizeof(rep->chaddr));
	rep->magic = htonl(DHCP_MAGIC);
	p = dhcp__put(p, 53, 1, &type);
	p = dhcp__put(p, 54, 4, &u->cfg.host_ip);
	if (type != DHCPNAK) {
		p = dhcp__put(p, 51, 4, &lease);
		p = dhcp__put(p, 1, 4, &mask);
		p = dhcp__put(p, 3, 4, &u->cfg.host_ip);
		p = dhcp__put(p, 6, 4, &u->cfg.dns_ip);
	}
	*p++ = 255;
	len = max_t(u32, p - (u8 *)rep, DHCP_MIN_REPLY);
	if (req->ciaddr && !broadcast)
		daddr = req->ciaddr;
	nu_udp_out(u, broadcast ? bcast : req->chaddr, u->cfg.host_ip, htons(DHCP_SERVER_PORT),
		   daddr, htons(DHCP_CLIENT_PORT), NULL, len);
}

static void nu_dhcp_input(struct net_user *u, const u8 *p, u32 len)
{
	const struct dhcp_msg *m = (const struct dhcp_msg *)p;
	const u8 *val;
	u32 want = 0;
	int n;

	if (len < DHCP_FIXED || m->op != 1 || m->htype != 1 || m->hlen != ETH_ALEN ||
	    ntohl(m->magic) != DHCP_MAGIC) {
		u->stats.malformed++;
		return;
	}
	n = dhcp__option(m->options, len - DHCP_FIXED, 53, &val);
	if (n != 1)
		return;
	switch (val[0]) {
	case DHCPDISCOVER:
		nu_dhcp_reply(u, m, DHCPOFFER);
		break;
	case DHCPREQUEST:
		if (dhcp__option(m->options, len - DHCP_FIXED, 50, &val) == 4)
			memcpy(&want, val, 4);
		else
			want = m->ciaddr;
		nu_dhcp_reply(u, m, !want || want == u->cfg.guest_ip ? DHCPACK : DHCPNAK);
		break;
	default:
		break;		/* DECLINE, RELEASE, INFORM: nothing to do */
	}
}

/* ---- UDP ---- */

static void nu_udp_recv(struct net_user *u, struct nu_flow *f)
{
	u8 *payload = u->out + ETH_HDR + IP_HDR + UDP_HDR;

	for (int i = 0; i < 32; i++) {
		ssize_t n = recv(f->fd, payload, NU_UDP_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;		/* EAGAIN, or ICMP errors: nothing for the guest */
		}
		if (n > NU_UDP_MAX) {
			u->stats.rx_dropped++;	/* would need IP fragments */
			continue;
		}
		f->expires = nu_now() + (ntohs(f->key.dport) == 53 ? NU_DNS_MS : NU_UDP_MS) *
			     NS_PER_MS;
		nu_udp_out(u, u->guest_mac, f->key.daddr, f->key.dport, f->key.gaddr,
			   f->key.gport, NULL, n);
	}
}

static struct nu_flow *nu_udp_flow(struct net_user *u, const struct nu_key *k)
{
	struct sockaddr_in sa;
	struct nu_flow *f;

	if (!nu_map(u, k->daddr, k->dport, &sa) || u->nr_udp >= NU_MAX_UDP)
		return NULL;
	f = nu_flow_new(u, k, IPPROTO_UDP);
	if (!f)
		return NULL;
	f->fd = nu_socket(SOCK_DGRAM, 0);
	if (f->fd < 0 || connect(f->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    nu_epoll_set(u, f, EPOLLIN)) {
		nu_flow_free(u, f, false);
		return NULL;
	}
	u->stats.udp_flows++;
	return f;
}

static void nu_udp_input(struct net_user *u, const struct iphdr *ip, const u8 *p, u32 len,
			 bool partial)
{
	const struct udphdr *uh = (const struct udphdr *)p;
	struct nu_key k;
	struct nu_flow *f;
	u32 ulen;

	if (len < UDP_HDR || (ulen = ntohs(uh->uh_ulen)) < UDP_HDR || ulen > len ||
	    (!partial && uh->uh_sum && !nu_l4_csum_ok(ip->saddr, ip->daddr, IPPROTO_UDP, p, ulen))) {
		u->stats.malformed++;
		return;
	}
	if (ntohs(uh->uh_dport) == DHCP_SERVER_PORT &&
	    (ip->daddr == htonl(INADDR_BROADCAST) || ip->daddr == u->cfg.host_ip)) {
		nu_dhcp_input(u, p + UDP_HDR, ulen - UDP_HDR);
		return;
	}
	k = (struct nu_key){ .gaddr = ip->saddr, .daddr = ip->daddr,
			     .gport = uh->uh_sport, .dport = uh->uh_dport };
	f = nu_find(u, &k, IPPROTO_UDP);
	if (!f)
		f = nu_udp_flow(u, &k);
	if (!f)
		return;
	f->expires = nu_now() + (ntohs(k.dport) == 53 ? NU_DNS_MS : NU_UDP_MS) * NS_PER_MS;
	if (send(f->fd, p + UDP_HDR, ulen - UDP_HDR, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		pr_debug("net-user: UDP send: %s", strerror(errno));
}

/* ---- ICMP echo ---- */

static void nu_icmp_out(struct net_user *u, u32 saddr, u32 daddr, u32 len)
{
	struct virtio_net_hdr_v1 hdr = { 0 };
	struct icmphdr *ic = (struct icmphdr *)(u->out + ETH_HDR + IP_HDR);

	ic->checksum = 0;
	ic->checksum = ~net__csum_fold(net__csum_add(0, ic, len));
	nu_ip_header(u, u->guest_mac, IPPROTO_ICMP, saddr, daddr, len);
	nu_emit(u, &hdr, ETH_HDR + IP_HDR + len, true);
}

static void nu_icmp_recv(struct net_user *u, struct nu_flow *f)
{
	struct icmphdr *ic = (struct icmphdr *)(u->out + ETH_HDR + IP_HDR);

	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(f->fd, ic, NU_MTU - IP_HDR + 1, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < (ssize_t)sizeof(*ic) || n > NU_MTU - IP_HDR || ic->type != ICMP_ECHOREPLY)
			return;
		ic->un.echo.id = f->key.gport;
		nu_icmp_out(u, f->key.daddr, f->key.gaddr, n);
	}
}

static void nu_icmp_input(struct net_user *u, const struct iphdr *ip, const u8 *p, u32 len)
{
	const struct icmphdr *ic = (const struct icmphdr *)p;
	struct sockaddr_in sa;
	struct nu_flow *f;
	struct nu_key k;

	if (len < sizeof(*ic) || net__csum_fold(net__csum_add(0, p, len)) != 0xffff) {
		u->stats.malformed++;
		return;
	}
	if (ic->type != ICMP_ECHO || len > NU_MTU - IP_HDR)
		return;
	if (ip->daddr == u->cfg.host_ip || ip->daddr == u->cfg.dns_ip) {
		struct icmphdr *r = (struct icmphdr *)(u->out + ETH_HDR + IP_HDR);

		memcpy(r, p, len);
		r->type = ICMP_ECHOREPLY;
		nu_icmp_out(u, ip->daddr, ip->saddr, len);
		return;
	}
	k = (struct nu_key){ .gaddr = ip->saddr, .daddr = ip->daddr, .gport = ic->un.echo.id };
	f = nu_find(u, &k, IPPROTO_ICMP);
	if (!f) {
		if (!nu_map(u, k.daddr, 0, &sa) || u->nr_udp >= NU_MAX_UDP ||
		    !(f = nu_flow_new(u, &k, IPPROTO_ICMP)))
			return;
		f->fd = nu_socket(SOCK_DGRAM, IPPROTO_ICMP);
		if (f->fd < 0 || connect(f->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    nu_epoll_set(u, f, EPOLLIN)) {
			nu_flow_free(u, f, false);	/* the host does not allow ping sockets */
			return;
		}
	}
	f->expires = nu_now() + NU_ICMP_MS * NS_PER_MS;
	if (send(f->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		pr_debug("net-user: ICMP send: %s", strerror(errno));
}

/* ---- TCP: segments to the guest ---- */

static void nu_ring_get(const u8 *ring, u32 cap, u32 head, u32 off, u8 *dst, u32 n)
{
	u32 pos = (head + off) % cap, first = min_t(u32, n, cap - pos);

	memcpy(dst, ring + pos, first);
	memcpy(dst + first, ring, n - first);
}

/* The free part of a ring as up to two iovecs; how many. */
static int nu_ring_free(u8 *ring, u32 cap, u32 head, u32 len, struct iovec *iov)
{
	u32 pos = (head + len) % cap, free = cap - len, first = min_t(u32, free, cap - pos);

	iov[0] = (struct iovec){ ring + pos, first };
	iov[1] = (struct iovec){ ring, free - first };
	return free - first ? 2 : 1;
}

/* The used part of a ring as up to two iovecs; how many. */
static int nu_ring_used(u8 *ring, u32 cap, u32 head, u32 len, struct iovec *iov)
{
	u32 first = min_t(u32, len, cap - head);

	iov[0] = (struct iovec){ ring + head, first };
	iov[1] = (struct iovec){ ring, len - first };
	return len - first ? 2 : 1;
}

static u32 nu_tcp_rwnd(struct nu_flow *f)
{
	return NU_RBUF - f->r_len;
}

/* The window an ACK would advertise now, in bytes. */
static u32 nu_tcp_adv(struct nu_flow *f)
{
	return min_t(u32, nu_tcp_rwnd(f) >> f->rcv_ws, 0xffff) << f->rcv_ws;
}

/*
 * Send one segment to the guest: @flags, sequence @seq and @len bytes of
 * sbuf from @off bytes past snd_una. Data that does not fit the guest's
 * buffers returns -EAGAIN; control segments are queued instead.
 */
static int nu_tcp_out(struct net_user *u, struct nu_flow *f, u8 flags, u32 seq, u32 off, u32 len)
{
	struct virtio_net_hdr_v1 hdr = { 0 };
	struct tcphdr *th = (struct tcphdr *)(u->out + ETH_HDR + IP_HDR);
	u8 *opt = (u8 *)(th + 1);
	u32 optlen = 0, thlen;
	u32 win = nu_tcp_rwnd(f);

	if (flags & TH_SYN) {
		opt[0] = TCPOPT_MAXSEG;
		opt[1] = TCPOLEN_MAXSEG;
		opt[2] = NU_MSS >> 8;
		opt[3] = NU_MSS & 0xff;
		optlen = 4;
		if (f->rcv_ws) {
			opt[4] = TCPOPT_NOP;
			opt[5] = TCPOPT_WINDOW;
			opt[6] = TCPOLEN_WINDOW;
			opt[7] = f->rcv_ws;
			optlen = 8;
		}
	} else {
		win >>= f->rcv_ws;
	}
	thlen = TCP_HDR + optlen;
	th->th_sport = f->key.dport;
	th->th_dport = f->key.gport;
	th->th_seq = htonl(seq);
	th->th_ack = htonl(f->rcv_nxt);
	th->th_x2 = 0;
	th->th_off = thlen / 4;
	th->th_flags = flags;
	win = min_t(u32, win, 0xffff);
	th->th_win = htons(win);
	th->th_urp = 0;
	if (len)
		nu_ring_get(f->sbuf, NU_SBUF, f->s_head, off, (u8 *)th + thlen, len);
	nu_ip_header(u, u->guest_mac, IPPROTO_TCP, f->key.daddr, f->key.gaddr, thlen + len);
	if (len > f->mss && u->tso) {
		hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		hdr.gso_size = f->mss;
		hdr.hdr_len = ETH_HDR + IP_HDR + thlen;
	}
	nu_l4_csum(u, &hdr, IPPROTO_TCP, f->key.daddr, f->key.gaddr, thlen + len,
		   offsetof(struct tcphdr, th_sum));
	if (!(flags & TH_SYN))
		f->adv_wnd = win << f->rcv_ws;
	return nu_emit(u, &hdr, ETH_HDR + IP_HDR + thlen + len, !len);
}

static void nu_tcp_ack_now(struct net_user *u, struct nu_flow *f)
{
	f->need_ack = false;
	nu_tcp_out(u, f, TH_ACK, f->snd_nxt, 0, 0);
}

/* A RST for a segment that has no flow (RFC 793's reset generation). */
static void nu_tcp_rst(struct net_user *u, const struct iphdr *ip, const struct tcphdr *in,
		       u32 dlen)
{
	struct nu_flow f = {
		.key = { .gaddr = ip->saddr, .daddr = ip->daddr,
			 .gport = in->th_sport, .dport = in->th_dport },
		.mss = NU_MSS,
	};
	u8 flags = TH_RST;
	u32 seq = 0;

	if (in->th_flags & TH_ACK) {
		seq = ntohl(in->th_ack);
	} else {
		flags |= TH_ACK;
		f.rcv_nxt = ntohl(in->th_seq) + dlen + !!(in->th_flags & TH_SYN) +
			    !!(in->th_flags & TH_FIN);
	}
	f.r_len = NU_RBUF;	/* window 0 */
	nu_tcp_out(u, &f, flags, seq, 0, 0);
}

static void nu_tcp_arm(struct nu_flow *f)
{
	if (!f->rto_at)
		f->rto_at = nu_now() + f->rto_ms * NS_PER_MS;
}

/* Send what the guest's window allows, then our FIN after the last byte. */
static void nu_tcp_output(struct net_user *u, struct nu_flow *f)
{
	u32 max = u->tso ? NU_GSO_MAX / f->mss * f->mss : f->mss;

	if (f->state != NU_TCP_ESTABLISHED || f->dead)
		return;
	for (;;) {
		u32 sent = f->snd_nxt - f->snd_una;
		s32 wnd = (s32)(f->snd_una + f->snd_wnd - f->snd_nxt);
		u32 n;

		if (sent >= f->s_len)
			break;
		if (wnd <= 0) {
			nu_tcp_arm(f);		/* the persist timer probes the window */
			return;
		}
		n = min_t(u32, min_t(u32, f->s_len - sent, (u32)wnd), max);
		/* No silly windows: a short segment only when it empties the buffer. */
		if (n < f->mss && n < f->s_len - sent && sent)
			return;
		if (nu_tcp_out(u, f, TH_ACK | (n == f->s_len - sent ? TH_PUSH : 0),
			       f->snd_nxt, sent, n))
			return;
		f->snd_nxt += n;
		if ((s32)(f->snd_nxt - f->snd_max) > 0)
			f->snd_max = f->snd_nxt;
		f->need_ack = false;
		nu_tcp_arm(f);
	}
	if (f->host_eof && !f->fin_acked && f->snd_nxt == f->snd_una + f->s_len) {
		nu_tcp_out(u, f, TH_FIN | TH_ACK, f->snd_nxt, 0, 0);
		f->snd_nxt++;
		if ((s32)(f->snd_nxt - f->snd_max) > 0)
			f->snd_max = f->snd_nxt;
		f->fin_out = true;
		f->need_ack = false;
		nu_tcp_arm(f);
	}
}

/* ---- TCP: the host socket ---- */

static void nu_tcp_watch(struct net_user *u, struct nu_flow *f)
{
	u32 ev = 0;

	if (f->dead || f->fd < 0)
		return;
	if (f->state == NU_TCP_CONNECTING) {
		ev = EPOLLOUT;
	} else if (f->state == NU_TCP_ESTABLISHED) {
		if (!f->host_eof && f->s_len < NU_SBUF)
			ev |= EPOLLIN;
		if (f->r_len)
			ev |= EPOLLOUT;
	}
	if (nu_epoll_set(u, f, ev))
		nu_tcp_abort(u, f, true);
}

/* Read what the host sent into sbuf (as far as it has room). */
static void nu_tcp_read(struct net_user *u, struct nu_flow *f)
{
	while (!f->host_eof && f->fd >= 0 && f->s_len < NU_SBUF) {
		struct iovec iov[2];
		int cnt;
		ssize_t n;

		if (!f->sbuf && !(f->sbuf = malloc(NU_SBUF)))
			return;
		cnt = nu_ring_free(f->sbuf, NU_SBUF, f->s_head, f->s_len, iov);
		n = readv(f->fd, iov, cnt);
		if (n > 0) {
			f->s_len += n;
		} else if (!n) {
			f->host_eof = true;
		} else if (errno != EINTR) {
			if (errno != EAGAIN)
				nu_tcp_abort(u, f, true);
			return;
		}
	}
}

/* Pass guest data to the host; what does not go now waits in rbuf. Bytes taken. */
static u32 nu_tcp_to_host(struct net_user *u, struct nu_flow *f, const u8 *p, u32 len)
{
	struct iovec iov[2];
	ssize_t n = 0;
	u32 room, take;
	int cnt;

	if (f->fd < 0)
		return 0;
	if (!f->r_len) {
		n = send(f->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			nu_tcp_abort(u, f, true);
			return 0;
		}
		n = max_t(ssize_t, n, 0);
		if ((u32)n == len)
			return len;
	}
	if (!f->rbuf && !(f->rbuf = malloc(NU_RBUF)))
		return n;
	room = NU_RBUF - f->r_len;
	take = min_t(u32, len - n, room);
	cnt = nu_ring_free(f->rbuf, NU_RBUF, f->r_head, f->r_len, iov);
	for (int i = 0, done = 0; i < cnt && (u32)done < take; i++) {
		u32 c = min_t(u32, iov[i].iov_len, take - done);

		memcpy(iov[i].iov_base, p + n + done, c);
		done += c;
	}
	f->r_len += take;
	return n + take;
}

static void nu_tcp_shut_wr(struct net_user *u, struct nu_flow *f)
{
	if (!f->fin_rcvd || f->r_len || f->shut_wr || f->fd < 0)
		return;
	shutdown(f->fd, SHUT_WR);
	f->shut_wr = true;
}

/* The socket can take more: flush rbuf, and tell the guest its window opened. */
static void nu_tcp_write(struct net_user *u, struct nu_flow *f)
{
	while (f->r_len && f->fd >= 0) {
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov };
		ssize_t n;

		mh.msg_iovlen = nu_ring_used(f->rbuf, NU_RBUF, f->r_head, f->r_len, iov);
		n = sendmsg(f->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				nu_tcp_abort(u, f, true);
			break;
		}
		f->r_head = (f->r_head + n) % NU_RBUF;
		f->r_len -= n;
	}
	if (f->dead)
		return;
	if (nu_tcp_adv(f) > f->adv_wnd &&
	    (nu_tcp_adv(f) - f->adv_wnd >= NU_RBUF / 4 || !f->r_len))
		nu_tcp_ack_now(u, f);
	nu_tcp_shut_wr(u, f);
}

/* Both sides said FIN and heard the other's: done. A half-done socket closes early. */
static void nu_tcp_maybe_close(struct net_user *u, struct nu_flow *f)
{
	if (f->dead)
		return;
	if (f->fin_rcvd && f->fin_acked && !f->r_len) {
		if (f->need_ack)
			nu_tcp_ack_now(u, f);	/* the guest's FIN */
		nu_flow_free(u, f, false);
		return;
	}
	if (f->host_eof && f->shut_wr)
		nu_close_fd(u, f, false);
	if (f->fin_rcvd || f->host_eof)
		f->expires = nu_now() + NU_HALF_CLOSED_MS * NS_PER_MS;
}

/* Move data both ways as far as buffers and windows allow. */
static void nu_tcp_pump(struct net_user *u, struct nu_flow *f)
{
	if (f->dead || f->state != NU_TCP_ESTABLISHED)
		return;
	nu_tcp_read(u, f);
	if (f->dead)
		return;
	nu_tcp_output(u, f);
	nu_tcp_maybe_close(u, f);
	nu_tcp_watch(u, f);
}

static void nu_tcp_abort(struct net_user *u, struct nu_flow *f, bool tell_guest)
{
	if (f->dead)
		return;
	if (tell_guest && f->state != NU_TCP_CONNECTING)
		nu_tcp_out(u, f, TH_RST | TH_ACK, f->snd_nxt, 0, 0);
	else if (tell_guest)
		nu_tcp_out(u, f, TH_RST | TH_ACK, 0, 0, 0);
	nu_flow_free(u, f, true);
}

/* The host socket connected (or failed to): answer the guest's SYN. */
static void nu_tcp_connected(struct net_user *u, struct nu_flow *f)
{
	int err = 0;
	socklen_t l = sizeof(err);

	if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &l) || err) {
		nu_tcp_abort(u, f, true);
		return;
	}
	f->state = NU_TCP_SYN_RCVD;
	f->rto_ms = NU_RTO_MIN_MS;
	f->rto_at = 0;
	nu_tcp_out(u, f, TH_SYN | TH_ACK, f->iss, 0, 0);
	f->snd_nxt = f->snd_max = f->iss + 1;
	nu_tcp_arm(f);
	nu_tcp_watch(u, f);
}

static void nu_tcp_event(struct net_user *u, struct nu_flow *f, u32 events)
{
	if (f->state == NU_TCP_CONNECTING) {
		nu_tcp_connected(u, f);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		nu_tcp_pump(u, f);
	if (!f->dead && (events & (EPOLLOUT | EPOLLERR)))
		nu_tcp_write(u, f);
	if (!f->dead) {
		nu_tcp_maybe_close(u, f);
		nu_tcp_watch(u, f);
	}
}

/* ---- TCP: segments from the guest ---- */

struct nu_seg {
	const struct tcphdr	*th;
	u32			seq, ack;
	u8			flags;
	const u8		*data;
	u32			len;
};

/* MSS and window scale from a SYN's options, bounds-checked. */
static void nu_tcp_options(struct nu_flow *f, const u8 *opt, u32 len)
{
	u32 i = 0;

	f->mss = 536;
	while (i < len) {
		u8 kind = opt[i], l;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || (l = opt[i + 1]) < 2 || i + l > len)
			break;
		if (kind == TCPOPT_MAXSEG && l == TCPOLEN_MAXSEG)
			f->mss = opt[i + 2] << 8 | opt[i + 3];
		else if (kind == TCPOPT_WINDOW && l == TCPOLEN_WINDOW) {
			f->snd_ws = min_t(u8, opt[i + 2], 14);
			f->rcv_ws = NU_WSCALE;
		}
		i += l;
	}
	f->mss = max_t(u16, min_t(u16, f->mss, NU_MSS), 64);
}

static void nu_tcp_syn(struct net_user *u, const struct iphdr *ip, const struct nu_key *k,
		       const struct nu_seg *s)
{
	struct sockaddr_in sa;
	struct nu_flow *f;
	int one = 1;

	if (!nu_map(u, k->daddr, k->dport, &sa) || u->nr_tcp >= NU_MAX_TCP ||
	    !(f = nu_flow_new(u, k, IPPROTO_TCP))) {
		nu_tcp_rst(u, ip, s->th, s->len);
		return;
	}
	u->stats.tcp_flows++;
	f->rcv_nxt = s->seq + 1;
	nu_tcp_options(f, (const u8 *)(s->th + 1), s->th->th_off * 4 - TCP_HDR);
	if (getrandom(&f->iss, sizeof(f->iss), GRND_NONBLOCK) != sizeof(f->iss))
		f->iss = (u32)nu_now();
	f->snd_una = f->snd_nxt = f->snd_max = f->iss;
	f->snd_wnd = ntohs(s->th->th_win);
	f->rto_ms = NU_RTO_MIN_MS;
	f->state = NU_TCP_CONNECTING;
	f->expires = nu_now() + NU_CONNECT_MS * NS_PER_MS;
	f->fd = nu_socket(SOCK_STREAM, 0);
	if (f->fd < 0) {
		nu_tcp_abort(u, f, true);
		return;
	}
	setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!connect(f->fd, (struct sockaddr *)&sa, sizeof(sa)))
		nu_tcp_connected(u, f);
	else if (errno == EINPROGRESS)
		nu_tcp_watch(u, f);
	else
		nu_tcp_abort(u, f, true);
}

/* The guest acknowledged up to @s->ack and offers its window. */
static void nu_tcp_acked(struct net_user *u, struct nu_flow *f, const struct nu_seg *s)
{
	u32 acked = s->ack - f->snd_una;

	if (acked > f->snd_max - f->snd_una)
		return;			/* acks what we never sent */
	if (acked) {
		u32 data = acked;

		if (f->fin_out && acked == f->s_len + 1) {
			f->fin_acked = true;
			data = f->s_len;
		}
		data = min_t(u32, data, f->s_len);
		f->s_head = (f->s_head + data) % NU_SBUF;
		f->s_len -= data;
		f->snd_una = s->ack;
		if ((s32)(f->snd_nxt - f->snd_una) < 0)
			f->snd_nxt = f->snd_una;
		f->retries = 0;
		f->rto_ms = NU_RTO_MIN_MS;
		f->rto_at = 0;
		if (f->snd_una != f->snd_max)
			nu_tcp_arm(f);
	} else if (f->snd_una == f->snd_max) {
		f->retries = 0;		/* the answer to a window probe */
	}
	f->snd_wnd = (u32)ntohs(s->th->th_win) << f->snd_ws;
}

/* In-order data and FIN from the guest; anything else is answered with an ACK. */
static void nu_tcp_data(struct net_user *u, struct nu_flow *f, const struct nu_seg *s)
{
	s32 d = (s32)(s->seq - f->rcv_nxt);
	const u8 *p = s->data;
	u32 len = s->len, took;
	bool fin = s->flags & TH_FIN;

	if (!len && !fin)
		return;
	f->need_ack = true;
	if (d > 0 || (d < 0 && (u32)-d > len) || (d < 0 && (u32)-d == len && !fin))
		return;			/* out of order, or old: the ACK says where we are */
	if (d < 0) {
		p += -d;
		len -= -d;
	}
	if (f->fin_rcvd)
		return;
	if (len) {
		took = nu_tcp_to_host(u, f, p, len);
		if (f->dead)
			return;
		f->rcv_nxt += took;
		if (took < len)
			fin = false;
	}
	if (fin) {
		f->fin_rcvd = true;
		f->rcv_nxt++;
		nu_tcp_shut_wr(u, f);
	}
}

static void nu_tcp_need_ack(struct net_user *u, struct nu_flow *f)
{
	if (!f->need_ack || f->on_ack_list)
		return;
	f->on_ack_list = true;
	f->ack_next = u->ack_list;
	u->ack_list = f;
}

static void nu_tcp_segment(struct net_user *u, struct nu_flow *f, const struct nu_seg *s)
{
	if (s->flags & TH_RST) {
		nu_flow_free(u, f, true);
		return;
	}
	if (s->flags & TH_SYN) {
		/* A retransmitted SYN: resend the SYN-ACK (if there is one yet). */
		if (f->state == NU_TCP_SYN_RCVD && s->seq + 1 == f->rcv_nxt)
			nu_tcp_out(u, f, TH_SYN | TH_ACK, f->iss, 0, 0);
		return;
	}
	if (f->state == NU_TCP_CONNECTING || !(s->flags & TH_ACK))
		return;
	if (f->state == NU_TCP_SYN_RCVD) {
		if (s->ack != f->iss + 1) {
			nu_tcp_out(u, f, TH_RST, s->ack, 0, 0);
			return;
		}
		f->state = NU_TCP_ESTABLISHED;
		f->snd_una = s->ack;
		f->rto_at = 0;
	}
	nu_tcp_acked(u, f, s);
	nu_tcp_data(u, f, s);
	if (f->dead)
		return;
	nu_tcp_pump(u, f);
	if (!f->dead)
		nu_tcp_need_ack(u, f);
}

static void nu_tcp_input(struct net_user *u, const struct iphdr *ip, const u8 *p, u32 len,
			 bool partial)
{
	const struct tcphdr *th = (const struct tcphdr *)p;
	struct nu_flow *f;
	struct nu_seg s;
	struct nu_key k;
	u32 thlen;

	if (len < TCP_HDR || (thlen = th->th_off * 4) < TCP_HDR || thlen > len ||
	    (!partial && !nu_l4_csum_ok(ip->saddr, ip->daddr, IPPROTO_TCP, p, len))) {
		u->stats.malformed++;
		return;
	}
	s = (struct nu_seg){ .th = th, .seq = ntohl(th->th_seq), .ack = ntohl(th->th_ack),
			     .flags = th->th_flags, .data = p + thlen, .len = len - thlen };
	k = (struct nu_key){ .gaddr = ip->saddr, .daddr = ip->daddr,
			     .gport = th->th_sport, .dport = th->th_dport };
	f = nu_find(u, &k, IPPROTO_TCP);
	if (f && (s.flags & (TH_SYN | TH_ACK)) == TH_SYN && s.seq + 1 != f->rcv_nxt) {
		nu_flow_free(u, f, true);	/* the guest reuses the port: a new connection */
		f = NULL;
	}
	if (f) {
		nu_tcp_segment(u, f, &s);
		return;
	}
	if (s.flags & TH_RST)
		return;
	if ((s.flags & (TH_SYN | TH_ACK | TH_FIN)) == TH_SYN)
		nu_tcp_syn(u, ip, &k, &s);
	else
		nu_tcp_rst(u, ip, th, s.len);
}

/* ---- frames from the guest ---- */

static void nu_ip_input(struct net_user *u, const u8 *frame, size_t len, bool partial)
{
	const struct iphdr *ip = (const struct iphdr *)(frame + ETH_HDR);
	u32 hl, tot;

	len -= ETH_HDR;
	if (len < IP_HDR || ip->version != 4 || (hl = ip->ihl * 4) < IP_HDR || hl > len ||
	    (tot = ntohs(ip->tot_len)) < hl || tot > len ||
	    net__csum_fold(net__csum_add(0, ip, hl)) != 0xffff) {
		u->stats.malformed++;
		return;
	}
	if (ntohs(ip->frag_off) & (IP_MF | IP_OFFMASK))
		return;		/* fragments: not supported */
	switch (ip->protocol) {
	case IPPROTO_TCP:
		nu_tcp_input(u, ip, (const u8 *)ip + hl, tot - hl, partial);
		break;
	case IPPROTO_UDP:
		nu_udp_input(u, ip, (const u8 *)ip + hl, tot - hl, partial);
		break;
	case IPPROTO_ICMP:
		nu_icmp_input(u, ip, (const u8 *)ip + hl, tot - hl);
		break;
	default:
		break;
	}
}

static void nu_input(struct net_user *u, const u8 *frame, size_t len, bool partial)
{
	const struct ether_header *eh = (const struct ether_header *)frame;

	if (len < ETH_HDR) {
		u->stats.malformed++;
		return;
	}
	if (!(eh->ether_shost[0] & 1))
		memcpy(u->guest_mac, eh->ether_shost, ETH_ALEN);
	switch (ntohs(eh->ether_type)) {
	case ETHERTYPE_ARP:
		nu_arp_input(u, frame, len);
		break;
	case ETHERTYPE_IP:
		nu_ip_input(u, frame, len, partial);
		break;
	default:
		break;		/* IPv6 and the rest: not ours */
	}
}

/* ---- timers ---- */

static void nu_tcp_timer(struct net_user *u, struct nu_flow *f, u64 now)
{
	if (f->state == NU_TCP_CONNECTING) {
		if (now >= f->expires)
			nu_tcp_abort(u, f, true);
		return;
	}
	if ((f->fin_rcvd || f->host_eof) && f->expires && now >= f->expires) {
		nu_tcp_abort(u, f, true);
		return;
	}
	if (!f->rto_at || now < f->rto_at)
		return;
	f->rto_at = 0;
	if (f->state == NU_TCP_ESTABLISHED && f->snd_una == f->snd_max &&
	    (!f->s_len || (s32)(f->snd_una + f->snd_wnd - f->snd_nxt) > 0))
		return;		/* nothing in flight, no window to probe */
	if (++f->retries > NU_TCP_RETRIES) {
		nu_tcp_abort(u, f, true);
		return;
	}
	f->rto_ms = min_t(u32, f->rto_ms * 2, NU_RTO_MAX_MS);
	if (f->state == NU_TCP_SYN_RCVD) {
		nu_tcp_out(u, f, TH_SYN | TH_ACK, f->iss, 0, 0);
	} else if (f->snd_una != f->snd_max) {
		f->snd_nxt = f->snd_una;	/* go back N */
		nu_tcp_output(u, f);
	} else {
		/* Zero window: a probe below the window makes the guest tell its window. */
		nu_tcp_out(u, f, TH_ACK, f->snd_una - 1, 0, 0);
	}
	nu_tcp_arm(f);
}

static void nu_timers(struct net_user *u, u64 now)
{
	for (struct nu_flow *f = u->flows; f; f = f->next) {
		if (f->dead)
			continue;
		if (f->proto == IPPROTO_TCP)
			nu_tcp_timer(u, f, now);
		else if (now >= f->expires)
			nu_flow_free(u, f, false);
	}
}

/* ---- the stack's interface ---- */

static void nu_flush(struct net_user *u)
{
	while (u->ack_list) {
		struct nu_flow *f = u->ack_list;

		u->ack_list = f->ack_next;
		f->on_ack_list = false;
		if (!f->dead && f->need_ack)
			nu_tcp_ack_now(u, f);
	}
	if (u->rx_sent) {
		u->rx_sent = false;
		if (u->ops->rx_done)
			u->ops->rx_done(u->opaque);
	}
}

void net_user__input(struct net_user *u, const void *frame, size_t len, bool csum_partial)
{
	pthread_mutex_lock(&u->lock);
	nu_input(u, frame, len, csum_partial);
	pthread_mutex_unlock(&u->lock);
}

void net_user__flush(struct net_user *u)
{
	pthread_mutex_lock(&u->lock);
	nu_flush(u);
	pthread_mutex_unlock(&u->lock);
}

void net_user__rx_ready(struct net_user *u)
{
	pthread_mutex_lock(&u->lock);
	if (u->rx_blocked) {
		u->rx_blocked = false;
		if (nu_flush_pending(u)) {
			for (struct nu_flow *f = u->flows; f && !u->rx_blocked; f = f->next)
				if (!f->dead && f->proto == IPPROTO_TCP)
					nu_tcp_pump(u, f);
		} else {
			u->rx_blocked = true;
		}
	}
	nu_flush(u);
	pthread_mutex_unlock(&u->lock);
}

static void nu_event(struct net_user *u, struct nu_flow *f, u32 events)
{
	switch (f->proto) {
	case IPPROTO_TCP:
		nu_tcp_event(u, f, events);
		break;
	case IPPROTO_UDP:
		nu_udp_recv(u, f);
		break;
	case IPPROTO_ICMP:
		nu_icmp_recv(u, f);
		break;
	}
}

int net_user__poll(struct net_user *u, int timeout_ms)
{
	struct epoll_event ev[NU_EVENTS];
	u64 now;
	int n;

	pthread_mutex_lock(&u->lock);
	nu_reap(u);
	pthread_mutex_unlock(&u->lock);
	n = epoll_wait(u->epoll_fd, ev, NU_EVENTS, timeout_ms);
	pthread_mutex_lock(&u->lock);
	for (int i = 0; i < n; i++) {
		struct nu_flow *f = ev[i].data.ptr;
		u64 v;

		if (!f) {
			if (read(u->wake_fd, &v, sizeof(v)) < 0)
				v = 0;
			continue;
		}
		if (!f->dead)
			nu_event(u, f, ev[i].events);
	}
	now = nu_now();
	if (now >= u->next_tick) {
		nu_timers(u, now);
		u->next_tick = now + NU_TICK_MS * NS_PER_MS;
	}
	nu_flush(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

static void *nu_thread(void *arg)
{
	struct net_user *u = arg;

	pthread_setname_np(pthread_self(), "net-user");
	while (!__atomic_load_n(&u->stopping, __ATOMIC_ACQUIRE))
		net_user__poll(u, u->nr_tcp + u->nr_udp ? NU_TICK_MS : 1000);
	return NULL;
}

int net_user__start(struct net_user *u)
{
	if (u->running)
		return 0;
	u->stopping = false;
	if (seccomp__thread_create(&u->thread, SECCOMP_ROLE_IO, nu_thread, u))
		return -EAGAIN;
	u->running = true;
	return 0;
}

void net_user__stop(struct net_user *u)
{
	u64 one = 1;

	if (!u->running)
		return;
	__atomic_store_n(&u->stopping, true, __ATOMIC_RELEASE);
	if (write(u->wake_fd, &one, sizeof(one)) != sizeof(one))
		pr_warn("net-user: cannot wake the stack thread");
	pthread_join(u->thread, NULL);
	u->running = false;
}

void net_user__reset(struct net_user *u)
{
	pthread_mutex_lock(&u->lock);
	for (struct nu_flow *f = u->flows; f; f = f->next)
		nu_flow_free(u, f, true);
	while (u->pend_head) {
		struct nu_pkt *p = u->pend_head;

		u->pend_head = p->next;
		free(p);
	}
	u->pend_tail = NULL;
	u->nr_pend = 0;
	u->rx_blocked = false;
	pthread_mutex_unlock(&u->lock);
}

void net_user__set_offload(struct net_user *u, bool csum, bool tso4)
{
	pthread_mutex_lock(&u->lock);
	u->csum_offload = csum;
	u->tso = csum && tso4;
	pthread_mutex_unlock(&u->lock);
}

void net_user__get_stats(struct net_user *u, struct net_user_stats *s)
{
	pthread_mutex_lock(&u->lock);
	*s = u->stats;
	pthread_mutex_unlock(&u->lock);
}

int net_user__nr_flows(struct net_user *u)
{
	int n;

	pthread_mutex_lock(&u->lock);
	n = u->nr_tcp + u->nr_udp;
	pthread_mutex_unlock(&u->lock);
	return n;
}

/* The first IPv4 nameserver of /etc/resolv.conf, or 0. */
static u32 nu_resolver(void)
{
	FILE *fp = fopen("/etc/resolv.conf", "re");
	char line[256], addr[64];
	struct in_addr a;
	u32 ret = 0;

	if (!fp)
		return 0;
	while (!ret && fgets(line, sizeof(line), fp))
		if (sscanf(line, " nameserver %63s", addr) == 1 && inet_pton(AF_INET, addr, &a) == 1)
			ret = a.s_addr;
	fclose(fp);
	return ret;
}

struct net_user *net_user__new(const struct net_user_config *cfg,
			       const struct net_user_ops *ops, void *opaque)
{
	struct net_user *u = calloc(1, sizeof(*u));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	if (!u)
		return NULL;
	u->cfg = *cfg;
	u->out = u->out_buf + 2;	/* the IP header 4-byte aligned */
	u->ops = ops;
	u->opaque = opaque;
	memcpy(u->guest_mac, cfg->guest_mac, ETH_ALEN);
	u->dns_host = cfg->dns_host ? cfg->dns_host : nu_resolver();
	pthread_mutex_init(&u->lock, NULL);
	u->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	u->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->epoll_fd < 0 || u->wake_fd < 0 ||
	    epoll_ctl(u->epoll_fd, EPOLL_CTL_ADD, u->wake_fd, &ev)) {
		net_user__free(u);
		return NULL;
	}
	return u;
}

void net_user__free(struct net_user *u)
{
	if (!u)
		return;
	net_user__stop(u);
	net_user__reset(u);
	pthread_mutex_lock(&u->lock);
	while (u->ack_list) {
		u->ack_list->on_ack_list = false;
		u->ack_list = u->ack_list->ack_next;
	}
	nu_reap(u);
	pthread_mutex_unlock(&u->lock);
	if (u->epoll_fd >= 0)
		close(u->epoll_fd);
	if (u->wake_fd >= 0)
		close(u->wake_fd);
	free(u);
}
