/*
 * The user-mode network stack without a guest: the test builds the guest's
 * frames (ARP, DHCP, TCP, UDP, ICMP), captures what the stack sends back,
 * and runs the stack's event loop on its own thread. Real loopback sockets
 * stand in for the host's servers. Garbage and every truncation of valid
 * frames must be dropped without harm.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "virtio/net.h"

#define GUEST_IP	"10.0.2.15"
#define HOST_IP		"10.0.2.2"
#define DNS_IP		"10.0.2.3"
#define MAX_CAP		8192

static const u8 guest_mac[6] = { 0x02, 0x15, 0x15, 0x15, 0x15, 0x15 };
static const u8 host_mac[6] = { 0x02, 0x01, 0x01, 0x01, 0x01, 0x01 };

/* ---- what the stack sends the guest ---- */

struct cap {
	u8				*frame[MAX_CAP];
	size_t				len[MAX_CAP];
	struct virtio_net_hdr_v1	hdr[MAX_CAP];
	int				head, tail;
	bool				full;		/* pretend the guest has no buffers */
	int				done;
};

static int cap_rx(void *opaque, const struct virtio_net_hdr_v1 *hdr, const void *frame,
		  size_t len)
{
	struct cap *c = opaque;

	if (c->full || c->tail - c->head >= MAX_CAP)
		return -EAGAIN;
	c->frame[c->tail % MAX_CAP] = malloc(len);
	memcpy(c->frame[c->tail % MAX_CAP], frame, len);
	c->len[c->tail % MAX_CAP] = len;
	c->hdr[c->tail % MAX_CAP] = *hdr;
	c->tail++;
	return 0;
}

static void cap_done(void *opaque)
{
	((struct cap *)opaque)->done++;
}

static const struct net_user_ops cap_ops = { .rx = cap_rx, .rx_done = cap_done };

/* Take the next captured frame into @buf: its length, 0 if none. */
static size_t cap_take(struct cap *c, u8 *buf, size_t size, struct virtio_net_hdr_v1 *hdr)
{
	size_t len;

	if (c->head == c->tail)
		return 0;
	len = c->len[c->head % MAX_CAP];
	memcpy(buf, c->frame[c->head % MAX_CAP], min_t(size_t, len, size));
	if (hdr)
		*hdr = c->hdr[c->head % MAX_CAP];
	free(c->frame[c->head % MAX_CAP]);
	c->head++;
	return len;
}

static void cap_clear(struct cap *c)
{
	u8 buf[16];

	while (cap_take(c, buf, sizeof(buf), NULL))
		;
}

/* ---- the test's stack ---- */

struct t {
	struct net_user	*u;
	struct cap	cap;
};

static u32 ip(const char *s)
{
	return inet_addr(s);
}

static bool t_init(struct t *t)
{
	struct net_user_config c = {
		.guest_ip = ip(GUEST_IP), .host_ip = ip(HOST_IP), .dns_ip = ip(DNS_IP),
		.dns_host = ip("127.0.0.1"),
	};

	memset(t, 0, sizeof(*t));
	memcpy(c.guest_mac, guest_mac, 6);
	memcpy(c.host_mac, host_mac, 6);
	t->u = net_user__new(&c, &cap_ops, &t->cap);
	return t->u != NULL;
}

static void t_exit(struct t *t)
{
	net_user__free(t->u);
	cap_clear(&t->cap);
}

/* Run the stack's loop until a frame comes (or @ms pass): its length. */
static size_t t_wait(struct t *t, u8 *buf, size_t size, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		size_t n = cap_take(&t->cap, buf, size, NULL);

		if (n)
			return n;
		net_user__poll(t->u, 10);
	}
	return cap_take(&t->cap, buf, size, NULL);
}

/* ---- building the guest's frames ---- */

