/*
 * virtio-pci, modern (virtio 1.x) only: vendor 0x1af4, device 0x1040 + id.
 *
 * BAR0 holds the virtio structures, each on its own page:
 *   0x0000 common configuration    0x2000 device configuration
 *   0x1000 ISR status              0x3000 notifications, 4 bytes per queue
 * BAR1 holds the MSI-X table and PBA (hw/pci-msix.c), one vector per queue
 * plus one for configuration changes. Queue notifications are KVM
 * ioeventfds on the queues' kick_fd while BAR0 is decoded; a notify that
 * still traps (another width, no KVM) kicks the queue the same way.
 *
 * Without MSI-X the device raises INTA# (level): the ISR says why, and
 * reading it clears it and lowers the line.
 */
#include "hw/pci.h"
#include "kvm/kvm.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>

#define VPCI_VENDOR		0x1af4
#define VPCI_DEVICE_BASE	0x1040
#define VPCI_REVISION		1	/* modern, non-transitional */

#define VPCI_BAR_CFG		0
#define VPCI_BAR_MSIX		1
#define VPCI_BAR_SIZE		0x4000
#define VPCI_COMMON_OFF		0x0000
#define VPCI_COMMON_LEN		sizeof(struct virtio_pci_common_cfg)
#define VPCI_ISR_OFF		0x1000
#define VPCI_ISR_LEN		4
#define VPCI_DEVICE_OFF		0x2000
#define VPCI_DEVICE_MAX		0x1000
#define VPCI_NOTIFY_OFF		0x3000
#define VPCI_NOTIFY_MULT	4
#define VPCI_NOTIFY_LEN		2	/* what the driver writes: the queue index */
#define VPCI_ISR_QUEUE		0x1	/* VIRTIO_PCI_ISR_CONFIG is 0x2 */

_Static_assert(sizeof(struct virtio_pci_common_cfg) == 0x38, "common cfg layout");

struct virtio_pci {
	struct virtio_dev	*vdev;
	struct pci_dev		pdev;
	struct pci_msix		msix;
	pthread_mutex_t		lock;		/* the common configuration registers */
	pthread_mutex_t		irq_lock;	/* ISR and the INTx line */
	u32			dfselect;
	u32			gfselect;
	u64			driver_features;
	u16			queue_select;
	u16			config_vector;
	bool			intx_level;
	bool			ioeventfds;	/* notifies go straight to kick_fd */
	u64			notify_addr;	/* where the ioeventfds are */
	u8			cfg_cap;	/* the PCI configuration access capability */
};

static u32 vpci__class(u32 device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:	return 0x020000;	/* Ethernet */
	case VIRTIO_ID_BLOCK:	return 0x018000;	/* other mass storage */
	case VIRTIO_ID_CONSOLE:	return 0x078000;	/* other communication */
	default:		return 0xff0000;	/* unassigned class */
	}
}

static struct virtio_queue *vpci__queue(struct virtio_pci *vpci)
{
	struct virtio_dev *vdev = vpci->vdev;

	return vpci->queue_select < vdev->nr_queues ? &vdev->vqs[vpci->queue_select] : NULL;
}

/* ---- interrupts ---- */

/* INTx follows the ISR unless masked by the command register or MSI-X. irq_lock held. */
static void vpci__update_intx(struct virtio_pci *vpci)
{
	bool level = __atomic_load_n(&vpci->vdev->isr, __ATOMIC_ACQUIRE) &&
		     !pci__intx_disabled(&vpci->pdev) && !pci_msix__enabled(&vpci->msix);

	if (level == vpci->intx_level)
		return;
	vpci->intx_level = level;
	kvm__irq_line(vpci->vdev->kvm, vpci->pdev.irq, level);
}

static void vpci__signal(struct virtio_dev *vdev, struct virtio_queue *vq)
{
	struct virtio_pci *vpci = vdev->transport_priv;
	u16 vec = vq ? __atomic_load_n(&vq->msix_vector, __ATOMIC_ACQUIRE) :
		       __atomic_load_n(&vpci->config_vector, __ATOMIC_ACQUIRE);

	if (vec != VIRTIO_MSI_NO_VECTOR && pci_msix__notify(&vpci->msix, vec))
		return;
	if (pci_msix__enabled(&vpci->msix))
		return;		/* MSI-X on, but no vector: no interrupt */
	pthread_mutex_lock(&vpci->irq_lock);
	__atomic_fetch_or(&vdev->isr, vq ? VPCI_ISR_QUEUE : VIRTIO_PCI_ISR_CONFIG,
			  __ATOMIC_RELEASE);
	vpci__update_intx(vpci);
	pthread_mutex_unlock(&vpci->irq_lock);
}

