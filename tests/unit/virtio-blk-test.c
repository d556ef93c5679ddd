/*
 * virtio-blk without KVM: option parsing, image checks, the io_uring wrapper,
 * and requests built in a fake guest's RAM, run through both the io_uring
 * and the synchronous paths against a temporary image.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "kvm/uring.h"
#include "test.h"
#include "virtio-fake.h"
#include "virtio/blk.h"
#include "virtq-driver.h"

#define IMG_SIZE	(64 * 1024)
#define IMG_SECTORS	(IMG_SIZE / 512)
#define RINGS		0x10000
#define HDR		0x20000
#define RANGES		0x20100
#define STATUS		0x20ff0
#define DATA		0x30000		/* 64 KiB of buffers */
#define DATA2		0x40000

#define REQUIRE_FAILED()	do { CHECK(!"blk__create failed"); return; } while (0)

/* ---- images ---- */

static void make_image(char *path, size_t size, u8 seed)
{
	int fd;
	u8 *buf = malloc(size);

	strcpy(path, "/tmp/lkvm-unit-blk-XXXXXX");
	fd = mkstemp(path);
	for (size_t i = 0; i < size; i++)
		buf[i] = (u8)(i / 512 + seed);
	CHECK_EQ(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
}

static bool image_equals(const char *path, u64 off, const void *buf, size_t len)
{
	u8 *got = malloc(len);
	int fd = open(path, O_RDONLY);
	bool same = fd >= 0 && pread(fd, got, len, off) == (ssize_t)len && !memcmp(got, buf, len);

	close(fd);
	free(got);
	return same;
}

static void read_image(const char *path, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	CHECK_EQ(pread(fd, buf, len, 0), (ssize_t)len);
	close(fd);
}

/* ---- option parsing and checks ---- */

TEST(blk_parse_disk_options)
{
	struct kvm_config cfg = { 0 };
	struct disk_config d;
	struct capture c;

	CHECK_EQ(blk__parse_disk(&d, "disk.img"), 0);
	CHECK(!strcmp(d.path, "disk.img") && !d.ro && !d.direct);
	CHECK_EQ(blk__parse_disk(&d, "/a/b.img,ro"), 0);
	CHECK(!strcmp(d.path, "/a/b.img") && d.ro && !d.direct);
	CHECK_EQ(blk__parse_disk(&d, "x,direct,ro"), 0);
	CHECK(!strcmp(d.path, "x") && d.ro && d.direct);
	capture__begin(&c);
	CHECK_EQ(blk__parse_disk(&d, "x,rw"), -1);
	CHECK(one_line_with(capture__end(&c), "unknown disk option 'rw'"));
	capture__begin(&c);
	CHECK_EQ(blk__parse_disk(&d, ",ro"), -1);
	CHECK(one_line_with(capture__end(&c), "needs a path"));
	capture__begin(&c);
	CHECK_EQ(blk__parse_disk(&d, "x,"), -1);
	CHECK(one_line_with(capture__end(&c), "unknown disk option ''"));
	for (int i = 0; i < MAX_DISKS; i++)
		CHECK_EQ(blk__add_disk(&cfg, "d.img"), 0);
	capture__begin(&c);
	CHECK_EQ(blk__add_disk(&cfg, "d.img"), -1);
	CHECK(one_line_with(capture__end(&c), "too many disks"));
	CHECK_EQ(cfg.nr_disks, MAX_DISKS);
}

static int check_disk(const char *path, bool ro, struct capture *c)
{
	struct disk_config d = { .path = path, .ro = ro };
	int ret;

	capture__begin(c);
	ret = blk__check_disk(&d);
	capture__end(c);
	return ret;
}

TEST(blk_check_disk_errors)
{
	char small[64], odd[64], ok[64], dir[] = "/tmp/lkvm-unit-dir-XXXXXX";
	struct capture c;

	make_image(small, 100, 0);
	make_image(odd, 1000, 0);
	make_image(ok, 4096, 0);
	CHECK(mkdtemp(dir));
	CHECK_EQ(check_disk("/nonexistent/lkvm.img", false, &c), -ENOENT);
	CHECK(one_line_with(c.text, "does not exist"));
	CHECK_EQ(check_disk(dir, false, &c), -EISDIR);
	CHECK(one_line_with(c.text, "is a directory"));
	CHECK_EQ(check_disk(small, true, &c), -EINVAL);
	CHECK(one_line_with(c.text, "too small: 100 bytes"));
	CHECK_EQ(check_disk(odd, false, &c), -EINVAL);
	CHECK(one_line_with(c.text, "not a multiple of 512"));
	CHECK_EQ(check_disk("/dev/null", false, &c), -ENODEV);
	CHECK(one_line_with(c.text, "not a regular file or a block device"));
	CHECK_EQ(check_disk(ok, false, &c), 0);
	CHECK_EQ(c.text[0], 0);
	chmod(ok, 0444);
	if (geteuid()) {
		CHECK_EQ(check_disk(ok, false, &c), -EACCES);
		CHECK(one_line_with(c.text, "permission denied (add ,ro"));
		CHECK_EQ(check_disk(ok, true, &c), 0);
	}
	unlink(small);
	unlink(odd);
	unlink(ok);
	rmdir(dir);
}

TEST(blk_check_disk_locked)
{
	struct disk_config d = { 0 };
	struct fake_vm vm;
	struct blk_dev *b;
	struct capture c;
	char path[64];

	make_image(path, IMG_SIZE, 0);
	fake_vm__init(&vm, TRANSPORT_MMIO);
	d.path = path;
	setenv("LKVM_NO_IO_URING", "1", 1);
	b = blk__create(&vm.kvm, &d, 0);
	CHECK(b);
	/* A second writer is refused; readers too while it writes. */
	CHECK_EQ(check_disk(path, false, &c), -EBUSY);
	CHECK(one_line_with(c.text, "in use by another process"));
	CHECK_EQ(check_disk(path, true, &c), -EBUSY);
	if (b)
		blk__destroy(b);
	CHECK_EQ(check_disk(path, false, &c), 0);
	unsetenv("LKVM_NO_IO_URING");
	fake_vm__exit(&vm);
	unlink(path);
}

/* ---- the io_uring wrapper ---- */

TEST(uring_reads_and_writes_a_file)
{
	struct io_uring_cqe cqe;
	struct io_uring_sqe *sqe;
	struct uring u;
	char path[64], out[1024], in[1024];
	struct iovec iov[2];
	int fd, ret, got = 0;

	ret = uring__init(&u, 8);
	if (ret) {
		printf("    (io_uring unavailable here: %s; skipped)\n", strerror(-ret));
		return;
	}
	CHECK(uring__supports(&u, IORING_OP_READV));
	CHECK(uring__supports(&u, IORING_OP_FSYNC));
	make_image(path, 4096, 0);
	fd = open(path, O_RDWR);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	iov[0] = (struct iovec){ out, 100 };
	iov[1] = (struct iovec){ out + 100, sizeof(out) - 100 };
	sqe = uring__get_sqe(&u);
	uring__prep_rw(sqe, IORING_OP_WRITEV, fd, iov, 2, 512, 11);
	sqe = uring__get_sqe(&u);
	uring__prep_nop(sqe, 12);
	CHECK_EQ(uring__submit(&u), 2);
	while (got < 2) {
		CHECK_EQ(uring__wait(&u), 0);
		while (uring__reap(&u, &cqe)) {
			CHECK(cqe.user_data == 11 || cqe.user_data == 12);
			CHECK_EQ(cqe.res, cqe.user_data == 11 ? (int)sizeof(out) : 0);
			got++;
		}
	}
	iov[0] = (struct iovec){ in, sizeof(in) };
	sqe = uring__get_sqe(&u);
	uring__prep_rw(sqe, IORING_OP_READV, fd, iov, 1, 512, 13);
	sqe = uring__get_sqe(&u);
	uring__prep_fsync(sqe, fd, true, 14);
	CHECK_EQ(uring__submit(&u), 2);
	for (got = 0; got < 2;) {
		uring__wait(&u);
		while (uring__reap(&u, &cqe)) {
			if (cqe.user_data == 13)
				CHECK_EQ(cqe.res, (int)sizeof(in));
			else
				CHECK_EQ(cqe.res, 0);
			got++;
		}
	}
	CHECK(!memcmp(in, out, sizeof(in)));
	/* A full submission ring says so. */
	for (got = 0; uring__get_sqe(&u); got++)
		;
	CHECK_EQ(got, 8 - 0);
	close(fd);
	unlink(path);
	uring__exit(&u);
}

/* ---- requests ---- */

struct blk_t {
	struct fake_vm		vm;
	struct blk_dev		*b;
	struct virtio_dev	*vdev;
	struct drv_queue	q;
	struct disk_config	d;
	char			path[64];
	int			signals;
};

static void blk_t__signal(struct virtio_dev *vdev, struct virtio_queue *vq)
{
	struct blk_t *t = container_of(vdev->kvm, struct blk_t, vm.kvm);

	__atomic_fetch_add(&t->signals, 1, __ATOMIC_RELAXED);
}

static const struct virtio_transport_ops blk_t__transport = {
	.name	= "test",
	.signal	= blk_t__signal,
};

/* A disk image with 512-byte sector i full of (i + 1), as a fresh device. */
static bool blk_t__init(struct blk_t *t, bool uring, bool ro, bool direct, int cpus)
{
	memset(t, 0, sizeof(*t));
	make_image(t->path, IMG_SIZE, 1);
	fake_vm__init(&t->vm, TRANSPORT_MMIO);
	/* Page-aligned like a real VM's RAM, so that O_DIRECT can use it. */
	free(t->vm.kvm.ram);
	t->vm.kvm.ram = aligned_alloc(4096, FAKE_RAM_SIZE);
	memset(t->vm.kvm.ram, 0, FAKE_RAM_SIZE);
	t->vm.cfg.nr_cpus = cpus;
	t->d = (struct disk_config){ .path = t->path, .ro = ro, .direct = direct };
	setenv("LKVM_NO_IO_URING", uring ? "0" : "1", 1);
	t->b = blk__create(&t->vm.kvm, &t->d, 0);
	unsetenv("LKVM_NO_IO_URING");
	if (!t->b)
		return false;
	t->vdev = blk__vdev(t->b);
	t->vdev->transport = &blk_t__transport;
	t->vdev->guest_features = t->vdev->host_features;
	drv_queue__init(&t->q, t->vdev, 0, RINGS);
	return true;
}

static void blk_t__exit(struct blk_t *t)
{
	if (t->b)
		blk__destroy(t->b);
	fake_vm__exit(&t->vm);
	unlink(t->path);
}

static void *gp(struct blk_t *t, u64 gpa)
{
	return guest_ptr(&t->vm.kvm, gpa, 1);
}

static void put_hdr(struct blk_t *t, u32 type, u64 sector)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };

	memcpy(gp(t, HDR), &h, sizeof(h));
}

