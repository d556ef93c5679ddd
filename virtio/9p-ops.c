/*
 * virtio-9p: the 9P2000.L requests. Each handler reads its whole request
 * first, returns -EINVAL if it was cut short, and only then touches files.
 * It returns 0 with the reply body in @out, or a negative errno (Rlerror).
 * File names come from p9_msg__get_name (one component, never "." or "..")
 * and are only used relative to a fid's O_PATH fd, below the share's root.
 */
#include "virtio/9p.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define P9_DIRENT_BUF	(64 * 1024)
#define P9_MAX_DEPTH	4096		/* ".." checks walk at most this far up */

static int p9__fstat(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

static bool p9__same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static bool p9__is_root(struct p9_dev *p, const struct stat *st)
{
	return st->st_dev == p->root_dev && st->st_ino == p->root_ino;
}

/* A fid that exists: 0 or -EBADF. */
static int p9__fid(struct p9_dev *p, u32 fid, struct p9_fid **f)
{
	*f = p9_fid__find(p, fid);
	return *f ? 0 : -EBADF;
}

/* A fid that exists and is not in a hidden kernel filesystem (see 9p.h). */
static int p9__fid_usable(struct p9_dev *p, u32 fid, struct p9_fid **f)
{
	struct stat st;
	int err = p9__fid(p, fid, f);

	if (!err)
		err = p9__fstat((*f)->node->fd, &st);
	if (!err && p9__hidden(p, (*f)->node->fd, st.st_dev))
		err = -EACCES;
	return err;
}

static int p9__node_qid(struct p9_dev *p, int fd, struct p9_qid *q)
{
	struct stat st;
	int err = p9__fstat(fd, &st);

	if (!err)
		p9__qid(p, &st, q);
	return err;
}

/* ---- session ---- */

static int p9__version(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 msize = p9_msg__get32(in);
	u16 len;
	const u8 *v = p9_msg__get_str(in, &len);
	bool ok = v && len >= strlen(P9_VERSION) && !memcmp(v, P9_VERSION, strlen(P9_VERSION));

	if (in->bad)
		return -EINVAL;
	/* A new session: every fid of the old one is gone. */
	p9__clunk_all(p);
	msize = min_t(u32, msize, P9_MAX_MSIZE);
	if (msize < P9_MIN_MSIZE)
		ok = false;
	p->msize = ok ? msize : P9_MAX_MSIZE;
	p9_msg__put32(out, p->msize);
	if (ok)
		p9_msg__put_str(out, P9_VERSION, strlen(P9_VERSION));
	else
		p9_msg__put_str(out, "unknown", 7);
	return 0;
}

static int p9__attach(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in);
	u32 afid = p9_msg__get32(in);
	u16 len;
	struct p9_fid *f;
	struct p9_qid q;
	u32 uid;
	int err;

	p9_msg__get_str(in, &len);	/* uname */
	p9_msg__get_str(in, &len);	/* aname: there is one tree */
	uid = p9_msg__get32(in);
	if (in->bad)
		return -EINVAL;
	if (afid != P9_NOFID)
		return -EOPNOTSUPP;	/* no authentication */
	err = p9__node_qid(p, p->root->fd, &q);
	if (!err)
		err = p9_fid__new(p, fid, &f);
	if (err)
		return err;
	p9_fid__set(f, p9_node__get(p->root), NULL, NULL);
	f->uid = uid == P9_NONUNAME ? 0 : uid;
	p9_msg__put_qid(out, &q);
	return 0;
}

static int p9__flush(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	p9_msg__get16(in);	/* oldtag: requests are answered in order, it is done */
	return in->bad ? -EINVAL : 0;
}

static int p9__clunk(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in);

	return in->bad ? -EINVAL : p9_fid__clunk(p, fid);
}

/* ---- walking ---- */

/* Is directory @fd the share's root or below it? Walks up with "..". */
static int p9__beneath_root(struct p9_dev *p, int fd)
{
	struct stat st, up;
	int cur = dup(fd), err = -EACCES;

	for (int i = 0; cur >= 0 && i < P9_MAX_DEPTH; i++) {
		int nfd;

		if (p9__fstat(cur, &st))
			break;
		if (p9__is_root(p, &st)) {
			err = 0;
			break;
		}
		nfd = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (nfd < 0 || p9__fstat(nfd, &up) || p9__same(&st, &up)) {
			if (nfd >= 0)
				close(nfd);
			break;		/* the host's root, and the share was not on the way */
		}
		close(cur);
		cur = nfd;
	}
	if (cur >= 0)
		close(cur);
	return err;
}

