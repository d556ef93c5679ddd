#ifndef VIRTIO__TRANSPORT_H
#define VIRTIO__TRANSPORT_H

/*
 * What virtio-pci and virtio-mmio share: the driver's status writes (feature
 * negotiation at FEATURES_OK, reset on 0) and KVM ioeventfds for notifies.
 * virtio_dev__register() (virtio/virtio.h) picks the transport.
 */
#include "kvm/util.h"

struct kvm;
struct virtio_dev;

/*
 * The driver wrote @status. Status bits only accumulate until a reset;
 * FEATURES_OK sticks only if the core accepts @driver_features, and
 * DRIVER_OK only with FEATURES_OK. 0 resets the device (the caller resets
 * its own transport state).
 */
void virtio_transport__write_status(struct virtio_dev *vdev, u8 status, u64 driver_features);

/* Assign (or deassign) a KVM ioeventfd: MMIO writes of @len bytes at @addr. */
int virtio_transport__ioeventfd(struct kvm *kvm, u64 addr, u32 len, int fd,
				const u64 *datamatch, bool assign);

/* Feature words as the transports expose them: select 0 is bits 0-31. */
static inline u32 virtio_transport__feature_word(u64 features, u32 select)
{
	return select == 0 ? (u32)features : select == 1 ? (u32)(features >> 32) : 0;
}

static inline u64 virtio_transport__set_feature_word(u64 features, u32 select, u32 v)
{
	if (select == 0)
		return (features & ~0xffffffffull) | v;
	if (select == 1)
		return (features & 0xffffffffull) | (u64)v << 32;
	return features;
}

int virtio_pci__register(struct virtio_dev *vdev);
void virtio_pci__unregister(struct virtio_dev *vdev);
int virtio_mmio__register(struct virtio_dev *vdev);
void virtio_mmio__unregister(struct virtio_dev *vdev);
/* Undo virtio_dev__register (at device exit). */
void virtio_dev__unregister(struct virtio_dev *vdev);

#endif
