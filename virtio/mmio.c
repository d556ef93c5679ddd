/*
 * virtio-mmio version 2 (virtio 1.x): a 0x200-byte register window per
 * device from VIRTIO_MMIO_BASE up and an ISA interrupt. The guest learns of
 * each device from the ACPI DSDT (x86/acpi.c, _HID LNRO0005: works with the
 * virtio_mmio module of distro kernels, which lack cmdline devices), or,
 * when the guest runs with acpi=off, from virtio_mmio.device=<size>@<base>:<irq>
 * on its command line (CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES). Never both:
 * a kernel that has both would probe each device twice.
 *
 * Registers take aligned 32-bit accesses only; the device configuration at
 * 0x100 any width within its size. QueueNotify is a KVM ioeventfd per queue
 * (datamatch on the queue index); the interrupt is an edge through an irqfd
 * on the ISA line, with InterruptStatus saying why.
 */
#include "kvm/irq.h"
#include "kvm/kvm.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"
#include "x86/layout.h"

#include <errno.h>
#include <linux/virtio_mmio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define VMMIO_MAGIC		0x74726976	/* "virt" */
#define VMMIO_VERSION		2
#define VMMIO_VENDOR		0x4d564b4c	/* "LKVM" */
#define VMMIO_CONFIG_MAX	(VIRTIO_MMIO_DEV_SIZE - VIRTIO_MMIO_CONFIG)
#define VMMIO_NO_SHM		0xffffffff	/* shared memory region length: none */

/* Edge-triggered ISA lines nothing else uses (4 serial, 8 RTC, 9 SCI, 1/12 i8042). */
static const u8 vmmio_irqs[] = { 5, 7, 10, 11, 14, 15 };

struct virtio_mmio {
	struct virtio_dev	*vdev;
	struct bus_dev		dev;
	pthread_mutex_t		lock;		/* the registers */
	u64			base;
	u8			irq;
	int			irq_fd;		/* irqfd on irq; -1: KVM_IRQ_LINE */
	bool			ioeventfds;
	u32			dfselect;
	u32			gfselect;
	u32			queue_select;
	u64			driver_features;
};

static struct virtio_queue *vmmio__queue(struct virtio_mmio *vm)
{
	struct virtio_dev *vdev = vm->vdev;

	return vm->queue_select < vdev->nr_queues ? &vdev->vqs[vm->queue_select] : NULL;
}

static void vmmio__signal(struct virtio_dev *vdev, struct virtio_queue *vq)
{
	struct virtio_mmio *vm = vdev->transport_priv;
	u64 one = 1;

	__atomic_fetch_or(&vdev->isr, vq ? VIRTIO_MMIO_INT_VRING : VIRTIO_MMIO_INT_CONFIG,
			  __ATOMIC_RELEASE);
	if (vm->irq_fd >= 0 && write(vm->irq_fd, &one, sizeof(one)) == sizeof(one))
		return;
	kvm__irq_line(vdev->kvm, vm->irq, 1);
	kvm__irq_line(vdev->kvm, vm->irq, 0);
}

static const struct virtio_transport_ops vmmio__transport = {
	.name	= "mmio",
	.signal	= vmmio__signal,
};

static u32 vmmio__queue_read(struct virtio_mmio *vm, u32 off)
{
	struct virtio_queue *vq = vmmio__queue(vm);

	if (!vq)
		return 0;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM_MAX:	return vq->max_size;
	case VIRTIO_MMIO_QUEUE_READY:	return vq->ready;
	default:			return 0;	/* write-only */
	}
}

static u32 vmmio__reg_read(struct virtio_mmio *vm, u32 off)
{
	struct virtio_dev *vdev = vm->vdev;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:		return VMMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:		return VMMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:		return vdev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:		return VMMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_transport__feature_word(vdev->host_features, vm->dfselect);
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&vdev->isr, __ATOMIC_ACQUIRE);
	case VIRTIO_MMIO_STATUS:		return vdev->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:	return vdev->config_generation;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:		return VMMIO_NO_SHM;
	default:				return vmmio__queue_read(vm, off);
	}
}