/* ".." from @dir: the root's parent is the root; anything else must stay below it. */
static int p9__walk_up(struct p9_dev *p, struct p9_node *dir, struct p9_node **next)
{
	struct stat st;
	int fd, err = p9__fstat(dir->fd, &st);

	if (err)
		return err;
	if (p9__is_root(p, &st)) {
		*next = p9_node__get(p->root);
		return 0;
	}
	fd = openat(dir->fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = p9__beneath_root(p, fd);
	if (err) {
		close(fd);
		return err;
	}
	*next = p9_node__new(fd);
	return *next ? 0 : -ENOMEM;
}

static int p9__walk_one(struct p9_dev *p, struct p9_node *dir, const char *name,
			struct p9_node **next)
{
	struct stat st;
	int fd;

	if (!strcmp(name, ".."))
		return p9__walk_up(p, dir, next);
	fd = p9__fstat(dir->fd, &st);
	if (fd)
		return fd;
	if (p9__hidden(p, dir->fd, st.st_dev))
		return -ENOENT;
	fd = p9__openat(dir->fd, name, O_PATH, 0);
	if (fd < 0)
		return fd;
	*next = p9_node__new(fd);
	return *next ? 0 : -ENOMEM;
}

struct p9_walk {
	struct p9_node	*node, *parent;
	const char	*name;
};

static void p9_walk__step(struct p9_walk *w, struct p9_node *next, const char *name)
{
	p9_node__put(w->parent);
	if (strcmp(name, "..")) {
		w->parent = w->node;
		w->name = name;
	} else {
		p9_node__put(w->node);
		w->parent = NULL;	/* the way back down is not known */
		w->name = NULL;
	}
	w->node = next;
}

static int p9__walk(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in), newfid = p9_msg__get32(in);
	u16 n = p9_msg__get16(in), i;
	char names[P9_MAXWELEM][NAME_MAX + 1];
	int errs[P9_MAXWELEM], err = 0;
	struct p9_fid *f, *nf = NULL;
	struct p9_walk w;
	u32 count_pos;

	if (n > P9_MAXWELEM)
		return -EINVAL;
	for (i = 0; i < n; i++)
		errs[i] = p9_msg__get_name(in, names[i], true);
	if (in->bad)
		return -EINVAL;
	err = p9__fid(p, fid, &f);
	if (!err && newfid != fid && p9_fid__find(p, newfid))
		err = -EEXIST;
	if (err)
		return err;
	w.node = p9_node__get(f->node);
	w.parent = p9_node__get(f->parent);
	w.name = f->name;
	count_pos = out->pos;
	p9_msg__put16(out, 0);
	for (i = 0; i < n; i++) {
		struct p9_node *next = NULL;
		struct p9_qid q;

		err = errs[i];
		if (!err)
			err = p9__walk_one(p, w.node, names[i], &next);
		if (!err) {
			err = p9__node_qid(p, next->fd, &q);
			if (err)
				p9_node__put(next);
		}
		if (err)
			break;
		p9_walk__step(&w, next, names[i]);
		p9_msg__put_qid(out, &q);
	}
	/* The first name failed: an error. A later one: the qids so far, no newfid. */
	if (i == n && newfid != fid)
		err = p9_fid__new(p, newfid, &nf);
	if (i == n && !err) {
		if (nf) {
			nf->uid = f->uid;
			f = nf;
		}
		p9_fid__set(f, w.node, w.parent, w.name);
	} else {
		p9_node__put(w.node);
		p9_node__put(w.parent);
		if (i == 0 && n)
			return err;
		if (i == n)
			return err;
	}
	if (!out->bad)
		memcpy(out->buf + count_pos, &(u16){ htole16(i) }, 2);
	return 0;
}

/* ---- opening, reading, writing ---- */

/* Linux's P9_DOTL open flags to ours; what can create, follow or bypass is dropped. */
static int p9__open_flags(u32 pf, bool *write)
{
	int acc = pf & P9_DOTL_ACCMODE;
	int flags = acc == P9_DOTL_WRONLY ? O_WRONLY : acc == P9_DOTL_RDWR ? O_RDWR : O_RDONLY;

	if (pf & P9_DOTL_TRUNC)
		flags |= O_TRUNC;
	if (pf & P9_DOTL_APPEND)
		flags |= O_APPEND;
	if (pf & P9_DOTL_NONBLOCK)
		flags |= O_NONBLOCK;
	if (pf & P9_DOTL_DSYNC)
		flags |= O_DSYNC;
	if (pf & P9_DOTL_SYNC)
		flags |= O_SYNC;
	if (pf & P9_DOTL_DIRECTORY)
		flags |= O_DIRECTORY;
	*write = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
	return flags;
}

