/*
 * nettool: small network helpers for the rig's network cases, built static
 * and shipped both into the rig (/files/tools/nettool) and into the guest
 * initramfs (/bin/nettool). busybox has no UDP nc and no raw-frame sender.
 *
 *   nettool udp-echo-server PORT              echo UDP datagrams forever
 *   nettool udp-echo HOST PORT COUNT          COUNT round trips, each checked
 *   nettool tcp-echo-server PORT [N]          echo each connection until EOF
 *   nettool tcp-many HOST PORT N              N short connections in a row
 *   nettool tcp-send HOST PORT                stdin to HOST:PORT, then wait for EOF
 *   nettool tcp-recv HOST PORT                HOST:PORT to stdout
 *   nettool tcp-serve-file PORT FILE [N]      send FILE to N connections (default 1)
 *   nettool tcp-sink PORT                     one connection's data to stdout
 *   nettool tcp-blast HOST PORT SECS          send for SECS seconds to HOST:PORT
 *   nettool tcp-source PORT SECS              send for SECS seconds to one connection
 *   nettool garbage IFACE COUNT [SEED]        malformed frames on a packet socket
 *
 * Transfers print "NETTOOL bytes=N secs=S mibps=R" on stderr. Exit status 0
 * on success, 1 on any failure (with a message on stderr).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
	fprintf(stderr, "nettool: %s: %s\n", what, strerror(errno));
	return 1;
}

static void stats(unsigned long long bytes, double t0)
{
	double s = now() - t0;

	fprintf(stderr, "NETTOOL bytes=%llu secs=%.3f mibps=%.2f\n", bytes, s,
		s > 0 ? bytes / s / (1 << 20) : 0.0);
}

static struct sockaddr_in addr(const char *host, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };

	if (!host || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
	return sa;
}

static int listener(int type, const char *port)
{
	struct sockaddr_in sa = addr(NULL, port);
	int one = 1, fd = socket(AF_INET, type, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    (type == SOCK_STREAM && listen(fd, 64))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_to(const char *host, const char *port)
{
	struct sockaddr_in sa = addr(host, port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

/* Copy @in to @out until EOF: bytes copied, or -1. */
static long long pump(int in, int out)
{
	static char buf[1 << 16];
	long long total = 0;

	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			return total;
		if (write_all(out, buf, n))
			return -1;
		total += n;
	}
}

static int udp_echo_server(const char *port)
{
	int fd = listener(SOCK_DGRAM, port);
	char buf[65536];

	if (fd < 0)
		return die("bind");
	for (;;) {
		struct sockaddr_in from;
		socklen_t l = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &l);

		if (n >= 0)
			sendto(fd, buf, n, 0, (struct sockaddr *)&from, l);
	}
}

static int udp_echo(const char *host, const char *port, int count)
{
	struct sockaddr_in sa = addr(host, port);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ok = 0;
	char msg[64], buf[128];

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return die("udp connect");
	for (int i = 0; i < count; i++) {
		int len = snprintf(msg, sizeof(msg), "datagram %d of %d", i, count);

		for (int try = 0; try < 5; try++) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			ssize_t n;

			if (send(fd, msg, len, 0) != len)
				continue;
			if (poll(&p, 1, 1000) != 1)
				continue;
			n = recv(fd, buf, sizeof(buf), 0);
			if (n == len && !memcmp(buf, msg, len)) {
				ok++;
				break;
			}
		}
	}
	printf("UDP-ECHO-OK=%d/%d\n", ok, count);
	return ok == count ? 0 : 1;
}

static int tcp_echo_server(const char *port, int count)
{
	int lfd = listener(SOCK_STREAM, port);

	if (lfd < 0)
		return die("listen");
	for (int i = 0; !count || i < count; i++) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		pump(fd, fd);
		close(fd);
	}
	return 0;
}

static int tcp_many(const char *host, const char *port, int count)
{
	int ok = 0;
	double t0 = now();

	for (int i = 0; i < count; i++) {
		char msg[64], buf[128];
		int len = snprintf(msg, sizeof(msg), "connection %d\n", i), got = 0;
		int fd = connect_to(host, port);

		if (fd < 0) {
			fprintf(stderr, "nettool: connection %d: %s\n", i, strerror(errno));
			continue;
		}
		if (!write_all(fd, msg, len) && !shutdown(fd, SHUT_WR)) {
			ssize_t n;

			while ((n = read(fd, buf + got, sizeof(buf) - got)) > 0)
				got += n;
		}
		close(fd);
		if (got == len && !memcmp(buf, msg, len))
			ok++;
		else
			fprintf(stderr, "nettool: connection %d: got %d bytes back\n", i, got);
	}
	printf("TCP-MANY-OK=%d/%d\n", ok, count);
	fprintf(stderr, "NETTOOL connections=%d secs=%.3f\n", count, now() - t0);
	return ok == count ? 0 : 1;
}