/* The reference checksum: big-endian 16-bit words, as RFC 1071 writes it. */
static u16 ref_csum(const u8 *p, size_t len, u32 sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static u32 ref_pseudo(u32 s, u32 d, u8 proto, u32 len)
{
	s = ntohl(s);
	d = ntohl(d);
	return (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff) + proto + len;
}

static size_t mk_eth(u8 *f, u16 type)
{
	memcpy(f, host_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = type >> 8;
	f[13] = type & 0xff;
	return 14;
}

/* Ethernet + IPv4 for @l4len bytes; the L4 header goes at f + 34. */
static void mk_ip(u8 *f, u8 proto, u32 saddr, u32 daddr, size_t l4len)
{
	u8 *h = f + 14;
	u16 c;

	mk_eth(f, 0x0800);
	memset(h, 0, 20);
	h[0] = 0x45;
	h[2] = (20 + l4len) >> 8;
	h[3] = (20 + l4len) & 0xff;
	h[6] = 0x40;
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, &saddr, 4);
	memcpy(h + 16, &daddr, 4);
	c = htons(ref_csum(h, 20, 0));
	memcpy(h + 10, &c, 2);
}

static void put16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(u8 *p, u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static u16 get16(const u8 *p)
{
	return p[0] << 8 | p[1];
}

static u32 get32(const u8 *p)
{
	return (u32)get16(p) << 16 | get16(p + 2);
}

enum { FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16 };

/* A TCP segment from the guest's port @sport to @daddr:@dport; @opts: 1 MSS, 2 MSS+WS. */
static size_t mk_tcp_to(u8 *f, u32 daddr, u16 sport, u16 dport, u32 seq, u32 ack, u8 flags,
			u16 win, const void *data, size_t len, int opts)
{
	size_t thlen = opts == 2 ? 28 : opts ? 24 : 20;
	u8 *th = f + 34;
	u16 c;

	memset(th, 0, thlen);
	put16(th, sport);
	put16(th + 2, dport);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = thlen / 4 << 4;
	th[13] = flags;
	put16(th + 14, win);
	if (opts) {
		u8 o[8] = { 2, 4, 1460 >> 8, 1460 & 0xff, 1, 3, 3, 7 };

		memcpy(th + 20, o, thlen - 20);
	}
	if (len)
		memcpy(th + thlen, data, len);
	mk_ip(f, 6, ip(GUEST_IP), daddr, thlen + len);
	c = htons(ref_csum(th, thlen + len, ref_pseudo(ip(GUEST_IP), daddr, 6, thlen + len)));
	memcpy(th + 16, &c, 2);
	return 34 + thlen + len;
}

static size_t mk_tcp(u8 *f, u16 sport, u16 dport, u32 seq, u32 ack, u8 flags, u16 win,
		     const void *data, size_t len, bool syn_opts)
{
	return mk_tcp_to(f, ip(HOST_IP), sport, dport, seq, ack, flags, win, data, len,
			 syn_opts ? 2 : 0);
}

static size_t mk_udp(u8 *f, u32 saddr, u32 daddr, u16 sport, u16 dport, const void *data,
		     size_t len)
{
	u8 *uh = f + 34;
	u16 c;

	put16(uh, sport);
	put16(uh + 2, dport);
	put16(uh + 4, 8 + len);
	put16(uh + 6, 0);
	memcpy(uh + 8, data, len);
	mk_ip(f, 17, saddr, daddr, 8 + len);
	c = htons(ref_csum(uh, 8 + len, ref_pseudo(saddr, daddr, 17, 8 + len)));
	memcpy(uh + 6, &c, 2);
	return 42 + len;
}

static size_t mk_dhcp(u8 *f, u8 type, const char *want)
{
	u8 d[300] = { 1, 1, 6, 0, 0x12, 0x34, 0x56, 0x78 };
	u8 *o = d + 240;

	memcpy(d + 28, guest_mac, 6);
	put32(d + 236, 0x63825363);
	*o++ = 53;
	*o++ = 1;
	*o++ = type;
	if (want) {
		u32 a = ip(want);

		*o++ = 50;
		*o++ = 4;
		memcpy(o, &a, 4);
		o += 4;
	}
	*o++ = 255;
	return mk_udp(f, 0, ip("255.255.255.255"), 68, 67, d, sizeof(d));
}

/* ---- checking the stack's frames ---- */

/* A valid IPv4 frame to the guest of @proto: the L4 header, its length in @l4len. */
static const u8 *rx_l4(const u8 *f, size_t len, u8 proto, size_t *l4len)
{
	const u8 *h = f + 14;
	size_t tot;

	if (len < 34 || get16(f + 12) != 0x0800 || memcmp(f, guest_mac, 6) ||
	    memcmp(f + 6, host_mac, 6) || h[0] != 0x45 || h[9] != proto ||
	    ref_csum(h, 20, 0) != 0)
		return NULL;
	tot = get16(h + 2);
	if (tot < 20 || tot + 14 > len)
		return NULL;
	*l4len = tot - 20;
	return h + 20;
}

static bool l4_csum_ok(const u8 *f, const u8 *l4, size_t len, u8 proto)
{
	u32 s, d;

	memcpy(&s, f + 26, 4);
	memcpy(&d, f + 30, 4);
	return ref_csum(l4, len, ref_pseudo(s, d, proto, len)) == 0;
}

/* ---- tests ---- */

/*
 * Frames go in as lkvm's transmit path hands them over (virtio/net.c): at
 * an address 2 bytes past a multiple of 4, so the IP header is aligned.
 */
static void t_input(struct net_user *u, const void *f, size_t len, bool partial)
{
	static u8 buf[2 + 70000] __attribute__((aligned(8)));

	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	memcpy(buf + 2, f, len);
	net_user__input(u, buf + 2, len, partial);
}

TEST(net_csum_matches_rfc1071)
{
	static const u8 rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	u8 buf[1001];

	CHECK_EQ(ntohs(net__csum_fold(net__csum_add(0, rfc, sizeof(rfc)))), 0xddf2);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(buf); len += 37) {
		u16 ours = ~net__csum_fold(net__csum_add(0, buf, len));

		CHECK_EQ(ntohs(ours), ref_csum(buf, len, 0));
	}
	/* Split sums add up when the split is at an even offset. */
	CHECK_EQ(net__csum_fold(net__csum_add(net__csum_add(0, buf, 500), buf + 500, 501)),
		 net__csum_fold(net__csum_add(0, buf, 1001)));
}

TEST(net_user_arp_reply_for_the_gateway)
{
	struct t t;
	u8 f[64] = { 0 }, r[128];
	size_t n;
	u32 gw = ip(HOST_IP), me = ip(GUEST_IP), other = ip("10.0.2.77");

	if (!t_init(&t)) {
		CHECK(!"net_user__new");
		return;
	}
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1);
	memcpy(f + 22, guest_mac, 6);
	memcpy(f + 28, &me, 4);
	memcpy(f + 38, &gw, 4);
	t_input(t.u, f, 42, false);
	net_user__flush(t.u);
	n = cap_take(&t.cap, r, sizeof(r), NULL);
	CHECK_EQ(n, 60);
	CHECK(!memcmp(r, guest_mac, 6) && !memcmp(r + 6, host_mac, 6));
	CHECK_EQ(get16(r + 12), 0x0806);
	CHECK_EQ(get16(r + 20), 2);
	CHECK(!memcmp(r + 22, host_mac, 6));
	CHECK(!memcmp(r + 28, &gw, 4));
	CHECK(!memcmp(r + 32, guest_mac, 6));
	CHECK(!memcmp(r + 38, &me, 4));
	CHECK(t.cap.done >= 1);
	/* Nobody else on the network answers, and neither does the guest's own address. */
	memcpy(f + 38, &other, 4);
	t_input(t.u, f, 42, false);
	memcpy(f + 38, &me, 4);
	t_input(t.u, f, 42, false);
	CHECK_EQ(cap_take(&t.cap, r, sizeof(r), NULL), 0);
	t_exit(&t);
}

