#ifndef VIRTIO__9P_H
#define VIRTIO__9P_H

/*
 * virtio-9p: a 9P2000.L server sharing a host directory with the guest, one
 * device per --9p DIR[,TAG][,ro] (kvmtool spells it --9p dir,tag).
 *
 * The guest mounts it with
 *	mount -t 9p -o trans=virtio,version=9p2000.L TAG /mnt
 * or boots from it with
 *	root=TAG rootfstype=9p rootflags=trans=virtio,version=9p2000.L
 *
 * Requests are served one at a time on the device's I/O thread with
 * blocking syscalls (a first version: one slow host file stalls the share).
 *
 * Confinement: every fid holds an O_PATH fd; each walk component is opened
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
 * relative to the fid's fd, so no host path string is ever built and a
 * symlink is only ever read (Treadlink), never followed. Names must be one
 * component ('/' and NUL are refused, "." and ".." too except ".." in
 * Twalk, which stops at the share's root). Files are opened for I/O by
 * reopening the fid's fd through /proc/self/fd, and only regular files and
 * directories: device nodes in the share are never opened on the host.
 * Kernel filesystems met inside the share (proc, sysfs, debugfs, cgroup,
 * ...: the host's /proc/kcore, other processes' environments) show only
 * their root directory, as a mount point the guest can mount over: nothing
 * below it can be walked to, and it cannot be opened. A read-only share
 * answers every mutating request with EROFS.
 */
#include <limits.h>
#include <sys/stat.h>

#include "kvm/util.h"
#include "virtio/virtio.h"

struct kvm;
struct kvm_config;
struct p9_share_config;

#define P9_TAG_MAX		32		/* as kvmtool's MAX_TAG_LEN */
#define P9_DEFAULT_TAG		"kvm_9p"	/* kvmtool's default */

/* Parse "DIR[,TAG][,ro|rw]" into @s: 0, or -1 with a one-line message. */
int p9__parse_share(struct p9_share_config *s, const char *arg);
/* Parse and append to @cfg->shares (the --9p option); tags must differ. */
int p9__add_share(struct kvm_config *cfg, const char *arg);
/* Are the shared directories there? 0, or -errno with a one-line message. */
int p9__check_shares(const struct kvm_config *cfg);

/* One share's device, not attached to a transport (tests); NULL on error. */
struct p9_dev *p9__create(struct kvm *kvm, const struct p9_share_config *s);
void p9__destroy(struct p9_dev *p);
struct virtio_dev *p9__vdev(struct p9_dev *p);

/* ---- the server's insides, shared by virtio/9p.c and virtio/9p-ops.c ---- */

/* 9P2000.L message types (T requests; the R reply is type + 1). */
enum p9_type {
	P9_TLERROR = 6, P9_RLERROR,
	P9_TSTATFS = 8, P9_RSTATFS,
	P9_TLOPEN = 12, P9_RLOPEN,
	P9_TLCREATE = 14, P9_RLCREATE,
	P9_TSYMLINK = 16, P9_RSYMLINK,
	P9_TMKNOD = 18, P9_RMKNOD,
	P9_TRENAME = 20, P9_RRENAME,
	P9_TREADLINK = 22, P9_RREADLINK,
	P9_TGETATTR = 24, P9_RGETATTR,
	P9_TSETATTR = 26, P9_RSETATTR,
	P9_TXATTRWALK = 30, P9_RXATTRWALK,
	P9_TXATTRCREATE = 32, P9_RXATTRCREATE,
	P9_TREADDIR = 40, P9_RREADDIR,
	P9_TFSYNC = 50, P9_RFSYNC,
	P9_TLOCK = 52, P9_RLOCK,
	P9_TGETLOCK = 54, P9_RGETLOCK,
	P9_TLINK = 70, P9_RLINK,
	P9_TMKDIR = 72, P9_RMKDIR,
	P9_TRENAMEAT = 74, P9_RRENAMEAT,
	P9_TUNLINKAT = 76, P9_RUNLINKAT,
	P9_TVERSION = 100, P9_RVERSION,
	P9_TAUTH = 102, P9_RAUTH,
	P9_TATTACH = 104, P9_RATTACH,
	P9_TFLUSH = 108, P9_RFLUSH,
	P9_TWALK = 110, P9_RWALK,
	P9_TREAD = 116, P9_RREAD,
	P9_TWRITE = 118, P9_RWRITE,
	P9_TCLUNK = 120, P9_RCLUNK,
	P9_TREMOVE = 122, P9_RREMOVE,
};