/*
 * Write a fixed buffer to @fd for @secs seconds: bytes written, or -1. The
 * timed senders (tcp-blast, tcp-source) print this count, which includes
 * what still sat in socket buffers: the receiver's figure is the one to trust.
 */
static long long blast(int fd, double secs)
{
	static char buf[1 << 16];
	double end = now() + secs;
	long long total = 0;

	memset(buf, 0x5a, sizeof(buf));
	do {
		if (write_all(fd, buf, sizeof(buf)))
			return -1;
		total += sizeof(buf);
	} while (now() < end);
	return total;
}

/* Send stdin, or for @secs seconds a fixed buffer (secs > 0; see blast). */
static int tcp_send(const char *host, const char *port, double secs)
{
	int fd = connect_to(host, port);
	double t0 = now();
	long long n;
	char c;

	if (fd < 0)
		return die("connect");
	n = secs > 0 ? blast(fd, secs) : pump(0, fd);
	if (n < 0)
		return die("send");
	shutdown(fd, SHUT_WR);
	while (read(fd, &c, 1) > 0)
		;
	stats(n, t0);
	close(fd);
	return 0;
}

static int tcp_recv(const char *host, const char *port)
{
	int fd = connect_to(host, port);
	double t0 = now();
	long long n;

	if (fd < 0)
		return die("connect");
	n = pump(fd, 1);
	if (n < 0)
		return die("recv");
	stats(n, t0);
	close(fd);
	return 0;
}

/* Listen on @port and accept one connection: its fd, or -1 (said on stderr). */
static int accept_one(const char *port)
{
	int lfd = listener(SOCK_STREAM, port), fd;

	if (lfd < 0) {
		die("listen");
		return -1;
	}
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept");
	close(lfd);
	return fd;
}

static int tcp_source(const char *port, double secs)
{
	int fd = accept_one(port);
	double t0 = now();
	long long n;

	if (fd < 0)
		return 1;
	n = blast(fd, secs);
	if (n < 0)
		return die("send");
	stats(n, t0);
	close(fd);
	return 0;
}

static int tcp_serve_file(const char *port, const char *file, int count)
{
	int lfd = listener(SOCK_STREAM, port);

	if (lfd < 0)
		return die("listen");
	for (int i = 0; i < count; i++) {
		int fd = accept(lfd, NULL, NULL), in = open(file, 0);
		double t0 = now();
		long long n;

		if (fd < 0 || in < 0)
			return die("accept/open");
		n = pump(in, fd);
		stats(n < 0 ? 0 : n, t0);
		close(in);
		close(fd);
	}
	return 0;
}

static int tcp_sink(const char *port)
{
	int fd = accept_one(port);
	double t0 = now();
	long long n;

	if (fd < 0)
		return 1;
	n = pump(fd, 1);
	stats(n < 0 ? 0 : n, t0);
	close(fd);
	return n < 0;
}

/* ---- malformed frames ---- */

static uint64_t rs;

static uint32_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)rs;
}

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/*
 * One bad frame, to the gateway's MAC: random bytes; or Ethernet + a valid
 * IPv4 header over a random (but checksummed) TCP/UDP/ICMP payload, with
 * header lengths that lie; or truncated ARP and DHCP.
 */
