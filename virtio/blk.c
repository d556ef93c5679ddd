/*
 * virtio-blk over a host file or block device.
 *
 * Requests are taken on the device's I/O thread. Reads, writes and flushes
 * are submitted to an io_uring and completed on the disk's completion
 * thread; discard, write-zeroes and GET_ID are done at once. Without
 * io_uring (or with LKVM_NO_IO_URING=1) everything is synchronous on the
 * I/O thread. At most BLK_QUEUE_SIZE requests a queue and BLK_MAX_INFLIGHT
 * in all are in flight (a guest cannot make us allocate without bound); a
 * queue that hit a limit is kicked again when a request completes.
 *
 * Every request is checked in full before anything is done: header,
 * status byte, direction of the buffers, sector range, read-only disk.
 */
#include "virtio/blk.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"
#include "kvm/devices.h"
#include "kvm/kvm.h"
#include "kvm/seccomp.h"
#include "kvm/uring.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <limits.h>
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLK_SECTOR		512
#define BLK_QUEUE_SIZE		256
#define BLK_SEG_MAX		(BLK_QUEUE_SIZE - 2)	/* data buffers a request */
#define BLK_RANGE_SECTORS	(1u << 21)		/* 1 GiB per discard/zeroes range */
#define BLK_RANGE_SEGS		16
#define BLK_MAX_INFLIGHT	1024			/* requests, all queues together */
#define BLK_URING_ENTRIES	256
#define BLK_ZERO_CHUNK		(64 * 1024)
#define BLK_PENDING		0xff			/* not a status: work was started */
#define BLK_STOP		0			/* user_data: completion thread, stop */

struct blk_dev;

struct blk_req {
	struct blk_queue	*q;
	struct blk_req		*next;		/* free list */
	u32			type;
	u64			off;		/* byte offset on the disk */
	u64			len;		/* data bytes */
	struct iovec		*data;		/* into vreq.iov */
	u32			nr_data;
	int			fd;
	u8			*status;	/* the last in-byte; NULL if none */
	u32			written;	/* in-bytes filled on success */
	u32			handoff;	/* to the completion thread, via the kernel */
	struct virtio_req	vreq;
};

struct blk_queue {
	struct virtio_queue	*vq;
	struct blk_req		*free;
	u32			nr_busy;
	bool			starved;	/* out of slots: kick when one frees */
};