static const struct virtio_transport_ops vpci__transport = {
	.name	= "pci",
	.signal	= vpci__signal,
};

static u8 vpci__isr_read(struct virtio_pci *vpci)
{
	u8 isr;

	pthread_mutex_lock(&vpci->irq_lock);
	isr = __atomic_exchange_n(&vpci->vdev->isr, 0, __ATOMIC_ACQ_REL);
	vpci__update_intx(vpci);
	pthread_mutex_unlock(&vpci->irq_lock);
	return isr;
}

static u16 vpci__check_vector(struct virtio_pci *vpci, u16 vec)
{
	return vec < vpci->msix.nr ? vec : VIRTIO_MSI_NO_VECTOR;
}

/* ---- common configuration ---- */

static void vpci__common_snapshot(struct virtio_pci *vpci, struct virtio_pci_common_cfg *c)
{
	struct virtio_dev *vdev = vpci->vdev;
	struct virtio_queue *vq = vpci__queue(vpci);

	memset(c, 0, sizeof(*c));
	c->device_feature_select = vpci->dfselect;
	c->device_feature = virtio_transport__feature_word(vdev->host_features, vpci->dfselect);
	c->guest_feature_select = vpci->gfselect;
	c->guest_feature = virtio_transport__feature_word(vpci->driver_features, vpci->gfselect);
	c->msix_config = vpci->config_vector;
	c->num_queues = vdev->nr_queues;
	c->device_status = vdev->status;
	c->config_generation = vdev->config_generation;
	c->queue_select = vpci->queue_select;
	if (!vq)
		return;		/* the queue fields of a queue that does not exist read 0 */
	c->queue_size = vq->size;
	c->queue_msix_vector = vq->msix_vector;
	c->queue_enable = vq->ready;
	c->queue_notify_off = vq->index;
	c->queue_desc_lo = vq->desc_gpa;
	c->queue_desc_hi = vq->desc_gpa >> 32;
	c->queue_avail_lo = vq->avail_gpa;
	c->queue_avail_hi = vq->avail_gpa >> 32;
	c->queue_used_lo = vq->used_gpa;
	c->queue_used_hi = vq->used_gpa >> 32;
}

static void vpci__common_read(struct virtio_pci *vpci, u32 off, void *data, u32 len)
{
	struct virtio_pci_common_cfg c;

	pthread_mutex_lock(&vpci->lock);
	vpci__common_snapshot(vpci, &c);
	pthread_mutex_unlock(&vpci->lock);
	memcpy(data, (u8 *)&c + off, min_t(u32, len, sizeof(c) - off));
}

static void vpci__set_gpa(u64 *gpa, bool high, u32 v)
{
	*gpa = high ? (*gpa & 0xffffffffull) | (u64)v << 32 : (*gpa & ~0xffffffffull) | v;
}

/* Transport state a device reset clears (the MSI-X table is PCI state: it stays). */
static void vpci__reset(struct virtio_pci *vpci)
{
	struct virtio_dev *vdev = vpci->vdev;

	vpci->dfselect = vpci->gfselect = 0;
	vpci->driver_features = 0;
	vpci->queue_select = 0;
	__atomic_store_n(&vpci->config_vector, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELEASE);
	for (u16 i = 0; i < vdev->nr_queues; i++)
		vdev->vqs[i].call_fd = -1;
	pthread_mutex_lock(&vpci->irq_lock);
	__atomic_store_n(&vdev->isr, 0, __ATOMIC_RELEASE);
	vpci__update_intx(vpci);
	pthread_mutex_unlock(&vpci->irq_lock);
}

static void vpci__write_status(struct virtio_pci *vpci, u8 status)
{
	virtio_transport__write_status(vpci->vdev, status, vpci->driver_features);
	if (!status)
		vpci__reset(vpci);
}

static void vpci__set_queue_vector(struct virtio_pci *vpci, struct virtio_queue *vq, u16 v)
{
	v = vpci__check_vector(vpci, v);
	__atomic_store_n(&vq->msix_vector, v, __ATOMIC_RELEASE);
	vq->call_fd = v == VIRTIO_MSI_NO_VECTOR ? -1 : pci_msix__fd(&vpci->msix, v);
}