#define P9_HDR_SIZE		7		/* size[4] type[1] tag[2] */
#define P9_QID_SIZE		13
#define P9_NOFID		0xffffffffu
#define P9_NONUNAME		0xffffffffu
#define P9_MAXWELEM		16		/* names in one Twalk */
#define P9_MIN_MSIZE		4096
#define P9_MAX_MSIZE		(512 * 1024)	/* Linux's virtio transport takes at most ~500 KiB */
#define P9_IOHDR_SIZE		24		/* Twrite header: what msize leaves for data */
#define P9_MAX_FIDS		65536		/* per device; each holds an fd */
#define P9_FID_BUCKETS		1024
#define P9_MAX_DEVS		64		/* host filesystems told apart in qid paths */
#define P9_VERSION		"9P2000.L"

/* qid types */
#define P9_QTDIR		0x80
#define P9_QTSYMLINK		0x02
#define P9_QTFILE		0x00

/* Tlopen/Tlcreate flags (P9_DOTL_*), as Linux's v9fs sends them. */
#define P9_DOTL_ACCMODE		00000003
#define P9_DOTL_WRONLY		00000001
#define P9_DOTL_RDWR		00000002
#define P9_DOTL_CREATE		00000100
#define P9_DOTL_EXCL		00000200
#define P9_DOTL_TRUNC		00001000
#define P9_DOTL_APPEND		00002000
#define P9_DOTL_NONBLOCK	00004000
#define P9_DOTL_DSYNC		00010000
#define P9_DOTL_DIRECTORY	00200000
#define P9_DOTL_SYNC		04000000
#define P9_DOTL_AT_REMOVEDIR	0x200

/* Tgetattr valid bits */
#define P9_GETATTR_BASIC	0x000007ffull	/* mode..blocks */

/* Tsetattr valid bits */
#define P9_SETATTR_MODE		(1u << 0)
#define P9_SETATTR_UID		(1u << 1)
#define P9_SETATTR_GID		(1u << 2)
#define P9_SETATTR_SIZE		(1u << 3)
#define P9_SETATTR_ATIME	(1u << 4)
#define P9_SETATTR_MTIME	(1u << 5)
#define P9_SETATTR_CTIME	(1u << 6)
#define P9_SETATTR_ATIME_SET	(1u << 7)
#define P9_SETATTR_MTIME_SET	(1u << 8)

/* Tlock/Tgetlock */
#define P9_LOCK_SUCCESS		0
#define P9_LOCK_TYPE_UNLCK	2

struct p9_qid {
	u8	type;
	u32	version;
	u64	path;
};

/* An O_PATH fd for a file in the share, shared by the fids that reach it. */
struct p9_node {
	int	fd;
	u32	refs;
};

struct p9_fid {
	u32		fid;
	struct p9_fid	*next;		/* hash chain */
	struct p9_node	*node;
	/*
	 * Where the fid was reached from (Trename, Tremove, Tlink need a
	 * directory and a name); NULL for the root and after "..". Checked
	 * against node before use: a host-side rename makes it stale.
	 */
	struct p9_node	*parent;
	char		*name;
	int		open_fd;	/* after Tlopen/Tlcreate, else -1 */
	bool		open_write;
	dev_t		open_dev;	/* the directory's, for Treaddir qids */
	u32		uid;		/* from Tattach's n_uname: owns what the fid creates */
	bool		xattr;		/* from Txattrwalk: reads nothing */
};

/* A message being read (a request) or written (a reply); never past size. */
struct p9_msg {
	u8	*buf;
	u32	size;
	u32	pos;
	bool	bad;		/* tried to read or write past size */
};