static int p9__lopen(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in), pflags = p9_msg__get32(in);
	struct p9_fid *f;
	struct stat st;
	struct p9_qid q;
	bool write;
	int flags = p9__open_flags(pflags, &write), fd, err;

	if (in->bad)
		return -EINVAL;
	err = p9__fid_usable(p, fid, &f);
	if (!err && (f->open_fd >= 0 || f->xattr))
		err = -EINVAL;
	if (!err)
		err = p9__fstat(f->node->fd, &st);
	if (err)
		return err;
	if (write && p->ro)
		return -EROFS;
	/* Symlinks are read with Treadlink; device nodes are the guest's own. */
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return -EACCES;
	fd = p9__reopen(p, f->node->fd, flags);
	if (fd < 0)
		return fd;
	f->open_fd = fd;
	f->open_write = write;
	f->open_dev = st.st_dev;
	p9__qid(p, &st, &q);
	p9_msg__put_qid(out, &q);
	p9_msg__put32(out, 0);		/* iounit: msize decides */
	return 0;
}

static int p9__read(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in);
	u64 off = p9_msg__get64(in);
	u32 count = p9_msg__get32(in);
	struct p9_fid *f;
	ssize_t n;
	int err;

	if (in->bad || off > INT64_MAX)
		return -EINVAL;
	err = p9__fid(p, fid, &f);
	if (err)
		return err;
	if (f->xattr) {
		p9_msg__put32(out, 0);
		return 0;
	}
	if (f->open_fd < 0)
		return -EBADF;
	if (p9_msg__room(out) < 4)
		return -ENOBUFS;
	count = min_t(u32, count, p9_msg__room(out) - 4);
	n = pread(f->open_fd, out->buf + out->pos + 4, count, off);
	if (n < 0)
		return -errno;
	p9_msg__put32(out, n);
	out->pos += n;
	return 0;
}

static int p9__write(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in);
	u64 off = p9_msg__get64(in);
	u32 count = p9_msg__get32(in);
	struct p9_fid *f;
	ssize_t n;
	int err;

	if (in->bad || off > INT64_MAX || count > in->size - in->pos)
		return -EINVAL;
	err = p9__fid(p, fid, &f);
	if (err)
		return err;
	if (f->open_fd < 0 || !f->open_write)
		return -EBADF;
	n = pwrite(f->open_fd, in->buf + in->pos, count, off);
	if (n < 0)
		return -errno;
	p9_msg__put32(out, n);
	return 0;
}

static int p9__fsync(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in);
	u32 datasync = 0;
	struct p9_fid *f;
	int err;

	/* Older clients send no datasync field. */
	if (p9_msg__room(in) >= 4)
		datasync = p9_msg__get32(in);
	if (in->bad)
		return -EINVAL;
	err = p9__fid(p, fid, &f);
	if (err)
		return err;
	if (f->open_fd < 0)
		return -EBADF;
	if (datasync ? fdatasync(f->open_fd) : fsync(f->open_fd))
		return -errno;
	return 0;
}

/* ---- directories ---- */

static u8 p9__dtype_qid(u8 d_type)
{
	return d_type == DT_DIR ? P9_QTDIR : d_type == DT_LNK ? P9_QTSYMLINK : P9_QTFILE;
}

/* Entries from @buf (n bytes of dirent64) while they fit @count bytes and the reply. */
static u32 p9__put_dirents(struct p9_dev *p, struct p9_fid *f, const u8 *buf, ssize_t n,
			   u32 count, struct p9_msg *out)
{
	u32 used = 0;

	for (ssize_t pos = 0; pos < n;) {
		const struct dirent64 *d = (const void *)(buf + pos);
		size_t len = strnlen(d->d_name, NAME_MAX);
		u32 need = P9_QID_SIZE + 8 + 1 + 2 + len;
		struct p9_qid q = {
			.type = p9__dtype_qid(d->d_type),
			.path = p9__qid_path(p, f->open_dev, d->d_ino),
		};

		if (used + need > count || need > p9_msg__room(out))
			break;
		p9_msg__put_qid(out, &q);
		p9_msg__put64(out, d->d_off);
		p9_msg__put8(out, d->d_type);
		p9_msg__put_str(out, d->d_name, len);
		used += need;
		pos += d->d_reclen;
	}
	return used;
}

