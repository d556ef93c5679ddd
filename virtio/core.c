/* Split virtqueues and the device lifecycle, shared by all virtio devices. */
#include "virtio/virtio.h"
#include "kvm/kvm.h"
#include "kvm/seccomp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define VIRTIO_INDIRECT_MAX	VIRTIO_MAX_SEGS

static inline u16 ring_read16(const volatile u16 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

bool virtio_dev__has_feature(struct virtio_dev *vdev, unsigned int bit)
{
	return vdev->guest_features & (1ull << bit);
}

/*
 * A guest can break a device again after every reset, forever: each device
 * logs at most VIRTIO_MAX_WARNINGS lines, so it cannot fill the host's log.
 */
static bool virtio_dev__may_warn(struct virtio_dev *vdev)
{
	u32 n = __atomic_add_fetch(&vdev->warnings, 1, __ATOMIC_RELAXED);

	if (n == VIRTIO_MAX_WARNINGS + 1)
		pr_warn("virtio-%s: more than %d errors; no more are logged",
			vdev->ops->name, VIRTIO_MAX_WARNINGS);
	return n <= VIRTIO_MAX_WARNINGS;
}

void virtio_dev__fail(struct virtio_dev *vdev, const char *why)
{
	bool first;

	pthread_mutex_lock(&vdev->lock);
	first = !(vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	vdev->stats.bad_chains++;
	pthread_mutex_unlock(&vdev->lock);
	if (!first)
		return;
	if (virtio_dev__may_warn(vdev))
		pr_warn("virtio-%s: %s; device needs reset", vdev->ops->name, why);
	if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)
		vdev->transport->signal(vdev, NULL);
}

bool virtq__enable(struct virtio_queue *vq)
{
	u16 n = vq->size;

	if (!n || n > vq->max_size || (n & (n - 1))) {
		virtio_dev__fail(vq->vdev, "queue size is not a power of two within the maximum");
		return false;
	}
	vq->desc = guest_ptr(vq->vdev->kvm, vq->desc_gpa, 16ull * n);
	vq->avail = guest_ptr(vq->vdev->kvm, vq->avail_gpa, 6 + 2ull * n);
	vq->used = guest_ptr(vq->vdev->kvm, vq->used_gpa, 6 + 8ull * n);
	if (!vq->desc || !vq->avail || !vq->used ||
	    (vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3)) {
		vq->desc = NULL;
		vq->avail = NULL;
		vq->used = NULL;
		virtio_dev__fail(vq->vdev, "queue rings are outside guest memory or misaligned");
		return false;
	}
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_valid = false;
	vq->ready = true;
	return true;
}

void virtq__disable(struct virtio_queue *vq)
{
	pthread_mutex_lock(&vq->lock);
	vq->ready = false;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	vq->size = vq->max_size;
	vq->last_avail = vq->used_idx = 0;
	vq->msix_vector = VIRTIO_NO_VECTOR;
	pthread_mutex_unlock(&vq->lock);
}

bool virtq__has_work(struct virtio_queue *vq)
{
	return vq->ready && ring_read16(&vq->avail->idx) != vq->last_avail;
}

/* Append one buffer to @req, enforcing out-before-in and the RAM bounds. */
static int virtq__add_buf(struct virtio_queue *vq, struct virtio_req *req,
			  const struct vring_desc *d)
{
	bool in = d->flags & VRING_DESC_F_WRITE;
	u16 n = req->nr_out + req->nr_in;
	void *p;

	if (n >= VIRTIO_MAX_SEGS)
		return -E2BIG;
	if (!in && req->nr_in)
		return -EINVAL;		/* a readable buffer after a writable one */
	p = guest_ptr(vq->vdev->kvm, d->addr, d->len);
	if (!p)
		return -EFAULT;
	if (in) {
		if ((u64)req->in_len + d->len > UINT32_MAX)
			return -EOVERFLOW;
		req->in_len += d->len;
		req->nr_in++;
	} else {
		if ((u64)req->out_len + d->len > UINT32_MAX)
			return -EOVERFLOW;
		req->out_len += d->len;
		req->nr_out++;
	}
	req->iov[n].iov_base = p;
	req->iov[n].iov_len = d->len;
	return 0;
}

/* Walk an indirect table: no nesting, bounded, each entry checked. */
static int virtq__walk_indirect(struct virtio_queue *vq, struct virtio_req *req,
				const struct vring_desc *d)
{
	u32 n = d->len / sizeof(struct vring_desc);
	const struct vring_desc *table;
	u32 i = 0, steps = 0;
	int ret;

	if (!virtio_dev__has_feature(vq->vdev, VIRTIO_RING_F_INDIRECT_DESC) ||
	    (d->flags & VRING_DESC_F_NEXT) || !n || d->len % sizeof(*table) ||
	    n > VIRTIO_INDIRECT_MAX)
		return -EINVAL;
	table = guest_ptr(vq->vdev->kvm, d->addr, d->len);
	if (!table)
		return -EFAULT;
	for (;;) {
		struct vring_desc e = table[i];

		if (e.flags & VRING_DESC_F_INDIRECT || ++steps > n)
			return -ELOOP;
		ret = virtq__add_buf(vq, req, &e);
		if (ret)
			return ret;
		if (!(e.flags & VRING_DESC_F_NEXT))
			return 0;
		if (e.next >= n)
			return -EINVAL;
		i = e.next;
	}
}

static int virtq__walk(struct virtio_queue *vq, struct virtio_req *req, u16 head)
{
	u16 i = head, steps = 0;
	int ret;

	for (;;) {
		struct vring_desc d = vq->desc[i];

		/* A chain can never be longer than the ring: anything more loops. */
		if (++steps > vq->size)
			return -ELOOP;
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (steps != 1)
				return -EINVAL;
			return virtq__walk_indirect(vq, req, &d);
		}
		ret = virtq__add_buf(vq, req, &d);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->size)
			return -EINVAL;
		i = d.next;
	}
}