/* Queue a chain, kick, wait: the status byte at STATUS (0xee: untouched). */
static int blk_t__run(struct blk_t *t, const struct drv_buf *bufs, int n, u32 *used_len)
{
	struct vring_used_elem e;

	*(u8 *)gp(t, STATUS) = 0xee;
	drv_queue__add(&t->q, bufs, n);
	drv_queue__kick(&t->q);
	if (drv_queue__wait(&t->q, 1) != 1)
		return -1;
	e = drv_queue__used(&t->q);
	if (used_len)
		*used_len = e.len;
	return *(u8 *)gp(t, STATUS);
}

/* The usual layout: header, data (if any) in the right direction, status. */
static int blk_t__rq(struct blk_t *t, u32 type, u64 sector, u64 data, u32 len, u32 *used_len)
{
	struct drv_buf bufs[3];
	int n = 0;

	put_hdr(t, type, sector);
	bufs[n++] = (struct drv_buf){ HDR, 16, false };
	if (len)
		bufs[n++] = (struct drv_buf){ data, len, type != VIRTIO_BLK_T_OUT };
	bufs[n++] = (struct drv_buf){ STATUS, 1, true };
	return blk_t__run(t, bufs, n, used_len);
}

static void rw_roundtrip(bool uring)
{
	struct blk_t t;
	u8 buf[1024];
	u32 len;

	if (!blk_t__init(&t, uring, false, false, 1))
		REQUIRE_FAILED();
	if (!uring)
		CHECK(!blk__uses_uring(t.b));
	else if (!blk__uses_uring(t.b))
		printf("    (io_uring unavailable here: the synchronous path ran)\n");
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 13 + 5);
	memcpy(gp(&t, DATA), buf, sizeof(buf));
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_OUT, 4, DATA, 1024, &len), VIRTIO_BLK_S_OK);
	CHECK_EQ(len, 1);
	CHECK(image_equals(t.path, 4 * 512, buf, sizeof(buf)));
	memset(gp(&t, DATA2), 0, 2048);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_IN, 3, DATA2, 2048, &len), VIRTIO_BLK_S_OK);
	CHECK_EQ(len, 2049);
	CHECK_EQ(*(u8 *)gp(&t, DATA2), 4);		/* sector 3 untouched */
	CHECK(!memcmp((u8 *)gp(&t, DATA2) + 512, buf, sizeof(buf)));
	CHECK_EQ(*(u8 *)gp(&t, DATA2 + 1536), 7);
	/* The last sector, and a zero-length read at the very end. */
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_IN, IMG_SECTORS - 1, DATA2, 512, &len),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(*(u8 *)gp(&t, DATA2), (u8)IMG_SECTORS);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_IN, IMG_SECTORS, DATA2, 0, &len), VIRTIO_BLK_S_OK);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &len), VIRTIO_BLK_S_OK);
	CHECK_EQ(len, 1);
	CHECK(t.signals > 0);
	CHECK_EQ(t.vdev->stats.bytes, 1024 + 2048 + 512);
	blk_t__exit(&t);
}