static int p9__readdir(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in);
	u64 off = p9_msg__get64(in);
	u32 count = p9_msg__get32(in), count_pos, used;
	struct p9_fid *f;
	u8 *buf;
	ssize_t n;
	int err;

	if (in->bad)
		return -EINVAL;
	err = p9__fid(p, fid, &f);
	if (err)
		return err;
	if (f->open_fd < 0)
		return -EBADF;
	/* The offset is a cookie from an earlier entry's d_off (0: the start). */
	if (lseek(f->open_fd, (off_t)off, SEEK_SET) < 0)
		return -errno;
	buf = malloc(P9_DIRENT_BUF);
	if (!buf)
		return -ENOMEM;
	n = getdents64(f->open_fd, buf, min_t(u32, max_t(u32, count, 1024), P9_DIRENT_BUF));
	if (n < 0) {
		err = -errno;
		free(buf);
		return err;
	}
	count_pos = out->pos;
	p9_msg__put32(out, 0);
	used = p9__put_dirents(p, f, buf, n, count, out);
	free(buf);
	if (!out->bad)
		memcpy(out->buf + count_pos, &(u32){ htole32(used) }, 4);
	return 0;
}

/* ---- attributes ---- */

static int p9__getattr(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in);
	struct p9_fid *f;
	struct stat st;
	struct p9_qid q;
	int err;

	p9_msg__get64(in);	/* request_mask: we always have the basic set */
	if (in->bad)
		return -EINVAL;
	err = p9__fid(p, fid, &f);
	if (!err)
		err = p9__fstat(f->node->fd, &st);
	if (err)
		return err;
	p9__qid(p, &st, &q);
	p9_msg__put64(out, P9_GETATTR_BASIC);
	p9_msg__put_qid(out, &q);
	p9_msg__put32(out, st.st_mode);
	p9_msg__put32(out, st.st_uid);
	p9_msg__put32(out, st.st_gid);
	p9_msg__put64(out, st.st_nlink);
	p9_msg__put64(out, st.st_rdev);
	p9_msg__put64(out, st.st_size);
	p9_msg__put64(out, st.st_blksize);
	p9_msg__put64(out, st.st_blocks);
	p9_msg__put64(out, st.st_atim.tv_sec);
	p9_msg__put64(out, st.st_atim.tv_nsec);
	p9_msg__put64(out, st.st_mtim.tv_sec);
	p9_msg__put64(out, st.st_mtim.tv_nsec);
	p9_msg__put64(out, st.st_ctim.tv_sec);
	p9_msg__put64(out, st.st_ctim.tv_nsec);
	for (int i = 0; i < 4; i++)
		p9_msg__put64(out, 0);	/* btime, gen, data_version: not given */
	return 0;
}

static int p9__chmod(struct p9_dev *p, int fd, const struct stat *st, u32 mode)
{
	char num[16];

	if (S_ISLNK(st->st_mode))
		return -EOPNOTSUPP;
	snprintf(num, sizeof(num), "%d", fd);
	return fchmodat(p->proc_fd, num, mode & 07777, 0) ? -errno : 0;
}

static int p9__truncate(struct p9_dev *p, struct p9_fid *f, const struct stat *st, u64 size)
{
	int fd = f->open_fd, err = 0;

	if (size > INT64_MAX)
		return -EINVAL;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if (fd < 0 || !f->open_write)
		fd = p9__reopen(p, f->node->fd, O_WRONLY);
	if (fd < 0)
		return fd;
	if (ftruncate(fd, size))
		err = -errno;
	if (fd != f->open_fd)
		close(fd);
	return err;
}

static int p9__utimes(struct p9_dev *p, int fd, u32 valid, const struct timespec set[2])
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };

	if (valid & P9_SETATTR_ATIME)
		ts[0] = (valid & P9_SETATTR_ATIME_SET) ? set[0] : (struct timespec){ .tv_nsec = UTIME_NOW };
	if (valid & P9_SETATTR_MTIME)
		ts[1] = (valid & P9_SETATTR_MTIME_SET) ? set[1] : (struct timespec){ .tv_nsec = UTIME_NOW };
	if (!utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return 0;
	return -errno;
}