/* Per-queue registers; writes to an enabled queue's setup are ignored. */
static void vpci__queue_write(struct virtio_pci *vpci, u32 off, u32 v)
{
	struct virtio_queue *vq = vpci__queue(vpci);

	if (!vq)
		return;
	if (off == VIRTIO_PCI_COMMON_Q_MSIX) {
		vpci__set_queue_vector(vpci, vq, v);
		return;
	}
	if (vq->ready)
		return;		/* 0 is not allowed, 1 again changes nothing */
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		vq->size = v;
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (v == 1)
			virtq__enable(vq);
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
		vpci__set_gpa(&vq->desc_gpa, off == VIRTIO_PCI_COMMON_Q_DESCHI, v);
		break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
		vpci__set_gpa(&vq->avail_gpa, off == VIRTIO_PCI_COMMON_Q_AVAILHI, v);
		break;
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		vpci__set_gpa(&vq->used_gpa, off == VIRTIO_PCI_COMMON_Q_USEDHI, v);
		break;
	}
}

/* The width each writable field must be written with; 0: read-only or reserved. */
static u32 vpci__common_width(u32 off)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
	case VIRTIO_PCI_COMMON_GFSELECT:
	case VIRTIO_PCI_COMMON_GF:
	case VIRTIO_PCI_COMMON_Q_DESCLO ... VIRTIO_PCI_COMMON_Q_USEDHI:
		return off % 4 ? 0 : 4;
	case VIRTIO_PCI_COMMON_MSIX:
	case VIRTIO_PCI_COMMON_Q_SELECT:
	case VIRTIO_PCI_COMMON_Q_SIZE:
	case VIRTIO_PCI_COMMON_Q_MSIX:
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return 2;
	case VIRTIO_PCI_COMMON_STATUS:
		return 1;
	default:
		return 0;
	}
}

static void vpci__common_write(struct virtio_pci *vpci, u32 off, const void *data, u32 len)
{
	u32 v = bus__get(data, len);

	if (len != vpci__common_width(off))
		return;
	pthread_mutex_lock(&vpci->lock);
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		vpci->dfselect = v;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		vpci->gfselect = v;
		break;
	case VIRTIO_PCI_COMMON_GF:
		/* Frozen once FEATURES_OK is set. */
		if (!(vpci->vdev->status & VIRTIO_CONFIG_S_FEATURES_OK))
			vpci->driver_features = virtio_transport__set_feature_word(
				vpci->driver_features, vpci->gfselect, v);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		__atomic_store_n(&vpci->config_vector, vpci__check_vector(vpci, v),
				 __ATOMIC_RELEASE);
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		vpci__write_status(vpci, v);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		vpci->queue_select = v;
		break;
	default:
		vpci__queue_write(vpci, off, v);
		break;
	}
	pthread_mutex_unlock(&vpci->lock);
}

/* ---- BAR0 ---- */

static void vpci__device_cfg(struct virtio_pci *vpci, u32 off, void *data, u32 len, bool write)
{
	const struct virtio_dev_ops *ops = vpci->vdev->ops;

	if ((u64)off + len > ops->config_size)
		return;		/* out of range: ignored, reads 0 */
	if (write && ops->config_write)
		ops->config_write(vpci->vdev, off, data, len);
	else if (!write && ops->config_read)
		ops->config_read(vpci->vdev, off, data, len);
}

static void vpci__notify(struct virtio_pci *vpci, u32 off)
{
	u32 q = off / VPCI_NOTIFY_MULT;

	if (off % VPCI_NOTIFY_MULT || q >= vpci->vdev->nr_queues)
		return;
	virtio_dev__kick(vpci->vdev, &vpci->vdev->vqs[q]);
}

static void vpci__bar_io(struct pci_dev *pdev, int bar, u64 off, void *data, u32 len,
			 bool write)
{
	struct virtio_pci *vpci = pdev->priv;

	if (!write)
		memset(data, 0, len);
	if (off < VPCI_COMMON_LEN) {
		if (write)
			vpci__common_write(vpci, off, data, len);
		else
			vpci__common_read(vpci, off, data, len);
	} else if (off == VPCI_ISR_OFF) {
		if (!write)
			*(u8 *)data = vpci__isr_read(vpci);
	} else if (off >= VPCI_DEVICE_OFF && off < VPCI_DEVICE_OFF + VPCI_DEVICE_MAX) {
		vpci__device_cfg(vpci, off - VPCI_DEVICE_OFF, data, len, write);
	} else if (off >= VPCI_NOTIFY_OFF && write) {
		vpci__notify(vpci, off - VPCI_NOTIFY_OFF);
	}
}

/* ---- ioeventfds follow BAR0 ---- */

