/*
 * virtio-net: one device per -n/--network. Queues: receiveq/transmitq pairs
 * (2i, 2i + 1), then the control queue when there are several pairs.
 * Without -n (and without --nodefaults) the guest gets one NIC in user mode.
 *
 *   mode=user   frames go to the user-mode stack (virtio/net-user.c): guest
 *               transmits on the device's I/O thread, the stack's thread
 *               answers from the host sockets. One queue pair.
 *   mode=tap    transmits are written to the tap on the I/O thread; a
 *               receive thread per pair reads the tap. With vhost=1 vhost-net
 *               does both in the kernel (virtio/net-tap.c), or, when it
 *               cannot, lkvm says so and uses its own data path. With several
 *               vCPUs (or mq=N) the tap is multiqueue, one queue per pair
 *               (VIRTIO_NET_F_MQ); the pairs the driver does not use are
 *               detached from the tap.
 *
 * Every frame carries the 12-byte virtio_net_hdr_v1: from the guest it goes
 * to the tap as it is; to the guest num_buffers is ours. With MRG_RXBUF a
 * frame spans as many receive buffers as it needs: buffers taken from the
 * ring for a frame that did not fit yet stay reserved for the next try.
 */
#include "virtio/net.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"
#include "kvm/devices.h"
#include "kvm/kvm.h"
#include "kvm/seccomp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/virtio_ids.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define NET_QUEUE_SIZE		256
#define NET_MAX_PAIRS		8
#define NET_HDR			sizeof(struct virtio_net_hdr_v1)
#define NET_FRAME_MAX		(65535 + 14 + 4)	/* an IP packet, Ethernet, VLAN */
#define NET_BUF			(NET_HDR + NET_FRAME_MAX)
#define NET_RX_SEGS		24	/* in-buffers used of one receive chain */
#define NET_RX_RESERVE		64	/* receive chains one frame may span */
#define NET_RX_BATCH		64	/* frames between interrupts, at most */

#define NET_F(x)		(1ull << VIRTIO_NET_F_##x)
#define NET_FEATURES		(NET_F(MAC) | NET_F(STATUS) | NET_F(MRG_RXBUF) | NET_F(CSUM) | \
				 NET_F(GUEST_CSUM) | NET_F(HOST_TSO4) | NET_F(GUEST_TSO4))
#define NET_TAP_FEATURES	(NET_FEATURES | NET_F(HOST_TSO6) | NET_F(GUEST_TSO6) | \
				 NET_F(HOST_ECN) | NET_F(GUEST_ECN))
/* What vhost-net itself must support: the rest is the tap's business. */
#define NET_VHOST_FEATURES	(NET_F(MRG_RXBUF) | (1ull << VIRTIO_F_VERSION_1) | \
				 (1ull << VIRTIO_RING_F_EVENT_IDX) | \
				 (1ull << VIRTIO_RING_F_INDIRECT_DESC))

#define NET_DEFAULT_GUEST_MAC	"02:15:15:15:15:15"
#define NET_DEFAULT_HOST_MAC	"02:01:01:01:01:01"
#define NET_USER_GUEST_IP	"10.0.2.15"
#define NET_USER_HOST_IP	"10.0.2.2"
#define NET_TAP_HOST_IP		"192.168.33.1"

/* A receive chain taken from the ring, not used yet. */
struct net_rxbuf {
	u16		head;
	u16		nr;
	u32		len;
	struct iovec	iov[NET_RX_SEGS];
};

struct net_dev;

/* One receive/transmit queue pair. */
struct net_queue {
	struct net_dev		*n;
	int			index;
	struct virtio_queue	*rx, *tx;
	/* The receive side: the tap thread or the user stack, under rx_lock. */
	pthread_mutex_t		rx_lock;
	bool			rx_pushed;	/* an interrupt is owed */
	struct virtio_req	rx_req;
	struct net_rxbuf	rx_bufs[NET_RX_RESERVE];
	int			nr_rx_bufs;
	/* The transmit side: the I/O thread only. */
	struct virtio_req	tx_req;
	/* mode=tap */
	int			tap_fd;
	u8			*rx_buf;
	pthread_t		rx_thread;
	bool			rx_running;
	int			rx_wake_fd;	/* receive buffers were posted */
	int			rx_stop_fd;
	bool			attached;	/* the tap hands this queue frames */
	struct vhost_net	*vhost;
	bool			vhost_running;
};