static int p9__setattr(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in), valid = p9_msg__get32(in);
	u32 mode = p9_msg__get32(in), uid = p9_msg__get32(in), gid = p9_msg__get32(in);
	u64 size = p9_msg__get64(in);
	struct timespec ts[2];
	struct p9_fid *f;
	struct stat st;
	int err;

	ts[0].tv_sec = p9_msg__get64(in);
	ts[0].tv_nsec = p9_msg__get64(in);
	ts[1].tv_sec = p9_msg__get64(in);
	ts[1].tv_nsec = p9_msg__get64(in);
	if (in->bad)
		return -EINVAL;
	err = p9__fid_usable(p, fid, &f);
	if (!err)
		err = p9__fstat(f->node->fd, &st);
	if (!err && (valid & P9_SETATTR_MODE))
		err = p9__chmod(p, f->node->fd, &st, mode);
	if (!err && (valid & (P9_SETATTR_UID | P9_SETATTR_GID)) &&
	    fchownat(f->node->fd, "", (valid & P9_SETATTR_UID) ? uid : (u32)-1,
		     (valid & P9_SETATTR_GID) ? gid : (u32)-1,
		     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		err = -errno;
	if (!err && (valid & P9_SETATTR_SIZE))
		err = p9__truncate(p, f, &st, size);
	if (!err && (valid & (P9_SETATTR_ATIME | P9_SETATTR_MTIME)))
		err = p9__utimes(p, f->node->fd, valid, ts);
	return err;		/* P9_SETATTR_CTIME alone: the host sets ctime itself */
}

static int p9__statfs(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in);
	struct p9_fid *f;
	struct statfs s;
	u64 fsid;
	int err;

	if (in->bad)
		return -EINVAL;
	err = p9__fid(p, fid, &f);
	if (err)
		return err;
	if (fstatfs(f->node->fd, &s))
		return -errno;
	memcpy(&fsid, &s.f_fsid, sizeof(fsid));
	p9_msg__put32(out, s.f_type);
	p9_msg__put32(out, s.f_bsize);
	p9_msg__put64(out, s.f_blocks);
	p9_msg__put64(out, s.f_bfree);
	p9_msg__put64(out, s.f_bavail);
	p9_msg__put64(out, s.f_files);
	p9_msg__put64(out, s.f_ffree);
	p9_msg__put64(out, fsid);
	p9_msg__put32(out, s.f_namelen);
	return 0;
}

static int p9__readlink(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in);
	char buf[PATH_MAX];
	struct p9_fid *f;
	ssize_t n;
	int err;

	if (in->bad)
		return -EINVAL;
	err = p9__fid_usable(p, fid, &f);
	if (err)
		return err;
	n = readlinkat(f->node->fd, "", buf, sizeof(buf));
	if (n < 0)
		return errno == ENOENT ? -EINVAL : -errno;	/* not a symlink */
	if (n >= (ssize_t)sizeof(buf))
		return -ENAMETOOLONG;
	p9_msg__put_str(out, buf, n);
	return 0;
}

/* ---- creating ---- */

/*
 * Give what the guest just created its owner and exact mode (our umask must
 * not apply): chown only as root, to the creating fid's user and @gid.
 */