static void vpci__ioeventfds(struct virtio_pci *vpci, u64 base, u16 nr, bool assign)
{
	struct virtio_dev *vdev = vpci->vdev;

	for (u16 i = 0; i < nr; i++)
		virtio_transport__ioeventfd(vdev->kvm, base + VPCI_NOTIFY_MULT * i,
					    VPCI_NOTIFY_LEN, vdev->vqs[i].kick_fd, NULL, assign);
}

static void vpci__bar_map(struct pci_dev *pdev, int bar, u64 addr, bool map)
{
	struct virtio_pci *vpci = pdev->priv;
	struct virtio_dev *vdev = vpci->vdev;
	u64 base = addr + VPCI_NOTIFY_OFF;

	if (bar != VPCI_BAR_CFG)
		return;
	if (!map) {
		if (vpci->ioeventfds)
			vpci__ioeventfds(vpci, vpci->notify_addr, vdev->nr_queues, false);
		vpci->ioeventfds = false;
		return;
	}
	for (u16 i = 0; i < vdev->nr_queues; i++) {
		if (virtio_transport__ioeventfd(vdev->kvm, base + VPCI_NOTIFY_MULT * i,
						VPCI_NOTIFY_LEN, vdev->vqs[i].kick_fd,
						NULL, true)) {
			/* Trapped notifies still work, only slower. */
			vpci__ioeventfds(vpci, base, i, false);
			return;
		}
	}
	vpci->ioeventfds = true;
	vpci->notify_addr = base;
}

/* ---- configuration space hooks: INTx masking, the PCI cfg access capability ---- */

static bool vpci__cfg_cap_access(struct virtio_pci *vpci, u32 *bar, u32 *off, u32 *len)
{
	struct pci_dev *pdev = &vpci->pdev;
	u8 cap = vpci->cfg_cap;

	*bar = pdev->cfg[cap + VIRTIO_PCI_CAP_BAR];
	*off = pci__get32(pdev, cap + VIRTIO_PCI_CAP_OFFSET);
	*len = pci__get32(pdev, cap + VIRTIO_PCI_CAP_LENGTH);
	return *bar < PCI_STD_NUM_BARS && pdev->bars[*bar].size &&
	       (*len == 1 || *len == 2 || *len == 4) && !(*off & (*len - 1)) &&
	       *off + *len <= pdev->bars[*bar].size;
}

static bool vpci__touches_cfg_data(struct virtio_pci *vpci, u32 off, u32 len)
{
	u32 data = vpci->cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);

	return off < data + 4 && data < off + len;
}

static void vpci__cfg_read(struct pci_dev *pdev, u32 off, u32 len)
{
	struct virtio_pci *vpci = pdev->priv;
	u8 *data = &pdev->cfg[vpci->cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data)];
	u32 bar, boff, blen;

	if (!vpci__touches_cfg_data(vpci, off, len))
		return;
	memset(data, 0, 4);
	if (vpci__cfg_cap_access(vpci, &bar, &boff, &blen))
		pdev->bars[bar].io(pdev, bar, boff, data, blen, false);
}

static void vpci__cfg_write(struct pci_dev *pdev, u32 off, u32 len)
{
	struct virtio_pci *vpci = pdev->priv;
	u8 *data = &pdev->cfg[vpci->cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data)];
	u32 bar, boff, blen;

	if (vpci__touches_cfg_data(vpci, off, len) &&
	    vpci__cfg_cap_access(vpci, &bar, &boff, &blen))
		pdev->bars[bar].io(pdev, bar, boff, data, blen, true);
	/* The command register or MSI-X enable may have masked or unmasked INTx. */
	pthread_mutex_lock(&vpci->irq_lock);
	vpci__update_intx(vpci);
	pthread_mutex_unlock(&vpci->irq_lock);
}

/* ---- setup ---- */

static int vpci__add_cap(struct virtio_pci *vpci, u8 type, u32 off, u32 len)
{
	struct virtio_pci_cap cap = {
		.cap_vndr = PCI_CAP_ID_VNDR, .cap_len = sizeof(cap),
		.cfg_type = type, .bar = VPCI_BAR_CFG, .offset = off, .length = len,
	};

	return pci__add_cap(&vpci->pdev, &cap, sizeof(cap));
}