static void vmmio__set_gpa(u64 *gpa, bool high, u32 v)
{
	*gpa = high ? (*gpa & 0xffffffffull) | (u64)v << 32 : (*gpa & ~0xffffffffull) | v;
}

static void vmmio__queue_ready(struct virtio_queue *vq, u32 v)
{
	if (v && !vq->ready)
		virtq__enable(vq);
	else if (!v && vq->ready)
		virtq__disable(vq);
}

/* Queue setup registers: ignored for a queue that does not exist or is ready. */
static void vmmio__queue_write(struct virtio_mmio *vm, u32 off, u32 v)
{
	struct virtio_queue *vq = vmmio__queue(vm);

	if (!vq)
		return;
	if (off == VIRTIO_MMIO_QUEUE_READY) {
		vmmio__queue_ready(vq, v);
		return;
	}
	if (vq->ready)
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		vq->size = v > 0xffff ? 0 : v;	/* 0 fails at QueueReady */
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		vmmio__set_gpa(&vq->desc_gpa, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		vmmio__set_gpa(&vq->avail_gpa, off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		vmmio__set_gpa(&vq->used_gpa, off == VIRTIO_MMIO_QUEUE_USED_HIGH, v);
		break;
	}
}

static void vmmio__write_status(struct virtio_mmio *vm, u32 v)
{
	virtio_transport__write_status(vm->vdev, v, vm->driver_features);
	if (v)
		return;
	vm->dfselect = vm->gfselect = vm->queue_select = 0;
	vm->driver_features = 0;
}

static void vmmio__reg_write(struct virtio_mmio *vm, u32 off, u32 v)
{
	struct virtio_dev *vdev = vm->vdev;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		vm->dfselect = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (!(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK))
			vm->driver_features = virtio_transport__set_feature_word(
				vm->driver_features, vm->gfselect, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		vm->gfselect = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		vm->queue_select = v;
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (v < vdev->nr_queues)
			virtio_dev__kick(vdev, &vdev->vqs[v]);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_fetch_and(&vdev->isr, ~v, __ATOMIC_ACQ_REL);
		break;
	case VIRTIO_MMIO_STATUS:
		vmmio__write_status(vm, v);
		break;
	default:
		vmmio__queue_write(vm, off, v);
		break;
	}
}

static void vmmio__config(struct virtio_mmio *vm, u32 off, void *data, u32 len, bool write)
{
	const struct virtio_dev_ops *ops = vm->vdev->ops;

	if ((u64)off + len > ops->config_size)
		return;
	if (write && ops->config_write)
		ops->config_write(vm->vdev, off, data, len);
	else if (!write && ops->config_read)
		ops->config_read(vm->vdev, off, data, len);
}

static void vmmio__io(struct bus_dev *dev, struct kvm_cpu *vcpu, u64 addr, void *data,
		      u32 len, bool write)
{
	struct virtio_mmio *vm = dev->priv;
	u32 off = addr - dev->base;

	if (!write)
		memset(data, 0, len);
	if (off >= VIRTIO_MMIO_CONFIG) {
		vmmio__config(vm, off - VIRTIO_MMIO_CONFIG, data, len, write);
		return;
	}
	if (len != 4 || off % 4)
		return;
	pthread_mutex_lock(&vm->lock);
	if (write)
		vmmio__reg_write(vm, off, bus__get(data, 4));
	else
		bus__put(data, 4, vmmio__reg_read(vm, off));
	pthread_mutex_unlock(&vm->lock);
}

/* Kicks and interrupts through KVM; both fall back to trapping when KVM says no. */
static void vmmio__wire(struct virtio_mmio *vm)
{
	struct virtio_dev *vdev = vm->vdev;
	u64 notify = vm->base + VIRTIO_MMIO_QUEUE_NOTIFY;
	u16 i;

	vm->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->irq_fd >= 0 && irq__irqfd(vdev->kvm, vm->irq, vm->irq_fd, true)) {
		close(vm->irq_fd);
		vm->irq_fd = -1;
	}
	for (i = 0; i < vdev->nr_queues; i++) {
		u64 match = i;

		if (virtio_transport__ioeventfd(vdev->kvm, notify, 4, vdev->vqs[i].kick_fd,
						&match, true))
			break;
	}
	vm->ioeventfds = i == vdev->nr_queues;
	while (!vm->ioeventfds && i-- > 0) {
		u64 match = i;

		virtio_transport__ioeventfd(vdev->kvm, notify, 4, vdev->vqs[i].kick_fd,
					    &match, false);
	}
}