static int p9__settle(struct p9_dev *p, int fd, u32 uid, u32 gid, u32 mode, bool chmod)
{
	struct stat st;
	int err = 0;

	if (p->chown && fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		err = -errno;
	if (!err && chmod) {
		err = p9__fstat(fd, &st);
		if (!err)
			err = p9__chmod(p, fd, &st, mode);
	}
	return err;
}

/*
 * An existing file for Tlcreate without EXCL: looked at through O_PATH
 * first, so that a device node or FIFO in the share is never opened.
 */
static int p9__open_existing(struct p9_dev *p, struct p9_node *dir, const char *name,
			     int flags)
{
	int pfd = p9__openat(dir->fd, name, O_PATH, 0), fd, err;
	struct stat st;

	if (pfd < 0)
		return pfd;
	err = p9__fstat(pfd, &st);
	if (!err && S_ISLNK(st.st_mode))
		err = -ELOOP;
	else if (!err && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		err = -EACCES;
	else if (!err && p9__hidden(p, pfd, st.st_dev))
		err = -EACCES;
	fd = err ? err : p9__reopen(p, pfd, flags);
	close(pfd);
	return fd;
}

/* Open @name below @dir, creating it if asked; *created says whether we did. */
static int p9__create_open(struct p9_dev *p, struct p9_node *dir, const char *name, int flags,
			   u32 pflags, u32 mode, bool *created)
{
	int fd = p9__openat(dir->fd, name, flags | O_CREAT | O_EXCL, mode & 07777);

	*created = fd >= 0;
	if (fd == -EEXIST && !(pflags & P9_DOTL_EXCL))
		fd = p9__open_existing(p, dir, name, flags);
	return fd;
}

static int p9__lcreate(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in);
	char name[NAME_MAX + 1];
	int nerr = p9_msg__get_name(in, name, false);
	u32 pflags = p9_msg__get32(in), mode = p9_msg__get32(in), gid = p9_msg__get32(in);
	struct p9_node *node;
	struct p9_fid *f;
	struct stat st;
	struct p9_qid q;
	bool write, created;
	int flags = p9__open_flags(pflags, &write) & ~O_DIRECTORY, fd, pfd, err;

	if (in->bad)
		return -EINVAL;
	err = nerr ? nerr : p9__fid_usable(p, fid, &f);
	if (!err && (f->open_fd >= 0 || f->xattr))
		err = -EINVAL;
	if (err)
		return err;
	fd = p9__create_open(p, f->node, name, flags, pflags, mode, &created);
	if (fd < 0)
		return fd;
	err = created ? p9__settle(p, fd, f->uid, gid, mode, true) : 0;
	if (!err)
		err = p9__fstat(fd, &st);
	pfd = err ? err : p9__reopen(p, fd, O_PATH);
	node = pfd >= 0 ? p9_node__new(pfd) : NULL;
	if (!node) {
		close(fd);
		return pfd < 0 ? pfd : -ENOMEM;
	}
	p9_fid__set(f, node, p9_node__get(f->node), name);
	f->open_fd = fd;
	f->open_write = (flags & O_ACCMODE) != O_RDONLY;
	f->open_dev = st.st_dev;
	p9__qid(p, &st, &q);
	p9_msg__put_qid(out, &q);
	p9_msg__put32(out, 0);
	return 0;
}

/* After mkdir/symlink/mknod of @name in @dir: settle it and answer with its qid. */
static int p9__created(struct p9_dev *p, struct p9_fid *dir, const char *name, u32 gid,
		       u32 mode, bool chmod, struct p9_msg *out)
{
	struct p9_qid q;
	int fd = p9__openat(dir->node->fd, name, O_PATH, 0), err;

	if (fd < 0)
		return fd;
	err = p9__settle(p, fd, dir->uid, gid, mode, chmod);
	if (!err)
		err = p9__node_qid(p, fd, &q);
	close(fd);
	if (!err)
		p9_msg__put_qid(out, &q);
	return err;
}

static int p9__mkdir(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 dfid = p9_msg__get32(in);
	char name[NAME_MAX + 1];
	int err = p9_msg__get_name(in, name, false);
	u32 mode = p9_msg__get32(in), gid = p9_msg__get32(in);
	struct p9_fid *d;

	if (in->bad)
		return -EINVAL;
	if (!err)
		err = p9__fid_usable(p, dfid, &d);
	if (err)
		return err;
	if (mkdirat(d->node->fd, name, mode & 07777))
		return -errno;
	return p9__created(p, d, name, gid, mode, true, out);
}

static int p9__symlink(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 dfid = p9_msg__get32(in);
	char name[NAME_MAX + 1], target[PATH_MAX];
	int err = p9_msg__get_name(in, name, false);
	u16 tlen;
	const u8 *t = p9_msg__get_str(in, &tlen);
	u32 gid = p9_msg__get32(in);
	struct p9_fid *d;

	if (in->bad)
		return -EINVAL;
	if (!err && (!tlen || memchr(t, 0, tlen)))
		err = -EINVAL;
	if (!err && tlen >= sizeof(target))
		err = -ENAMETOOLONG;
	if (!err)
		err = p9__fid_usable(p, dfid, &d);
	if (err)
		return err;
	/* Stored as given: only the guest ever resolves it. */
	memcpy(target, t, tlen);
	target[tlen] = 0;
	if (symlinkat(target, d->node->fd, name))
		return -errno;
	return p9__created(p, d, name, gid, 0, false, out);
}

static int p9__mknod(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 dfid = p9_msg__get32(in);
	char name[NAME_MAX + 1];
	int err = p9_msg__get_name(in, name, false);
	u32 mode = p9_msg__get32(in);
	u64 rdev = p9_msg__get64(in);	/* major, minor */
	u32 gid = p9_msg__get32(in);
	struct p9_fid *d;

	(void)rdev;
	if (in->bad)
		return -EINVAL;
	if (!err)
		err = p9__fid_usable(p, dfid, &d);
	if (err)
		return err;
	/* No device nodes on the host: the guest's devtmpfs has its own. */
	if (!S_ISFIFO(mode) && !S_ISSOCK(mode) && !S_ISREG(mode))
		return -EPERM;
	if (mknodat(d->node->fd, name, (mode & S_IFMT) | (mode & 07777), 0))
		return -errno;
	return p9__created(p, d, name, gid, mode, true, out);
}

/* ---- removing, renaming, linking ---- */

/* Does @f's parent still hold @f under its name? (A host rename makes it stale.) */
static int p9__check_name(struct p9_fid *f, struct stat *st)
{
	struct stat at;

	if (!f->parent || !f->name)
		return -EINVAL;		/* the root, or reached by ".." */
	if (p9__fstat(f->node->fd, st))
		return -errno;
	if (fstatat(f->parent->fd, f->name, &at, AT_SYMLINK_NOFOLLOW))
		return -errno;
	return p9__same(st, &at) ? 0 : -ESTALE;
}

static int p9__unlinkat(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 dfid = p9_msg__get32(in);
	char name[NAME_MAX + 1];
	int err = p9_msg__get_name(in, name, false);
	u32 flags = p9_msg__get32(in);
	struct p9_fid *d;

	if (in->bad)
		return -EINVAL;
	if (!err)
		err = p9__fid_usable(p, dfid, &d);
	if (err)
		return err;
	if (unlinkat(d->node->fd, name, (flags & P9_DOTL_AT_REMOVEDIR) ? AT_REMOVEDIR : 0))
		return -errno;
	return 0;
}

/* Tremove: unlink the fid's file; the fid is clunked whatever happens. */
static int p9__remove(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in);
	struct p9_fid *f;
	struct stat st;
	int err;

	if (in->bad)
		return -EINVAL;
	err = p9__fid(p, fid, &f);
	if (err)
		return err;
	err = p->ro ? -EROFS : p9__fid_usable(p, fid, &f);
	if (!err)
		err = p9__check_name(f, &st);
	if (!err && unlinkat(f->parent->fd, f->name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0))
		err = -errno;
	p9_fid__clunk(p, fid);
	return err;
}