static const char *virtq__strerror(int err)
{
	switch (err) {
	case -ELOOP:	return "a descriptor chain loops or is longer than the queue";
	case -EFAULT:	return "a descriptor points outside guest memory";
	case -E2BIG:	return "a descriptor chain has too many buffers";
	case -EOVERFLOW: return "a descriptor chain is larger than 4 GiB";
	case -ERANGE:	return "the available ring index jumped past the queue size";
	default:	return "a descriptor chain is malformed";
	}
}

int virtq__pop(struct virtio_queue *vq, struct virtio_req *req)
{
	u16 avail_idx, head;
	int ret;

	pthread_mutex_lock(&vq->lock);
	if (!vq->ready || (vq->vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		pthread_mutex_unlock(&vq->lock);
		return 0;
	}
	avail_idx = ring_read16(&vq->avail->idx);
	if (avail_idx == vq->last_avail) {
		pthread_mutex_unlock(&vq->lock);
		return 0;
	}
	if ((u16)(avail_idx - vq->last_avail) > vq->size) {
		ret = -ERANGE;
		goto bad;
	}
	head = vq->avail->ring[vq->last_avail % vq->size];
	vq->last_avail++;
	/* With EVENT_IDX the driver learns from avail_event where we are. */
	if (virtio_dev__has_feature(vq->vdev, VIRTIO_RING_F_EVENT_IDX))
		__atomic_store_n((u16 *)&vq->used->ring[vq->size], vq->last_avail,
				 __ATOMIC_RELEASE);
	if (head >= vq->size) {
		ret = -EINVAL;
		goto bad;
	}
	req->head = head;
	req->nr_out = req->nr_in = 0;
	req->out_len = req->in_len = 0;
	ret = virtq__walk(vq, req, head);
	if (ret)
		goto bad;
	vq->vdev->stats.requests++;
	pthread_mutex_unlock(&vq->lock);
	return 1;
bad:
	pthread_mutex_unlock(&vq->lock);
	virtio_dev__fail(vq->vdev, virtq__strerror(ret));
	return ret;
}

void virtq__push(struct virtio_queue *vq, const struct virtio_req *req, u32 written)
{
	struct vring_used_elem *e;

	pthread_mutex_lock(&vq->lock);
	if (!vq->ready) {
		pthread_mutex_unlock(&vq->lock);
		return;
	}
	e = &vq->used->ring[vq->used_idx % vq->size];
	e->id = req->head;
	e->len = min_t(u32, written, req->in_len);
	vq->used_idx++;
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vq->lock);
}

