/*
 * virtio-console with one port (no MULTIPORT): receiveq 0, transmitq 1.
 * Present with --console virtio, when it owns the host terminal (the UART
 * then stays unattached). Guest output goes to term__write() on the I/O
 * thread. Host input arrives on the main thread (term's rx callback) and is
 * copied into receive buffers; when there are none the callback takes
 * nothing, and the next kick of the receiveq kicks the terminal to offer it
 * again. SysRq is ^O followed by the key, as hvc_console reads it.
 * On a terminal the device offers VIRTIO_CONSOLE_F_SIZE: its rows and columns
 * are in the config space, and a resize (SIGWINCH) raises a config change,
 * on which hvc_console resizes hvc0 and signals the guest's foreground job.
 */
#include "virtio/virtio.h"
#include "virtio/transport.h"
#include "kvm/devices.h"
#include "kvm/kvm.h"
#include "kvm/term.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>

#define CONSOLE_QUEUE_SIZE	128
#define CONSOLE_RX		0
#define CONSOLE_TX		1
#define CONSOLE_SYSRQ		0x0f	/* ^O: hvc_console's SysRq prefix */

struct console_dev {
	struct virtio_dev		vdev;
	struct term			*term;		/* NULL: no input, output lost */
	/* The receive side runs on the main thread and the I/O thread. */
	pthread_mutex_t			lock;
	struct virtio_console_config	config;		/* under lock */
	bool				started;
	bool				want_kick;	/* input waits for receive buffers */
	u8				inject[8];	/* SysRq bytes not delivered yet */
	u32				nr_inject;
	struct virtio_req		rx_req;		/* under lock */
	struct virtio_req		tx_req;		/* I/O thread only */
};

/* Copy @buf into receive buffers; how many bytes the guest got. Lock held. */
static size_t console__deliver(struct console_dev *c, const u8 *buf, size_t len)
{
	struct virtio_queue *vq = &c->vdev.vqs[CONSOLE_RX];
	bool pushed = false;
	size_t done = 0;

	if (!c->started)
		return 0;
	while (done < len && virtq__pop(vq, &c->rx_req) > 0) {
		size_t n = virtio_req__write(&c->rx_req, 0, buf + done, len - done);

		virtq__push(vq, &c->rx_req, n);
		done += n;
		pushed = true;
	}
	if (pushed) {
		__atomic_fetch_add(&c->vdev.stats.bytes, done, __ATOMIC_RELAXED);
		virtq__notify(vq);
	}
	return done;
}

/* SysRq bytes go first, ahead of any later input. Lock held. */
static bool console__flush_inject(struct console_dev *c)
{
	size_t n = console__deliver(c, c->inject, c->nr_inject);

	memmove(c->inject, c->inject + n, c->nr_inject - n);
	c->nr_inject -= n;
	return !c->nr_inject;
}

static size_t console__receive(void *opaque, const u8 *buf, size_t len)
{
	struct console_dev *c = opaque;
	size_t n = 0;

	pthread_mutex_lock(&c->lock);
	if (console__flush_inject(c))
		n = console__deliver(c, buf, len);
	if (n < len)
		c->want_kick = true;
	pthread_mutex_unlock(&c->lock);
	return n;
}

static void console__sysrq(void *opaque, u8 key)
{
	struct console_dev *c = opaque;

	pthread_mutex_lock(&c->lock);
	if (c->nr_inject + 2 <= sizeof(c->inject)) {
		c->inject[c->nr_inject++] = CONSOLE_SYSRQ;
		c->inject[c->nr_inject++] = key;
	}
	console__flush_inject(c);
	pthread_mutex_unlock(&c->lock);
}

/* The driver gave us receive buffers: deliver what waits. */
static void console__rx_kicked(struct console_dev *c)
{
	bool kick;

	pthread_mutex_lock(&c->lock);
	console__flush_inject(c);
	kick = c->want_kick;
	c->want_kick = false;
	pthread_mutex_unlock(&c->lock);
	if (kick && c->term)
		term__kick(c->term);
}

static void console__transmit(struct console_dev *c, struct virtio_queue *vq)
{
	struct virtio_req *req = &c->tx_req;
	bool pushed = false;

	while (virtq__pop(vq, req) > 0) {
		for (u16 i = 0; i < req->nr_out && c->term; i++)
			term__write(c->term, req->iov[i].iov_base, req->iov[i].iov_len);
		__atomic_fetch_add(&c->vdev.stats.bytes, req->out_len, __ATOMIC_RELAXED);
		virtq__push(vq, req, 0);
		pushed = true;
	}
	if (pushed)
		virtq__notify(vq);
}