static int p9__renameat(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 ofid = p9_msg__get32(in);
	char oname[NAME_MAX + 1], nname[NAME_MAX + 1];
	int oerr = p9_msg__get_name(in, oname, false);
	u32 nfid = p9_msg__get32(in);
	int nerr = p9_msg__get_name(in, nname, false);
	struct p9_fid *od, *nd;
	int err;

	if (in->bad)
		return -EINVAL;
	err = oerr ? oerr : nerr ? nerr : p9__fid_usable(p, ofid, &od);
	if (!err)
		err = p9__fid_usable(p, nfid, &nd);
	if (err)
		return err;
	if (renameat(od->node->fd, oname, nd->node->fd, nname))
		return -errno;
	return 0;
}

static int p9__rename(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in), dfid = p9_msg__get32(in);
	char name[NAME_MAX + 1];
	int err = p9_msg__get_name(in, name, false);
	struct p9_fid *f, *d;
	struct stat st;

	if (in->bad)
		return -EINVAL;
	if (!err)
		err = p9__fid_usable(p, fid, &f);
	if (!err)
		err = p9__fid_usable(p, dfid, &d);
	if (!err)
		err = p9__check_name(f, &st);
	if (err)
		return err;
	if (renameat(f->parent->fd, f->name, d->node->fd, name))
		return -errno;
	p9_fid__set(f, p9_node__get(f->node), p9_node__get(d->node), name);
	return 0;
}

static int p9__link(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 dfid = p9_msg__get32(in), fid = p9_msg__get32(in);
	char name[NAME_MAX + 1], num[16];
	int err = p9_msg__get_name(in, name, false);
	struct p9_fid *d, *f;
	struct stat st;

	if (in->bad)
		return -EINVAL;
	if (!err)
		err = p9__fid_usable(p, dfid, &d);
	if (!err)
		err = p9__fid_usable(p, fid, &f);
	if (!err)
		err = p9__fstat(f->node->fd, &st);
	if (err)
		return err;
	if (S_ISDIR(st.st_mode))
		return -EPERM;
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd does not. */
	if (!linkat(f->node->fd, "", d->node->fd, name, AT_EMPTY_PATH))
		return 0;
	if (errno != ENOENT && errno != EPERM)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -EPERM;
	snprintf(num, sizeof(num), "%d", f->node->fd);
	if (linkat(p->proc_fd, num, d->node->fd, name, AT_SYMLINK_FOLLOW))
		return -errno;
	return 0;
}