TEST(blk_read_write_flush_uring)
{
	rw_roundtrip(true);
}

TEST(blk_read_write_flush_sync)
{
	rw_roundtrip(false);
}

TEST(blk_get_id_and_config)
{
	struct virtio_blk_config cfg;
	struct blk_t t;
	u32 len;

	if (!blk_t__init(&t, true, false, false, 3))
		REQUIRE_FAILED();
	memset(gp(&t, DATA), 0x55, 64);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_GET_ID, 0, DATA, VIRTIO_BLK_ID_BYTES, &len),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(len, VIRTIO_BLK_ID_BYTES + 1);
	CHECK(!strncmp(gp(&t, DATA), "lkvm-disk-0", VIRTIO_BLK_ID_BYTES));
	CHECK_EQ(*(u8 *)gp(&t, DATA + VIRTIO_BLK_ID_BYTES), 0x55);
	/* A short buffer gets what fits. */
	memset(gp(&t, DATA), 0x55, 64);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_GET_ID, 0, DATA, 4, &len), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(gp(&t, DATA), "lkvm", 4) && *(u8 *)gp(&t, DATA + 4) == 0x55);
	t.vdev->ops->config_read(t.vdev, 0, &cfg, sizeof(cfg));
	CHECK_EQ(cfg.capacity, IMG_SECTORS);
	CHECK_EQ(cfg.blk_size, 512);
	CHECK_EQ(cfg.num_queues, 3);
	CHECK_EQ(t.vdev->nr_queues, 3);
	CHECK(cfg.seg_max >= 1);
	CHECK(t.vdev->host_features & (1ull << VIRTIO_BLK_F_FLUSH));
	CHECK(t.vdev->host_features & (1ull << VIRTIO_BLK_F_MQ));
	CHECK(t.vdev->host_features & (1ull << VIRTIO_BLK_F_DISCARD));
	CHECK(!(t.vdev->host_features & (1ull << VIRTIO_BLK_F_RO)));
	/* Queue 2 works like queue 0. */
	drv_queue__init(&t.q, t.vdev, 2, RINGS + 0x4000);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_IN, 1, DATA, 512, &len), VIRTIO_BLK_S_OK);
	CHECK_EQ(*(u8 *)gp(&t, DATA), 2);
	blk_t__exit(&t);
}

