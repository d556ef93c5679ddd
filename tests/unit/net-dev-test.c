/*
 * virtio-net without KVM: the device from its registered initialiser on a
 * fake VM (virtio-mmio), user mode, the test playing the guest's driver.
 * Frames spread over mergeable receive buffers, wait when there are none,
 * and transmit buffers come back used.
 */
#include <arpa/inet.h>
#include <linux/virtio_ids.h>

#include "kvm/irq.h"
#include "test.h"
#include "virtio-fake.h"
#include "virtio/net.h"
#include "virtq-driver.h"

#define RINGS_RX	0x10000
#define RINGS_TX	0x14000
#define TXBUF		0x20000
#define RXBUF		0x30000
#define HDR		12

struct nt {
	struct fake_vm		vm;
	struct virtio_dev	*vdev;
	struct drv_queue	rx, tx;
};

static bool nt_init(struct nt *t, bool mrg)
{
	const struct device_init *init = drv__device("net__init");

	memset(t, 0, sizeof(*t));
	fake_vm__init(&t->vm, TRANSPORT_MMIO);
	if (net__add(&t->vm.cfg, "mode=user") || net__setup(&t->vm.cfg))
		return false;
	if (!init || init->init(&t->vm.kvm))
		return false;
	t->vdev = drv__last_vdev(&t->vm.kvm);
	if (!t->vdev || t->vdev->ops->device_id != VIRTIO_ID_NET)
		return false;
	t->vdev->guest_features = t->vdev->host_features;
	if (!mrg)
		t->vdev->guest_features &= ~(1ull << VIRTIO_NET_F_MRG_RXBUF);
	t->vdev->guest_features &= ~(1ull << VIRTIO_NET_F_GUEST_CSUM);
	drv_queue__init(&t->rx, t->vdev, 0, RINGS_RX);
	drv_queue__init(&t->tx, t->vdev, 1, RINGS_TX);
	return t->vdev->ops->start(t->vdev) == 0;
}

static void nt_exit(struct nt *t)
{
	drv__device("net__init")->exit(&t->vm.kvm);
	irq__exit(&t->vm.kvm);
	fake_vm__exit(&t->vm);
}

static void *gp(struct nt *t, u64 gpa)
{
	return guest_ptr(&t->vm.kvm, gpa, 1);
}

/* Send one frame (a zero header in front), as the driver does. */
static void nt_send(struct nt *t, const void *frame, size_t len)
{
	struct drv_buf b = { TXBUF, HDR + len, false };

	memset(gp(t, TXBUF), 0, HDR);
	memcpy(gp(t, TXBUF + HDR), frame, len);
	drv_queue__add(&t->tx, &b, 1);
	drv_queue__kick(&t->tx);
}

/* Post @n receive buffers of @size bytes each. */
static void nt_post(struct nt *t, int n, u32 size)
{
	for (int i = 0; i < n; i++) {
		struct drv_buf b = { RXBUF + (t->rx.next_desc % 16) * 0x1000, size, true };

		drv_queue__add(&t->rx, &b, 1);
	}
}

static size_t icmp_echo(u8 *f, size_t payload)
{
	u32 s = inet_addr("10.0.2.15"), d = inet_addr("10.0.2.2");
	u8 *h = f + 14, *ic = f + 34;
	u16 c;

	memset(f, 0, 34 + 8 + payload);
	memcpy(f, "\x02\x01\x01\x01\x01\x01\x02\x15\x15\x15\x15\x15\x08\x00", 14);
	h[0] = 0x45;
	h[2] = (28 + payload) >> 8;
	h[3] = (28 + payload) & 0xff;
	h[8] = 64;
	h[9] = 1;
	memcpy(h + 12, &s, 4);
	memcpy(h + 16, &d, 4);
	c = ~net__csum_fold(net__csum_add(0, h, 20));
	memcpy(h + 10, &c, 2);
	ic[0] = 8;
	for (size_t i = 0; i < payload; i++)
		ic[8 + i] = (u8)i;
	c = ~net__csum_fold(net__csum_add(0, ic, 8 + payload));
	memcpy(ic + 2, &c, 2);
	return 34 + 8 + payload;
}