struct net_dev {
	struct virtio_dev		vdev;
	struct virtio_dev_ops		ops;
	struct net_config		cfg;
	int				index;
	struct virtio_net_config	config;
	u16				nr_pairs;
	u16				active;		/* pairs the driver uses */
	bool				started;	/* under every rx_lock */
	bool				mrg;		/* MRG_RXBUF negotiated */
	bool				guest_csum;
	bool				vhost_on;	/* vhost owns the data path */
	struct net_queue		*q;
	struct virtio_queue		*ctrl;		/* when CTRL_VQ was negotiated */
	struct virtio_req		ctrl_req;
	u8				*tx_buf;	/* user mode: one frame, I/O thread */
	struct net_user			*user;
};

/* ---- options ---- */

static int net__parse_mac(u8 *mac, const char *s)
{
	char end;

	if (sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%c", &mac[0], &mac[1], &mac[2],
		   &mac[3], &mac[4], &mac[5], &end) != 6 || strlen(s) != 17 || (mac[0] & 1))
		return -1;
	return 0;
}

static int net__parse_ip(u32 *ip, const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ip = a.s_addr;
	return 0;
}

static int net__parse_bool(bool *b, const char *s)
{
	if (!strcmp(s, "1") || !strcmp(s, "on") || !strcmp(s, "yes"))
		*b = true;
	else if (!strcmp(s, "0") || !strcmp(s, "off") || !strcmp(s, "no"))
		*b = false;
	else
		return -1;
	return 0;
}

static int net__parse_mode(struct net_config *n, const char *v)
{
	if (!strcmp(v, "user"))
		n->mode = NET_MODE_USER;
	else if (!strcmp(v, "tap"))
		n->mode = NET_MODE_TAP;
	else if (!strcmp(v, "none"))
		n->mode = NET_MODE_NONE;
	else
		return -1;
	return 0;
}

/* One key=value of -n: 0, 1 for an unknown key, -1 for a bad value. */
static int net__parse_kv(struct net_config *n, const char *k, const char *v)
{
	if (!strcmp(k, "mode"))
		return net__parse_mode(n, v);
	if (!strcmp(k, "tapif")) {
		if (!*v || strlen(v) >= sizeof(n->tapif) || strchr(v, '/'))
			return -1;
		strcpy(n->tapif, v);
		return 0;
	}
	if (!strcmp(k, "guest_mac"))
		return net__parse_mac(n->guest_mac, v);
	if (!strcmp(k, "host_mac"))
		return net__parse_mac(n->host_mac, v);
	if (!strcmp(k, "guest_ip"))
		return net__parse_ip(&n->guest_ip, v);
	if (!strcmp(k, "host_ip"))
		return net__parse_ip(&n->host_ip, v);
	if (!strcmp(k, "vhost"))
		return net__parse_bool(&n->vhost, v);
	if (!strcmp(k, "mq")) {
		char *end;
		long q = strtol(v, &end, 10);

		if (*end || q < 1 || q > NET_MAX_PAIRS)
			return -1;
		n->mq = q;
		return 0;
	}
	if (!strcmp(k, "script")) {
		n->script = *v ? strdup(v) : NULL;
		return n->script ? 0 : -1;
	}
	if (!strcmp(k, "downscript"))
		return strcmp(v, "none") ? -1 : 0;
	return 1;
}

/* Defaults for what the user left out, by mode; and what does not go together. */
static int net__finish(struct net_config *n, const char *arg, int index)
{
	u8 zero[6] = { 0 };

	if (!memcmp(n->guest_mac, zero, 6)) {
		net__parse_mac(n->guest_mac, NET_DEFAULT_GUEST_MAC);
		n->guest_mac[5] += index;
	}
	if (!memcmp(n->host_mac, zero, 6))
		net__parse_mac(n->host_mac, NET_DEFAULT_HOST_MAC);
	if (n->mode == NET_MODE_USER) {
		if (!n->guest_ip)
			net__parse_ip(&n->guest_ip, NET_USER_GUEST_IP);
		if (!n->host_ip)
			net__parse_ip(&n->host_ip, NET_USER_HOST_IP);
		if (n->vhost || n->tapif[0] || n->script || n->mq > 1) {
			pr_err("--network %s: vhost, tapif, script and mq need mode=tap", arg);
			return -1;
		}
		if ((n->guest_ip ^ n->host_ip) & htonl(0xffffff00) || n->guest_ip == n->host_ip) {
			pr_err("--network %s: guest_ip and host_ip must differ, in one /24", arg);
			return -1;
		}
	} else if (!n->host_ip) {
		net__parse_ip(&n->host_ip, NET_TAP_HOST_IP);
	}
	return 0;
}