static int vpci__add_caps(struct virtio_pci *vpci)
{
	struct virtio_dev *vdev = vpci->vdev;
	struct virtio_pci_notify_cap notify = {
		.cap = {
			.cap_vndr = PCI_CAP_ID_VNDR, .cap_len = sizeof(notify),
			.cfg_type = VIRTIO_PCI_CAP_NOTIFY_CFG, .bar = VPCI_BAR_CFG,
			.offset = VPCI_NOTIFY_OFF, .length = VPCI_NOTIFY_MULT * vdev->nr_queues,
		},
		.notify_off_multiplier = VPCI_NOTIFY_MULT,
	};
	struct virtio_pci_cfg_cap cfg = {
		.cap = {
			.cap_vndr = PCI_CAP_ID_VNDR, .cap_len = sizeof(cfg),
			.cfg_type = VIRTIO_PCI_CAP_PCI_CFG,
		},
	};
	int ret;

	ret = vpci__add_cap(vpci, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON_OFF, VPCI_COMMON_LEN);
	if (ret >= 0)
		ret = pci__add_cap(&vpci->pdev, &notify, sizeof(notify));
	if (ret >= 0)
		ret = vpci__add_cap(vpci, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR_OFF, VPCI_ISR_LEN);
	if (ret >= 0 && vdev->ops->config_size)
		ret = vpci__add_cap(vpci, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVICE_OFF,
				    vdev->ops->config_size);
	if (ret >= 0)
		ret = pci__add_cap(&vpci->pdev, &cfg, sizeof(cfg));
	if (ret < 0)
		return ret;
	vpci->cfg_cap = ret;
	/* The driver picks a BAR window (bar, offset, length) and moves data through it. */
	pci__set_wmask(&vpci->pdev, ret + VIRTIO_PCI_CAP_BAR, 1, 0xff);
	pci__set_wmask(&vpci->pdev, ret + VIRTIO_PCI_CAP_OFFSET, 4, 0xffffffff);
	pci__set_wmask(&vpci->pdev, ret + VIRTIO_PCI_CAP_LENGTH, 4, 0xffffffff);
	pci__set_wmask(&vpci->pdev, ret + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data),
		       4, 0xffffffff);
	return 0;
}

static int vpci__setup(struct virtio_pci *vpci)
{
	struct virtio_dev *vdev = vpci->vdev;
	const struct virtio_dev_ops *ops = vdev->ops;
	struct pci_dev *pdev = &vpci->pdev;
	int ret;

	if (ops->config_size > VPCI_DEVICE_MAX || !vdev->nr_queues ||
	    vdev->nr_queues > VIRTIO_MAX_QUEUES)
		return -EINVAL;
	pci__dev_init(pdev, ops->name, VPCI_VENDOR, VPCI_DEVICE_BASE + ops->device_id,
		      vpci__class(ops->device_id), VPCI_REVISION);
	pci__set_subsystem(pdev, VPCI_VENDOR, ops->device_id);
	pci__set_intx(pdev);
	pdev->priv = vpci;
	pdev->cfg_read = vpci__cfg_read;
	pdev->cfg_write = vpci__cfg_write;
	pdev->bar_map = vpci__bar_map;
	ret = pci__set_bar(pdev, VPCI_BAR_CFG, VPCI_BAR_SIZE, vpci__bar_io);
	if (ret)
		return ret;
	ret = pci_msix__init(&vpci->msix, pdev, vdev->nr_queues + 1, VPCI_BAR_MSIX);
	if (ret)
		return ret;
	ret = vpci__add_caps(vpci);
	if (!ret)
		ret = pci__register(vdev->kvm, pdev);
	if (ret)
		pci_msix__exit(&vpci->msix);
	return ret;
}

int virtio_pci__register(struct virtio_dev *vdev)
{
	struct virtio_pci *vpci = calloc(1, sizeof(*vpci));
	int ret;

	if (!vpci)
		return -ENOMEM;
	vpci->vdev = vdev;
	vpci->config_vector = VIRTIO_MSI_NO_VECTOR;
	pthread_mutex_init(&vpci->lock, NULL);
	pthread_mutex_init(&vpci->irq_lock, NULL);
	vdev->transport = &vpci__transport;
	vdev->transport_priv = vpci;
	ret = vpci__setup(vpci);
	if (ret) {
		pr_err("virtio-%s: cannot attach to PCI: %s", vdev->ops->name, strerror(-ret));
		vdev->transport_priv = NULL;
		free(vpci);
	}
	return ret;
}

void virtio_pci__unregister(struct virtio_dev *vdev)
{
	struct virtio_pci *vpci = vdev->transport_priv;

	pci_msix__exit(&vpci->msix);
	pci__unregister(&vpci->pdev);		/* unmapping BAR0 drops the ioeventfds */
	for (u16 i = 0; i < vdev->nr_queues; i++)
		vdev->vqs[i].call_fd = -1;
	vdev->transport_priv = NULL;
	pthread_mutex_destroy(&vpci->lock);
	pthread_mutex_destroy(&vpci->irq_lock);
	free(vpci);
}