static void bad_requests(bool uring)
{
	u8 before[IMG_SIZE], after[IMG_SIZE];
	struct drv_buf bufs[4];
	struct blk_t t;
	u32 len;

	if (!blk_t__init(&t, uring, false, false, 1))
		REQUIRE_FAILED();
	read_image(t.path, before, IMG_SIZE);
	memset(gp(&t, DATA), 0xaa, 4096);
	/* Past the end, across the end, overflowing sector * 512. */
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_OUT, IMG_SECTORS, DATA, 512, &len), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_OUT, IMG_SECTORS - 1, DATA, 1024, &len),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_OUT, (~0ull / 512) + 2, DATA, 512, &len),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_IN, ~0ull, DATA, 512, &len), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(len, 1);
	/* Not whole sectors. */
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_OUT, 0, DATA, 100, &len), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_IN, 0, DATA, 513, &len), VIRTIO_BLK_S_IOERR);
	/* Unknown and unoffered types. */
	CHECK_EQ(blk_t__rq(&t, 2, 0, DATA, 512, &len), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_SECURE_ERASE, 0, 0, 0, &len), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(blk_t__rq(&t, 0x80000001, 0, DATA, 512, &len), VIRTIO_BLK_S_UNSUPP);
	/* A short header. */
	put_hdr(&t, VIRTIO_BLK_T_OUT, 0);
	bufs[0] = (struct drv_buf){ HDR, 8, false };
	bufs[1] = (struct drv_buf){ DATA, 512, false };
	bufs[2] = (struct drv_buf){ STATUS, 1, true };
	CHECK_EQ(blk_t__run(&t, bufs, 3, &len), VIRTIO_BLK_S_IOERR);
	/* A read whose data buffer the device may not write. */
	put_hdr(&t, VIRTIO_BLK_T_IN, 0);
	bufs[0] = (struct drv_buf){ HDR, 16, false };
	bufs[1] = (struct drv_buf){ DATA, 512, false };
	CHECK_EQ(blk_t__run(&t, bufs, 3, &len), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(*(u8 *)gp(&t, DATA), 0xaa);
	/* A write with data in a device-writable buffer. */
	put_hdr(&t, VIRTIO_BLK_T_OUT, 0);
	bufs[1] = (struct drv_buf){ DATA, 512, true };
	CHECK_EQ(blk_t__run(&t, bufs, 3, &len), VIRTIO_BLK_S_IOERR);
	/* Discard ranges must be whole. */
	put_hdr(&t, VIRTIO_BLK_T_DISCARD, 0);
	bufs[1] = (struct drv_buf){ RANGES, 8, false };
	CHECK_EQ(blk_t__run(&t, bufs, 3, &len), VIRTIO_BLK_S_IOERR);
	read_image(t.path, after, IMG_SIZE);
	CHECK(!memcmp(before, after, IMG_SIZE));
	/* None of that was a broken driver. */
	CHECK(!(t.vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET));
	blk_t__exit(&t);
}