int net__parse(struct net_config *n, const char *arg, int index)
{
	char *s = strdup(arg), *save = NULL, *tok;
	int ret = 0;

	memset(n, 0, sizeof(*n));
	n->tap_fd = -1;
	if (!s)
		return -1;
	if (!strcmp(s, "none") || !strcmp(s, "user") || !strcmp(s, "tap")) {
		net__parse_mode(n, s);		/* kvmtool's short forms */
		goto out;
	}
	for (tok = strtok_r(s, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok) {
			pr_err("--network: malformed option '%s' in '%s' (expected key=value)", tok, arg);
			ret = -1;
			break;
		}
		*eq = 0;
		ret = net__parse_kv(n, tok, eq + 1);
		if (ret > 0)
			pr_err("--network: unknown option '%s' in '%s' (expected mode, tapif, "
			       "guest_mac, host_mac, guest_ip, host_ip, vhost, mq or script)", tok, arg);
		else if (ret < 0 && !strcmp(tok, "mode"))
			pr_err("--network: unknown mode '%s' (expected user, tap or none)", eq + 1);
		else if (ret < 0)
			pr_err("--network: bad value '%s' for %s in '%s'", eq + 1, tok, arg);
		ret = ret ? -1 : 0;
	}
	if (!strchr(arg, ',') && !*s && !ret) {
		pr_err("--network needs an argument (mode=user|tap|none[,...])");
		ret = -1;
	}
out:
	free(s);
	return ret ? -1 : net__finish(n, arg, index);
}

int net__add(struct kvm_config *cfg, const char *arg)
{
	struct net_config n;

	if (net__parse(&n, arg, cfg->nr_nets))
		return -1;
	if (n.mode == NET_MODE_NONE) {
		cfg->no_net = true;
		return 0;
	}
	if (cfg->nr_nets >= MAX_NETS) {
		pr_err("too many network devices (at most %d)", MAX_NETS);
		return -1;
	}
	cfg->nets[cfg->nr_nets++] = n;
	return 0;
}

/*
 * Queue pairs of a tap NIC: mq=, else one per vCPU. A tap that exists
 * without IFF_MULTI_QUEUE takes one pair.
 */
static int net__open_tap(struct net_config *n, int nr_cpus)
{
	int pairs = n->mq ? n->mq : min_t(int, max_t(int, nr_cpus, 1), NET_MAX_PAIRS);

	if (!n->mq && n->tapif[0] && !tap__multiqueue(n->tapif))
		pairs = 1;
	n->mq = pairs;
	n->tap_fd = tap__open(n, pairs > 1);
	return n->tap_fd;
}

int net__setup(struct kvm_config *cfg)
{
	if (cfg->no_net) {
		cfg->nr_nets = 0;
		return 0;
	}
	if (!cfg->nr_nets && !cfg->nodefaults && net__add(cfg, "mode=user"))
		return -1;
	for (int i = 0; i < cfg->nr_nets; i++) {
		struct net_config *n = &cfg->nets[i];

		if (n->mode != NET_MODE_TAP || n->tap_fd >= 0)
			continue;
		if (net__open_tap(n, cfg->nr_cpus) < 0)
			return -1;
	}
	return 0;
}

/* ---- the receive side ---- */

static void net__iov_copy(const struct iovec *iov, int nr, size_t off, const void *src, size_t len)
{
	const u8 *p = src;

	for (int i = 0; i < nr && len; i++) {
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = min_t(size_t, iov[i].iov_len - off, len);
		memcpy((u8 *)iov[i].iov_base + off, p, n);
		p += n;
		len -= n;
		off = 0;
	}
}

/* Take receive chains until @need bytes fit (one chain without MRG_RXBUF). rx_lock held. */
static bool net__rx_reserve(struct net_queue *q, u32 need)
{
	struct virtio_req *req = &q->rx_req;
	u32 room = 0;

	for (int i = 0; i < q->nr_rx_bufs; i++)
		room += q->rx_bufs[i].len;
	while (room < need && q->nr_rx_bufs < NET_RX_RESERVE && (q->n->mrg || !q->nr_rx_bufs)) {
		struct net_rxbuf *b = &q->rx_bufs[q->nr_rx_bufs];

		if (virtq__pop(q->rx, req) <= 0)
			return false;
		b->head = req->head;
		b->nr = min_t(u16, req->nr_in, NET_RX_SEGS);
		b->len = 0;
		for (u16 i = 0; i < b->nr; i++) {
			b->iov[i] = req->iov[req->nr_out + i];
			b->len += b->iov[i].iov_len;
		}
		/* It could never be used: kept, it would stall receiving until a reset. */
		if (b->len < NET_HDR) {
			virtio_dev__fail(&q->n->vdev,
					 "a receive buffer has no room for the virtio-net header");
			return false;
		}
		room += b->len;
		q->nr_rx_bufs++;
	}
	return q->nr_rx_bufs > 0 && room >= min_t(u32, need, NET_HDR);
}