/* The DHCP message in a captured frame, and its type option. */
static const u8 *dhcp_reply(const u8 *r, size_t n, int *type)
{
	size_t l4len;
	const u8 *uh = rx_l4(r, n, 17, &l4len), *d, *o;

	*type = -1;
	if (!uh || l4len < 8 + 240 || get16(uh) != 67 || get16(uh + 2) != 68)
		return NULL;
	d = uh + 8;
	for (o = d + 240; o < d + l4len - 8 && *o != 255; o += 2 + o[1])
		if (o[0] == 53)
			*type = o[2];
	return d;
}

static bool dhcp_has(const u8 *d, size_t len, u8 code, const char *addr)
{
	u32 a = ip(addr);

	for (const u8 *o = d + 240; o + 2 < d + len && *o != 255; o += 2 + o[1])
		if (o[0] == code && o[1] == 4 && !memcmp(o + 2, &a, 4))
			return true;
	return false;
}

TEST(net_user_dhcp_offer_ack_nak)
{
	struct t t;
	u8 f[600], r[2048];
	const u8 *d;
	size_t n;
	int type;
	u32 yi = ip(GUEST_IP);

	if (!t_init(&t)) {
		CHECK(!"net_user__new");
		return;
	}
	t_input(t.u, f, mk_dhcp(f, 1, NULL), false);
	n = cap_take(&t.cap, r, sizeof(r), NULL);
	d = dhcp_reply(r, n, &type);
	CHECK(d != NULL);
	if (d) {
		CHECK_EQ(type, 2);			/* OFFER */
		CHECK_EQ(get32(d + 4), 0x12345678);	/* xid */
		CHECK(!memcmp(d + 16, &yi, 4));
		CHECK(!memcmp(d + 28, guest_mac, 6));
		CHECK(dhcp_has(d, n - 42, 1, "255.255.255.0"));
		CHECK(dhcp_has(d, n - 42, 3, HOST_IP));
		CHECK(dhcp_has(d, n - 42, 6, DNS_IP));
		CHECK(dhcp_has(d, n - 42, 54, HOST_IP));
		CHECK(l4_csum_ok(r, r + 34, n - 34, 17));
	}
	t_input(t.u, f, mk_dhcp(f, 3, GUEST_IP), false);
	n = cap_take(&t.cap, r, sizeof(r), NULL);
	d = dhcp_reply(r, n, &type);
	CHECK(d && type == 5);				/* ACK */
	t_input(t.u, f, mk_dhcp(f, 3, "10.0.2.99"), false);
	n = cap_take(&t.cap, r, sizeof(r), NULL);
	d = dhcp_reply(r, n, &type);
	CHECK(d && type == 6);				/* NAK */
	t_exit(&t);
}