TEST(blk_rejects_bad_requests_uring)
{
	bad_requests(true);
}

TEST(blk_rejects_bad_requests_sync)
{
	bad_requests(false);
}

TEST(blk_buffer_layouts)
{
	struct drv_buf bufs[4];
	struct blk_t t;
	u8 *p;
	u32 len;

	if (!blk_t__init(&t, true, false, false, 1))
		REQUIRE_FAILED();
	/* Header and data in one readable buffer, split oddly. */
	put_hdr(&t, VIRTIO_BLK_T_OUT, 2);
	p = gp(&t, HDR + 16);
	memset(p, 0x42, 1024);
	bufs[0] = (struct drv_buf){ HDR, 10, false };
	bufs[1] = (struct drv_buf){ HDR + 10, 700, false };
	bufs[2] = (struct drv_buf){ HDR + 710, 16 + 1024 - 710, false };
	bufs[3] = (struct drv_buf){ STATUS, 1, true };
	CHECK_EQ(blk_t__run(&t, bufs, 4, &len), VIRTIO_BLK_S_OK);
	CHECK(image_equals(t.path, 1024, p, 1024));
	/* Data and status in one writable buffer. */
	put_hdr(&t, VIRTIO_BLK_T_IN, 2);
	memset(gp(&t, DATA), 0, 1025);
	bufs[0] = (struct drv_buf){ HDR, 16, false };
	bufs[1] = (struct drv_buf){ DATA, 1025, true };
	CHECK_EQ(blk_t__run(&t, bufs, 2, &len), 0xee);	/* the status is at DATA + 1024 */
	CHECK_EQ(len, 1025);
	CHECK_EQ(*(u8 *)gp(&t, DATA + 1024), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(gp(&t, DATA), p, 1024));
	blk_t__exit(&t);
}