/* Return reserved chain @b to the driver with @written bytes. rx_lock held. */
static void net__rx_push(struct net_queue *q, const struct net_rxbuf *b, u32 written)
{
	/* virtq__push needs the head and the room of the request. */
	q->rx_req.head = b->head;
	q->rx_req.in_len = b->len;
	virtq__push(q->rx, &q->rx_req, written);
}

/* Copy one frame with its header into receive buffers: 0, or -EAGAIN. rx_lock held. */
static int net__rx_put(struct net_queue *q, const struct virtio_net_hdr_v1 *in,
		       const void *frame, size_t len)
{
	struct virtio_net_hdr_v1 hdr = *in;
	u32 need = NET_HDR + len, done = 0;
	int used = 0;

	if (!q->n->started || !net__rx_reserve(q, need))
		return -EAGAIN;
	if (!q->n->guest_csum)
		hdr.flags = 0;
	for (u32 room = 0; used < q->nr_rx_bufs && room < need; used++)
		room += q->rx_bufs[used].len;
	hdr.num_buffers = used;
	for (int i = 0; i < used; i++) {
		struct net_rxbuf *b = &q->rx_bufs[i];
		u32 w = min_t(u32, b->len, need - done), off = 0;

		if (done < NET_HDR) {
			off = min_t(u32, w, NET_HDR - done);
			net__iov_copy(b->iov, b->nr, 0, (u8 *)&hdr + done, off);
		}
		if (w > off)
			net__iov_copy(b->iov, b->nr, off, (const u8 *)frame + done + off - NET_HDR,
				      w - off);
		net__rx_push(q, b, w);
		done += w;
	}
	q->nr_rx_bufs -= used;
	memmove(q->rx_bufs, q->rx_bufs + used, q->nr_rx_bufs * sizeof(q->rx_bufs[0]));
	q->rx_pushed = true;
	__atomic_fetch_add(&q->n->vdev.stats.bytes, len, __ATOMIC_RELAXED);
	return 0;
}

static void net__rx_done(struct net_queue *q)
{
	pthread_mutex_lock(&q->rx_lock);
	if (q->rx_pushed) {
		q->rx_pushed = false;
		virtq__notify(q->rx);
	}
	pthread_mutex_unlock(&q->rx_lock);
}

static int net__rx_frame(struct net_queue *q, const struct virtio_net_hdr_v1 *hdr,
			 const void *frame, size_t len)
{
	int ret;

	pthread_mutex_lock(&q->rx_lock);
	ret = net__rx_put(q, hdr, frame, len);
	pthread_mutex_unlock(&q->rx_lock);
	return ret;
}

/* ---- mode=user ---- */

static int net__user_rx(void *opaque, const struct virtio_net_hdr_v1 *hdr,
			const void *frame, size_t len)
{
	return net__rx_frame(opaque, hdr, frame, len);
}

static void net__user_rx_done(void *opaque)
{
	net__rx_done(opaque);
}

static const struct net_user_ops net__user_ops = {
	.rx		= net__user_rx,
	.rx_done	= net__user_rx_done,
};

/* ---- mode=tap: the receive threads ---- */

/* Wait for @fd or the stop request: true to stop. */
static bool net__tap_wait(struct net_queue *q, int fd)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = q->rx_stop_fd, .events = POLLIN } };

	while (poll(p, 2, -1) < 0)
		if (errno != EINTR)
			return true;
	return p[1].revents != 0;
}

static void net__drain(int fd)
{
	u64 v;

	if (read(fd, &v, sizeof(v)) < 0)
		v = 0;
}

