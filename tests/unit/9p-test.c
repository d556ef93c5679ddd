/*
 * virtio-9p without KVM: options, then 9P2000.L requests built in a fake
 * guest's RAM and sent through the real request path (virtqueue, notify,
 * the server) against temporary shares: malformed and random messages,
 * confinement (".." at the root, symlinks out of the share, names with '/'),
 * read-only shares, and the file operations Linux's v9fs uses.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "test.h"
#include "virtio-fake.h"
#include "virtio/9p.h"
#include "virtq-driver.h"

#define RINGS		0x10000
#define REQ		0x20000		/* up to 64 KiB of request */
#define RESP		0x40000		/* up to 256 KiB of reply */
#define RESP_ROOM	0x10000
#define TAG		0x1234
#define SECRET		"host secret\n"

/* ---- a share on disk ---- */

struct share {
	char	base[64];	/* holds secret (outside the share) and share/ */
	char	dir[96];
	char	secret[96];
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void share__make(struct share *s)
{
	int fd;

	strcpy(s->base, "/tmp/lkvm-unit-9p-XXXXXX");
	CHECK(mkdtemp(s->base));
	snprintf(s->dir, sizeof(s->dir), "%s/share", s->base);
	snprintf(s->secret, sizeof(s->secret), "%s/secret", s->base);
	CHECK_EQ(mkdir(s->dir, 0755), 0);
	fd = open(s->secret, O_CREAT | O_WRONLY, 0600);
	CHECK_EQ(write(fd, SECRET, strlen(SECRET)), (ssize_t)strlen(SECRET));
	close(fd);
}

/* Create @rel in the share with @text (NULL: a directory). */
static void share__put(struct share *s, const char *rel, const char *text)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", s->dir, rel);
	if (!text) {
		CHECK_EQ(mkdir(path, 0755), 0);
		return;
	}
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void share__link(struct share *s, const char *rel, const char *target)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", s->dir, rel);
	CHECK_EQ(symlink(target, path), 0);
}

static bool share__exists(struct share *s, const char *rel)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", s->dir, rel);
	return !lstat(path, &st);
}