TEST(blk_readonly_disk)
{
	u8 before[IMG_SIZE], after[IMG_SIZE];
	struct drv_buf bufs[3];
	struct blk_t t;
	u32 len;

	if (!blk_t__init(&t, true, true, false, 1))
		REQUIRE_FAILED();
	CHECK(t.vdev->host_features & (1ull << VIRTIO_BLK_F_RO));
	CHECK(!(t.vdev->host_features & (1ull << VIRTIO_BLK_F_DISCARD)));
	CHECK(!(t.vdev->host_features & (1ull << VIRTIO_BLK_F_WRITE_ZEROES)));
	read_image(t.path, before, IMG_SIZE);
	memset(gp(&t, DATA), 0xaa, 512);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_OUT, 0, DATA, 512, &len), VIRTIO_BLK_S_IOERR);
	/* Even a driver that claims the features cannot discard or zero. */
	t.vdev->guest_features |= (1ull << VIRTIO_BLK_F_DISCARD) |
				  (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	put_hdr(&t, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	*(struct virtio_blk_discard_write_zeroes *)gp(&t, RANGES) =
		(struct virtio_blk_discard_write_zeroes){ .sector = 0, .num_sectors = 4 };
	bufs[0] = (struct drv_buf){ HDR, 16, false };
	bufs[1] = (struct drv_buf){ RANGES, 16, false };
	bufs[2] = (struct drv_buf){ STATUS, 1, true };
	CHECK_EQ(blk_t__run(&t, bufs, 3, &len), VIRTIO_BLK_S_IOERR);
	put_hdr(&t, VIRTIO_BLK_T_DISCARD, 0);
	CHECK_EQ(blk_t__run(&t, bufs, 3, &len), VIRTIO_BLK_S_IOERR);
	read_image(t.path, after, IMG_SIZE);
	CHECK(!memcmp(before, after, IMG_SIZE));
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_IN, 5, DATA, 512, &len), VIRTIO_BLK_S_OK);
	CHECK_EQ(*(u8 *)gp(&t, DATA), 6);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &len), VIRTIO_BLK_S_OK);
	blk_t__exit(&t);
}

static int ranges(struct blk_t *t, u32 type, const struct virtio_blk_discard_write_zeroes *r,
		  int n)
{
	struct drv_buf bufs[3];
	u32 len;

	put_hdr(t, type, 0);
	memcpy(gp(t, RANGES), r, n * sizeof(*r));
	bufs[0] = (struct drv_buf){ HDR, 16, false };
	bufs[1] = (struct drv_buf){ RANGES, n * sizeof(*r), false };
	bufs[2] = (struct drv_buf){ STATUS, 1, true };
	return blk_t__run(t, bufs, 3, &len);
}