TEST(net_user_icmp_echo_to_gateway)
{
	struct t t;
	u8 f[256], r[256];
	u8 *ic = f + 34;
	size_t n, l4len;
	const u8 *rp;
	u16 c;

	if (!t_init(&t)) {
		CHECK(!"net_user__new");
		return;
	}
	memset(ic, 0, 64);
	ic[0] = 8;
	put16(ic + 4, 0x4242);
	put16(ic + 6, 7);
	memcpy(ic + 8, "ping payload", 12);
	c = htons(ref_csum(ic, 64, 0));
	memcpy(ic + 2, &c, 2);
	mk_ip(f, 1, ip(GUEST_IP), ip(HOST_IP), 64);
	t_input(t.u, f, 34 + 64, false);
	n = cap_take(&t.cap, r, sizeof(r), NULL);
	rp = rx_l4(r, n, 1, &l4len);
	CHECK(rp && l4len == 64);
	if (rp) {
		CHECK_EQ(rp[0], 0);
		CHECK_EQ(get16(rp + 4), 0x4242);
		CHECK(!memcmp(rp + 8, "ping payload", 12));
		CHECK_EQ(ref_csum(rp, 64, 0), 0);
		CHECK(!memcmp(r + 26, f + 30, 4));	/* from the gateway */
	}
	t_exit(&t);
}

static int listen_tcp(u16 *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&sa, &l))
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

/* The next TCP segment to the guest: flags, seq, ack, window, payload. */
struct seg {
	u8		flags;
	u32		seq, ack;
	u16		win;
	const u8	*data;
	size_t		len;
	const u8	*opt;
	size_t		optlen;
};

static bool parse_seg(const u8 *r, size_t n, struct seg *s)
{
	size_t l4len, thlen;
	const u8 *th = rx_l4(r, n, 6, &l4len);

	if (!th || l4len < 20 || (thlen = (th[12] >> 4) * 4) < 20 || thlen > l4len ||
	    !l4_csum_ok(r, th, l4len, 6))
		return false;
	s->flags = th[13];
	s->seq = get32(th + 4);
	s->ack = get32(th + 8);
	s->win = get16(th + 14);
	s->opt = th + 20;
	s->optlen = thlen - 20;
	s->data = th + thlen;
	s->len = l4len - thlen;
	return true;
}

static bool wait_seg(struct t *t, u8 *r, size_t size, struct seg *s, int ms)
{
	size_t n = t_wait(t, r, size, ms);

	return n && parse_seg(r, n, s);
}

