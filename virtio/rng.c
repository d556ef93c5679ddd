/*
 * virtio-rng (entropy device): always present. Each request's in-buffers are
 * filled from getrandom(), at most RNG_MAX_REQ bytes a request so a guest
 * cannot keep the I/O thread busy with one huge buffer.
 */
#include "virtio/virtio.h"
#include "virtio/transport.h"
#include "kvm/devices.h"
#include "kvm/kvm.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <sys/random.h>

#define RNG_QUEUE_SIZE	64
#define RNG_MAX_REQ	(64 * 1024)

struct rng_dev {
	struct virtio_dev	vdev;
	struct virtio_req	req;	/* only the I/O thread uses it */
};

/* Fill up to @max bytes of @req's in-buffers: how many were filled. */
static u32 rng__fill(const struct virtio_req *req, u32 max)
{
	u32 done = 0;

	for (u16 i = req->nr_out; i < req->nr_out + req->nr_in && done < max; i++) {
		u8 *p = req->iov[i].iov_base;
		size_t len = min_t(size_t, req->iov[i].iov_len, max - done);

		while (len) {
			ssize_t n = getrandom(p, len, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return done;
			p += n;
			len -= n;
			done += n;
		}
	}
	return done;
}

static void rng__notify(struct virtio_dev *vdev, struct virtio_queue *vq)
{
	struct rng_dev *r = vdev->priv;
	bool pushed = false;

	while (virtq__pop(vq, &r->req) > 0) {
		u32 n = rng__fill(&r->req, RNG_MAX_REQ);

		__atomic_fetch_add(&vdev->stats.bytes, n, __ATOMIC_RELAXED);
		virtq__push(vq, &r->req, n);
		pushed = true;
	}
	if (pushed)
		virtq__notify(vq);
}

static const struct virtio_dev_ops rng__ops = {
	.name		= "rng",
	.device_id	= VIRTIO_ID_RNG,
	.nr_queues	= 1,
	.queue_size	= RNG_QUEUE_SIZE,
	.notify		= rng__notify,
};

static int rng__init(struct kvm *kvm)
{
	struct rng_dev *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	ret = virtio_dev__init(&r->vdev, kvm, &rng__ops, r);
	if (!ret)
		ret = virtio_dev__register(&r->vdev);
	return ret;
}

static void rng__exit(struct kvm *kvm)
{
	for (int i = 0; i < kvm->nr_vdevs; i++) {
		struct virtio_dev *vdev = kvm->vdevs[i];

		if (vdev->ops != &rng__ops)
			continue;
		virtio_dev__stop_io(vdev);
		virtio_dev__unregister(vdev);
	}
}
device_init_order(rng__init, rng__exit, DEV_ORDER_VIRTIO);