static void discard_and_zeroes(bool uring)
{
	u8 before[IMG_SIZE], after[IMG_SIZE], zero[2048] = { 0 };
	struct virtio_blk_discard_write_zeroes r[2];
	struct blk_t t;

	if (!blk_t__init(&t, uring, false, false, 1))
		REQUIRE_FAILED();
	r[0] = (struct virtio_blk_discard_write_zeroes){ .sector = 8, .num_sectors = 4 };
	r[1] = (struct virtio_blk_discard_write_zeroes){ .sector = 20, .num_sectors = 1,
		.flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP };
	CHECK_EQ(ranges(&t, VIRTIO_BLK_T_WRITE_ZEROES, r, 2), VIRTIO_BLK_S_OK);
	CHECK(image_equals(t.path, 8 * 512, zero, 2048));
	CHECK(image_equals(t.path, 20 * 512, zero, 512));
	read_image(t.path, before, IMG_SIZE);
	CHECK_EQ(before[7 * 512 + 511], 8);
	CHECK_EQ(before[12 * 512], 13);
	/* Nothing happens unless every range is good. */
	r[0] = (struct virtio_blk_discard_write_zeroes){ .sector = 0, .num_sectors = 4 };
	r[1] = (struct virtio_blk_discard_write_zeroes){ .sector = IMG_SECTORS - 1,
		.num_sectors = 2 };
	CHECK_EQ(ranges(&t, VIRTIO_BLK_T_WRITE_ZEROES, r, 2), VIRTIO_BLK_S_IOERR);
	r[1] = (struct virtio_blk_discard_write_zeroes){ .sector = ~0ull, .num_sectors = 2 };
	CHECK_EQ(ranges(&t, VIRTIO_BLK_T_DISCARD, r, 2), VIRTIO_BLK_S_IOERR);
	r[1] = (struct virtio_blk_discard_write_zeroes){ .sector = 1, .num_sectors = 1,
		.flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP };
	CHECK_EQ(ranges(&t, VIRTIO_BLK_T_DISCARD, r, 2), VIRTIO_BLK_S_UNSUPP);
	r[1].flags = 2;
	CHECK_EQ(ranges(&t, VIRTIO_BLK_T_WRITE_ZEROES, r, 2), VIRTIO_BLK_S_UNSUPP);
	read_image(t.path, after, IMG_SIZE);
	CHECK(!memcmp(before, after, IMG_SIZE));
	/* Discard: the data may go, the size stays. */
	r[0] = (struct virtio_blk_discard_write_zeroes){ .sector = 0, .num_sectors = IMG_SECTORS };
	CHECK_EQ(ranges(&t, VIRTIO_BLK_T_DISCARD, r, 1), VIRTIO_BLK_S_OK);
	{
		struct stat st;

		CHECK_EQ(stat(t.path, &st), 0);
		CHECK_EQ(st.st_size, IMG_SIZE);
	}
	/* Without the feature negotiated it is not supported. */
	t.vdev->guest_features &= ~(1ull << VIRTIO_BLK_F_DISCARD);
	CHECK_EQ(ranges(&t, VIRTIO_BLK_T_DISCARD, r, 1), VIRTIO_BLK_S_UNSUPP);
	blk_t__exit(&t);
}

TEST(blk_discard_write_zeroes_uring)
{
	discard_and_zeroes(true);
}

TEST(blk_discard_write_zeroes_sync)
{
	discard_and_zeroes(false);
}