/* ---- locks and xattrs: accepted, and empty ---- */

static int p9__lock(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in);
	struct p9_fid *f;
	u16 len;

	p9_msg__get8(in);	/* type */
	p9_msg__get32(in);	/* flags */
	p9_msg__get64(in);	/* start */
	p9_msg__get64(in);	/* length */
	p9_msg__get32(in);	/* proc_id */
	p9_msg__get_str(in, &len);
	if (in->bad)
		return -EINVAL;
	if (p9__fid(p, fid, &f))
		return -EBADF;
	/* The guest's own locks are all it gets: it is the only user of the share. */
	p9_msg__put8(out, P9_LOCK_SUCCESS);
	return 0;
}

static int p9__getlock(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in);
	struct p9_fid *f;
	u64 start, length;
	u32 proc_id;
	const u8 *client;
	u16 len;

	p9_msg__get8(in);	/* type */
	start = p9_msg__get64(in);
	length = p9_msg__get64(in);
	proc_id = p9_msg__get32(in);
	client = p9_msg__get_str(in, &len);
	if (in->bad)
		return -EINVAL;
	if (p9__fid(p, fid, &f))
		return -EBADF;
	p9_msg__put8(out, P9_LOCK_TYPE_UNLCK);
	p9_msg__put64(out, start);
	p9_msg__put64(out, length);
	p9_msg__put32(out, proc_id);
	p9_msg__put_str(out, client, len);
	return 0;
}

/* Listing xattrs gives nothing; any one attribute does not exist. */
static int p9__xattrwalk(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	u32 fid = p9_msg__get32(in), newfid = p9_msg__get32(in);
	struct p9_fid *f, *nf;
	u16 len;
	int err;

	p9_msg__get_str(in, &len);
	if (in->bad)
		return -EINVAL;
	err = p9__fid(p, fid, &f);
	if (err)
		return err;
	if (len)
		return -ENODATA;
	err = p9_fid__new(p, newfid, &nf);
	if (err)
		return err;
	p9_fid__set(nf, p9_node__get(f->node), NULL, NULL);
	nf->xattr = true;
	p9_msg__put64(out, 0);
	return 0;
}

static int p9__xattrcreate(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out)
{
	return -EOPNOTSUPP;
}

static const struct p9_op p9__ops_table[256] = {
	[P9_TVERSION]		= { p9__version, false },
	[P9_TATTACH]		= { p9__attach, false },
	[P9_TFLUSH]		= { p9__flush, false },
	[P9_TCLUNK]		= { p9__clunk, false },
	[P9_TWALK]		= { p9__walk, false },
	[P9_TLOPEN]		= { p9__lopen, false },
	[P9_TREAD]		= { p9__read, false },
	[P9_TWRITE]		= { p9__write, true },
	[P9_TFSYNC]		= { p9__fsync, false },
	[P9_TREADDIR]		= { p9__readdir, false },
	[P9_TGETATTR]		= { p9__getattr, false },
	[P9_TSETATTR]		= { p9__setattr, true },
	[P9_TSTATFS]		= { p9__statfs, false },
	[P9_TREADLINK]		= { p9__readlink, false },
	[P9_TLCREATE]		= { p9__lcreate, true },
	[P9_TMKDIR]		= { p9__mkdir, true },
	[P9_TSYMLINK]		= { p9__symlink, true },
	[P9_TMKNOD]		= { p9__mknod, true },
	[P9_TUNLINKAT]		= { p9__unlinkat, true },
	[P9_TREMOVE]		= { p9__remove, false },	/* clunks even when read-only */
	[P9_TRENAMEAT]		= { p9__renameat, true },
	[P9_TRENAME]		= { p9__rename, true },
	[P9_TLINK]		= { p9__link, true },
	[P9_TLOCK]		= { p9__lock, false },
	[P9_TGETLOCK]		= { p9__getlock, false },
	[P9_TXATTRWALK]		= { p9__xattrwalk, false },
	[P9_TXATTRCREATE]	= { p9__xattrcreate, true },
};

const struct p9_op *p9__op(u8 type)
{
	return &p9__ops_table[type];
}