TEST(net_user_tcp_syn_to_listening_port_gets_syn_ack)
{
	struct t t;
	u8 f[2048], r[4096];
	struct seg s;
	u16 port;
	int lfd = listen_tcp(&port), cfd;
	char buf[64];

	if (lfd < 0 || !t_init(&t)) {
		CHECK(!"setup");
		return;
	}
	t_input(t.u, f, mk_tcp(f, 40000, port, 1000, 0, SYN, 65535, NULL, 0, true), false);
	CHECK(wait_seg(&t, r, sizeof(r), &s, 2000));
	CHECK_EQ(s.flags, SYN | ACK);
	CHECK_EQ(s.ack, 1001);
	CHECK(s.optlen >= 4 && s.opt[0] == 2 && get16(s.opt + 2) == 1460);
	CHECK_EQ(net_user__nr_flows(t.u), 1);
	cfd = accept(lfd, NULL, NULL);
	CHECK(cfd >= 0);
	/* Handshake done; data goes to the host socket and is acknowledged. */
	t_input(t.u, f, mk_tcp(f, 40000, port, 1001, s.seq + 1, ACK, 65535, NULL, 0, false),
			false);
	t_input(t.u, f, mk_tcp(f, 40000, port, 1001, s.seq + 1, ACK | PSH, 65535, "hello", 5,
					false), false);
	net_user__flush(t.u);
	CHECK_EQ(read(cfd, buf, sizeof(buf)), 5);
	CHECK(wait_seg(&t, r, sizeof(r), &s, 1000));
	CHECK_EQ(s.ack, 1006);
	CHECK_EQ(s.len, 0);
	/* The host answers and closes: data, then FIN. */
	CHECK_EQ(write(cfd, "world", 5), 5);
	close(cfd);
	CHECK(wait_seg(&t, r, sizeof(r), &s, 2000));
	CHECK(s.len == 5 && !memcmp(s.data, "world", 5));
	if (!(s.flags & FIN))
		CHECK(wait_seg(&t, r, sizeof(r), &s, 2000) && (s.flags & FIN));
	/* The guest acks everything and closes its side: the flow is gone. */
	t_input(t.u, f, mk_tcp(f, 40000, port, 1006, s.seq + s.len + 1, ACK | FIN, 65535,
					NULL, 0, false), false);
	net_user__flush(t.u);
	CHECK(wait_seg(&t, r, sizeof(r), &s, 1000));
	CHECK_EQ(s.ack, 1007);
	net_user__poll(t.u, 0);
	CHECK_EQ(net_user__nr_flows(t.u), 0);
	close(lfd);
	t_exit(&t);
}

TEST(net_user_tcp_closed_port_and_stray_segments_get_rst)
{
	struct t t;
	u8 f[2048], r[4096];
	struct seg s;
	u16 port;
	int lfd = listen_tcp(&port);

	close(lfd);		/* nothing listens on @port now */
	if (!t_init(&t)) {
		CHECK(!"net_user__new");
		return;
	}
	t_input(t.u, f, mk_tcp(f, 40001, port, 5000, 0, SYN, 65535, NULL, 0, true), false);
	CHECK(wait_seg(&t, r, sizeof(r), &s, 2000));
	CHECK(s.flags & RST);
	CHECK_EQ(s.ack, 5001);
	net_user__poll(t.u, 0);
	CHECK_EQ(net_user__nr_flows(t.u), 0);
	/* An ACK for a connection that does not exist. */
	t_input(t.u, f, mk_tcp(f, 40002, port, 7, 99, ACK, 65535, "x", 1, false), false);
	CHECK(wait_seg(&t, r, sizeof(r), &s, 100));
	CHECK_EQ(s.flags, RST);
	CHECK_EQ(s.seq, 99);
	/* Destinations that are nowhere on the host: RST at once. */
	t_input(t.u, f, mk_tcp_to(f, ip("10.0.2.77"), 40003, 80, 1, 0, SYN, 65535,
					   NULL, 0, 1), false);
	CHECK(wait_seg(&t, r, sizeof(r), &s, 100));
	CHECK_EQ(s.flags, RST | ACK);
	CHECK_EQ(net_user__nr_flows(t.u), 0);
	t_exit(&t);
}

struct bulk_server {
	int		lfd;
	size_t		size;
	u8		*data;
	pthread_t	th;
};

