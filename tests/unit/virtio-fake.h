#ifndef TESTS__UNIT__VIRTIO_FAKE_H
#define TESTS__UNIT__VIRTIO_FAKE_H

/*
 * A VM without /dev/kvm for transport tests: buses, a malloc'ed RAM and a
 * two-queue device with an 8-byte config space. Every KVM ioctl fails
 * (vm_fd is -1), so transports run their trapped/fallback paths.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "virtio/virtio.h"

#define FAKE_RAM_SIZE	(1 << 20)
#define FAKE_QUEUE_SIZE	16
#define FAKE_FEATURE	(1ull << 3)	/* a device feature bit */

struct fake_vm {
	struct kvm		kvm;
	struct kvm_config	cfg;
};

struct fake_dev {
	struct virtio_dev	vdev;
	u8			config[8];
	int			started;
};

static inline void fake_config_read(struct virtio_dev *vdev, u32 off, void *data, u32 len)
{
	struct fake_dev *d = vdev->priv;

	memcpy(data, d->config + off, len);
}

static inline void fake_config_write(struct virtio_dev *vdev, u32 off, const void *data,
				     u32 len)
{
	struct fake_dev *d = vdev->priv;

	memcpy(d->config + off, data, len);
}

static inline int fake_start(struct virtio_dev *vdev)
{
	((struct fake_dev *)vdev->priv)->started++;
	return 0;
}

static const struct virtio_dev_ops fake_ops = {
	.name		= "fake",
	.device_id	= 4,		/* VIRTIO_ID_RNG */
	.nr_queues	= 2,
	.queue_size	= FAKE_QUEUE_SIZE,
	.config_size	= sizeof(((struct fake_dev *)0)->config),
	.features	= FAKE_FEATURE,
	.config_read	= fake_config_read,
	.config_write	= fake_config_write,
	.start		= fake_start,
};

static inline void fake_vm__init(struct fake_vm *vm, enum virtio_transport t)
{
	memset(vm, 0, sizeof(*vm));
	vm->cfg.transport = t;
	vm->cfg.nr_cpus = 1;
	vm->kvm.cfg = &vm->cfg;
	vm->kvm.sys_fd = vm->kvm.vm_fd = -1;
	vm->kvm.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&vm->kvm.stop_lock, NULL);
	bus__init(&vm->kvm.pio, "ioport");
	bus__init(&vm->kvm.mmio, "mmio");
	vm->kvm.ram = calloc(1, FAKE_RAM_SIZE);
	vm->kvm.ram_size = vm->kvm.ram_low = FAKE_RAM_SIZE;
}

static inline void fake_vm__exit(struct fake_vm *vm)
{
	close(vm->kvm.stop_fd);
	free(vm->kvm.ram);
	free(vm->cfg.cmdline);
	free(vm->kvm.virtio_mmio);
	bus__free(&vm->kvm.pio);
	bus__free(&vm->kvm.mmio);
}

static inline int fake_dev__init(struct fake_dev *d, struct fake_vm *vm)
{
	memset(d, 0, sizeof(*d));
	for (unsigned int i = 0; i < sizeof(d->config); i++)
		d->config[i] = 0xa0 + i;
	return virtio_dev__init(&d->vdev, &vm->kvm, &fake_ops, d);
}

/* Stop the I/O thread a DRIVER_OK may have started. */
static inline void fake_dev__exit(struct fake_dev *d)
{
	virtio_dev__stop_io(&d->vdev);
}

/* How many kicks @vq's eventfd has collected (and clear them). */
static inline u64 fake_kicks(struct virtio_queue *vq)
{
	u64 n = 0;

	if (read(vq->kick_fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static inline u32 mmio_rd(struct kvm *kvm, u64 addr, u32 len)
{
	u8 data[8] = { 0 };

	bus__access(&kvm->mmio, NULL, addr, data, len, false);
	return bus__get(data, len);
}

static inline void mmio_wr(struct kvm *kvm, u64 addr, u32 len, u32 v)
{
	u8 data[8];

	bus__put(data, len, v);
	bus__access(&kvm->mmio, NULL, addr, data, len, true);
}

#endif