TEST(blk_broken_chains_do_nothing)
{
	u8 before[IMG_SIZE], after[IMG_SIZE];
	struct drv_buf bufs[3];
	struct blk_t t;
	u32 len;

	if (!blk_t__init(&t, true, false, false, 1))
		REQUIRE_FAILED();
	read_image(t.path, before, IMG_SIZE);
	/* A write whose status buffer is outside RAM: the core drops it whole. */
	put_hdr(&t, VIRTIO_BLK_T_OUT, 0);
	memset(gp(&t, DATA), 0xaa, 512);
	bufs[0] = (struct drv_buf){ HDR, 16, false };
	bufs[1] = (struct drv_buf){ DATA, 512, false };
	bufs[2] = (struct drv_buf){ FAKE_RAM_SIZE, 1, true };
	drv_queue__add(&t.q, bufs, 3);
	drv_queue__kick(&t.q);
	CHECK_EQ(drv_queue__wait(&t.q, 1), 0);
	CHECK(t.vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	read_image(t.path, after, IMG_SIZE);
	CHECK(!memcmp(before, after, IMG_SIZE));
	t.vdev->ops->reset(t.vdev);
	t.vdev->status = 0;
	drv_queue__init(&t.q, t.vdev, 0, RINGS);
	/* No status byte at all: returned, and the driver is told it is broken. */
	bufs[2] = (struct drv_buf){ STATUS, 1, false };
	CHECK_EQ(blk_t__run(&t, bufs, 3, &len), 0xee);
	CHECK_EQ(len, 0);
	CHECK(t.vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	read_image(t.path, after, IMG_SIZE);
	CHECK(!memcmp(before, after, IMG_SIZE));
	blk_t__exit(&t);
}

/* Reset returns only when every request in flight is back in the used ring. */
TEST(blk_reset_waits_for_io)
{
	struct drv_buf bufs[3];
	struct blk_t t;
	int n = DRV_QSIZE / 3;

	if (!blk_t__init(&t, true, false, false, 1))
		REQUIRE_FAILED();
	for (int i = 0; i < n; i++) {
		struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_OUT, .sector = i * 8 };

		memcpy(gp(&t, HDR + i * 16), &h, sizeof(h));
		bufs[0] = (struct drv_buf){ HDR + i * 16, 16, false };
		bufs[1] = (struct drv_buf){ DATA + i * 4096, 4096, false };
		bufs[2] = (struct drv_buf){ STATUS - i, 1, true };
		drv_queue__add(&t.q, bufs, 3);
	}
	drv_queue__kick(&t.q);
	t.vdev->ops->reset(t.vdev);
	CHECK_EQ((u16)(t.q.used->idx - t.q.used_seen), n);
	for (int i = 0; i < n; i++)
		CHECK_EQ(*(u8 *)gp(&t, STATUS - i), VIRTIO_BLK_S_OK);
	blk_t__exit(&t);
}

/* Without FLUSH negotiated the cache is write-through: writes still work. */
TEST(blk_write_through_without_flush)
{
	struct blk_t t;
	u32 len;

	if (!blk_t__init(&t, true, false, false, 1))
		REQUIRE_FAILED();
	t.vdev->guest_features &= ~(1ull << VIRTIO_BLK_F_FLUSH);
	memset(gp(&t, DATA), 0x77, 4096);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_OUT, 16, DATA, 4096, &len), VIRTIO_BLK_S_OK);
	CHECK(image_equals(t.path, 16 * 512, gp(&t, DATA), 4096));
	blk_t__exit(&t);
}

/* O_DIRECT: aligned requests go direct, unaligned ones through the page cache. */
static void direct(bool uring)
{
	struct drv_buf bufs[4];
	struct blk_t t;
	u8 *p;
	u32 len;

	if (!blk_t__init(&t, uring, false, true, 1)) {
		printf("    (O_DIRECT unsupported in /tmp; skipped)\n");
		fake_vm__exit(&t.vm);
		unlink(t.path);
		return;
	}
	memset(gp(&t, DATA), 0x31, 8192);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_OUT, 8, DATA, 8192, &len), VIRTIO_BLK_S_OK);
	CHECK(image_equals(t.path, 8 * 512, gp(&t, DATA), 8192));
	/* A buffer at an odd address, split in odd pieces. */
	p = gp(&t, DATA2 + 3);
	for (int i = 0; i < 1024; i++)
		p[i] = (u8)(i * 3);
	put_hdr(&t, VIRTIO_BLK_T_OUT, 1);
	bufs[0] = (struct drv_buf){ HDR, 16, false };
	bufs[1] = (struct drv_buf){ DATA2 + 3, 1000, false };
	bufs[2] = (struct drv_buf){ DATA2 + 1003, 24, false };
	bufs[3] = (struct drv_buf){ STATUS, 1, true };
	CHECK_EQ(blk_t__run(&t, bufs, 4, &len), VIRTIO_BLK_S_OK);
	CHECK(image_equals(t.path, 512, p, 1024));
	memset(gp(&t, DATA + 1), 0, 1024);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_IN, 1, DATA + 1, 1024, &len), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(gp(&t, DATA + 1), p, 1024));
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_IN, 8, DATA2, 4096, &len), VIRTIO_BLK_S_OK);
	CHECK_EQ(*(u8 *)gp(&t, DATA2 + 4095), 0x31);
	CHECK_EQ(blk_t__rq(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &len), VIRTIO_BLK_S_OK);
	blk_t__exit(&t);
}

TEST(blk_direct_uring)
{
	direct(true);
}

TEST(blk_direct_sync)
{
	direct(false);
}