static void *bulk_serve(void *arg)
{
	struct bulk_server *b = arg;
	int fd = accept(b->lfd, NULL, NULL);
	size_t done = 0;

	while (fd >= 0 && done < b->size) {
		ssize_t n = write(fd, b->data + done, b->size - done);

		if (n <= 0)
			break;
		done += n;
	}
	close(fd);
	return NULL;
}

/* The guest side of a download: acks what arrives in order, checks every byte. */
static size_t guest_download(struct t *t, u16 port, const u8 *want, size_t size, u16 win,
			     int opts, int *bad)
{
	u8 f[256], r[70000];
	struct seg s;
	u32 rcv = 0, iss = 0;
	size_t got = 0;
	int idle = 0;

	t_input(t->u, f, mk_tcp_to(f, ip(HOST_IP), 41000, port, 100, 0, SYN, 65535, NULL,
					   0, opts), false);
	if (!wait_seg(t, r, sizeof(r), &s, 2000) || s.flags != (SYN | ACK))
		return 0;
	iss = s.seq;
	rcv = iss + 1;
	t_input(t->u, f, mk_tcp(f, 41000, port, 101, rcv, ACK, win, NULL, 0, false), false);
	net_user__flush(t->u);
	while (idle < 300) {
		size_t n = cap_take(&t->cap, r, sizeof(r), NULL);

		if (!n) {
			net_user__poll(t->u, 10);
			idle++;
			continue;
		}
		idle = 0;
		if (!parse_seg(r, n, &s)) {
			(*bad)++;
			continue;
		}
		if (s.seq == rcv && s.len) {
			if (got + s.len > size || memcmp(s.data, want + got, s.len))
				(*bad)++;
			got += s.len;
			rcv += s.len;
		}
		if (s.flags & FIN && s.seq + s.len == rcv) {
			rcv++;
			t_input(t->u, f, mk_tcp(f, 41000, port, 101, rcv, ACK | FIN, win,
							NULL, 0, false), false);
			net_user__flush(t->u);
			break;
		}
		t_input(t->u, f, mk_tcp(f, 41000, port, 101, rcv, ACK, win, NULL, 0, false),
				false);
		net_user__flush(t->u);
	}
	for (int i = 0; i < 10; i++)
		net_user__poll(t->u, 5);
	return got;
}

static void bulk_download(u16 win, int opts)
{
	struct bulk_server b = { .size = 4 << 20 };
	struct t t;
	u16 port;
	int bad = 0;
	size_t got;

	b.lfd = listen_tcp(&port);
	b.data = malloc(b.size);
	for (size_t i = 0; i < b.size; i++)
		b.data[i] = (u8)(i * 2654435761u >> 13);
	if (b.lfd < 0 || !t_init(&t)) {
		CHECK(!"setup");
		return;
	}
	pthread_create(&b.th, NULL, bulk_serve, &b);
	got = guest_download(&t, port, b.data, b.size, win, opts, &bad);
	CHECK_EQ(got, b.size);
	CHECK_EQ(bad, 0);
	CHECK_EQ(net_user__nr_flows(t.u), 0);
	pthread_join(b.th, NULL);
	close(b.lfd);
	free(b.data);
	t_exit(&t);
}

TEST(net_user_tcp_bulk_download_is_intact)
{
	bulk_download(65535, 2);	/* window scaling: up to 8 MiB in flight */
	bulk_download(3000, 1);		/* a small window: many window-limited rounds */
}

