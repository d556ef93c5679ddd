#ifndef TESTS__UNIT__VIRTQ_DRIVER_H
#define TESTS__UNIT__VIRTQ_DRIVER_H

/*
 * The guest's side of a split virtqueue, in a fake VM's RAM: enough of a
 * driver to hand devices requests and read back what they used. Rings sit
 * at @base (desc, then avail, then used, 4 KiB apart); the test chooses
 * where buffers go. The device's notify runs on the test's thread.
 */
#include <time.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "kvm/devices.h"
#include "virtio/virtio.h"

#define DRV_QSIZE	16

struct drv_buf {
	u64	gpa;
	u32	len;
	bool	write;		/* device-writable (an in-buffer) */
};

struct drv_queue {
	struct virtio_dev	*vdev;
	struct virtio_queue	*vq;
	struct vring_desc	*desc;
	struct vring_avail	*avail;
	struct vring_used	*used;
	u16			next_desc;
	u16			used_seen;
};

static inline void drv_queue__init(struct drv_queue *q, struct virtio_dev *vdev, u16 index,
				   u64 base)
{
	struct kvm *kvm = vdev->kvm;
	struct virtio_queue *vq = &vdev->vqs[index];

	memset(q, 0, sizeof(*q));
	q->vdev = vdev;
	q->vq = vq;
	vq->size = DRV_QSIZE;
	vq->desc_gpa = base;
	vq->avail_gpa = base + 0x1000;
	vq->used_gpa = base + 0x2000;
	q->desc = guest_ptr(kvm, vq->desc_gpa, 0x1000);
	q->avail = guest_ptr(kvm, vq->avail_gpa, 0x1000);
	q->used = guest_ptr(kvm, vq->used_gpa, 0x1000);
	memset(q->desc, 0, 0x3000);
	virtq__enable(vq);
}

/* Queue one chain; returns its head. */
static inline u16 drv_queue__add(struct drv_queue *q, const struct drv_buf *bufs, int n)
{
	u16 head = q->next_desc;

	for (int i = 0; i < n; i++) {
		struct vring_desc *d = &q->desc[q->next_desc];

		d->addr = bufs[i].gpa;
		d->len = bufs[i].len;
		d->flags = (bufs[i].write ? VRING_DESC_F_WRITE : 0) |
			   (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		q->next_desc = (q->next_desc + 1) % DRV_QSIZE;
		d->next = q->next_desc;
	}
	q->avail->ring[q->avail->idx % DRV_QSIZE] = head;
	__atomic_store_n(&q->avail->idx, q->avail->idx + 1, __ATOMIC_RELEASE);
	return head;
}

/* Kick: run the device's notify as its I/O thread would. */
static inline void drv_queue__kick(struct drv_queue *q)
{
	q->vdev->ops->notify(q->vdev, q->vq);
}

/* Wait up to 5 s for @n more used entries; how many came. */
static inline int drv_queue__wait(struct drv_queue *q, int n)
{
	for (int i = 0; i < 5000; i++) {
		u16 idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);

		if ((u16)(idx - q->used_seen) >= n)
			return n;
		usleep(1000);
	}
	return (u16)(__atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) - q->used_seen);
}

/* Take the next used entry (after drv_queue__wait). */
static inline struct vring_used_elem drv_queue__used(struct drv_queue *q)
{
	return q->used->ring[q->used_seen++ % DRV_QSIZE];
}

/* Run one registered device initialiser by name, as kvm__init_devices would. */
static inline const struct device_init *drv__device(const char *name)
{
	extern const struct device_init __start_lkvm_devices[] __attribute__((weak));
	extern const struct device_init __stop_lkvm_devices[] __attribute__((weak));

	for (const struct device_init *d = __start_lkvm_devices; d < __stop_lkvm_devices; d++)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

/* The last virtio device created (by a device initialiser). */
static inline struct virtio_dev *drv__last_vdev(struct kvm *kvm)
{
	return kvm->nr_vdevs ? kvm->vdevs[kvm->nr_vdevs - 1] : NULL;
}

#endif