struct blk_dev {
	struct virtio_dev	vdev;
	struct virtio_dev_ops	ops;		/* per disk: features, queue count */
	struct kvm		*kvm;
	const char		*path;
	int			index;
	int			fd;		/* O_DIRECT when asked */
	int			bfd;		/* buffered: == fd unless direct */
	bool			ro, bdev;
	u64			capacity;	/* in 512-byte sectors */
	u32			blk_size;	/* logical block size the guest sees */
	u32			dio_align;	/* direct: what fd needs, else 1 */
	char			serial[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;
	struct blk_queue	*queues;
	/* io_uring: submitted from the I/O thread, completed on done_thread. */
	bool			use_uring;
	bool			resubmit;	/* a submit failed: SQEs wait in the ring */
	struct uring		ring;
	pthread_t		done_thread;
	/* Requests in flight, for reset and exit. */
	pthread_mutex_t		lock;
	pthread_cond_t		idle;
	u32			busy;
	u32			nr_starved;
	bool			warned;
};

/* ---- options and validation (before the VM exists) ---- */

int blk__parse_disk(struct disk_config *d, const char *arg)
{
	const char *comma = strchr(arg, ',');
	size_t plen = comma ? (size_t)(comma - arg) : strlen(arg);

	memset(d, 0, sizeof(*d));
	if (!plen) {
		fprintf(stderr, "lkvm: error: --disk needs a path (PATH[,ro][,direct])\n");
		return -1;
	}
	while (comma) {
		const char *flag = comma + 1;
		size_t n;

		comma = strchr(flag, ',');
		n = comma ? (size_t)(comma - flag) : strlen(flag);
		if (n == 2 && !strncmp(flag, "ro", 2)) {
			d->ro = true;
		} else if (n == 6 && !strncmp(flag, "direct", 6)) {
			d->direct = true;
		} else {
			fprintf(stderr, "lkvm: error: unknown disk option '%.*s' in '%s' "
				"(expected ro or direct)\n", (int)n, flag, arg);
			return -1;
		}
	}
	d->path = strndup(arg, plen);
	return d->path ? 0 : -1;
}

int blk__add_disk(struct kvm_config *cfg, const char *arg)
{
	if (cfg->nr_disks >= MAX_DISKS) {
		fprintf(stderr, "lkvm: error: too many disks (at most %d)\n", MAX_DISKS);
		return -1;
	}
	if (blk__parse_disk(&cfg->disks[cfg->nr_disks], arg))
		return -1;
	cfg->nr_disks++;
	return 0;
}

struct blk_image {
	int	fd, bfd;
	bool	bdev;
	u64	size;
	u32	blk_size;
	u32	dio_align;
};

static int blk__open_error(const struct disk_config *d, int err)
{
	switch (err) {
	case ENOENT:
		pr_err("disk image %s does not exist", d->path);
		break;
	case EACCES:
	case EPERM:
		pr_err("cannot open disk image %s: permission denied%s", d->path,
		       d->ro ? "" : " (add ,ro to use it read-only)");
		break;
	case EROFS:
		pr_err("disk image %s is on a read-only filesystem (add ,ro to use it read-only)",
		       d->path);
		break;
	case EINVAL:
		pr_err("disk image %s: its filesystem does not support O_DIRECT (drop ,direct)",
		       d->path);
		break;
	default:
		pr_err("cannot open disk image %s: %s", d->path, strerror(err));
		break;
	}
	return -err;
}

static int blk__image_size(const struct disk_config *d, struct blk_image *img)
{
	struct stat st;

	if (fstat(img->fd, &st) < 0)
		return blk__open_error(d, errno);
	if (S_ISDIR(st.st_mode)) {
		pr_err("disk image %s is a directory", d->path);
		return -EISDIR;
	}
	img->bdev = S_ISBLK(st.st_mode);
	if (!img->bdev && !S_ISREG(st.st_mode)) {
		pr_err("disk image %s is not a regular file or a block device", d->path);
		return -ENODEV;
	}
	img->size = st.st_size;
	if (img->bdev && ioctl(img->fd, BLKGETSIZE64, &img->size) < 0)
		return blk__open_error(d, errno);
	if (img->size < BLK_SECTOR) {
		pr_err("disk image %s is too small: %llu bytes (at least %d)", d->path,
		       (unsigned long long)img->size, BLK_SECTOR);
		return -EINVAL;
	}
	if (img->size % BLK_SECTOR) {
		pr_err("disk image %s is %llu bytes, not a multiple of %d", d->path,
		       (unsigned long long)img->size, BLK_SECTOR);
		return -EINVAL;
	}
	return 0;
}

/* The logical block size: a block device's own, 512 bytes for a file. */
static u32 blk__blk_size(struct blk_image *img)
{
	int ssz;

	if (!img->bdev || ioctl(img->fd, BLKSSZGET, &ssz) < 0 || ssz < BLK_SECTOR ||
	    (ssz & (ssz - 1)))
		return BLK_SECTOR;
	return ssz;
}

/* What O_DIRECT needs of offsets, lengths and buffers on this image. */
static u32 blk__dio_align(struct blk_image *img)
{
	struct statx stx;

	if (img->bdev)
		return img->blk_size;
	if (statx(img->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align)
		return max_t(u32, max_t(u32, stx.stx_dio_offset_align, stx.stx_dio_mem_align),
			     BLK_SECTOR);
	return 4096;
}

/* Open for use by a guest: locked against other writers, checked, sized. */
static int blk__open(const struct disk_config *d, struct blk_image *img)
{
	int flags = (d->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;
	int ret;

	img->fd = img->bfd = -1;
	if (stat(d->path, &st) < 0)
		return blk__open_error(d, errno);
	if (S_ISDIR(st.st_mode)) {
		pr_err("disk image %s is a directory", d->path);
		return -EISDIR;
	}
	img->fd = open(d->path, flags | (d->direct ? O_DIRECT : 0));
	if (img->fd < 0)
		return blk__open_error(d, errno);
	ret = blk__image_size(d, img);
	if (ret)
		return ret;
	if (flock(img->fd, (d->ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			pr_err("disk image %s is in use by another process", d->path);
			return -EBUSY;
		}
	}
	img->bfd = img->fd;
	img->blk_size = blk__blk_size(img);
	img->dio_align = 1;
	if (!d->direct)
		return 0;
	img->dio_align = blk__dio_align(img);
	/* Guest requests O_DIRECT cannot take go through the page cache. */
	img->bfd = open(d->path, flags);
	return img->bfd < 0 ? blk__open_error(d, errno) : 0;
}

static void blk__close_image(struct blk_image *img)
{
	if (img->bfd >= 0 && img->bfd != img->fd)
		close(img->bfd);
	if (img->fd >= 0)
		close(img->fd);
	img->fd = img->bfd = -1;
}

int blk__check_disk(const struct disk_config *d)
{
	struct blk_image img;
	int ret = blk__open(d, &img);

	blk__close_image(&img);
	return ret;
}

int blk__check_disks(const struct kvm_config *cfg)
{
	for (int i = 0; i < cfg->nr_disks; i++) {
		int ret = blk__check_disk(&cfg->disks[i]);

		if (ret)
			return ret;
	}
	return 0;
}

/* ---- request slots ---- */

static struct blk_req *blk__get_req(struct blk_dev *b, struct blk_queue *q)
{
	struct blk_req *r = NULL;

	pthread_mutex_lock(&b->lock);
	if (q->nr_busy < BLK_QUEUE_SIZE && b->busy < BLK_MAX_INFLIGHT) {
		r = q->free;
		if (r)
			q->free = r->next;
		else
			r = malloc(sizeof(*r));
	}
	if (r) {
		q->nr_busy++;
		b->busy++;
		r->q = q;
	} else if (!q->starved) {
		q->starved = true;
		b->nr_starved++;
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

/* A slot came free: kick the queues that ran out of them. */
static void blk__put_req(struct blk_dev *b, struct blk_req *r)
{
	u64 kick = 0;

	pthread_mutex_lock(&b->lock);
	r->next = r->q->free;
	r->q->free = r;
	r->q->nr_busy--;
	if (!--b->busy)
		pthread_cond_broadcast(&b->idle);
	for (u16 i = 0; b->nr_starved && i < b->ops.nr_queues; i++) {
		if (b->queues[i].starved) {
			b->queues[i].starved = false;
			b->nr_starved--;
			kick |= 1ull << i;
		}
	}
	pthread_mutex_unlock(&b->lock);
	for (u16 i = 0; kick; i++, kick >>= 1)
		if (kick & 1)
			virtio_dev__kick(&b->vdev, &b->vdev.vqs[i]);
}

/* ---- parsing ---- */

/* The status byte: the last byte of the last non-empty in-buffer. */
static u8 *blk__find_status(struct virtio_req *v)
{
	for (int i = v->nr_out + v->nr_in - 1; i >= v->nr_out; i--) {
		struct iovec *iov = &v->iov[i];

		if (iov->iov_len)
			return (u8 *)iov->iov_base + iov->iov_len - 1;
	}
	return NULL;
}

/* The data of a read: the in-buffers without the status byte. */
static void blk__in_data(struct blk_req *r)
{
	struct virtio_req *v = &r->vreq;
	int last = v->nr_out + v->nr_in - 1;

	while (!v->iov[last].iov_len)
		last--;
	/* A buffer that held only the status is not data. */
	if (!--v->iov[last].iov_len)
		last--;
	r->data = &v->iov[v->nr_out];
	r->nr_data = last - v->nr_out + 1;
	r->len = v->in_len - 1;
}

/* The data of a write: the out-buffers after the header. */
static void blk__out_data(struct blk_req *r)
{
	struct virtio_req *v = &r->vreq;
	size_t skip = sizeof(struct virtio_blk_outhdr);
	u16 i = 0;

	while (i < v->nr_out && skip >= v->iov[i].iov_len)
		skip -= v->iov[i++].iov_len;
	if (i < v->nr_out) {
		v->iov[i].iov_base = (u8 *)v->iov[i].iov_base + skip;
		v->iov[i].iov_len -= skip;
	}
	r->data = &v->iov[i];
	r->nr_data = v->nr_out - i;
	r->len = v->out_len - sizeof(struct virtio_blk_outhdr);
}

static bool blk__aligned(const struct blk_req *r, u32 align)
{
	if ((r->off | r->len) & (align - 1))
		return false;
	for (u32 i = 0; i < r->nr_data; i++)
		if (r->data[i].iov_len &&
		    ((unsigned long)r->data[i].iov_base | r->data[i].iov_len) & (align - 1))
			return false;
	return true;
}

static u8 blk__parse_rw(struct blk_dev *b, struct blk_req *r, u64 sector)
{
	struct virtio_req *v = &r->vreq;
	bool write = r->type == VIRTIO_BLK_T_OUT;

	/* Reads take data only from in-buffers, writes only from out-buffers. */
	if (write ? v->in_len != 1 : v->out_len != sizeof(struct virtio_blk_outhdr))
		return VIRTIO_BLK_S_IOERR;
	if (write && b->ro)
		return VIRTIO_BLK_S_IOERR;
	if (write)
		blk__out_data(r);
	else
		blk__in_data(r);
	if (r->len % BLK_SECTOR || sector > b->capacity ||
	    r->len / BLK_SECTOR > b->capacity - sector)
		return VIRTIO_BLK_S_IOERR;
	r->off = sector * BLK_SECTOR;
	r->written = write ? 1 : v->in_len;
	/* Unaligned requests on a direct disk go through the page cache. */
	r->fd = b->dio_align > 1 && !blk__aligned(r, b->dio_align) ? b->bfd : b->fd;
	return BLK_PENDING;
}

/* Check a request: BLK_PENDING if it is to be done, else the status to return. */
static u8 blk__parse(struct blk_dev *b, struct blk_req *r)
{
	struct virtio_req *v = &r->vreq;
	struct virtio_blk_outhdr hdr;

	r->status = blk__find_status(v);
	r->written = 1;
	r->len = 0;
	if (!r->status)
		return VIRTIO_BLK_S_IOERR;
	if (v->out_len < sizeof(hdr))
		return VIRTIO_BLK_S_IOERR;
	virtio_req__read(v, 0, &hdr, sizeof(hdr));
	r->type = le32toh(hdr.type);
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return blk__parse_rw(b, r, le64toh(hdr.sector));
	case VIRTIO_BLK_T_FLUSH:
	case VIRTIO_BLK_T_GET_ID:
		return v->out_len == sizeof(hdr) ? BLK_PENDING : VIRTIO_BLK_S_IOERR;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!virtio_dev__has_feature(&b->vdev, r->type == VIRTIO_BLK_T_DISCARD ?
					     VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES))
			return VIRTIO_BLK_S_UNSUPP;
		return b->ro || v->in_len != 1 ? VIRTIO_BLK_S_IOERR : BLK_PENDING;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* ---- completion ---- */

static void blk__finish(struct blk_dev *b, struct blk_req *r, u8 status)
{
	if (r->status)
		__atomic_store_n(r->status, status, __ATOMIC_RELAXED);
	if (status == VIRTIO_BLK_S_OK)
		__atomic_fetch_add(&b->vdev.stats.bytes, r->len, __ATOMIC_RELAXED);
	virtq__push(r->q->vq, &r->vreq, status == VIRTIO_BLK_S_OK ? r->written : 1);
}

static void blk__warn(struct blk_dev *b, const char *what, int err)
{
	if (__atomic_exchange_n(&b->warned, true, __ATOMIC_RELAXED))
		return;
	pr_warn("virtio-blk %s: %s failed: %s (the guest gets an I/O error)", b->path, what,
		strerror(err));
}

static void iov__advance(struct iovec **iov, u32 *nr, size_t n)
{
	while (*nr && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*nr)--;
	}
	if (*nr && n) {
		(*iov)->iov_base = (u8 *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

static bool blk__write_through(struct blk_dev *b)
{
	return !virtio_dev__has_feature(&b->vdev, VIRTIO_BLK_F_FLUSH);
}

/* Read or write what is left of @r after @done bytes, synchronously. */
static u8 blk__rw_sync(struct blk_dev *b, struct blk_req *r, u64 done)
{
	bool write = r->type == VIRTIO_BLK_T_OUT;
	int flags = write && blk__write_through(b) ? RWF_DSYNC : 0;
	struct iovec *iov = r->data;
	u32 nr = r->nr_data;
	ssize_t n;

	iov__advance(&iov, &nr, done);
	while (done < r->len) {
		if (write)
			n = pwritev2(r->fd, iov, min_t(u32, nr, IOV_MAX), r->off + done, flags);
		else
			n = preadv(r->fd, iov, min_t(u32, nr, IOV_MAX), r->off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* 0: the image shrank under us. */
			blk__warn(b, write ? "write" : "read", n < 0 ? errno : EIO);
			return VIRTIO_BLK_S_IOERR;
		}
		done += n;
		iov__advance(&iov, &nr, n);
	}
	return VIRTIO_BLK_S_OK;
}

static u8 blk__flush_sync(struct blk_dev *b)
{
	if (fdatasync(b->fd) < 0) {
		blk__warn(b, "fdatasync", errno);
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* An io_uring completion: finish short transfers by hand. */
static u8 blk__uring_done(struct blk_dev *b, struct blk_req *r, int res)
{
	/* Retry by hand what io_uring could not do; a real error stays one. */
	bool retry = res == -EAGAIN || res == -EINTR || res == -EOPNOTSUPP;

	if (r->type == VIRTIO_BLK_T_FLUSH) {
		if (retry || res == -EINVAL)
			return blk__flush_sync(b);
		if (res < 0)
			blk__warn(b, "fdatasync", -res);
		return res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	}
	if (retry)
		res = 0;
	if (res < 0) {
		blk__warn(b, r->type == VIRTIO_BLK_T_OUT ? "write" : "read", -res);
		return VIRTIO_BLK_S_IOERR;
	}
	if ((u64)res >= r->len)
		return VIRTIO_BLK_S_OK;
	return blk__rw_sync(b, r, res);
}

static void *blk__done_thread(void *arg)
{
	struct blk_dev *b = arg;
	char name[16];

	snprintf(name, sizeof(name), "blk%d-done", b->index % 100);
	pthread_setname_np(pthread_self(), name);
	for (;;) {
		struct blk_req *done = NULL, *r;
		struct io_uring_cqe cqe;
		u64 touched = 0;
		bool stop = false;

		if (uring__wait(&b->ring) < 0)
			usleep(1000);
		while (uring__reap(&b->ring, &cqe)) {
			if (cqe.user_data == BLK_STOP) {
				stop = true;
				continue;
			}
			r = (struct blk_req *)(unsigned long)cqe.user_data;
			/* The ring orders this already; say so to the compiler and TSan. */
			__atomic_load_n(&r->handoff, __ATOMIC_ACQUIRE);
			blk__finish(b, r, blk__uring_done(b, r, cqe.res));
			touched |= 1ull << r->q->vq->index;
			r->next = done;
			done = r;
		}
		for (u16 i = 0; i < b->vdev.nr_queues; i++)
			if (touched & (1ull << i))
				virtq__notify(&b->vdev.vqs[i]);
		/* Slots go back after the interrupt: reset waits for them. */
		while ((r = done)) {
			done = r->next;
			blk__put_req(b, r);
		}
		/* SQEs left in the ring by a failed submit: the I/O thread retries. */
		if (__atomic_exchange_n(&b->resubmit, false, __ATOMIC_ACQ_REL)) {
			u16 q = touched ? __builtin_ctzll(touched) : 0;

			virtio_dev__kick(&b->vdev, &b->vdev.vqs[q]);
		}
		if (stop)
			return NULL;
	}
}

/* ---- execution ---- */

static bool blk__submit(struct blk_dev *b, struct blk_req *r)
{
	struct io_uring_sqe *sqe;

	if (!b->use_uring)
		return false;
	sqe = uring__get_sqe(&b->ring);
	if (!sqe && uring__submit(&b->ring) >= 0)
		sqe = uring__get_sqe(&b->ring);
	if (!sqe)
		return false;
	__atomic_store_n(&r->handoff, 1, __ATOMIC_RELEASE);
	if (r->type == VIRTIO_BLK_T_FLUSH) {
		uring__prep_fsync(sqe, b->fd, true, (unsigned long)r);
		return true;
	}
	uring__prep_rw(sqe, r->type == VIRTIO_BLK_T_OUT ? IORING_OP_WRITEV : IORING_OP_READV,
		       r->fd, r->data, r->nr_data, r->off, (unsigned long)r);
	if (r->type == VIRTIO_BLK_T_OUT && blk__write_through(b))
		sqe->rw_flags = RWF_DSYNC;
	return true;
}

static int blk__zero_fill(int fd, u64 off, u64 len)
{
	static const u8 zeroes[BLK_ZERO_CHUNK] __attribute__((aligned(4096)));
	ssize_t n;

	while (len) {
		n = pwrite(fd, zeroes, min_t(u64, len, sizeof(zeroes)), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += n;
		len -= n;
	}
	return 0;
}

static int blk__discard_range(struct blk_dev *b, u64 off, u64 len)
{
	u64 range[2] = { off, len };
	int ret;

	if (b->bdev)
		ret = ioctl(b->fd, BLKDISCARD, range);
	else
		ret = fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
	/* Discard is a hint: a host that cannot discard just keeps the data. */
	if (ret < 0 && (errno == EOPNOTSUPP || errno == ENOTTY || errno == EINVAL))
		return 0;
	return ret < 0 ? -errno : 0;
}

static int blk__zeroes_range(struct blk_dev *b, u64 off, u64 len, bool unmap)
{
	u64 range[2] = { off, len };

	if (b->bdev) {
		if (!ioctl(b->fd, BLKZEROOUT, range))
			return 0;
	} else {
		int keep = FALLOC_FL_KEEP_SIZE;

		if (unmap && !fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | keep, off, len))
			return 0;
		if (!fallocate(b->fd, FALLOC_FL_ZERO_RANGE | keep, off, len))
			return 0;
	}
	if (errno != EOPNOTSUPP && errno != ENOTTY && errno != EINVAL)
		return -errno;
	return blk__zero_fill(b->bfd, off, len);
}

/* DISCARD and WRITE_ZEROES: every range is checked before any is done. */
static u8 blk__ranges(struct blk_dev *b, struct blk_req *r)
{
	struct virtio_blk_discard_write_zeroes seg[BLK_RANGE_SEGS];
	bool discard = r->type == VIRTIO_BLK_T_DISCARD;
	u32 bytes = r->vreq.out_len - sizeof(struct virtio_blk_outhdr);
	u32 n = bytes / sizeof(seg[0]);
	int ret = 0;

	if (!n || bytes % sizeof(seg[0]) || n > BLK_RANGE_SEGS)
		return VIRTIO_BLK_S_IOERR;
	virtio_req__read(&r->vreq, sizeof(struct virtio_blk_outhdr), seg, bytes);
	for (u32 i = 0; i < n; i++) {
		u64 sector = le64toh(seg[i].sector);
		u32 nr = le32toh(seg[i].num_sectors), flags = le32toh(seg[i].flags);

		if (flags & ~(discard ? 0 : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
			return VIRTIO_BLK_S_UNSUPP;
		if (nr > BLK_RANGE_SECTORS || sector > b->capacity || nr > b->capacity - sector)
			return VIRTIO_BLK_S_IOERR;
	}
	for (u32 i = 0; i < n && !ret; i++) {
		u64 off = le64toh(seg[i].sector) * BLK_SECTOR;
		u64 len = (u64)le32toh(seg[i].num_sectors) * BLK_SECTOR;

		if (!len)
			continue;
		if (discard)
			ret = blk__discard_range(b, off, len);
		else
			ret = blk__zeroes_range(b, off, len, le32toh(seg[i].flags) &
						VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	}
	if (!ret && blk__write_through(b) && fdatasync(b->fd) < 0)
		ret = -errno;
	if (ret) {
		blk__warn(b, discard ? "discard" : "write-zeroes", -ret);
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

static u8 blk__get_id(struct blk_dev *b, struct blk_req *r)
{
	u32 n = min_t(u32, sizeof(b->serial), r->vreq.in_len - 1);

	r->written = virtio_req__write(&r->vreq, 0, b->serial, n) + 1;
	return VIRTIO_BLK_S_OK;
}

/* Start @r: true if it went to io_uring, false if it is finished (status set). */
static bool blk__start(struct blk_dev *b, struct blk_req *r)
{
	u8 status = blk__parse(b, r);

	if (status == BLK_PENDING) {
		switch (r->type) {
		case VIRTIO_BLK_T_IN:
		case VIRTIO_BLK_T_OUT:
			if (r->len && blk__submit(b, r))
				return true;
			status = blk__rw_sync(b, r, 0);
			break;
		case VIRTIO_BLK_T_FLUSH:
			if (blk__submit(b, r))
				return true;
			status = blk__flush_sync(b);
			break;
		case VIRTIO_BLK_T_GET_ID:
			status = blk__get_id(b, r);
			break;
		default:
			status = blk__ranges(b, r);
			break;
		}
	}
	if (!r->status) {
		/* Nowhere to put a status: the driver is broken. */
		virtq__push(r->q->vq, &r->vreq, 0);
		virtio_dev__fail(&b->vdev, "a block request has no status byte");
		return false;
	}
	blk__finish(b, r, status);
	return false;
}

static void blk__notify(struct virtio_dev *vdev, struct virtio_queue *vq)
{
	struct blk_dev *b = vdev->priv;
	struct blk_queue *q = &b->queues[vq->index];
	bool finished = false;
	struct blk_req *r;

	while ((r = blk__get_req(b, q))) {
		if (virtq__pop(vq, &r->vreq) <= 0) {
			blk__put_req(b, r);
			break;
		}
		if (!blk__start(b, r)) {
			blk__put_req(b, r);
			finished = true;
		}
	}
	if (b->use_uring && uring__submit(&b->ring) < 0)
		__atomic_store_n(&b->resubmit, true, __ATOMIC_RELEASE);
	if (finished)
		virtq__notify(vq);
}

/* ---- device ops ---- */

static void blk__config_read(struct virtio_dev *vdev, u32 off, void *data, u32 len)
{
	struct blk_dev *b = vdev->priv;

	memcpy(data, (u8 *)&b->config + off, len);
}

/* Wait for every request in flight; the I/O thread is already stopped. */
static void blk__drain(struct blk_dev *b)
{
	pthread_mutex_lock(&b->lock);
	while (b->busy) {
		struct timespec ts;

		/* SQEs a failed submit left behind must still reach the kernel. */
		if (b->use_uring && b->resubmit)
			uring__submit(&b->ring);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&b->idle, &b->lock, &ts);
	}
	pthread_mutex_unlock(&b->lock);
}

static void blk__reset(struct virtio_dev *vdev)
{
	blk__drain(vdev->priv);
}

static const struct virtio_dev_ops blk__ops = {
	.name		= "blk",
	.device_id	= VIRTIO_ID_BLOCK,
	.queue_size	= BLK_QUEUE_SIZE,
	.config_size	= sizeof(struct virtio_blk_config),
	.config_read	= blk__config_read,
	.reset		= blk__reset,
	.notify		= blk__notify,
};

static void blk__init_config(struct blk_dev *b, u16 nr_queues)
{
	struct virtio_blk_config *c = &b->config;
	u32 blk_size = b->blk_size;

	c->capacity = htole64(b->capacity);
	c->seg_max = htole32(BLK_SEG_MAX);
	c->blk_size = htole32(blk_size);
	c->num_queues = htole16(nr_queues);
	c->max_discard_sectors = htole32(BLK_RANGE_SECTORS);
	c->max_discard_seg = htole32(BLK_RANGE_SEGS);
	c->discard_sector_alignment = htole32(blk_size / BLK_SECTOR);
	c->max_write_zeroes_sectors = htole32(BLK_RANGE_SECTORS);
	c->max_write_zeroes_seg = htole32(BLK_RANGE_SEGS);
	c->write_zeroes_may_unmap = 1;
}

static u64 blk__features(const struct blk_dev *b, u16 nr_queues)
{
	u64 f = (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
		(1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_MQ);

	if (b->ro)
		f |= 1ull << VIRTIO_BLK_F_RO;
	else
		f |= (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

/* What blk__submit() and blk__destroy() put in the ring; nothing else gets in. */
static const u8 blk__uring_ops[] = {
	IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC, IORING_OP_NOP,
};

/* io_uring unless told not to or the kernel lacks it; then synchronous I/O. */
static void blk__setup_uring(struct blk_dev *b)
{
	const char *no = getenv("LKVM_NO_IO_URING");
	int ret;

	if (no && *no && strcmp(no, "0"))
		return;
	ret = uring__init_restricted(&b->ring, BLK_URING_ENTRIES, blk__uring_ops,
				     ARRAY_SIZE(blk__uring_ops));
	if (ret) {
		pr_debug("virtio-blk %s: no io_uring (%s): synchronous I/O", b->path,
			 strerror(-ret));
		return;
	}
	/* Without NODROP a burst of completions could be lost. */
	if (!(b->ring.features & IORING_FEAT_NODROP) ||
	    seccomp__thread_create(&b->done_thread, SECCOMP_ROLE_IO, blk__done_thread, b)) {
		uring__exit(&b->ring);
		return;
	}
	b->use_uring = true;
}

static int blk__init_queues(struct blk_dev *b, u16 nr_queues)
{
	b->queues = calloc(nr_queues, sizeof(*b->queues));
	if (!b->queues)
		return -ENOMEM;
	b->ops = blk__ops;
	b->ops.nr_queues = nr_queues;
	b->ops.features = blk__features(b, nr_queues);
	blk__init_config(b, nr_queues);
	return 0;
}

struct blk_dev *blk__create(struct kvm *kvm, const struct disk_config *d, int index)
{
	u16 nr_queues = min_t(int, max_t(int, kvm->cfg->nr_cpus, 1), VIRTIO_MAX_QUEUES);
	struct blk_image img;
	struct blk_dev *b;

	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	if (blk__open(d, &img)) {
		blk__close_image(&img);
		free(b);
		return NULL;
	}
	b->kvm = kvm;
	b->path = d->path;
	b->index = index;
	b->fd = img.fd;
	b->bfd = img.bfd;
	b->bdev = img.bdev;
	b->ro = d->ro;
	b->blk_size = img.blk_size;
	b->dio_align = img.dio_align;
	b->capacity = img.size / BLK_SECTOR;
	if (blk__init_queues(b, nr_queues)) {
		blk__close_image(&img);
		free(b);
		return NULL;
	}
	snprintf(b->serial, sizeof(b->serial), "lkvm-disk-%d", index);
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->idle, NULL);
	/* From here on kvm->vdevs points at us: no freeing on failure. */
	if (virtio_dev__init(&b->vdev, kvm, &b->ops, b))
		return NULL;
	for (u16 i = 0; i < nr_queues; i++)
		b->queues[i].vq = &b->vdev.vqs[i];
	blk__setup_uring(b);
	return b;
}

/* Stop everything: the I/O thread, then requests in flight, then the completion thread. */
void blk__destroy(struct blk_dev *b)
{
	struct io_uring_sqe *sqe;

	virtio_dev__stop_io(&b->vdev);
	blk__drain(b);
	if (b->use_uring) {
		while (!(sqe = uring__get_sqe(&b->ring))) {
			uring__submit(&b->ring);
			usleep(1000);
		}
		uring__prep_nop(sqe, BLK_STOP);
		while (uring__submit(&b->ring) < 0)
			usleep(1000);
		pthread_join(b->done_thread, NULL);
		uring__exit(&b->ring);
	}
	for (u16 i = 0; i < b->ops.nr_queues; i++) {
		struct blk_req *r;

		while ((r = b->queues[i].free)) {
			b->queues[i].free = r->next;
			free(r);
		}
	}
	if (b->bfd != b->fd)
		close(b->bfd);
	close(b->fd);
}

struct virtio_dev *blk__vdev(struct blk_dev *b)
{
	return &b->vdev;
}

bool blk__uses_uring(const struct blk_dev *b)
{
	return b->use_uring;
}

/* ---- registration ---- */

static int blk__init(struct kvm *kvm)
{
	for (int i = 0; i < kvm->cfg->nr_disks; i++) {
		struct blk_dev *b = blk__create(kvm, &kvm->cfg->disks[i], i);

		if (!b)
			return -EINVAL;
		if (virtio_dev__register(&b->vdev))
			return -EINVAL;
		pr_debug("virtio-blk %s: %llu sectors%s%s, %u queue(s), %s I/O", b->path,
			 (unsigned long long)b->capacity, b->ro ? ", read-only" : "",
			 b->dio_align > 1 ? ", O_DIRECT" : "", b->ops.nr_queues,
			 b->use_uring ? "io_uring" : "synchronous");
	}
	return 0;
}

static void blk__exit(struct kvm *kvm)
{
	for (int i = 0; i < kvm->nr_vdevs; i++) {
		struct virtio_dev *vdev = kvm->vdevs[i];

		if (vdev->ops->notify != blk__notify)
			continue;
		/* Nothing may signal through the transport once it is gone. */
		blk__destroy(vdev->priv);
		virtio_dev__unregister(vdev);
	}
}
device_init_order(blk__init, blk__exit, DEV_ORDER_VIRTIO);