/* Record the window for the firmware tables; announce it on the cmdline without ACPI. */
static int vmmio__announce(struct kvm *kvm, const struct virtio_mmio *vm)
{
	unsigned int n = kvm->nr_virtio_mmio;
	struct mmio_dev_desc *d = realloc(kvm->virtio_mmio, (n + 1) * sizeof(*d));

	if (!d)
		return -ENOMEM;
	kvm->virtio_mmio = d;
	d[n] = (struct mmio_dev_desc){ .base = vm->base, .len = VIRTIO_MMIO_DEV_SIZE,
				       .irq = vm->irq };
	if (!kvm__cmdline_has(kvm, "acpi=off"))
		return 0;
	return kvm__append_cmdline(kvm, "virtio_mmio.device=%#x@%#llx:%u", VIRTIO_MMIO_DEV_SIZE,
				   (unsigned long long)vm->base, vm->irq);
}

static int vmmio__setup(struct virtio_mmio *vm)
{
	struct virtio_dev *vdev = vm->vdev;
	struct kvm *kvm = vdev->kvm;
	unsigned int idx = kvm->nr_virtio_mmio;
	int ret;

	if (vdev->ops->config_size > VMMIO_CONFIG_MAX || vdev->nr_queues > VIRTIO_MAX_QUEUES)
		return -EINVAL;
	if ((u64)(idx + 1) * VIRTIO_MMIO_DEV_SIZE > VIRTIO_MMIO_SIZE)
		return -ENOSPC;
	vm->base = VIRTIO_MMIO_BASE + (u64)idx * VIRTIO_MMIO_DEV_SIZE;
	/* More devices than lines: they share, each handler reads its own status. */
	vm->irq = vmmio_irqs[idx % ARRAY_SIZE(vmmio_irqs)];
	vm->dev = (struct bus_dev){
		.name = vdev->ops->name, .base = vm->base, .len = VIRTIO_MMIO_DEV_SIZE,
		.io = vmmio__io, .priv = vm,
	};
	ret = bus__register(&kvm->mmio, &vm->dev);
	if (ret)
		return ret;
	ret = vmmio__announce(kvm, vm);
	if (ret) {
		bus__unregister(&kvm->mmio, &vm->dev);
		return ret;
	}
	kvm->nr_virtio_mmio++;
	vmmio__wire(vm);
	pr_debug("virtio-mmio %s at %#llx, IRQ %u", vdev->ops->name,
		 (unsigned long long)vm->base, vm->irq);
	return 0;
}

int virtio_mmio__register(struct virtio_dev *vdev)
{
	struct virtio_mmio *vm = calloc(1, sizeof(*vm));
	int ret;

	if (!vm)
		return -ENOMEM;
	vm->vdev = vdev;
	vm->irq_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	vdev->transport = &vmmio__transport;
	vdev->transport_priv = vm;
	ret = vmmio__setup(vm);
	if (ret) {
		pr_err("virtio-%s: cannot attach to virtio-mmio: %s", vdev->ops->name,
		       strerror(-ret));
		vdev->transport_priv = NULL;
		free(vm);
	}
	return ret;
}

void virtio_mmio__unregister(struct virtio_dev *vdev)
{
	struct virtio_mmio *vm = vdev->transport_priv;
	u64 notify = vm->base + VIRTIO_MMIO_QUEUE_NOTIFY;

	bus__unregister(&vdev->kvm->mmio, &vm->dev);
	for (u16 i = 0; vm->ioeventfds && i < vdev->nr_queues; i++) {
		u64 match = i;

		virtio_transport__ioeventfd(vdev->kvm, notify, 4, vdev->vqs[i].kick_fd,
					    &match, false);
	}
	if (vm->irq_fd >= 0) {
		irq__irqfd(vdev->kvm, vm->irq, vm->irq_fd, false);
		close(vm->irq_fd);
	}
	vdev->transport_priv = NULL;
	free(vm);
}