static void console__notify(struct virtio_dev *vdev, struct virtio_queue *vq)
{
	struct console_dev *c = vdev->priv;

	if (vq->index == CONSOLE_RX)
		console__rx_kicked(c);
	else
		console__transmit(c, vq);
}

/* Input offered before DRIVER_OK is offered again (buffers may be there). */
static int console__start(struct virtio_dev *vdev)
{
	struct console_dev *c = vdev->priv;

	pthread_mutex_lock(&c->lock);
	c->started = true;
	pthread_mutex_unlock(&c->lock);
	console__rx_kicked(c);
	return 0;
}

/* After this no receive buffer of the old driver is touched. */
static void console__reset(struct virtio_dev *vdev)
{
	struct console_dev *c = vdev->priv;

	pthread_mutex_lock(&c->lock);
	c->started = false;
	c->want_kick = true;
	pthread_mutex_unlock(&c->lock);
}

static void console__config_read(struct virtio_dev *vdev, u32 off, void *data, u32 len)
{
	struct console_dev *c = vdev->priv;

	pthread_mutex_lock(&c->lock);
	memcpy(data, (u8 *)&c->config + off, len);
	pthread_mutex_unlock(&c->lock);
}

/* The config fields are little-endian (VIRTIO_F_VERSION_1). Lock held. */
static void console__set_size(struct console_dev *c, u16 rows, u16 cols)
{
	c->config.rows = htole16(rows);
	c->config.cols = htole16(cols);
}

/*
 * SIGWINCH on the main thread: new size, config interrupt. The generation
 * changes before and after the fields, so that a driver that reads it
 * around the fields (as the spec says) never takes half of each size.
 */
static void console__resize(void *opaque, u16 rows, u16 cols)
{
	struct console_dev *c = opaque;
	struct virtio_dev *vdev = &c->vdev;
	bool live;

	pthread_mutex_lock(&c->lock);
	__atomic_add_fetch(&vdev->config_generation, 1, __ATOMIC_RELEASE);
	console__set_size(c, rows, cols);
	__atomic_add_fetch(&vdev->config_generation, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_lock(&vdev->lock);
	live = vdev->status & VIRTIO_CONFIG_S_DRIVER_OK;
	pthread_mutex_unlock(&vdev->lock);
	if (live)
		vdev->transport->signal(vdev, NULL);
}

static const struct virtio_dev_ops console__ops = {
	.name		= "console",
	.device_id	= VIRTIO_ID_CONSOLE,
	.nr_queues	= 2,
	.queue_size	= CONSOLE_QUEUE_SIZE,
	.config_size	= sizeof(struct virtio_console_config),
	.config_read	= console__config_read,
	.start		= console__start,
	.reset		= console__reset,
	.notify		= console__notify,
};

static int console__init(struct kvm *kvm)
{
	struct console_dev *c;
	u16 rows, cols;
	int ret;

	if (kvm->cfg->console != CONSOLE_VIRTIO)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->term = kvm->term;
	ret = virtio_dev__init(&c->vdev, kvm, &console__ops, c);
	if (ret)
		return ret;
	if (c->term && term__size(c->term, &rows, &cols)) {
		console__set_size(c, rows, cols);
		c->vdev.host_features |= 1ull << VIRTIO_CONSOLE_F_SIZE;
	}
	ret = virtio_dev__register(&c->vdev);
	if (ret)
		return ret;
	if (c->term) {
		term__attach(c->term, console__receive, c);
		term__attach_sysrq(c->term, console__sysrq);
		if (c->vdev.host_features & (1ull << VIRTIO_CONSOLE_F_SIZE))
			term__attach_resize(c->term, console__resize);
	}
	return 0;
}

static void console__exit(struct kvm *kvm)
{
	for (int i = 0; i < kvm->nr_vdevs; i++) {
		struct virtio_dev *vdev = kvm->vdevs[i];
		struct console_dev *c = vdev->priv;

		if (vdev->ops != &console__ops)
			continue;
		if (c->term) {
			term__attach(c->term, NULL, NULL);
			term__attach_sysrq(c->term, NULL);
			term__attach_resize(c->term, NULL);
		}
		virtio_dev__stop_io(vdev);
		console__reset(vdev);
		virtio_dev__unregister(vdev);
	}
}
device_init_order(console__init, console__exit, DEV_ORDER_VIRTIO);