/* The secret outside the share is intact, and nothing else appeared next to it. */
static bool share__outside_intact(struct share *s)
{
	char buf[64] = { 0 }, path[128];
	int fd = open(s->secret, O_RDONLY), n = 0;
	struct stat st;
	DIR *d;

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		return false;
	close(fd);
	d = opendir(s->base);
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "/tmp/x-lkvm-9p-escape");
	return !strcmp(buf, SECRET) && n == 4 && lstat(path, &st);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void share__remove(struct share *s)
{
	nftw(s->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- a guest sending 9P messages ---- */

struct tmsg {
	u8	b[0x10000];
	u32	n;
};

struct t9 {
	struct fake_vm		vm;
	struct p9_dev		*p;
	struct drv_queue	q;
	struct tmsg		m;
	struct p9_msg		r;	/* the last reply, after its header */
	u32			used;
	u8			type;
	u32			err;	/* Rlerror's ecode */
};

static void m_8(struct tmsg *m, u8 v)
{
	m->b[m->n++] = v;
}

static void m_16(struct tmsg *m, u16 v)
{
	m_8(m, v);
	m_8(m, v >> 8);
}

static void m_32(struct tmsg *m, u32 v)
{
	m_16(m, v);
	m_16(m, v >> 16);
}

static void m_64(struct tmsg *m, u64 v)
{
	m_32(m, v);
	m_32(m, v >> 32);
}

static void m_strn(struct tmsg *m, const void *s, u16 len)
{
	m_16(m, len);
	memcpy(m->b + m->n, s, len);
	m->n += len;
}

static void m_str(struct tmsg *m, const char *s)
{
	m_strn(m, s, strlen(s));
}

static struct tmsg *m_begin(struct t9 *t, u8 type)
{
	t->m.n = 0;
	m_32(&t->m, 0);
	m_8(&t->m, type);
	m_16(&t->m, TAG);
	return &t->m;
}

/* Send @len bytes of @msg with @room bytes for the reply; how many the device used. */
static u32 t9__send(struct t9 *t, const void *msg, u32 len, u32 room)
{
	struct drv_buf bufs[2] = {
		{ REQ, len, false },
		{ RESP, room, true },
	};
	struct vring_used_elem e;

	memcpy(guest_ptr(&t->vm.kvm, REQ, len ? len : 1), msg, len);
	memset(guest_ptr(&t->vm.kvm, RESP, room), 0xee, room);
	drv_queue__add(&t->q, bufs, 2);
	drv_queue__kick(&t->q);
	if (drv_queue__wait(&t->q, 1) != 1) {
		CHECK(!"no reply");
		return 0;
	}
	e = drv_queue__used(&t->q);
	CHECK_EQ(e.len, e.len <= room ? e.len : room);
	return e.len;
}

/* Parse the reply header; checks the size field and the tag. */
static u8 t9__reply(struct t9 *t, u32 used, u16 tag)
{
	u8 *resp = guest_ptr(&t->vm.kvm, RESP, RESP_ROOM);
	struct p9_msg r = { .buf = resp, .size = used };

	t->used = used;
	t->err = 0;
	t->type = 0;
	if (used < P9_HDR_SIZE)
		return 0;
	CHECK_EQ(p9_msg__get32(&r), used);
	t->type = p9_msg__get8(&r);
	CHECK_EQ(p9_msg__get16(&r), tag);
	if (t->type == P9_RLERROR)
		t->err = p9_msg__get32(&r);
	t->r = r;
	return t->type;
}

/* Finish the message being built, send it, parse the reply: its type. */
static u8 rpc(struct t9 *t)
{
	u32 n = t->m.n;

	memcpy(t->m.b, &(u32){ htole32(n) }, 4);
	return t9__reply(t, t9__send(t, t->m.b, n, RESP_ROOM), TAG);
}

/* The reply was Rlerror @err. */
#define CHECK_ERR(t, e)	do { CHECK_EQ((t)->type, P9_RLERROR); CHECK_EQ((t)->err, (e)); } while (0)
#define CHECK_OK(t, T)	do { CHECK_EQ((t)->type, (T) + 1); CHECK_EQ((t)->err, 0); } while (0)

static void t9__signal(struct virtio_dev *vdev, struct virtio_queue *vq)
{
}

static const struct virtio_transport_ops t9__transport = {
	.name	= "test",
	.signal	= t9__signal,
};

static bool t9__init(struct t9 *t, struct share *s, bool ro)
{
	struct p9_share_config cfg = { .path = s->dir, .tag = "share", .ro = ro };

	memset(t, 0, sizeof(*t));
	fake_vm__init(&t->vm, TRANSPORT_MMIO);
	t->p = p9__create(&t->vm.kvm, &cfg);
	CHECK(t->p);
	if (!t->p)
		return false;
	p9__vdev(t->p)->transport = &t9__transport;
	drv_queue__init(&t->q, p9__vdev(t->p), 0, RINGS);
	return true;
}

static void t9__exit(struct t9 *t)
{
	if (t->p)
		p9__destroy(t->p);
	fake_vm__exit(&t->vm);
}

/* ---- requests ---- */

static void version(struct t9 *t, u32 msize)
{
	struct tmsg *m = m_begin(t, P9_TVERSION);

	m_32(m, msize);
	m_str(m, "9P2000.L");
	rpc(t);
}

static u8 try_attach(struct t9 *t, u32 fid)
{
	struct tmsg *m = m_begin(t, P9_TATTACH);

	m_32(m, fid);
	m_32(m, P9_NOFID);
	m_str(m, "root");
	m_str(m, "");
	m_32(m, 0);
	return rpc(t);
}

static void attach(struct t9 *t, u32 fid)
{
	try_attach(t, fid);
	CHECK_OK(t, P9_TATTACH);
}

/* Twalk: the number of qids (or -1 for Rlerror); qids in @qids. */
static int walk(struct t9 *t, u32 fid, u32 newfid, struct p9_qid *qids, int n, ...)
{
	struct tmsg *m = m_begin(t, P9_TWALK);
	va_list ap;
	int nq;

	m_32(m, fid);
	m_32(m, newfid);
	m_16(m, n);
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		m_str(m, va_arg(ap, const char *));
	va_end(ap);
	if (rpc(t) != P9_RWALK)
		return -1;
	nq = p9_msg__get16(&t->r);
	for (int i = 0; i < nq; i++) {
		struct p9_qid q;

		q.type = p9_msg__get8(&t->r);
		q.version = p9_msg__get32(&t->r);
		q.path = p9_msg__get64(&t->r);
		if (qids)
			qids[i] = q;
	}
	return nq;
}

static void lopen(struct t9 *t, u32 fid, u32 flags)
{
	struct tmsg *m = m_begin(t, P9_TLOPEN);

	m_32(m, fid);
	m_32(m, flags);
	rpc(t);
}

static void lcreate(struct t9 *t, u32 fid, const char *name, u32 flags, u32 mode)
{
	struct tmsg *m = m_begin(t, P9_TLCREATE);

	m_32(m, fid);
	m_str(m, name);
	m_32(m, flags);
	m_32(m, mode);
	m_32(m, 0);
	rpc(t);
}

static void twrite(struct t9 *t, u32 fid, u64 off, const char *data)
{
	struct tmsg *m = m_begin(t, P9_TWRITE);

	m_32(m, fid);
	m_64(m, off);
	m_32(m, strlen(data));
	memcpy(m->b + m->n, data, strlen(data));
	m->n += strlen(data);
	rpc(t);
}

/* Tread into @buf (NUL-terminated): bytes read, or -1. */
static int tread(struct t9 *t, u32 fid, u64 off, u32 count, char *buf)
{
	struct tmsg *m = m_begin(t, P9_TREAD);
	u32 n;

	m_32(m, fid);
	m_64(m, off);
	m_32(m, count);
	if (rpc(t) != P9_RREAD)
		return -1;
	n = p9_msg__get32(&t->r);
	CHECK(n <= count && n <= t->r.size - t->r.pos);
	if (buf) {
		memcpy(buf, t->r.buf + t->r.pos, n);
		buf[n] = 0;
	}
	return n;
}

static void clunk(struct t9 *t, u32 fid)
{
	struct tmsg *m = m_begin(t, P9_TCLUNK);

	m_32(m, fid);
	rpc(t);
}

/* Tgetattr: mode and size, or false. */
static bool getattr(struct t9 *t, u32 fid, struct p9_qid *q, u32 *mode, u64 *size)
{
	struct tmsg *m = m_begin(t, P9_TGETATTR);

	m_32(m, fid);
	m_64(m, P9_GETATTR_BASIC);
	if (rpc(t) != P9_RGETATTR)
		return false;
	CHECK_EQ(t->used, 160);
	p9_msg__get64(&t->r);
	q->type = p9_msg__get8(&t->r);
	q->version = p9_msg__get32(&t->r);
	q->path = p9_msg__get64(&t->r);
	*mode = p9_msg__get32(&t->r);
	p9_msg__get32(&t->r);
	p9_msg__get32(&t->r);
	p9_msg__get64(&t->r);
	p9_msg__get64(&t->r);
	*size = p9_msg__get64(&t->r);
	return true;
}

static void setattr(struct t9 *t, u32 fid, u32 valid, u32 mode, u64 size)
{
	struct tmsg *m = m_begin(t, P9_TSETATTR);

	m_32(m, fid);
	m_32(m, valid);
	m_32(m, mode);
	m_32(m, 0);
	m_32(m, 0);
	m_64(m, size);
	for (int i = 0; i < 4; i++)
		m_64(m, 0);
	rpc(t);
}

static void dir_op(struct t9 *t, u8 type, u32 dfid, const char *name, u32 arg)
{
	struct tmsg *m = m_begin(t, type);

	m_32(m, dfid);
	m_str(m, name);
	m_32(m, arg);		/* mkdir: mode; unlinkat: flags */
	if (type == P9_TMKDIR)
		m_32(m, 0);	/* gid */
	rpc(t);
}

static void t_renameat(struct t9 *t, u32 ofid, const char *oname, u32 nfid, const char *nname)
{
	struct tmsg *m = m_begin(t, P9_TRENAMEAT);

	m_32(m, ofid);
	m_str(m, oname);
	m_32(m, nfid);
	m_str(m, nname);
	rpc(t);
}

static void tsymlink(struct t9 *t, u32 dfid, const char *name, const char *target)
{
	struct tmsg *m = m_begin(t, P9_TSYMLINK);

	m_32(m, dfid);
	m_str(m, name);
	m_str(m, target);
	m_32(m, 0);
	rpc(t);
}

static void tlink(struct t9 *t, u32 dfid, u32 fid, const char *name)
{
	struct tmsg *m = m_begin(t, P9_TLINK);

	m_32(m, dfid);
	m_32(m, fid);
	m_str(m, name);
	rpc(t);
}

static void fid_op(struct t9 *t, u8 type, u32 fid)
{
	struct tmsg *m = m_begin(t, type);

	m_32(m, fid);
	rpc(t);
}

static void session(struct t9 *t)
{
	version(t, 64 * 1024);
	CHECK_OK(t, P9_TVERSION);
	attach(t, 1);
}

/* ---- options ---- */

/* Option errors print one line each: keep them out of the test output. */
static int quiet_begin(void)
{
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	fflush(stderr);
	dup2(null, 2);
	close(null);
	return saved;
}

static void quiet_end(int saved)
{
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
}

TEST(p9_parse_share_options)
{
	struct kvm_config cfg = { 0 };
	struct p9_share_config s;
	int saved;

	CHECK_EQ(p9__parse_share(&s, "/srv,hostfs"), 0);
	CHECK(!strcmp(s.path, "/srv") && !strcmp(s.tag, "hostfs") && !s.ro);
	CHECK_EQ(p9__parse_share(&s, "/,hostroot,ro"), 0);
	CHECK(!strcmp(s.path, "/") && !strcmp(s.tag, "hostroot") && s.ro);
	CHECK_EQ(p9__parse_share(&s, "dir"), 0);
	CHECK(!strcmp(s.tag, P9_DEFAULT_TAG) && !s.ro);
	CHECK_EQ(p9__parse_share(&s, "dir,ro"), 0);
	CHECK(!strcmp(s.tag, P9_DEFAULT_TAG) && s.ro);
	saved = quiet_begin();
	CHECK_EQ(p9__parse_share(&s, ",tag"), -1);
	CHECK_EQ(p9__parse_share(&s, "d,a,b"), -1);
	CHECK_EQ(p9__parse_share(&s, "d,"), -1);
	CHECK_EQ(p9__parse_share(&s, "d,0123456789012345678901234567890123"), -1);
	CHECK_EQ(p9__add_share(&cfg, "/a,one"), 0);
	CHECK_EQ(p9__add_share(&cfg, "/b,one"), -1);
	CHECK_EQ(cfg.nr_shares, 1);
	CHECK_EQ(p9__check_shares(&cfg), -ENOENT);
	cfg.shares[0].path = "/dev/null";
	CHECK_EQ(p9__check_shares(&cfg), -ENOTDIR);
	cfg.shares[0].path = "/tmp";
	CHECK_EQ(p9__check_shares(&cfg), 0);
	quiet_end(saved);
}

TEST(p9_config_space_has_the_tag)
{
	struct share s;
	struct t9 t;
	u8 cfg[2 + P9_TAG_MAX];

	share__make(&s);
	if (t9__init(&t, &s, false)) {
		struct virtio_dev *vdev = p9__vdev(t.p);

		CHECK_EQ(vdev->ops->device_id, 9);
		CHECK(vdev->host_features & (1ull << 0));
		vdev->ops->config_read(vdev, 0, cfg, sizeof(cfg));
		CHECK_EQ(cfg[0] | cfg[1] << 8, 5);
		CHECK(!memcmp(cfg + 2, "share", 5));
	}
	t9__exit(&t);
	share__remove(&s);
}

/* ---- malformed messages ---- */

TEST(p9_malformed_messages)
{
	struct share s;
	struct t9 t;
	u8 raw[64];

	share__make(&s);
	if (!t9__init(&t, &s, false))
		return;
	/* Shorter than a header: there is no tag to answer, the request is dropped. */
	memset(raw, 0, sizeof(raw));
	CHECK_EQ(t9__send(&t, raw, 3, RESP_ROOM), 0);
	CHECK_EQ(t9__send(&t, raw, 0, RESP_ROOM), 0);
	/* No room for even Rlerror: dropped. */
	m_begin(&t, P9_TCLUNK);
	m_32(&t.m, 1);
	CHECK_EQ(t9__send(&t, t.m.b, t.m.n, 10), 0);
	/* The size field is past the buffer, or smaller than a header. */
	m_begin(&t, P9_TCLUNK);
	m_32(&t.m, 1);
	memcpy(t.m.b, &(u32){ htole32(1000) }, 4);
	t9__reply(&t, t9__send(&t, t.m.b, t.m.n, RESP_ROOM), TAG);
	CHECK_ERR(&t, EINVAL);
	memcpy(t.m.b, &(u32){ htole32(5) }, 4);
	t9__reply(&t, t9__send(&t, t.m.b, t.m.n, RESP_ROOM), TAG);
	CHECK_ERR(&t, EINVAL);
	/* Unknown and 9P2000-only types. */
	m_begin(&t, 99);
	rpc(&t);
	CHECK_ERR(&t, EOPNOTSUPP);
	m_begin(&t, 255);
	rpc(&t);
	CHECK_ERR(&t, EOPNOTSUPP);
	m_begin(&t, 124);		/* Tstat */
	m_32(&t.m, 1);
	rpc(&t);
	CHECK_ERR(&t, EOPNOTSUPP);
	session(&t);
	/* A string running past the end of the message. */
	m_begin(&t, P9_TWALK);
	m_32(&t.m, 1);
	m_32(&t.m, 2);
	m_16(&t.m, 1);
	m_16(&t.m, 200);
	m_8(&t.m, 'a');
	rpc(&t);
	CHECK_ERR(&t, EINVAL);
	/* Truncated fixed fields. */
	m_begin(&t, P9_TATTACH);
	m_32(&t.m, 5);
	rpc(&t);
	CHECK_ERR(&t, EINVAL);
	m_begin(&t, P9_TREAD);
	m_32(&t.m, 1);
	m_32(&t.m, 0);
	rpc(&t);
	CHECK_ERR(&t, EINVAL);
	/* Too many names, a count past the data. */
	m_begin(&t, P9_TWALK);
	m_32(&t.m, 1);
	m_32(&t.m, 2);
	m_16(&t.m, 17);
	for (int i = 0; i < 17; i++)
		m_str(&t.m, "a");
	rpc(&t);
	CHECK_ERR(&t, EINVAL);
	m_begin(&t, P9_TWRITE);
	m_32(&t.m, 1);
	m_64(&t.m, 0);
	m_32(&t.m, 100);
	m_8(&t.m, 'x');
	rpc(&t);
	CHECK_ERR(&t, EINVAL);
	/* A name with a NUL, a name too long. */
	m_begin(&t, P9_TMKDIR);
	m_32(&t.m, 1);
	m_strn(&t.m, "ab\0cd", 5);
	m_32(&t.m, 0755);
	m_32(&t.m, 0);
	rpc(&t);
	CHECK_ERR(&t, EINVAL);
	memset(raw, 'n', sizeof(raw));
	m_begin(&t, P9_TMKDIR);
	m_32(&t.m, 1);
	m_16(&t.m, 300);
	for (int i = 0; i < 300; i++)
		m_8(&t.m, 'n');
	m_32(&t.m, 0755);
	m_32(&t.m, 0);
	rpc(&t);
	CHECK_ERR(&t, ENAMETOOLONG);
	/* Unknown fids; a new fid that is NOFID or in use. */
	fid_op(&t, P9_TCLUNK, 77);
	CHECK_ERR(&t, EBADF);
	CHECK_EQ(walk(&t, 1, P9_NOFID, NULL, 0), -1);
	CHECK_ERR(&t, EBADF);
	CHECK_EQ(walk(&t, 1, 1, NULL, 0), 0);
	attach(&t, 2);
	CHECK_EQ(walk(&t, 1, 2, NULL, 0), -1);
	CHECK_ERR(&t, EEXIST);
	/* Tversion: msize is capped and a tiny one refused. */
	version(&t, 1u << 30);
	CHECK_OK(&t, P9_TVERSION);
	CHECK_EQ(p9_msg__get32(&t.r), P9_MAX_MSIZE);
	version(&t, 1000);
	CHECK_OK(&t, P9_TVERSION);
	p9_msg__get32(&t.r);
	CHECK_EQ(p9_msg__get16(&t.r), 7);	/* "unknown" */
	/* The old session's fids are gone. */
	fid_op(&t, P9_TCLUNK, 1);
	CHECK_ERR(&t, EBADF);
	/* The device is still fine. */
	CHECK_EQ(p9__vdev(t.p)->status & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	t9__exit(&t);
	CHECK(share__outside_intact(&s));
	share__remove(&s);
}

/* A reply never exceeds the room the guest gave, however big the read. */
TEST(p9_reply_fits_the_guest_buffer)
{
	char big[8192];
	struct share s;
	struct t9 t;
	u32 used;

	share__make(&s);
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	share__put(&s, "big", big);
	if (!t9__init(&t, &s, false))
		return;
	session(&t);
	CHECK_EQ(walk(&t, 1, 2, NULL, 1, "big"), 1);
	lopen(&t, 2, 0);
	CHECK_OK(&t, P9_TLOPEN);
	m_begin(&t, P9_TREAD);
	m_32(&t.m, 2);
	m_64(&t.m, 0);
	m_32(&t.m, 1u << 30);
	memcpy(t.m.b, &(u32){ htole32(t.m.n) }, 4);
	used = t9__send(&t, t.m.b, t.m.n, 100);
	CHECK_EQ(used, 100);
	t9__reply(&t, used, TAG);
	CHECK_OK(&t, P9_TREAD);
	CHECK_EQ(p9_msg__get32(&t.r), 100 - 11);
	/* Rgetattr (160 bytes) into 100: ENOBUFS, not a cut reply. */
	m_begin(&t, P9_TGETATTR);
	m_32(&t.m, 2);
	m_64(&t.m, P9_GETATTR_BASIC);
	memcpy(t.m.b, &(u32){ htole32(t.m.n) }, 4);
	t9__reply(&t, t9__send(&t, t.m.b, t.m.n, 100), TAG);
	CHECK_ERR(&t, ENOBUFS);
	t9__exit(&t);
	share__remove(&s);
}

static u32 rnd(u64 *state)
{
	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	return *state >> 33;
}

/* Random messages of every type, mostly well-framed, through the real path. */
TEST(p9_random_messages)
{
	static const u8 types[] = {
		P9_TSTATFS, P9_TLOPEN, P9_TLCREATE, P9_TSYMLINK, P9_TMKNOD, P9_TRENAME,
		P9_TREADLINK, P9_TGETATTR, P9_TSETATTR, P9_TXATTRWALK, P9_TXATTRCREATE,
		P9_TREADDIR, P9_TFSYNC, P9_TLOCK, P9_TGETLOCK, P9_TLINK, P9_TMKDIR,
		P9_TRENAMEAT, P9_TUNLINKAT, P9_TATTACH, P9_TFLUSH, P9_TWALK, P9_TREAD,
		P9_TWRITE, P9_TCLUNK, P9_TREMOVE, 0, 7, 101, 200,
	};
	static const char *names[] = { "a", "b", "..", ".", "sub", "link", "../x", "" };
	u64 seed = 42;
	struct share s;
	struct t9 t;

	share__make(&s);
	share__put(&s, "sub", NULL);
	share__put(&s, "a", "aaaa");
	share__link(&s, "link", s.secret);
	if (!t9__init(&t, &s, false))
		return;
	session(&t);
	for (int i = 0; i < 20000; i++) {
		u8 type = types[rnd(&seed) % sizeof(types)];
		struct tmsg *m;
		int fields = rnd(&seed) % 12;
		u32 len, used, room = rnd(&seed) % 4 ? RESP_ROOM : rnd(&seed) % 200;

		if (i % 500 == 0)
			try_attach(&t, rnd(&seed) % 8);
		m = m_begin(&t, type);
		for (int f = 0; f < fields; f++) {
			switch (rnd(&seed) % 6) {
			case 0: m_32(m, rnd(&seed) % 8); break;			/* a fid */
			case 1: m_str(m, names[rnd(&seed) % 8]); break;
			case 2: m_64(m, rnd(&seed)); break;
			case 3: m_16(m, rnd(&seed)); break;
			case 4: m_32(m, rnd(&seed)); break;
			default: m_8(m, rnd(&seed)); break;
			}
		}
		len = m->n;
		/* Sometimes a lying size field, sometimes a cut message. */
		memcpy(m->b, &(u32){ htole32(rnd(&seed) % 8 ? len : rnd(&seed)) }, 4);
		if (!(rnd(&seed) % 8))
			len = rnd(&seed) % (len + 1);
		used = t9__send(&t, m->b, len, room);
		CHECK(used <= room);
		if (used) {
			u8 rt = t9__reply(&t, used, TAG);

			CHECK(rt == P9_RLERROR || rt == type + 1);
		}
	}
	CHECK_EQ(p9__vdev(t.p)->status & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	session(&t);
	CHECK_EQ(walk(&t, 1, 2, NULL, 1, "a"), 1);
	t9__exit(&t);
	CHECK(share__outside_intact(&s));
	share__remove(&s);
}

/* ---- confinement ---- */

TEST(p9_dotdot_stays_in_the_share)
{
	struct p9_qid root, q[4];
	struct share s;
	struct t9 t;
	u32 mode;
	u64 size;

	share__make(&s);
	share__put(&s, "sub", NULL);
	share__put(&s, "sub/deeper", NULL);
	if (!t9__init(&t, &s, false))
		return;
	session(&t);
	CHECK(getattr(&t, 1, &root, &mode, &size));
	CHECK(root.type == P9_QTDIR);
	CHECK_EQ(walk(&t, 1, 2, q, 1, ".."), 1);
	CHECK_EQ(q[0].path, root.path);
	CHECK_EQ(walk(&t, 1, 3, q, 4, "sub", "..", "..", ".."), 4);
	CHECK_EQ(q[1].path, root.path);
	CHECK_EQ(q[3].path, root.path);
	CHECK(getattr(&t, 3, &q[0], &mode, &size));
	CHECK_EQ(q[0].path, root.path);
	CHECK_EQ(walk(&t, 1, 4, q, 3, "sub", "deeper", ".."), 3);
	CHECK_EQ(walk(&t, 4, 5, q, 2, "..", ".."), 2);
	CHECK_EQ(q[0].path, root.path);
	/* The secret next to the share is not reachable by name. */
	CHECK_EQ(walk(&t, 1, 6, q, 2, "..", "secret"), 1);
	CHECK_EQ(walk(&t, 1, 6, q, 1, "../secret"), -1);
	CHECK_ERR(&t, EINVAL);
	CHECK_EQ(walk(&t, 1, 6, q, 1, "."), -1);
	CHECK_ERR(&t, EINVAL);
	CHECK_EQ(walk(&t, 1, 6, q, 1, ""), -1);
	CHECK_ERR(&t, EINVAL);
	t9__exit(&t);
	share__remove(&s);
}

TEST(p9_symlinks_are_not_followed)
{
	struct p9_qid q[2];
	char buf[256];
	struct share s;
	struct t9 t;

	share__make(&s);
	share__link(&s, "abs", s.secret);
	share__link(&s, "rel", "../secret");
	share__link(&s, "passwd", "/etc/passwd");
	share__link(&s, "updir", "..");
	if (!t9__init(&t, &s, false))
		return;
	session(&t);
	CHECK_EQ(walk(&t, 1, 2, q, 1, "passwd"), 1);
	CHECK_EQ(q[0].type, P9_QTSYMLINK);
	lopen(&t, 2, 0);
	CHECK_ERR(&t, ELOOP);
	fid_op(&t, P9_TREADLINK, 2);
	CHECK_OK(&t, P9_TREADLINK);
	CHECK_EQ(p9_msg__get16(&t.r), strlen("/etc/passwd"));
	CHECK(!memcmp(t.r.buf + t.r.pos, "/etc/passwd", strlen("/etc/passwd")));
	/* Through a symlink to a directory: the walk stops at the link. */
	CHECK_EQ(walk(&t, 1, 3, q, 2, "updir", "secret"), 1);
	CHECK_EQ(walk(&t, 1, 3, q, 2, "rel", "x"), 1);
	CHECK_EQ(walk(&t, 1, 3, q, 1, "abs"), 1);
	CHECK_EQ(tread(&t, 3, 0, 100, buf), -1);
	lopen(&t, 3, P9_DOTL_RDWR | P9_DOTL_TRUNC);
	CHECK_ERR(&t, ELOOP);
	setattr(&t, 3, P9_SETATTR_SIZE, 0, 0);
	CHECK_EQ(t.type, P9_RLERROR);
	setattr(&t, 3, P9_SETATTR_MODE, 0777, 0);
	CHECK_ERR(&t, EOPNOTSUPP);
	/* Creating over a symlink does not write through it. */
	CHECK_EQ(walk(&t, 1, 4, NULL, 0), 0);
	lcreate(&t, 4, "abs", P9_DOTL_WRONLY | P9_DOTL_TRUNC, 0644);
	CHECK_EQ(t.type, P9_RLERROR);
	lcreate(&t, 4, "rel", P9_DOTL_WRONLY | P9_DOTL_CREATE, 0644);
	CHECK_EQ(t.type, P9_RLERROR);
	t9__exit(&t);
	CHECK(share__outside_intact(&s));
	share__remove(&s);
}

TEST(p9_names_cannot_leave_the_share)
{
	struct share s;
	struct t9 t;

	share__make(&s);
	share__put(&s, "file", "data");
	share__put(&s, "sub", NULL);
	if (!t9__init(&t, &s, false))
		return;
	session(&t);
	t_renameat(&t, 1, "file", 1, "../x-moved");
	CHECK_ERR(&t, EINVAL);
	t_renameat(&t, 1, "file", 1, "..");
	CHECK_ERR(&t, EINVAL);
	t_renameat(&t, 1, "../secret", 1, "stolen");
	CHECK_ERR(&t, EINVAL);
	t_renameat(&t, 1, "file", 1, "/tmp/x-lkvm-9p-escape");
	CHECK_ERR(&t, EINVAL);
	CHECK_EQ(walk(&t, 1, 2, NULL, 1, "file"), 1);
	m_begin(&t, P9_TRENAME);
	m_32(&t.m, 2);
	m_32(&t.m, 1);
	m_str(&t.m, "..");
	rpc(&t);
	CHECK_ERR(&t, EINVAL);
	/* The parent of the root is the root: a rename "into" it stays inside. */
	CHECK_EQ(walk(&t, 1, 3, NULL, 1, ".."), 1);
	t_renameat(&t, 1, "file", 3, "file2");
	CHECK_OK(&t, P9_TRENAMEAT);
	CHECK(share__exists(&s, "file2"));
	dir_op(&t, P9_TMKDIR, 1, "../d", 0755);
	CHECK_ERR(&t, EINVAL);
	dir_op(&t, P9_TUNLINKAT, 1, "../secret", 0);
	CHECK_ERR(&t, EINVAL);
	lcreate(&t, 3, "../evil", P9_DOTL_WRONLY | P9_DOTL_CREATE, 0644);
	CHECK_ERR(&t, EINVAL);
	tsymlink(&t, 1, "a/b", "x");
	CHECK_ERR(&t, EINVAL);
	tlink(&t, 1, 2, "../hard");
	CHECK_ERR(&t, EINVAL);
	t9__exit(&t);
	CHECK(share__outside_intact(&s));
	share__remove(&s);
}

/* ---- read-only ---- */

TEST(p9_ro_share_refuses_changes)
{
	char buf[64];
	struct share s;
	struct t9 t;

	share__make(&s);
	share__put(&s, "file", "data");
	share__put(&s, "sub", NULL);
	if (!t9__init(&t, &s, true))
		return;
	session(&t);
	CHECK_EQ(walk(&t, 1, 2, NULL, 1, "file"), 1);
	lopen(&t, 2, P9_DOTL_WRONLY);
	CHECK_ERR(&t, EROFS);
	lopen(&t, 2, P9_DOTL_RDWR);
	CHECK_ERR(&t, EROFS);
	lopen(&t, 2, P9_DOTL_TRUNC);
	CHECK_ERR(&t, EROFS);
	lopen(&t, 2, 0);
	CHECK_OK(&t, P9_TLOPEN);
	CHECK_EQ(tread(&t, 2, 0, 64, buf), 4);
	CHECK(!strcmp(buf, "data"));
	twrite(&t, 2, 0, "x");
	CHECK_ERR(&t, EROFS);
	CHECK_EQ(walk(&t, 1, 3, NULL, 0), 0);
	lcreate(&t, 3, "new", P9_DOTL_WRONLY | P9_DOTL_CREATE, 0644);
	CHECK_ERR(&t, EROFS);
	dir_op(&t, P9_TMKDIR, 1, "d", 0755);
	CHECK_ERR(&t, EROFS);
	dir_op(&t, P9_TUNLINKAT, 1, "file", 0);
	CHECK_ERR(&t, EROFS);
	dir_op(&t, P9_TUNLINKAT, 1, "sub", P9_DOTL_AT_REMOVEDIR);
	CHECK_ERR(&t, EROFS);
	t_renameat(&t, 1, "file", 1, "moved");
	CHECK_ERR(&t, EROFS);
	tsymlink(&t, 1, "s", "file");
	CHECK_ERR(&t, EROFS);
	tlink(&t, 1, 2, "h");
	CHECK_ERR(&t, EROFS);
	setattr(&t, 2, P9_SETATTR_SIZE, 0, 0);
	CHECK_ERR(&t, EROFS);
	setattr(&t, 2, P9_SETATTR_MODE, 0777, 0);
	CHECK_ERR(&t, EROFS);
	CHECK_EQ(walk(&t, 1, 4, NULL, 1, "file"), 1);
	fid_op(&t, P9_TREMOVE, 4);
	CHECK_ERR(&t, EROFS);
	fid_op(&t, P9_TCLUNK, 4);		/* Tremove clunked it anyway */
	CHECK_ERR(&t, EBADF);
	t9__exit(&t);
	CHECK(share__exists(&s, "file") && share__exists(&s, "sub"));
	CHECK(!share__exists(&s, "new") && !share__exists(&s, "d") && !share__exists(&s, "moved"));
	share__remove(&s);
}

/* ---- what v9fs does ---- */

TEST(p9_file_operations)
{
	char buf[256], path[256];
	struct p9_qid q;
	struct share s;
	struct stat st;
	struct t9 t;
	mode_t old = umask(077);
	int fds = open_fds();
	u32 mode;
	u64 size;

	share__make(&s);
	if (!t9__init(&t, &s, false))
		goto out;
	session(&t);
	/* Create, write, read back. */
	CHECK_EQ(walk(&t, 1, 2, NULL, 0), 0);
	lcreate(&t, 2, "f", P9_DOTL_RDWR | P9_DOTL_CREATE, 0644);
	CHECK_OK(&t, P9_TLCREATE);
	twrite(&t, 2, 0, "hello world");
	CHECK_OK(&t, P9_TWRITE);
	CHECK_EQ(p9_msg__get32(&t.r), 11);
	CHECK_EQ(tread(&t, 2, 6, 100, buf), 5);
	CHECK(!strcmp(buf, "world"));
	snprintf(path, sizeof(path), "%s/f", s.dir);
	CHECK(!stat(path, &st) && (st.st_mode & 07777) == 0644);	/* our umask did not apply */
	/* Attributes. */
	CHECK(getattr(&t, 2, &q, &mode, &size));
	CHECK_EQ(size, 11);
	CHECK(S_ISREG(mode) && q.type == P9_QTFILE && q.path == st.st_ino);
	setattr(&t, 2, P9_SETATTR_SIZE | P9_SETATTR_MODE, 0600, 5);
	CHECK_OK(&t, P9_TSETATTR);
	CHECK(getattr(&t, 2, &q, &mode, &size));
	CHECK_EQ(size, 5);
	CHECK_EQ(mode & 07777, 0600);
	setattr(&t, 2, P9_SETATTR_ATIME | P9_SETATTR_MTIME, 0, 0);
	CHECK_OK(&t, P9_TSETATTR);
	fid_op(&t, P9_TFSYNC, 2);
	CHECK_OK(&t, P9_TFSYNC);
	fid_op(&t, P9_TSTATFS, 1);
	CHECK_OK(&t, P9_TSTATFS);
	/* Directories, links. */
	dir_op(&t, P9_TMKDIR, 1, "d", 0775);
	CHECK_OK(&t, P9_TMKDIR);
	CHECK_EQ(p9_msg__get8(&t.r), P9_QTDIR);
	snprintf(path, sizeof(path), "%s/d", s.dir);
	CHECK(!stat(path, &st) && (st.st_mode & 07777) == 0775);
	dir_op(&t, P9_TMKDIR, 1, "d", 0775);
	CHECK_ERR(&t, EEXIST);
	tsymlink(&t, 1, "s", "f");
	CHECK_OK(&t, P9_TSYMLINK);
	CHECK_EQ(p9_msg__get8(&t.r), P9_QTSYMLINK);
	tlink(&t, 1, 2, "h");
	CHECK_OK(&t, P9_TLINK);
	snprintf(path, sizeof(path), "%s/h", s.dir);
	CHECK(!stat(path, &st) && st.st_nlink == 2);
	CHECK_EQ(walk(&t, 1, 3, NULL, 1, "d"), 1);
	t_renameat(&t, 1, "h", 3, "h2");
	CHECK_OK(&t, P9_TRENAMEAT);
	CHECK(share__exists(&s, "d/h2") && !share__exists(&s, "h"));
	dir_op(&t, P9_TUNLINKAT, 1, "d", P9_DOTL_AT_REMOVEDIR);
	CHECK_ERR(&t, ENOTEMPTY);
	/* Trename and Tremove work on the fid's own name. */
	CHECK_EQ(walk(&t, 3, 4, NULL, 1, "h2"), 1);
	m_begin(&t, P9_TRENAME);
	m_32(&t.m, 4);
	m_32(&t.m, 1);
	m_str(&t.m, "back");
	rpc(&t);
	CHECK_OK(&t, P9_TRENAME);
	CHECK(share__exists(&s, "back") && !share__exists(&s, "d/h2"));
	fid_op(&t, P9_TREMOVE, 4);
	CHECK_OK(&t, P9_TREMOVE);
	CHECK(!share__exists(&s, "back"));
	dir_op(&t, P9_TUNLINKAT, 1, "d", P9_DOTL_AT_REMOVEDIR);
	CHECK_OK(&t, P9_TUNLINKAT);
	dir_op(&t, P9_TUNLINKAT, 1, "s", 0);
	CHECK_OK(&t, P9_TUNLINKAT);
	CHECK(!share__exists(&s, "s") && share__exists(&s, "f"));
	/* Exclusive create of an existing file. */
	CHECK_EQ(walk(&t, 1, 5, NULL, 0), 0);
	lcreate(&t, 5, "f", P9_DOTL_WRONLY | P9_DOTL_CREATE | P9_DOTL_EXCL, 0644);
	CHECK_ERR(&t, EEXIST);
	/* Locks are granted; xattrs are empty. */
	m_begin(&t, P9_TLOCK);
	m_32(&t.m, 2);
	m_8(&t.m, 1);
	m_32(&t.m, 0);
	m_64(&t.m, 0);
	m_64(&t.m, 0);
	m_32(&t.m, 123);
	m_str(&t.m, "guest");
	rpc(&t);
	CHECK_OK(&t, P9_TLOCK);
	CHECK_EQ(p9_msg__get8(&t.r), P9_LOCK_SUCCESS);
	m_begin(&t, P9_TGETLOCK);
	m_32(&t.m, 2);
	m_8(&t.m, 1);
	m_64(&t.m, 0);
	m_64(&t.m, 10);
	m_32(&t.m, 123);
	m_str(&t.m, "guest");
	rpc(&t);
	CHECK_OK(&t, P9_TGETLOCK);
	CHECK_EQ(p9_msg__get8(&t.r), P9_LOCK_TYPE_UNLCK);
	m_begin(&t, P9_TXATTRWALK);
	m_32(&t.m, 1);
	m_32(&t.m, 6);
	m_str(&t.m, "");
	rpc(&t);
	CHECK_OK(&t, P9_TXATTRWALK);
	CHECK_EQ(p9_msg__get64(&t.r), 0);
	CHECK_EQ(tread(&t, 6, 0, 100, NULL), 0);
	m_begin(&t, P9_TXATTRWALK);
	m_32(&t.m, 1);
	m_32(&t.m, 7);
	m_str(&t.m, "security.capability");
	rpc(&t);
	CHECK_ERR(&t, ENODATA);
	m_begin(&t, P9_TFLUSH);
	m_16(&t.m, 3);
	rpc(&t);
	CHECK_OK(&t, P9_TFLUSH);
	clunk(&t, 2);
	CHECK_OK(&t, P9_TCLUNK);
	clunk(&t, 2);
	CHECK_ERR(&t, EBADF);
	t9__exit(&t);
	/* Every fid's fds are closed with the device (its eventfds stay with the VM). */
	CHECK(open_fds() <= fds + 3);
out:
	umask(old);
	share__remove(&s);
}

/* Treaddir in small pieces, resuming at each entry's offset, sees every name once. */
TEST(p9_readdir_in_pieces)
{
	char name[32], seen[300] = { 0 };
	struct share s;
	struct t9 t;
	u64 off = 0;
	int dots = 0, total = 0;

	share__make(&s);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "file-%03d", i);
		share__put(&s, name, "x");
	}
	if (!t9__init(&t, &s, false))
		return;
	session(&t);
	CHECK_EQ(walk(&t, 1, 2, NULL, 0), 0);
	lopen(&t, 2, P9_DOTL_DIRECTORY);
	CHECK_OK(&t, P9_TLOPEN);
	for (int rounds = 0; rounds < 1000; rounds++) {
		struct tmsg *m = m_begin(&t, P9_TREADDIR);
		u32 count;

		m_32(m, 2);
		m_64(m, off);
		m_32(m, 512);
		rpc(&t);
		CHECK_OK(&t, P9_TREADDIR);
		count = p9_msg__get32(&t.r);
		if (!count || t.type != P9_RREADDIR)
			break;
		CHECK(count <= 512);
		for (u32 end = t.r.pos + count; t.r.pos < end;) {
			u16 len;
			const u8 *n;
			int i;

			t.r.pos += P9_QID_SIZE;
			off = p9_msg__get64(&t.r);
			p9_msg__get8(&t.r);
			n = p9_msg__get_str(&t.r, &len);
			if (!n)
				break;
			total++;
			if ((len == 1 && n[0] == '.') || (len == 2 && !memcmp(n, "..", 2)))
				dots++;
			else if (len == 8 && sscanf((const char *)n, "file-%3d", &i) == 1 && i < 300)
				seen[i]++;
		}
	}
	CHECK_EQ(dots, 2);
	CHECK_EQ(total, 302);
	for (int i = 0; i < 300; i++)
		CHECK_EQ(seen[i], 1);
	t9__exit(&t);
	share__remove(&s);
}

/* Sharing / read-only: /proc and /sys are bare mount points, nothing below them. */
TEST(p9_kernel_filesystems_are_hidden)
{
	struct p9_share_config cfg = { .path = "/", .tag = "hostroot", .ro = true };
	struct p9_qid q[2];
	struct t9 t;

	memset(&t, 0, sizeof(t));
	fake_vm__init(&t.vm, TRANSPORT_MMIO);
	t.p = p9__create(&t.vm.kvm, &cfg);
	CHECK(t.p);
	if (!t.p)
		return;
	p9__vdev(t.p)->transport = &t9__transport;
	drv_queue__init(&t.q, p9__vdev(t.p), 0, RINGS);
	session(&t);
	CHECK_EQ(walk(&t, 1, 2, q, 1, "proc"), 1);
	CHECK_EQ(q[0].type, P9_QTDIR);
	CHECK_EQ(walk(&t, 1, 3, q, 2, "proc", "kcore"), 1);
	CHECK_EQ(walk(&t, 1, 3, q, 2, "proc", "self"), 1);
	CHECK_EQ(walk(&t, 1, 3, q, 2, "sys", "kernel"), 1);
	lopen(&t, 2, P9_DOTL_DIRECTORY);
	CHECK_ERR(&t, EACCES);
	dir_op(&t, P9_TMKDIR, 2, "x", 0755);
	CHECK_ERR(&t, EROFS);
	/* The rest of the host is there, read-only. */
	CHECK_EQ(walk(&t, 1, 4, q, 2, "proc", ".."), 2);
	CHECK_EQ(walk(&t, 4, 5, q, 1, "tmp"), 1);
	t9__exit(&t);
}

/* FIFOs and device nodes in a share are the guest's own: the host never opens them. */
TEST(p9_special_files_are_not_opened)
{
	char path[256];
	struct share s;
	struct t9 t;
	bool dev;

	share__make(&s);
	snprintf(path, sizeof(path), "%s/fifo", s.dir);
	CHECK_EQ(mkfifo(path, 0666), 0);
	snprintf(path, sizeof(path), "%s/null", s.dir);
	dev = !mknod(path, S_IFCHR | 0666, makedev(1, 3));	/* root only */
	if (!t9__init(&t, &s, false))
		return;
	session(&t);
	/* A FIFO opened for reading would block the device forever. */
	CHECK_EQ(walk(&t, 1, 2, NULL, 0), 0);
	lcreate(&t, 2, "fifo", 0, 0644);
	CHECK_ERR(&t, EACCES);
	CHECK_EQ(walk(&t, 1, 3, NULL, 1, "fifo"), 1);
	lopen(&t, 3, 0);
	CHECK_ERR(&t, EACCES);
	if (dev) {
		lcreate(&t, 2, "null", P9_DOTL_RDWR, 0644);
		CHECK_ERR(&t, EACCES);
		CHECK_EQ(walk(&t, 1, 4, NULL, 1, "null"), 1);
		lopen(&t, 4, P9_DOTL_RDWR);
		CHECK_ERR(&t, EACCES);
	}
	/* The guest may make FIFOs and sockets, not device nodes. */
	m_begin(&t, P9_TMKNOD);
	m_32(&t.m, 1);
	m_str(&t.m, "sda");
	m_32(&t.m, S_IFBLK | 0600);
	m_32(&t.m, 8);
	m_32(&t.m, 0);
	m_32(&t.m, 0);
	rpc(&t);
	CHECK_ERR(&t, EPERM);
	CHECK(!share__exists(&s, "sda"));
	m_begin(&t, P9_TMKNOD);
	m_32(&t.m, 1);
	m_str(&t.m, "pipe");
	m_32(&t.m, S_IFIFO | 0600);
	m_32(&t.m, 0);
	m_32(&t.m, 0);
	m_32(&t.m, 0);
	rpc(&t);
	CHECK_OK(&t, P9_TMKNOD);
	CHECK(share__exists(&s, "pipe"));
	t9__exit(&t);
	share__remove(&s);
}
