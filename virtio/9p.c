/*
 * virtio-9p: options, the device, and the server's plumbing (messages, fids,
 * confined lookups). The requests themselves are in virtio/9p-ops.c; the
 * rules they follow are in include/virtio/9p.h.
 *
 * A request is copied out of the guest's buffers before it is parsed (the
 * guest cannot change it under us) and the reply is built in a host buffer
 * no larger than what the guest gave for it, the negotiated msize, and
 * P9_MAX_MSIZE. A request shorter than a header is dropped; any other
 * malformed one (size field past the buffer, a string running past the end,
 * an unknown type) gets Rlerror.
 */
#include "virtio/9p.h"
#include "virtio/transport.h"
#include "kvm/devices.h"
#include "kvm/kvm.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/virtio_9p.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define P9_QUEUE_SIZE	128
#define P9_NOFILE_WANT	(1 << 20)	/* RLIMIT_NOFILE we ask for */

/* ---- options (before the VM exists) ---- */

static bool p9__valid_tag(const char *tag, size_t len)
{
	if (!len || len > P9_TAG_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (tag[i] <= ' ' || tag[i] == ',' || tag[i] == 0x7f)
			return false;
	return true;
}

/* One ",field" after the directory: ro, rw, or the tag. */
static int p9__parse_field(struct p9_share_config *s, const char *f, size_t n,
			   const char *arg)
{
	if (n == 2 && !strncmp(f, "ro", 2)) {
		s->ro = true;
		return 0;
	}
	if (n == 2 && !strncmp(f, "rw", 2)) {
		s->ro = false;
		return 0;
	}
	if (s->tag) {
		fprintf(stderr, "lkvm: error: unknown 9p option '%.*s' in '%s' (expected DIR[,TAG][,ro])\n",
			(int)n, f, arg);
		return -1;
	}
	if (!p9__valid_tag(f, n)) {
		fprintf(stderr, "lkvm: error: bad 9p mount tag '%.*s' in '%s' (1 to %d characters, no spaces or commas)\n",
			(int)n, f, arg, P9_TAG_MAX);
		return -1;
	}
	s->tag = strndup(f, n);
	return s->tag ? 0 : -1;
}

int p9__parse_share(struct p9_share_config *s, const char *arg)
{
	const char *comma = strchr(arg, ',');
	size_t plen = comma ? (size_t)(comma - arg) : strlen(arg);

	memset(s, 0, sizeof(*s));
	if (!plen) {
		fprintf(stderr, "lkvm: error: --9p needs a directory (DIR[,TAG][,ro])\n");
		return -1;
	}
	while (comma) {
		const char *f = comma + 1;
		size_t n;

		comma = strchr(f, ',');
		n = comma ? (size_t)(comma - f) : strlen(f);
		if (p9__parse_field(s, f, n, arg))
			return -1;
	}
	if (!s->tag)
		s->tag = P9_DEFAULT_TAG;
	s->path = strndup(arg, plen);
	return s->path ? 0 : -1;
}

int p9__add_share(struct kvm_config *cfg, const char *arg)
{
	struct p9_share_config *s = &cfg->shares[cfg->nr_shares];

	if (cfg->nr_shares >= MAX_9P_SHARES) {
		fprintf(stderr, "lkvm: error: too many 9p shares (at most %d)\n", MAX_9P_SHARES);
		return -1;
	}
	if (p9__parse_share(s, arg))
		return -1;
	for (int i = 0; i < cfg->nr_shares; i++) {
		if (!strcmp(cfg->shares[i].tag, s->tag)) {
			fprintf(stderr, "lkvm: error: 9p mount tag '%s' is used twice\n", s->tag);
			return -1;
		}
	}
	cfg->nr_shares++;
	return 0;
}

int p9__check_shares(const struct kvm_config *cfg)
{
	for (int i = 0; i < cfg->nr_shares; i++) {
		const struct p9_share_config *s = &cfg->shares[i];
		struct stat st;

		if (stat(s->path, &st) < 0) {
			pr_err("9p share %s: %s", s->path, strerror(errno));
			return -errno;
		}
		if (!S_ISDIR(st.st_mode)) {
			pr_err("9p share %s is not a directory", s->path);
			return -ENOTDIR;
		}
	}
	return 0;
}

/* ---- messages ---- */

static const u8 *p9_msg__take(struct p9_msg *m, u32 n)
{
	const u8 *p;

	if (m->bad || n > m->size - m->pos) {
		m->bad = true;
		return NULL;
	}
	p = m->buf + m->pos;
	m->pos += n;
	return p;
}

static u8 *p9_msg__room_for(struct p9_msg *m, u32 n)
{
	return (u8 *)p9_msg__take(m, n);
}

/* The next @n bytes as a little-endian number; 0 (and m->bad) past the end. */
static u64 p9_msg__get_le(struct p9_msg *m, unsigned int n)
{
	const u8 *p = p9_msg__take(m, n);
	u64 v = 0;

	while (p && n--)
		v = v << 8 | p[n];
	return v;
}

u8 p9_msg__get8(struct p9_msg *m)
{
	return p9_msg__get_le(m, 1);
}

u16 p9_msg__get16(struct p9_msg *m)
{
	return p9_msg__get_le(m, 2);
}

u32 p9_msg__get32(struct p9_msg *m)
{
	return p9_msg__get_le(m, 4);
}

u64 p9_msg__get64(struct p9_msg *m)
{
	return p9_msg__get_le(m, 8);
}

const u8 *p9_msg__get_str(struct p9_msg *m, u16 *len)
{
	*len = p9_msg__get16(m);
	return p9_msg__take(m, *len);
}

int p9_msg__get_name(struct p9_msg *m, char name[NAME_MAX + 1], bool dotdot)
{
	u16 len;
	const u8 *s = p9_msg__get_str(m, &len);

	name[0] = 0;
	if (!s)
		return -EINVAL;
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	if (!len || memchr(s, '/', len) || memchr(s, 0, len))
		return -EINVAL;
	memcpy(name, s, len);
	name[len] = 0;
	if (!strcmp(name, ".") || (!dotdot && !strcmp(name, "..")))
		return -EINVAL;
	return 0;
}

/* @v as @n little-endian bytes; nothing (and m->bad) if they do not fit. */
static void p9_msg__put_le(struct p9_msg *m, u64 v, unsigned int n)
{
	u8 *p = p9_msg__room_for(m, n);

	for (unsigned int i = 0; p && i < n; i++, v >>= 8)
		p[i] = v;
}

void p9_msg__put8(struct p9_msg *m, u8 v)
{
	p9_msg__put_le(m, v, 1);
}

void p9_msg__put16(struct p9_msg *m, u16 v)
{
	p9_msg__put_le(m, v, 2);
}

void p9_msg__put32(struct p9_msg *m, u32 v)
{
	p9_msg__put_le(m, v, 4);
}

void p9_msg__put64(struct p9_msg *m, u64 v)
{
	p9_msg__put_le(m, v, 8);
}

void p9_msg__put_str(struct p9_msg *m, const void *s, u16 len)
{
	u8 *p;

	p9_msg__put16(m, len);
	p = p9_msg__room_for(m, len);
	if (p)
		memcpy(p, s, len);
}

void p9_msg__put_qid(struct p9_msg *m, const struct p9_qid *q)
{
	p9_msg__put8(m, q->type);
	p9_msg__put32(m, q->version);
	p9_msg__put64(m, q->path);
}

/* ---- nodes and fids ---- */

struct p9_node *p9_node__new(int fd)
{
	struct p9_node *n = malloc(sizeof(*n));

	if (!n) {
		close(fd);
		return NULL;
	}
	n->fd = fd;
	n->refs = 1;
	return n;
}

struct p9_node *p9_node__get(struct p9_node *n)
{
	if (n)
		n->refs++;
	return n;
}

void p9_node__put(struct p9_node *n)
{
	if (!n || --n->refs)
		return;
	close(n->fd);
	free(n);
}

struct p9_fid *p9_fid__find(struct p9_dev *p, u32 fid)
{
	struct p9_fid *f = p->fids[fid % P9_FID_BUCKETS];

	while (f && f->fid != fid)
		f = f->next;
	return f;
}

int p9_fid__new(struct p9_dev *p, u32 fid, struct p9_fid **out)
{
	struct p9_fid **head = &p->fids[fid % P9_FID_BUCKETS];
	struct p9_fid *f;

	if (fid == P9_NOFID)
		return -EBADF;
	if (p9_fid__find(p, fid))
		return -EEXIST;
	if (p->nr_fids >= P9_MAX_FIDS)
		return -EMFILE;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fid = fid;
	f->open_fd = -1;
	f->next = *head;
	*head = f;
	p->nr_fids++;
	*out = f;
	return 0;
}

void p9_fid__set(struct p9_fid *f, struct p9_node *node, struct p9_node *parent,
		 const char *name)
{
	char *copy = name ? strdup(name) : NULL;

	p9_node__put(f->node);
	p9_node__put(f->parent);
	free(f->name);
	f->node = node;
	f->parent = copy ? parent : NULL;
	f->name = copy;
	if (!copy)
		p9_node__put(parent);
}

void p9_fid__close(struct p9_fid *f)
{
	if (f->open_fd >= 0)
		close(f->open_fd);
	f->open_fd = -1;
	f->open_write = false;
}

int p9_fid__clunk(struct p9_dev *p, u32 fid)
{
	struct p9_fid **pp = &p->fids[fid % P9_FID_BUCKETS];
	struct p9_fid *f;

	while (*pp && (*pp)->fid != fid)
		pp = &(*pp)->next;
	f = *pp;
	if (!f)
		return -EBADF;
	*pp = f->next;
	p9_fid__close(f);
	p9_fid__set(f, NULL, NULL, NULL);
	free(f);
	p->nr_fids--;
	return 0;
}

void p9__clunk_all(struct p9_dev *p)
{
	for (int i = 0; i < P9_FID_BUCKETS; i++)
		while (p->fids[i])
			p9_fid__clunk(p, p->fids[i]->fid);
}

/* ---- files ---- */

/* Filesystems that are the host kernel's insides rather than files. */
static bool p9__kernel_fs(long type)
{
	static const long types[] = {
		PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC, TRACEFS_MAGIC,
		SECURITYFS_MAGIC, SELINUX_MAGIC, SMACK_MAGIC, CGROUP_SUPER_MAGIC,
		CGROUP2_SUPER_MAGIC, BPF_FS_MAGIC, EFIVARFS_MAGIC, PSTOREFS_MAGIC,
		BINFMTFS_MAGIC,
		0x62656570,	/* configfs (not in the UAPI headers) */
		0x65735543,	/* fusectl */
	};

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if ((u32)type == (u32)types[i])
			return true;
	return false;
}

/* @dev's number in p->devs, P9_MAX_DEVS once the table is full. */
static u32 p9__dev_index(struct p9_dev *p, dev_t dev)
{
	u32 i;

	for (i = 0; i < p->nr_devs && p->devs[i].dev != dev; i++)
		;
	if (i == p->nr_devs && i < P9_MAX_DEVS)
		p->devs[p->nr_devs++].dev = dev;
	return i;
}

bool p9__hidden(struct p9_dev *p, int fd, dev_t dev)
{
	u32 i = p9__dev_index(p, dev);
	struct statfs sfs;
	bool hidden;

	if (i < P9_MAX_DEVS && p->devs[i].known)
		return p->devs[i].hidden;
	if (fstatfs(fd, &sfs))
		return true;
	hidden = p9__kernel_fs(sfs.f_type) && !p9__kernel_fs(p->root_fs_type);
	if (i < P9_MAX_DEVS) {
		p->devs[i].known = true;
		p->devs[i].hidden = hidden;
	}
	return hidden;
}

u64 p9__qid_path(struct p9_dev *p, dev_t dev, ino_t ino)
{
	/* The share's own filesystem is 0: its qid paths are its inode numbers. */
	return (u64)ino ^ ((u64)p9__dev_index(p, dev) << 48);
}

void p9__qid(struct p9_dev *p, const struct stat *st, struct p9_qid *q)
{
	q->type = S_ISDIR(st->st_mode) ? P9_QTDIR :
		  S_ISLNK(st->st_mode) ? P9_QTSYMLINK : P9_QTFILE;
	q->version = 0;
	q->path = p9__qid_path(p, st->st_dev, st->st_ino);
}

int p9__openat(int dirfd, const char *name, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = flags | O_NOFOLLOW | O_CLOEXEC,
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	/* EAGAIN: a rename raced with the lookup; try again a few times. */
	for (int i = 0; i < 8; i++) {
		fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd < 0 ? -errno : fd;
}

int p9__reopen(struct p9_dev *p, int fd, int flags)
{
	char num[16];
	int nfd;

	snprintf(num, sizeof(num), "%d", fd);
	nfd = openat(p->proc_fd, num, flags | O_CLOEXEC | O_NOCTTY);
	return nfd < 0 ? -errno : nfd;
}

/* ---- serving a request ---- */

static void p9__header(struct p9_msg *out, u8 type, u16 tag)
{
	u32 len = out->pos;

	out->pos = 0;
	p9_msg__put32(out, len);
	p9_msg__put8(out, type);
	p9_msg__put16(out, tag);
	out->pos = len;
}

static int p9__dispatch(struct p9_dev *p, u8 type, struct p9_msg *in, struct p9_msg *out)
{
	const struct p9_op *op = p9__op(type);

	if (!op || !op->fn)
		return -EOPNOTSUPP;
	if (op->mutates && p->ro)
		return -EROFS;
	return op->fn(p, in, out);
}

u32 p9__serve(struct p9_dev *p, u8 *buf, u32 len, u8 *obuf, u32 cap)
{
	struct p9_msg in = { .buf = buf, .size = len };
	struct p9_msg out = { .buf = obuf, .size = min_t(u32, cap, p->msize) };
	u32 size;
	u16 tag;
	u8 type;
	int err;

	/* Without a whole header there is no tag to answer to. */
	if (len < P9_HDR_SIZE || out.size < P9_HDR_SIZE + 4)
		return 0;
	size = p9_msg__get32(&in);
	type = p9_msg__get8(&in);
	tag = p9_msg__get16(&in);
	out.pos = P9_HDR_SIZE;
	if (size < P9_HDR_SIZE || size > len || size > p->msize) {
		err = -EINVAL;
	} else {
		in.size = size;
		err = p9__dispatch(p, type, &in, &out);
		if (!err && out.bad)
			err = -ENOBUFS;		/* the reply does not fit the guest's buffer */
	}
	if (err) {
		out.bad = false;
		out.pos = P9_HDR_SIZE;
		p9_msg__put32(&out, -err);
		type = P9_TLERROR;
	}
	p9__header(&out, type + 1, tag);
	return out.pos;
}

static u32 p9__handle(struct p9_dev *p, const struct virtio_req *req)
{
	u32 len = min_t(u32, req->out_len, P9_MAX_MSIZE);
	u32 cap = min_t(u32, req->in_len, P9_MAX_MSIZE);
	u32 n;

	len = virtio_req__read(req, 0, p->in_buf, len);
	n = p9__serve(p, p->in_buf, len, p->out_buf, cap);
	return virtio_req__write(req, 0, p->out_buf, n);
}

/* ---- the device ---- */

static void p9__notify(struct virtio_dev *vdev, struct virtio_queue *vq)
{
	struct p9_dev *p = vdev->priv;
	bool pushed = false;

	while (virtq__pop(vq, &p->req) > 0) {
		u32 n = p9__handle(p, &p->req);

		__atomic_fetch_add(&vdev->stats.bytes, n, __ATOMIC_RELAXED);
		virtq__push(vq, &p->req, n);
		pushed = true;
	}
	if (pushed)
		virtq__notify(vq);
}

static void p9__config_read(struct virtio_dev *vdev, u32 off, void *data, u32 len)
{
	struct p9_dev *p = vdev->priv;

	memcpy(data, p->config + off, len);
}

/* The driver reset the device: a new session, no fids. */
static void p9__reset(struct virtio_dev *vdev)
{
	struct p9_dev *p = vdev->priv;

	p9__clunk_all(p);
	p->msize = P9_MAX_MSIZE;
}

static const struct virtio_dev_ops p9__ops = {
	.name		= "9p",
	.device_id	= VIRTIO_ID_9P,
	.nr_queues	= 1,
	.queue_size	= P9_QUEUE_SIZE,
	.config_size	= 2 + P9_TAG_MAX,
	.features	= 1ull << VIRTIO_9P_MOUNT_TAG,
	.config_read	= p9__config_read,
	.reset		= p9__reset,
	.notify		= p9__notify,
};

/* The share's root, /proc/self/fd, and a kernel with openat2. */
static int p9__open_share(struct p9_dev *p, const struct p9_share_config *s)
{
	struct statfs sfs;
	struct stat st;
	int fd, probe;

	fd = open(s->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		pr_err("9p share %s: %s", s->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	p->root = p9_node__new(fd);
	if (!p->root)
		return -ENOMEM;
	p->root_dev = st.st_dev;
	p->root_ino = st.st_ino;
	p->root_fs_type = fstatfs(fd, &sfs) ? 0 : sfs.f_type;
	p9__hidden(p, fd, st.st_dev);
	p->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->proc_fd < 0) {
		pr_err("9p share %s: /proc is not mounted (needed to open shared files)", s->path);
		return -ENOENT;
	}
	probe = p9__openat(fd, ".", O_PATH, 0);
	if (probe == -ENOSYS) {
		pr_err("9p share %s: the host kernel lacks openat2 (Linux 5.6 or later)", s->path);
		return -ENOSYS;
	}
	if (probe >= 0)
		close(probe);
	return 0;
}

static void p9__free(struct p9_dev *p)
{
	p9__clunk_all(p);
	p9_node__put(p->root);
	if (p->proc_fd >= 0)
		close(p->proc_fd);
	free(p->in_buf);
	free(p->out_buf);
	free(p);
}

struct p9_dev *p9__create(struct kvm *kvm, const struct p9_share_config *s)
{
	struct p9_dev *p = calloc(1, sizeof(*p));
	size_t tlen = strlen(s->tag);
	u16 le_len = htole16(tlen);

	if (!p)
		return NULL;
	p->proc_fd = -1;
	p->in_buf = malloc(P9_MAX_MSIZE);
	p->out_buf = malloc(P9_MAX_MSIZE);
	if (!p->in_buf || !p->out_buf || !p9__valid_tag(s->tag, tlen) ||
	    p9__open_share(p, s)) {
		p9__free(p);
		return NULL;
	}
	p->kvm = kvm;
	p->path = s->path;
	p->ro = s->ro;
	p->chown = geteuid() == 0;
	p->msize = P9_MAX_MSIZE;
	memcpy(p->tag, s->tag, tlen);
	memcpy(p->config, &le_len, 2);
	memcpy(p->config + 2, s->tag, tlen);
	/* Last: from here on kvm->vdevs points at us. */
	if (virtio_dev__init(&p->vdev, kvm, &p9__ops, p))
		return NULL;
	return p;
}

void p9__destroy(struct p9_dev *p)
{
	virtio_dev__stop_io(&p->vdev);
	p9__clunk_all(p);
	p9_node__put(p->root);
	p->root = NULL;
	close(p->proc_fd);
	p->proc_fd = -1;
	free(p->in_buf);
	free(p->out_buf);
	p->in_buf = p->out_buf = NULL;
}

struct virtio_dev *p9__vdev(struct p9_dev *p)
{
	return &p->vdev;
}

/*
 * Every fid holds an fd: allow as many as we may. Root can go past the hard
 * limit (up to fs.nr_open); anyone can raise the soft one to the hard one.
 */
static void p9__raise_nofile(void)
{
	struct rlimit want = { P9_NOFILE_WANT, P9_NOFILE_WANT }, r;

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur >= P9_NOFILE_WANT)
		return;
	if (r.rlim_max < P9_NOFILE_WANT && !setrlimit(RLIMIT_NOFILE, &want))
		return;
	r.rlim_cur = min_t(rlim_t, r.rlim_max, P9_NOFILE_WANT);
	setrlimit(RLIMIT_NOFILE, &r);
}

static int p9__init(struct kvm *kvm)
{
	if (kvm->cfg->nr_shares)
		p9__raise_nofile();
	for (int i = 0; i < kvm->cfg->nr_shares; i++) {
		const struct p9_share_config *s = &kvm->cfg->shares[i];
		struct p9_dev *p = p9__create(kvm, s);

		if (!p)
			return -EINVAL;
		if (virtio_dev__register(&p->vdev))
			return -EINVAL;
		pr_debug("virtio-9p %s as '%s'%s", s->path, s->tag, s->ro ? ", read-only" : "");
	}
	return 0;
}

static void p9__exit(struct kvm *kvm)
{
	for (int i = 0; i < kvm->nr_vdevs; i++) {
		struct virtio_dev *vdev = kvm->vdevs[i];

		if (vdev->ops != &p9__ops)
			continue;
		p9__destroy(vdev->priv);
		virtio_dev__unregister(vdev);
	}
}
device_init_order(p9__init, p9__exit, DEV_ORDER_VIRTIO);