static void *net__tap_rx_thread(void *arg)
{
	struct net_queue *q = arg;
	struct virtio_net_hdr_v1 *hdr = (void *)q->rx_buf;
	u8 *frame = q->rx_buf + NET_HDR;
	ssize_t len = 0;
	int batch = 0;

	pthread_setname_np(pthread_self(), "virtio-net-rx");
	for (;;) {
		if (!len) {
			len = read(q->tap_fd, q->rx_buf, NET_BUF);
			if (len < (ssize_t)NET_HDR + 14) {
				if (len < 0 && errno == EAGAIN) {
					net__rx_done(q);
					batch = 0;
					if (net__tap_wait(q, q->tap_fd))
						return NULL;
				}
				len = 0;
				continue;
			}
		}
		if (net__rx_frame(q, hdr, frame, len - NET_HDR)) {
			/* No buffers: clear the wake-up, look again, then sleep on it. */
			net__drain(q->rx_wake_fd);
			if (net__rx_frame(q, hdr, frame, len - NET_HDR)) {
				net__rx_done(q);
				batch = 0;
				if (net__tap_wait(q, q->rx_wake_fd))
					return NULL;
				continue;
			}
		}
		len = 0;
		if (++batch >= NET_RX_BATCH) {
			net__rx_done(q);
			batch = 0;
		}
	}
}

static int net__tap_start_rx(struct net_queue *q)
{
	if (q->rx_running || !q->rx->ready)
		return 0;
	net__drain(q->rx_stop_fd);
	if (seccomp__thread_create(&q->rx_thread, SECCOMP_ROLE_IO, net__tap_rx_thread, q))
		return -EAGAIN;
	q->rx_running = true;
	return 0;
}