static size_t bad_frame(uint8_t *f, const uint8_t *gw, const uint8_t *me)
{
	static const uint8_t protos[] = { 6, 17, 1, 6, 17 };
	uint32_t kind = rnd() % 6, src = htonl(0x0a00020f), dst = htonl(0x0a000202);
	size_t len = 14 + rnd() % 1500;
	uint8_t *ip = f + 14, *l4 = f + 34, p;
	uint32_t l4len, ps;

	for (size_t i = 0; i < len; i++)
		f[i] = rnd();
	memcpy(f, gw, 6);
	memcpy(f + 6, me, 6);
	if (kind == 0)
		return len;				/* random ethertype and bytes */
	if (kind == 1) {				/* ARP, any length */
		put16(f + 12, 0x0806);
		return 14 + rnd() % 40;
	}
	put16(f + 12, 0x0800);
	if (len < 34 + 8)
		len = 34 + 8;
	p = protos[rnd() % sizeof(protos)];
	ip[0] = kind == 2 ? 0x40 | (rnd() & 0xf) : 0x45;	/* a lying IHL */
	put16(ip + 2, kind == 3 ? rnd() : len - 14);	/* a lying total length */
	ip[6] = kind == 4 ? rnd() : 0x40;		/* fragments */
	ip[8] = 64;
	ip[9] = p;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, rnd() & 1 ? &dst : (uint32_t[]){ 0xffffffff }, 4);
	ip[10] = ip[11] = 0;
	put16(ip + 10, csum(ip, 20, 0));
	l4len = len - 34;
	if (p == 17 && rnd() % 2) {
		put16(l4, 68);
		put16(l4 + 2, 67);			/* DHCP with random options */
	}
	if (p == 6)
		l4[13] = rnd() % 2 ? 0x02 : rnd();	/* SYNs and random flags */
	ps = (ntohl(src) >> 16) + (ntohl(src) & 0xffff) + p + l4len;
	memcpy(&dst, ip + 16, 4);
	ps += (ntohl(dst) >> 16) + (ntohl(dst) & 0xffff);
	if (p == 6) {
		l4[16] = l4[17] = 0;
		put16(l4 + 16, csum(l4, l4len, ps));
	} else if (p == 17) {
		put16(l4 + 4, rnd() % 3 ? l4len : rnd());
		l4[6] = l4[7] = 0;			/* no checksum */
	} else {
		l4[2] = l4[3] = 0;
		put16(l4 + 2, csum(l4, l4len, 0));
	}
	return len;
}

static int garbage(const char *ifname, int count, unsigned seed)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(0x0003)), idx = if_nametoindex(ifname);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = idx, .sll_halen = 6 };
	uint8_t f[1600], me[6] = { 0 }, gw[6] = { 0x02, 0x01, 0x01, 0x01, 0x01, 0x01 };
	char path[64];
	FILE *fp;
	int sent = 0;

	rs = 88172645463325252ull ^ seed;
	if (fd < 0 || !idx)
		return die("packet socket");
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	fp = fopen(path, "r");
	if (fp) {
		if (fscanf(fp, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &me[0], &me[1], &me[2], &me[3],
			   &me[4], &me[5]) != 6)
			memset(me, 0, 6);
		fclose(fp);
	}
	for (int i = 0; i < count; i++) {
		size_t len = bad_frame(f, gw, me);

		memcpy(sll.sll_addr, gw, 6);
		if (sendto(fd, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) >= 0)
			sent++;
		else if (errno == ENOBUFS)
			usleep(1000);
	}
	printf("GARBAGE-SENT=%d\n", sent);
	return sent ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(c, "udp-echo-server") && argc == 3)
		return udp_echo_server(argv[2]);
	if (!strcmp(c, "udp-echo") && argc == 5)
		return udp_echo(argv[2], argv[3], atoi(argv[4]));
	if (!strcmp(c, "tcp-echo-server") && argc >= 3)
		return tcp_echo_server(argv[2], argc > 3 ? atoi(argv[3]) : 0);
	if (!strcmp(c, "tcp-many") && argc == 5)
		return tcp_many(argv[2], argv[3], atoi(argv[4]));
	if (!strcmp(c, "tcp-send") && argc == 4)
		return tcp_send(argv[2], argv[3], 0);
	if (!strcmp(c, "tcp-recv") && argc == 4)
		return tcp_recv(argv[2], argv[3]);
	if (!strcmp(c, "tcp-serve-file") && argc >= 4)
		return tcp_serve_file(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 1);
	if (!strcmp(c, "tcp-sink") && argc == 3)
		return tcp_sink(argv[2]);
	if (!strcmp(c, "tcp-blast") && argc == 5)
		return tcp_send(argv[2], argv[3], atof(argv[4]));
	if (!strcmp(c, "tcp-source") && argc == 4)
		return tcp_source(argv[2], atof(argv[3]));
	if (!strcmp(c, "garbage") && argc >= 4)
		return garbage(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 1);
	fprintf(stderr, "usage: see the top of tests/tools/nettool.c\n");
	return 2;
}