/* Does the driver want an interrupt for the buffers used since the last one? */
static bool virtq__should_signal(struct virtio_queue *vq)
{
	u16 old, new, event;
	bool valid;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!virtio_dev__has_feature(vq->vdev, VIRTIO_RING_F_EVENT_IDX))
		return !(ring_read16(&vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);

	old = vq->signalled_used;
	valid = vq->signalled_valid;
	new = vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	event = ring_read16(&vq->avail->ring[vq->size]);	/* used_event */
	return (u16)(new - event - 1) < (u16)(new - old);
}

void virtq__notify(struct virtio_queue *vq)
{
	bool signal;

	pthread_mutex_lock(&vq->lock);
	signal = vq->ready && virtq__should_signal(vq);
	pthread_mutex_unlock(&vq->lock);
	if (signal) {
		vq->vdev->stats.interrupts++;
		vq->vdev->transport->signal(vq->vdev, vq);
	}
}

size_t virtio_req__read(const struct virtio_req *req, size_t off, void *buf, size_t len)
{
	size_t done = 0;

	for (u16 i = 0; i < req->nr_out && done < len; i++) {
		const struct iovec *v = &req->iov[i];

		if (off >= v->iov_len) {
			off -= v->iov_len;
			continue;
		}
		size_t n = min_t(size_t, v->iov_len - off, len - done);

		memcpy((u8 *)buf + done, (u8 *)v->iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t virtio_req__write(const struct virtio_req *req, size_t off, const void *buf, size_t len)
{
	size_t done = 0;

	for (u16 i = req->nr_out; i < req->nr_out + req->nr_in && done < len; i++) {
		const struct iovec *v = &req->iov[i];

		if (off >= v->iov_len) {
			off -= v->iov_len;
			continue;
		}
		size_t n = min_t(size_t, v->iov_len - off, len - done);

		memcpy((u8 *)v->iov_base + off, (const u8 *)buf + done, n);
		done += n;
		off = 0;
	}
	return done;
}

int virtio_dev__set_features(struct virtio_dev *vdev, u64 features)
{
	if (features & ~vdev->host_features)
		return -EINVAL;
	if (!(features & (1ull << VIRTIO_F_VERSION_1)))
		return -EINVAL;		/* we are a modern-only device */
	if (vdev->ops->set_features && vdev->ops->set_features(vdev, features))
		return -EINVAL;
	vdev->guest_features = features;
	return 0;
}

void virtio_dev__reset(struct virtio_dev *vdev)
{
	virtio_dev__stop_io(vdev);
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	for (u16 i = 0; i < vdev->nr_queues; i++)
		virtq__disable(&vdev->vqs[i]);
	pthread_mutex_lock(&vdev->lock);
	vdev->status = 0;
	vdev->guest_features = 0;
	vdev->isr = 0;
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_dev__set_status(struct virtio_dev *vdev, u8 status)
{
	u8 old;

	if (!status) {
		virtio_dev__reset(vdev);
		return;
	}
	/*
	 * FEATURES_OK sticks only if the features were acceptable: checked at
	 * write. Under the lock: the I/O thread may be setting NEEDS_RESET.
	 */
	pthread_mutex_lock(&vdev->lock);
	old = vdev->status;
	vdev->status = status | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	pthread_mutex_unlock(&vdev->lock);
	if (!(old & VIRTIO_CONFIG_S_DRIVER_OK) && (status & VIRTIO_CONFIG_S_DRIVER_OK)) {
		if (virtio_dev__start_io(vdev) ||
		    (vdev->ops->start && vdev->ops->start(vdev)))
			virtio_dev__fail(vdev, "the device could not start");
	}
}

static void *virtio_dev__io_thread(void *arg)
{
	struct virtio_dev *vdev = arg;
	char name[16];

	snprintf(name, sizeof(name), "virtio-%s", vdev->ops->name);
	pthread_setname_np(pthread_self(), name);
	for (;;) {
		struct epoll_event ev[8];
		int n = epoll_wait(vdev->epoll_fd, ev, 8, -1);

		for (int i = 0; i < n; i++) {
			struct virtio_queue *vq = ev[i].data.ptr;
			u64 v;

			if (!vq)
				return NULL;	/* wake_fd: stop */
			if (read(vq->kick_fd, &v, sizeof(v)) < 0)
				continue;
			vdev->stats.kicks++;
			if (vq->ready && vdev->ops->notify)
				vdev->ops->notify(vdev, vq);
		}
	}
}

int virtio_dev__start_io(struct virtio_dev *vdev)
{
	if (vdev->io_running)
		return 0;
	if (seccomp__thread_create(&vdev->io_thread, SECCOMP_ROLE_IO, virtio_dev__io_thread, vdev))
		return -EAGAIN;
	vdev->io_running = true;
	/* Kicks that came before DRIVER_OK are still counted in the eventfds. */
	return 0;
}

void virtio_dev__stop_io(struct virtio_dev *vdev)
{
	u64 one = 1;

	if (!vdev->io_running)
		return;
	if (write(vdev->wake_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(vdev->io_thread, NULL);
	if (read(vdev->wake_fd, &one, sizeof(one)) < 0)
		one = 0;
	vdev->io_running = false;
}

void virtio_dev__kick(struct virtio_dev *vdev, struct virtio_queue *vq)
{
	u64 one = 1;

	if (write(vq->kick_fd, &one, sizeof(one)) < 0 && virtio_dev__may_warn(vdev))
		pr_warn("virtio-%s: lost a kick", vdev->ops->name);
}

static int virtio_dev__epoll_add(struct virtio_dev *vdev, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(vdev->epoll_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int virtio_dev__watch_kick(struct virtio_dev *vdev, struct virtio_queue *vq, bool watch)
{
	int ret;

	if (watch) {
		ret = virtio_dev__epoll_add(vdev, vq->kick_fd, vq);
		return ret == -EEXIST ? 0 : ret;
	}
	if (epoll_ctl(vdev->epoll_fd, EPOLL_CTL_DEL, vq->kick_fd, NULL) && errno != ENOENT)
		return -errno;
	return 0;
}

int virtio_dev__init(struct virtio_dev *vdev, struct kvm *kvm,
		     const struct virtio_dev_ops *ops, void *priv)
{
	int ret;

	memset(vdev, 0, sizeof(*vdev));
	if (kvm->nr_vdevs >= KVM_MAX_VIRTIO_DEVS)
		return -ENOSPC;
	kvm->vdevs[kvm->nr_vdevs++] = vdev;
	vdev->ops = ops;
	vdev->kvm = kvm;
	vdev->priv = priv;
	vdev->nr_queues = ops->nr_queues;
	vdev->host_features = ops->features | (1ull << VIRTIO_F_VERSION_1) |
			      (1ull << VIRTIO_RING_F_EVENT_IDX) |
			      (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	pthread_mutex_init(&vdev->lock, NULL);
	vdev->vqs = calloc(vdev->nr_queues, sizeof(*vdev->vqs));
	vdev->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	vdev->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!vdev->vqs || vdev->epoll_fd < 0 || vdev->wake_fd < 0)
		return -ENOMEM;
	ret = virtio_dev__epoll_add(vdev, vdev->wake_fd, NULL);
	for (u16 i = 0; i < vdev->nr_queues && !ret; i++) {
		struct virtio_queue *vq = &vdev->vqs[i];

		vq->vdev = vdev;
		vq->index = i;
		vq->max_size = vq->size = ops->queue_size;
		vq->msix_vector = VIRTIO_NO_VECTOR;
		vq->call_fd = -1;
		pthread_mutex_init(&vq->lock, NULL);
		vq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ret = vq->kick_fd < 0 ? -errno : virtio_dev__epoll_add(vdev, vq->kick_fd, vq);
	}
	return ret;
}