struct p9_dev {
	struct virtio_dev	vdev;
	struct kvm		*kvm;
	const char		*path;
	char			tag[P9_TAG_MAX + 1];
	bool			ro;
	bool			chown;		/* running as root: give new files the guest's owner */
	struct p9_node		*root;
	dev_t			root_dev;
	ino_t			root_ino;
	long			root_fs_type;	/* statfs f_type */
	int			proc_fd;	/* /proc/self/fd, to reopen O_PATH fds */
	u32			msize;
	struct p9_fid		*fids[P9_FID_BUCKETS];
	u32			nr_fids;
	/* Host filesystems seen, numbered for qid paths; the share's is 0. */
	struct {
		dev_t		dev;
		bool		known;		/* hidden is set */
		bool		hidden;		/* a kernel filesystem: see above */
	}			devs[P9_MAX_DEVS];
	u32			nr_devs;
	u8			config[2 + P9_TAG_MAX];
	u8			*in_buf;	/* the request, copied out of the guest */
	u8			*out_buf;	/* the reply, copied into it */
	struct virtio_req	req;		/* only the I/O thread uses it */
};

/* Serve one request of @len bytes; the reply goes to @out (room @cap): its length, 0 = drop. */
u32 p9__serve(struct p9_dev *p, u8 *in, u32 len, u8 *out, u32 cap);

u8 p9_msg__get8(struct p9_msg *m);
u16 p9_msg__get16(struct p9_msg *m);
u32 p9_msg__get32(struct p9_msg *m);
u64 p9_msg__get64(struct p9_msg *m);
/* A string in place (not NUL-terminated); NULL and m->bad if it runs past the end. */
const u8 *p9_msg__get_str(struct p9_msg *m, u16 *len);
/* One file name into @name: 0, -EINVAL (empty, '/', NUL, "." or ".."), -ENAMETOOLONG. */
int p9_msg__get_name(struct p9_msg *m, char name[NAME_MAX + 1], bool dotdot);
void p9_msg__put8(struct p9_msg *m, u8 v);
void p9_msg__put16(struct p9_msg *m, u16 v);
void p9_msg__put32(struct p9_msg *m, u32 v);
void p9_msg__put64(struct p9_msg *m, u64 v);
void p9_msg__put_str(struct p9_msg *m, const void *s, u16 len);
void p9_msg__put_qid(struct p9_msg *m, const struct p9_qid *q);
/* Room left in a reply. */
static inline u32 p9_msg__room(const struct p9_msg *m)
{
	return m->size - m->pos;
}

struct p9_node *p9_node__new(int fd);
struct p9_node *p9_node__get(struct p9_node *n);
void p9_node__put(struct p9_node *n);

struct p9_fid *p9_fid__find(struct p9_dev *p, u32 fid);
/* A new fid: -EBADF (NOFID), -EEXIST (in use) or -EMFILE (too many). */
int p9_fid__new(struct p9_dev *p, u32 fid, struct p9_fid **out);
/* Point @f at @node (reached from @parent by @name); takes the references. */
void p9_fid__set(struct p9_fid *f, struct p9_node *node, struct p9_node *parent,
		 const char *name);
void p9_fid__close(struct p9_fid *f);
int p9_fid__clunk(struct p9_dev *p, u32 fid);
void p9__clunk_all(struct p9_dev *p);

/* The qid of a file; qid paths keep files on different host filesystems apart. */
void p9__qid(struct p9_dev *p, const struct stat *st, struct p9_qid *q);
u64 p9__qid_path(struct p9_dev *p, dev_t dev, ino_t ino);
/* Is @fd (on @dev) in a kernel filesystem the guest must not look into? */
bool p9__hidden(struct p9_dev *p, int fd, dev_t dev);
/* openat2 below @dirfd, one component, never following a symlink. */
int p9__openat(int dirfd, const char *name, int flags, mode_t mode);
/* Open the file behind O_PATH @fd for I/O, through /proc/self/fd. */
int p9__reopen(struct p9_dev *p, int fd, int flags);

/* The requests (virtio/9p-ops.c). */
typedef int (*p9_op_fn)(struct p9_dev *p, struct p9_msg *in, struct p9_msg *out);
struct p9_op {
	p9_op_fn	fn;
	bool		mutates;	/* EROFS on a read-only share */
};
const struct p9_op *p9__op(u8 type);

#endif
