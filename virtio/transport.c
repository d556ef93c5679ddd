/* Transport selection and the parts virtio-pci and virtio-mmio share. */
#include "kvm/kvm.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#define STATUS_STICKY	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK | \
			 VIRTIO_CONFIG_S_FAILED)

void virtio_transport__write_status(struct virtio_dev *vdev, u8 status, u64 driver_features)
{
	u8 old = vdev->status;

	if (!status) {
		virtio_dev__set_status(vdev, 0);
		return;
	}
	status |= old & STATUS_STICKY;
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    virtio_dev__set_features(vdev, driver_features))
		status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	if (!(status & VIRTIO_CONFIG_S_FEATURES_OK))
		status &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	virtio_dev__set_status(vdev, status);
}

int virtio_transport__ioeventfd(struct kvm *kvm, u64 addr, u32 len, int fd,
				const u64 *datamatch, bool assign)
{
	struct kvm_ioeventfd e = { .addr = addr, .len = len, .fd = fd };

	if (datamatch) {
		e.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
		e.datamatch = *datamatch;
	}
	if (!assign)
		e.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	if (ioctl(kvm->vm_fd, KVM_IOEVENTFD, &e) < 0)
		return -errno;
	return 0;
}

int virtio_dev__register(struct virtio_dev *vdev)
{
	switch (vdev->kvm->cfg->transport) {
	case TRANSPORT_PCI:
		return virtio_pci__register(vdev);
	case TRANSPORT_MMIO:
		return virtio_mmio__register(vdev);
	}
	return -EINVAL;
}

void virtio_dev__unregister(struct virtio_dev *vdev)
{
	if (!vdev->transport_priv)
		return;
	if (vdev->kvm->cfg->transport == TRANSPORT_PCI)
		virtio_pci__unregister(vdev);
	else
		virtio_mmio__unregister(vdev);
}