/* With the guest out of buffers, frames wait (control) or stay unsent (data). */
TEST(net_user_rx_full_then_ready)
{
	struct t t;
	u8 f[2048], r[4096];
	struct seg s;
	u16 port;
	int lfd = listen_tcp(&port), cfd;

	if (lfd < 0 || !t_init(&t)) {
		CHECK(!"setup");
		return;
	}
	t.cap.full = true;
	t_input(t.u, f, mk_tcp(f, 40010, port, 1, 0, SYN, 65535, NULL, 0, true), false);
	for (int i = 0; i < 50 && !net_user__nr_flows(t.u); i++)
		net_user__poll(t.u, 10);
	for (int i = 0; i < 20; i++)
		net_user__poll(t.u, 10);
	CHECK_EQ(cap_take(&t.cap, r, sizeof(r), NULL), 0);
	t.cap.full = false;
	net_user__rx_ready(t.u);
	CHECK(wait_seg(&t, r, sizeof(r), &s, 100) && s.flags == (SYN | ACK));
	cfd = accept(lfd, NULL, NULL);
	t_input(t.u, f, mk_tcp(f, 40010, port, 2, s.seq + 1, ACK, 65535, NULL, 0, false),
			false);
	t.cap.full = true;
	CHECK_EQ(write(cfd, "late", 4), 4);
	for (int i = 0; i < 20; i++)
		net_user__poll(t.u, 10);
	CHECK_EQ(cap_take(&t.cap, r, sizeof(r), NULL), 0);
	t.cap.full = false;
	net_user__rx_ready(t.u);
	CHECK(wait_seg(&t, r, sizeof(r), &s, 500) && s.len == 4 && !memcmp(s.data, "late", 4));
	close(cfd);
	close(lfd);
	t_exit(&t);
}

TEST(net_user_udp_round_trip)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) },
			   from;
	socklen_t l = sizeof(sa);
	struct pollfd p;
	struct t t;
	u8 f[2048], r[2048];
	char buf[64];
	size_t n, l4len;
	const u8 *uh;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &l) || !t_init(&t)) {
		CHECK(!"setup");
		return;
	}
	t_input(t.u, f, mk_udp(f, ip(GUEST_IP), ip(HOST_IP), 5555, ntohs(sa.sin_port),
					"ping", 4), false);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	CHECK_EQ(poll(&p, 1, 2000), 1);
	l = sizeof(from);
	CHECK_EQ(recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &l), 4);
	CHECK_EQ(sendto(fd, "pong!", 5, 0, (struct sockaddr *)&from, l), 5);
	n = t_wait(&t, r, sizeof(r), 2000);
	uh = rx_l4(r, n, 17, &l4len);
	CHECK(uh && l4len == 13);
	if (uh) {
		CHECK_EQ(get16(uh), ntohs(sa.sin_port));
		CHECK_EQ(get16(uh + 2), 5555);
		CHECK(!memcmp(uh + 8, "pong!", 5));
		CHECK(l4_csum_ok(r, uh, l4len, 17));
		CHECK(!memcmp(r + 26, f + 30, 4));	/* from 10.0.2.2 */
	}
	CHECK_EQ(net_user__nr_flows(t.u), 1);
	close(fd);
	t_exit(&t);
}

/* Offloads: partial checksums and TSO frames to the guest, big TSO frames from it. */
TEST(net_user_offloads)
{
	struct bulk_server b = { .size = 256 << 10 };
	struct virtio_net_hdr_v1 hdr;
	struct t t;
	u8 f[70000], *r = malloc(70000);
	u16 port;
	size_t n;
	bool saw_gso = false;

	b.lfd = listen_tcp(&port);
	b.data = calloc(1, b.size);
	if (b.lfd < 0 || !t_init(&t)) {
		CHECK(!"setup");
		return;
	}
	net_user__set_offload(t.u, true, true);
	pthread_create(&b.th, NULL, bulk_serve, &b);
	t_input(t.u, f, mk_tcp(f, 41001, port, 100, 0, SYN, 65535, NULL, 0, true), false);
	n = t_wait(&t, r, 70000, 2000);
	CHECK(n > 54);
	t_input(t.u, f, mk_tcp(f, 41001, port, 101, get32(r + 38) + 1, ACK, 65535, NULL,
					0, false), false);
	net_user__flush(t.u);
	for (int i = 0; i < 100 && !saw_gso; i++) {
		while ((n = cap_take(&t.cap, r, 70000, &hdr))) {
			CHECK(hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
			CHECK_EQ(hdr.csum_start, 34);
			CHECK_EQ(hdr.csum_offset, 16);
			if (hdr.gso_type == VIRTIO_NET_HDR_GSO_TCPV4) {
				saw_gso = true;
				CHECK(n > 1514 && n <= 14 + 65535);
				CHECK(hdr.gso_size == 1460 && hdr.hdr_len == 54);
			}
		}
		net_user__poll(t.u, 10);
	}
	CHECK(saw_gso);
	/* A 60000-byte segment from the guest (TSO), partial checksum: taken whole. */
	cap_clear(&t.cap);
	n = mk_tcp(f, 41001, port, 101, 0, ACK | PSH, 65535, b.data, 60000, false);
	t_input(t.u, f, n, true);
	net_user__flush(t.u);
	n = t_wait(&t, r, 70000, 500);
	CHECK(n >= 54 && get32(r + 42) == 101 + 60000);
	pthread_join(b.th, NULL);
	close(b.lfd);
	free(b.data);
	free(r);
	t_exit(&t);
}

static u64 rnd_state = 88172645463325252ull;

static u32 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (u32)rnd_state;
}