TEST(net_dev_frame_spans_mergeable_buffers)
{
	struct nt t;
	u8 f[512], got[512];
	size_t len = icmp_echo(f, 200), off = 0;
	struct virtio_net_hdr_v1 *hdr;
	struct vring_used_elem e[4];

	if (!nt_init(&t, true)) {
		CHECK(!"net device setup");
		nt_exit(&t);
		return;
	}
	CHECK(virtio_dev__has_feature(t.vdev, VIRTIO_NET_F_MAC));
	nt_post(&t, 8, 64);
	drv_queue__kick(&t.rx);
	nt_send(&t, f, len);
	CHECK_EQ(drv_queue__wait(&t.tx, 1), 1);
	CHECK_EQ(drv_queue__used(&t.tx).len, 0);
	/* 12 + 242 bytes in 64-byte buffers: four of them. */
	CHECK_EQ(drv_queue__wait(&t.rx, 4), 4);
	for (int i = 0; i < 4; i++) {
		e[i] = drv_queue__used(&t.rx);
		memcpy(got + off, gp(&t, t.rx.desc[e[i].id].addr), e[i].len);
		off += e[i].len;
	}
	CHECK_EQ(e[0].len, 64);
	CHECK_EQ(e[3].len, HDR + len - 3 * 64);
	hdr = (struct virtio_net_hdr_v1 *)got;
	CHECK_EQ(hdr->num_buffers, 4);
	CHECK_EQ(hdr->flags, 0);
	CHECK_EQ(off, HDR + len);
	CHECK_EQ(got[HDR + 34], 0);			/* echo reply */
	CHECK(!memcmp(got + HDR + 42, f + 42, 200));
	nt_exit(&t);
}

TEST(net_dev_waits_for_receive_buffers)
{
	struct nt t;
	u8 f[512];
	size_t len = icmp_echo(f, 32);
	struct vring_used_elem e;

	if (!nt_init(&t, false)) {
		CHECK(!"net device setup");
		nt_exit(&t);
		return;
	}
	nt_send(&t, f, len);
	CHECK_EQ(drv_queue__wait(&t.tx, 1), 1);
	usleep(50000);
	CHECK_EQ(t.rx.used->idx, 0);
	nt_post(&t, 1, 2048);
	drv_queue__kick(&t.rx);
	CHECK_EQ(drv_queue__wait(&t.rx, 1), 1);
	e = drv_queue__used(&t.rx);
	CHECK_EQ(e.len, HDR + len);
	CHECK_EQ(((struct virtio_net_hdr_v1 *)gp(&t, t.rx.desc[e.id].addr))->num_buffers, 1);
	CHECK(t.vdev->stats.bytes > 0);
	nt_exit(&t);
}

TEST(net_dev_guest_garbage_is_harmless)
{
	struct nt t;
	u8 f[2048];
	struct drv_buf b[2] = { { TXBUF, 4, false }, { TXBUF + 0x100, 0, false } };

	if (!nt_init(&t, true)) {
		CHECK(!"net device setup");
		nt_exit(&t);
		return;
	}
	/* Shorter than the header, an empty frame, and random bytes. */
	drv_queue__add(&t.tx, b, 1);
	drv_queue__add(&t.tx, b, 2);
	drv_queue__kick(&t.tx);
	for (int i = 0; i < 12; i++) {
		for (size_t j = 0; j < sizeof(f); j++)
			f[j] = (u8)(j * 131 + i * 17);
		nt_send(&t, f, 14 + i * 150);
	}
	CHECK_EQ(drv_queue__wait(&t.tx, 14), 14);
	CHECK(!(t.vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET));
	nt_exit(&t);
}

/* A receive buffer with no room for the header: the driver is told, not stalled. */
TEST(net_dev_receive_buffer_below_header)
{
	static const u8 arp[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x15, 0x15, 0x15, 0x15, 0x15,
		0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1,
		0x02, 0x15, 0x15, 0x15, 0x15, 0x15, 10, 0, 2, 15,
		0, 0, 0, 0, 0, 0, 10, 0, 2, 2,
	};
	struct nt t;

	if (!nt_init(&t, false)) {
		CHECK(!"net device setup");
		nt_exit(&t);
		return;
	}
	nt_post(&t, 1, HDR - 4);
	drv_queue__kick(&t.rx);
	nt_send(&t, arp, sizeof(arp));
	CHECK_EQ(drv_queue__wait(&t.tx, 1), 1);
	CHECK(t.vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK_EQ(t.rx.used->idx, 0);
	nt_exit(&t);
}