static void net__tap_stop_rx(struct net_queue *q)
{
	u64 one = 1;

	if (!q->rx_running)
		return;
	if (write(q->rx_stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(q->rx_thread, NULL);
	q->rx_running = false;
}

/* ---- queue pairs ---- */

static int net__tap_attach(struct net_dev *n, struct net_queue *q, bool on)
{
	int ret;

	if (n->nr_pairs == 1 || q->attached == on)
		return 0;
	ret = tap__enable_queue(q->tap_fd, on);
	if (!ret)
		q->attached = on;
	return ret;
}

/* Serve pair @q: its tap queue attached, its vhost-net or receive thread running. */
static int net__pair_on(struct net_dev *n, struct net_queue *q)
{
	int ret = net__tap_attach(n, q, true);

	if (ret || !q->rx->ready || !q->tx->ready)
		return ret;
	if (n->vhost_on && !q->vhost_running) {
		ret = vhost_net__start(q->vhost, &n->vdev, 2 * q->index, q->tap_fd);
		q->vhost_running = !ret;
	} else if (!n->vhost_on && n->started) {
		ret = net__tap_start_rx(q);
	}
	return ret;
}

/* Stop serving pair @q (@detach: and take its tap queue away). */
static void net__pair_off(struct net_dev *n, struct net_queue *q, bool detach)
{
	if (q->vhost_running)
		vhost_net__stop(q->vhost);
	q->vhost_running = false;
	net__tap_stop_rx(q);
	if (detach)
		net__tap_attach(n, q, false);
}

/*
 * The driver uses pairs [0, @pairs): only their tap queues get frames.
 * 0, or -errno with the pairs in use as they were.
 */
static int net__set_pairs(struct net_dev *n, u16 pairs)
{
	int ret = 0;
	u16 i;

	for (i = 0; i < pairs && !ret; i++)
		ret = net__pair_on(n, &n->q[i]);
	if (ret) {
		while (i-- > n->active)
			net__pair_off(n, &n->q[i], true);
		return ret;
	}
	for (; i < n->nr_pairs; i++)
		net__pair_off(n, &n->q[i], true);
	n->active = pairs;
	return 0;
}

/* ---- the transmit side ---- */

static void net__tx_one(struct net_queue *q, const struct virtio_req *req)
{
	struct net_dev *n = q->n;
	struct virtio_net_hdr_v1 hdr;
	size_t len;
	int fd;

	if (req->out_len < NET_HDR)
		return;
	__atomic_fetch_add(&n->vdev.stats.bytes, req->out_len - NET_HDR, __ATOMIC_RELAXED);
	if (!n->user) {
		/* The tap takes our header as it is; a full tap queue drops the frame. */
		fd = q->index < n->active ? q->tap_fd : n->q[0].tap_fd;
		if (writev(fd, req->iov, req->nr_out) < 0 && errno != EAGAIN)
			pr_debug("virtio-net %d: tap write: %s", n->index, strerror(errno));
		return;
	}
	/* The frame at tx_buf + 2: its IP header 4-byte aligned. */
	virtio_req__read(req, 0, &hdr, NET_HDR);
	len = virtio_req__read(req, NET_HDR, n->tx_buf + 2, NET_FRAME_MAX);
	net_user__input(n->user, n->tx_buf + 2, len, hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
}

static void net__tx(struct net_queue *q)
{
	bool pushed = false;

	while (virtq__pop(q->tx, &q->tx_req) > 0) {
		net__tx_one(q, &q->tx_req);
		virtq__push(q->tx, &q->tx_req, 0);
		pushed = true;
	}
	if (q->n->user)
		net_user__flush(q->n->user);
	if (pushed)
		virtq__notify(q->tx);
}

/* The control queue: only VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET is offered. */
static void net__ctrl(struct net_dev *n)
{
	struct virtio_req *req = &n->ctrl_req;
	bool pushed = false;

	while (virtq__pop(n->ctrl, req) > 0) {
		struct virtio_net_ctrl_hdr h;
		struct virtio_net_ctrl_mq mq;
		u8 status = VIRTIO_NET_ERR;

		if (virtio_req__read(req, 0, &h, sizeof(h)) == sizeof(h) &&
		    h.class == VIRTIO_NET_CTRL_MQ && h.cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET &&
		    virtio_req__read(req, sizeof(h), &mq, sizeof(mq)) == sizeof(mq) &&
		    mq.virtqueue_pairs >= 1 && mq.virtqueue_pairs <= n->nr_pairs) {
			if (!net__set_pairs(n, mq.virtqueue_pairs))
				status = VIRTIO_NET_OK;
			else
				pr_warn("virtio-net %d: cannot use %u queue pairs", n->index,
					mq.virtqueue_pairs);
		}
		virtq__push(n->ctrl, req, virtio_req__write(req, 0, &status, 1));
		pushed = true;
	}
	if (pushed)
		virtq__notify(n->ctrl);
}

static void net__notify(struct virtio_dev *vdev, struct virtio_queue *vq)
{
	struct net_dev *n = vdev->priv;
	struct net_queue *q;
	u64 one = 1;

	if (vq == n->ctrl) {
		net__ctrl(n);
		return;
	}
	if (vq->index >= 2 * n->nr_pairs)
		return;
	q = &n->q[vq->index / 2];
	/* A kick taken just before vhost got the fd: vhost_net__start kicks again. */
	if (__atomic_load_n(&n->vhost_on, __ATOMIC_ACQUIRE))
		return;
	if (vq == q->tx)
		net__tx(q);
	else if (n->user)
		net_user__rx_ready(n->user);
	else if (write(q->rx_wake_fd, &one, sizeof(one)) < 0)
		pr_debug("virtio-net %d: lost a receive kick", n->index);
}

/* ---- device lifecycle ---- */

/* vhost-net would not start: lkvm's data path from now on. */
static void net__vhost_fallback(struct net_dev *n, int err)
{
	pr_warn("virtio-net %d: vhost-net did not start (%s); using lkvm's data path",
		n->index, strerror(-err));
	for (u16 i = 0; i < n->nr_pairs; i++) {
		net__pair_off(n, &n->q[i], false);
		vhost_net__close(n->q[i].vhost);
		n->q[i].vhost = NULL;
	}
	n->active = 0;
	__atomic_store_n(&n->vhost_on, false, __ATOMIC_RELEASE);
}

static void net__set_started(struct net_dev *n, bool started)
{
	for (u16 i = 0; i < n->nr_pairs; i++)
		pthread_mutex_lock(&n->q[i].rx_lock);
	n->started = started;
	for (u16 i = 0; i < n->nr_pairs; i++) {
		if (!started) {
			n->q[i].nr_rx_bufs = 0;
			n->q[i].rx_pushed = false;
		}
		pthread_mutex_unlock(&n->q[i].rx_lock);
	}
}

/* FEATURES_OK, before any kick: without MQ the control queue follows the first pair. */
static int net__set_features(struct virtio_dev *vdev, u64 features)
{
	struct net_dev *n = vdev->priv;

	n->ctrl = NULL;
	if (features & NET_F(CTRL_VQ))
		n->ctrl = &vdev->vqs[features & NET_F(MQ) ? 2 * n->nr_pairs : 2];
	return 0;
}

static int net__start(struct virtio_dev *vdev)
{
	struct net_dev *n = vdev->priv;
	int ret = 0;

	n->mrg = virtio_dev__has_feature(vdev, VIRTIO_NET_F_MRG_RXBUF);
	n->guest_csum = virtio_dev__has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM);
	if (n->user) {
		net__set_started(n, true);
		net_user__set_offload(n->user, n->guest_csum,
				      virtio_dev__has_feature(vdev, VIRTIO_NET_F_GUEST_TSO4));
		return net_user__start(n->user);
	}
	if (tap__set_offload(n->q[0].tap_fd, vdev->guest_features))
		pr_warn("virtio-net %d: tap %s refuses the offloads", n->index, n->cfg.tapif);
	/* Until the driver says otherwise (VIRTIO_NET_CTRL_MQ), pair 0 only. */
	n->active = 0;
	if (n->vhost_on) {
		ret = net__set_pairs(n, 1);
		if (!ret)
			return 0;
		net__vhost_fallback(n, ret);
	}
	net__set_started(n, true);
	return net__set_pairs(n, 1);
}

/* Nothing touches the old driver's rings after this. */
static void net__reset(struct virtio_dev *vdev)
{
	struct net_dev *n = vdev->priv;

	for (u16 i = 0; i < n->nr_pairs; i++)
		net__pair_off(n, &n->q[i], false);
	if (n->user)
		net_user__stop(n->user);
	net__set_started(n, false);
	if (n->user)
		net_user__reset(n->user);
}

static void net__config_read(struct virtio_dev *vdev, u32 off, void *data, u32 len)
{
	struct net_dev *n = vdev->priv;

	memcpy(data, (u8 *)&n->config + off, len);
}

static const struct virtio_dev_ops net__ops = {
	.name		= "net",
	.device_id	= VIRTIO_ID_NET,
	.queue_size	= NET_QUEUE_SIZE,
	.config_size	= sizeof(struct virtio_net_config),
	.config_read	= net__config_read,
	.set_features	= net__set_features,
	.start		= net__start,
	.reset		= net__reset,
	.notify		= net__notify,
};

static void net__destroy(struct net_dev *n)
{
	for (u16 i = 0; n->q && i < n->nr_pairs; i++) {
		struct net_queue *q = &n->q[i];

		vhost_net__close(q->vhost);
		if (q->tap_fd >= 0)
			close(q->tap_fd);
		if (q->rx_wake_fd >= 0)
			close(q->rx_wake_fd);
		if (q->rx_stop_fd >= 0)
			close(q->rx_stop_fd);
		free(q->rx_buf);
	}
	net_user__free(n->user);
	free(n->q);
	free(n->tx_buf);
	free(n);
}

static int net__init_user(struct net_dev *n)
{
	struct net_user_config uc = {
		.guest_ip = n->cfg.guest_ip,
		.host_ip = n->cfg.host_ip,
		.dns_ip = (n->cfg.host_ip & htonl(0xffffff00)) | htonl(3),
	};

	if (uc.dns_ip == uc.guest_ip || uc.dns_ip == uc.host_ip)
		uc.dns_ip = uc.host_ip;
	memcpy(uc.guest_mac, n->cfg.guest_mac, 6);
	memcpy(uc.host_mac, n->cfg.host_mac, 6);
	n->tx_buf = malloc(NET_FRAME_MAX + 2);
	n->user = net_user__new(&uc, &net__user_ops, &n->q[0]);
	return n->user && n->tx_buf ? 0 : -ENOMEM;
}

/* vhost=1: open vhost-net now, so that the features offered are what it can do. */
static void net__init_vhost(struct net_dev *n)
{
	u64 f = NET_VHOST_FEATURES;

	for (u16 i = 0; i < n->nr_pairs; i++) {
		n->q[i].vhost = vhost_net__open();
		if (!n->q[i].vhost) {
			pr_warn("virtio-net %d: /dev/vhost-net is unusable (%s); using lkvm's data path",
				n->index, strerror(errno));
			break;
		}
		f = vhost_net__features(n->q[i].vhost, f);
	}
	if (n->q[n->nr_pairs - 1].vhost && !(f & (1ull << VIRTIO_F_VERSION_1)))
		pr_warn("virtio-net %d: vhost-net lacks VIRTIO_F_VERSION_1; using lkvm's data path",
			n->index);
	if (!n->q[n->nr_pairs - 1].vhost || !(f & (1ull << VIRTIO_F_VERSION_1))) {
		for (u16 i = 0; i < n->nr_pairs; i++) {
			vhost_net__close(n->q[i].vhost);
			n->q[i].vhost = NULL;
		}
		return;
	}
	n->vdev.host_features &= ~NET_VHOST_FEATURES | f;
	n->vhost_on = true;	/* from now on only vhost touches the rings */
}

/* Pair @i's tap queue, eventfds and buffer. */
static int net__init_tap_queue(struct net_dev *n, struct net_queue *q, int i, int first_fd)
{
	q->tap_fd = i ? tap__open_queue(n->cfg.tapif) : first_fd;
	q->attached = true;
	q->rx_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->rx_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->rx_buf = malloc(NET_BUF);
	if (q->tap_fd < 0)
		return q->tap_fd;
	return q->rx_wake_fd < 0 || q->rx_stop_fd < 0 || !q->rx_buf ? -ENOMEM : 0;
}

static int net__init_queues(struct net_dev *n, struct net_config *c)
{
	int ret = 0;

	n->q = calloc(n->nr_pairs, sizeof(*n->q));
	if (!n->q)
		return -ENOMEM;
	for (u16 i = 0; i < n->nr_pairs; i++) {
		struct net_queue *q = &n->q[i];

		q->n = n;
		q->index = i;
		q->tap_fd = q->rx_wake_fd = q->rx_stop_fd = -1;
		pthread_mutex_init(&q->rx_lock, NULL);
	}
	for (u16 i = 0; i < n->nr_pairs && c->mode == NET_MODE_TAP && !ret; i++)
		ret = net__init_tap_queue(n, &n->q[i], i, c->tap_fd);
	c->tap_fd = -1;			/* the device owns it now */
	return ret;
}

static struct net_dev *net__create(struct kvm *kvm, struct net_config *c, int index)
{
	struct net_dev *n = calloc(1, sizeof(*n));
	int ret;

	if (!n)
		return NULL;
	n->cfg = *c;
	n->index = index;
	n->nr_pairs = c->mode == NET_MODE_TAP ? max_t(int, c->mq, 1) : 1;
	memcpy(n->config.mac, c->guest_mac, 6);
	n->config.status = VIRTIO_NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = n->nr_pairs;
	n->ops = net__ops;
	n->ops.nr_queues = 2 * n->nr_pairs + (n->nr_pairs > 1);
	n->ops.features = c->mode == NET_MODE_TAP ? NET_TAP_FEATURES : NET_FEATURES;
	if (n->nr_pairs > 1)
		n->ops.features |= NET_F(CTRL_VQ) | NET_F(MQ);
	ret = net__init_queues(n, c);
	if (!ret && c->mode == NET_MODE_USER)
		ret = net__init_user(n);
	if (!ret)
		ret = virtio_dev__init(&n->vdev, kvm, &n->ops, n);
	if (ret) {
		net__destroy(n);
		return NULL;
	}
	for (u16 i = 0; i < n->nr_pairs; i++) {
		n->q[i].rx = &n->vdev.vqs[2 * i];
		n->q[i].tx = &n->vdev.vqs[2 * i + 1];
	}
	if (c->mode == NET_MODE_TAP && c->vhost)
		net__init_vhost(n);
	return n;
}

static int net__init(struct kvm *kvm)
{
	for (int i = 0; i < kvm->cfg->nr_nets; i++) {
		struct net_config *c = &kvm->cfg->nets[i];
		struct net_dev *n = net__create(kvm, c, i);

		if (!n)
			return -ENOMEM;
		if (virtio_dev__register(&n->vdev))
			return -EINVAL;
		pr_debug("virtio-net %d: %s%s, %u queue pair(s)%s, mac %02x:%02x:%02x:%02x:%02x:%02x",
			 i, c->mode == NET_MODE_TAP ? "tap " : "user mode",
			 c->mode == NET_MODE_TAP ? c->tapif : "", n->nr_pairs,
			 n->vhost_on ? ", vhost-net" : "", c->guest_mac[0], c->guest_mac[1],
			 c->guest_mac[2], c->guest_mac[3], c->guest_mac[4], c->guest_mac[5]);
	}
	return 0;
}

static void net__exit(struct kvm *kvm)
{
	for (int i = 0; i < kvm->nr_vdevs; i++) {
		struct virtio_dev *vdev = kvm->vdevs[i];

		if (vdev->ops->notify != net__notify)
			continue;
		virtio_dev__stop_io(vdev);
		net__reset(vdev);
		virtio_dev__unregister(vdev);
		net__destroy(vdev->priv);
	}
}
device_init_order(net__init, net__exit, DEV_ORDER_VIRTIO);