TEST(net_user_survives_malformed_frames)
{
	struct net_user_stats st;
	struct t t;
	u8 good[8][700], f[2048];
	size_t len[8];
	u16 port;
	int lfd = listen_tcp(&port);

	if (lfd < 0 || !t_init(&t)) {
		CHECK(!"setup");
		return;
	}
	len[0] = mk_dhcp(good[0], 1, NULL);
	len[1] = mk_tcp(good[1], 40100, port, 1, 0, SYN, 65535, NULL, 0, true);
	len[2] = mk_udp(good[2], ip(GUEST_IP), ip(HOST_IP), 5000, 9, "abc", 3);
	len[3] = mk_tcp(good[3], 40101, port, 1, 0, ACK | PSH, 65535, "data", 4, false);
	len[4] = mk_udp(good[4], ip(GUEST_IP), ip(DNS_IP), 5001, 53, "\x12\x34", 2);
	memcpy(good[5], good[0], len[0]);
	len[5] = len[0];
	good[5][42 + 241] = 200;	/* a DHCP option running past the end */
	memcpy(good[6], good[1], len[1]);
	len[6] = len[1];
	good[6][34 + 21] = 40;		/* a TCP option running past the header */
	len[7] = mk_tcp(good[7], 40102, port, 1, 0, SYN, 65535, NULL, 0, true);
	good[7][34 + 12] = 0xf0;	/* data offset past the segment */
	/* Every truncation of every frame, claimed checksums and all. */
	for (int k = 0; k < 8; k++)
		for (size_t n = 0; n <= len[k]; n++) {
			t_input(t.u, good[k], n, false);
			t_input(t.u, good[k], n, true);
		}
	/* Random garbage, and garbage behind valid Ethernet/IP headers. */
	for (int i = 0; i < 20000; i++) {
		size_t n = rnd() % sizeof(f);

		for (size_t j = 0; j < n; j++)
			f[j] = rnd();
		if (i & 1)
			memcpy(f, good[i % 8], 34);
		if (i & 2)
			f[14] = 0x40 | (rnd() & 0xf);
		t_input(t.u, f, n, i & 4);
		if (!(i % 1000))
			net_user__poll(t.u, 0);
	}
	net_user__flush(t.u);
	for (int i = 0; i < 20; i++)
		net_user__poll(t.u, 5);
	net_user__get_stats(t.u, &st);
	CHECK(st.malformed > 1000);
	CHECK(net_user__nr_flows(t.u) <= 128 + 512);
	/* Still works. */
	cap_clear(&t.cap);
	t_input(t.u, f, mk_dhcp(f, 1, NULL), false);
	{
		int type;
		u8 r[1024];
		size_t n = cap_take(&t.cap, r, sizeof(r), NULL);

		CHECK(dhcp_reply(r, n, &type) && type == 2);
	}
	close(lfd);
	t_exit(&t);
}

TEST(net_user_bounds_the_flows)
{
	struct t t;
	u8 f[256], r[256];
	u16 port;
	int lfd = listen_tcp(&port), rsts = 0;
	size_t n;
	struct seg s;

	if (lfd < 0 || !t_init(&t)) {
		CHECK(!"setup");
		return;
	}
	for (int i = 0; i < 600; i++)
		t_input(t.u, f, mk_tcp(f, 20000 + i, port, 1, 0, SYN, 65535, NULL, 0, true),
				false);
	CHECK_EQ(net_user__nr_flows(t.u), 512);
	while ((n = cap_take(&t.cap, r, sizeof(r), NULL)))
		rsts += parse_seg(r, n, &s) && (s.flags & RST);
	CHECK_EQ(rsts, 88);
	net_user__reset(t.u);
	CHECK_EQ(net_user__nr_flows(t.u), 0);
	close(lfd);
	t_exit(&t);
}
