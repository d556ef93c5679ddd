#ifndef VIRTIO__VIRTIO_H
#define VIRTIO__VIRTIO_H

/*
 * The virtio core: split virtqueues, feature negotiation, device status.
 * A device is written once against this interface (struct virtio_dev_ops)
 * and works on every transport (virtio/mmio.c, virtio/pci.c).
 *
 * The guest is hostile: every ring and buffer address is checked against
 * guest RAM with guest_ptr(); a malformed chain puts the device in
 * NEEDS_RESET and the request is dropped, never touching host memory.
 */
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <pthread.h>
#include <sys/uio.h>

#include "kvm/util.h"

struct kvm;
struct virtio_dev;

#define VIRTIO_MAX_QUEUES	64
#define VIRTIO_MAX_SEGS		1024	/* buffers in one chain, indirect included */
#define VIRTIO_NO_VECTOR	0xffff

struct virtio_queue {
	struct virtio_dev	*vdev;
	u16			index;
	u16			max_size;	/* what the device offers */
	u16			size;		/* what the driver chose */
	bool			ready;
	u64			desc_gpa, avail_gpa, used_gpa;
	/* Host pointers to the rings, valid while ready. */
	struct vring_desc	*desc;
	struct vring_avail	*avail;
	struct vring_used	*used;
	u16			last_avail;	/* next avail entry to take */
	u16			used_idx;	/* our copy of used->idx */
	u16			signalled_used;	/* used idx at the last interrupt */
	bool			signalled_valid;
	u16			msix_vector;	/* virtio-pci only */
	int			kick_fd;	/* ioeventfd the transport wired, or -1 */
	int			call_fd;	/* irqfd the transport wired, or -1 */
	pthread_mutex_t		lock;		/* pop/push from several threads */
};

/* One request: the chain's buffers, device-readable (out) ones first. */
struct virtio_req {
	u16		head;
	u16		nr_out;
	u16		nr_in;
	u32		out_len;	/* bytes the driver gave us to read */
	u32		in_len;		/* room the driver gave us to write */
	struct iovec	iov[VIRTIO_MAX_SEGS];
};

struct virtio_dev_ops {
	const char	*name;
	u32		device_id;	/* VIRTIO_ID_* */
	u16		nr_queues;
	u16		queue_size;
	u32		config_size;
	u64		features;	/* device-specific feature bits offered */
	/* Optional: validate the features the driver accepted. */
	int		(*set_features)(struct virtio_dev *vdev, u64 features);
	/* Device config space access; @off + @len within config_size. */
	void		(*config_read)(struct virtio_dev *vdev, u32 off, void *data, u32 len);
	void		(*config_write)(struct virtio_dev *vdev, u32 off, const void *data, u32 len);
	/* The driver set DRIVER_OK: start the device (queues are ready). */
	int		(*start)(struct virtio_dev *vdev);
	/* Stop all work and forget queue state (device reset). */
	void		(*reset)(struct virtio_dev *vdev);
	/* Queue @vq was kicked. Called on the device's I/O thread, never a vCPU. */
	void		(*notify)(struct virtio_dev *vdev, struct virtio_queue *vq);
};

/* What a transport does for the core. */
struct virtio_transport_ops {
	const char	*name;
	/* Raise the interrupt for @vq (used buffers) or, with @vq NULL, config change. */
	void		(*signal)(struct virtio_dev *vdev, struct virtio_queue *vq);
};

struct virtio_dev_stats {
	u64	kicks;
	u64	requests;
	u64	interrupts;
	u64	bad_chains;
	u64	bytes;		/* payload moved, as the device counts it */
};

struct virtio_dev {
	const struct virtio_dev_ops		*ops;
	const struct virtio_transport_ops	*transport;
	void					*transport_priv;
	struct kvm				*kvm;
	void					*priv;		/* the device's state */
	u64					host_features;
	u64					guest_features;
	u8					status;
	u32					config_generation;
	u32					isr;		/* bit 0 queue, bit 1 config */
	u16					nr_queues;
	struct virtio_queue			*vqs;
	struct virtio_dev_stats			stats;
	u32					warnings;	/* lines logged (atomic) */
	pthread_mutex_t				lock;		/* status, features */
	/* The device's I/O thread: waits for kicks on every queue's kick_fd. */
	pthread_t				io_thread;
	bool					io_running;
	int					epoll_fd;
	int					wake_fd;
};

/* Transport-independent device lifecycle. */
int virtio_dev__init(struct virtio_dev *vdev, struct kvm *kvm,
		     const struct virtio_dev_ops *ops, void *priv);
/* Choose a transport per the configuration and attach. */
int virtio_dev__register(struct virtio_dev *vdev);
void virtio_dev__set_status(struct virtio_dev *vdev, u8 status);
void virtio_dev__reset(struct virtio_dev *vdev);
int virtio_dev__set_features(struct virtio_dev *vdev, u64 features);
/* Lines a device may log about its driver's errors (virtio_dev__fail()). */
#define VIRTIO_MAX_WARNINGS	1000

/* Flag a broken driver: NEEDS_RESET, config-change interrupt, log once. */
void virtio_dev__fail(struct virtio_dev *vdev, const char *why);
bool virtio_dev__has_feature(struct virtio_dev *vdev, unsigned int bit);

/* Validate and map the rings; false (and NEEDS_RESET) if they are not in RAM. */
bool virtq__enable(struct virtio_queue *vq);
void virtq__disable(struct virtio_queue *vq);
/* Take the next request: 1 if one was taken, 0 if none, <0 if the chain is bad. */
int virtq__pop(struct virtio_queue *vq, struct virtio_req *req);
/* Return a request with @written bytes stored in its in-buffers. */
void virtq__push(struct virtio_queue *vq, const struct virtio_req *req, u32 written);
/* Interrupt the driver if it wants to hear about what was pushed. */
void virtq__notify(struct virtio_queue *vq);
bool virtq__has_work(struct virtio_queue *vq);

/* Copy helpers over a request's iovecs. */
size_t virtio_req__read(const struct virtio_req *req, size_t off, void *buf, size_t len);
size_t virtio_req__write(const struct virtio_req *req, size_t off, const void *buf, size_t len);

/* Start/stop the device I/O thread that turns kicks into ops->notify calls. */
int virtio_dev__start_io(struct virtio_dev *vdev);
void virtio_dev__stop_io(struct virtio_dev *vdev);
/* Run ops->notify for @vq on the I/O thread (for transports without ioeventfd). */
void virtio_dev__kick(struct virtio_dev *vdev, struct virtio_queue *vq);
/*
 * Hand @vq's kick_fd to someone else (vhost reads it): the I/O thread stops
 * watching it (@watch false), or takes it back. A kick the I/O thread took
 * just before still reaches ops->notify.
 */
int virtio_dev__watch_kick(struct virtio_dev *vdev, struct virtio_queue *vq, bool watch);

#endif
