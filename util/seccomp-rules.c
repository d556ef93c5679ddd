/*
 * The seccomp allow-lists, one per thread role (include/kvm/seccomp.h).
 * What a role may do is what its threads' code paths do once the VM runs,
 * found by reading the code and checked with --debug-seccomp on every rig
 * case. Setup (opening images, taps, /dev/kvm, creating the VM) happens
 * before any filter and is not listed. ioctl is allowed by request number
 * only; no role may map or make executable memory, exec, fork, or open a
 * socket other than IPv4 (user-mode networking).
 */
#include "kvm/seccomp.h"

#include <asm/unistd.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <linux/vhost.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/ioctl.h>

#define ALLOW(name)		{ .nr = __NR_##name }
#define ALLOW_IN(name, a, v)	{ .nr = __NR_##name, .cond = SC_IN, .arg = (a),		\
				  .vals = (v), .nr_vals = ARRAY_SIZE(v) }
#define ALLOW_CLEAR(name, a, m)	{ .nr = __NR_##name, .cond = SC_MASK_CLEAR, .arg = (a), .mask = (m) }
#define ALLOW_SET(name, a, m)	{ .nr = __NR_##name, .cond = SC_MASK_SET, .arg = (a), .mask = (m) }
#define ALLOW_SELF(name, a)	{ .nr = __NR_##name, .cond = SC_SELF_PID, .arg = (a) }
#define FAIL(name, err)		{ .nr = __NR_##name, .errno_ret = (err) }
#define LIST(r)			{ .rules = (r), .nr = ARRAY_SIZE(r) }

/* ---- ioctl request numbers ---- */

/* Interrupts: any thread that signals the guest (MSI-X vectors bind lazily). */
#define IRQ_IOCTLS	KVM_IRQ_LINE, KVM_SIGNAL_MSI, KVM_SET_GSI_ROUTING, KVM_IRQFD

/* vhost-net handover, when the driver brings a queue pair up or down. */
#define VHOST_IOCTLS	VHOST_SET_FEATURES, VHOST_SET_MEM_TABLE, VHOST_SET_VRING_NUM,	\
			VHOST_SET_VRING_BASE, VHOST_SET_VRING_ADDR, VHOST_SET_VRING_CALL, \
			VHOST_SET_VRING_KICK, VHOST_NET_SET_BACKEND, VHOST_GET_VRING_BASE

static const u32 vcpu_ioctls[] = {
	KVM_RUN,			/* first: the hot one */
	KVM_KVMCLOCK_CTRL,		/* parking for pause */
	KVM_GET_REGS, KVM_GET_SREGS,	/* the dump of a failed vCPU */
	TCGETS, TCSETS,			/* the terminal restored when seccomp stops lkvm */
	IRQ_IOCTLS,
	KVM_IOEVENTFD,			/* virtio-pci BAR moved by the guest */
	TUNSETOFFLOAD, TUNSETQUEUE,	/* virtio-net DRIVER_OK */
	VHOST_IOCTLS,
};

static const u32 io_ioctls[] = {
	TCGETS, TCSETS,			/* the terminal restored when seccomp stops lkvm */
	IRQ_IOCTLS,
	TUNSETQUEUE, VHOST_IOCTLS,	/* virtio-net control queue: queue pairs */
	BLKDISCARD, BLKZEROOUT,		/* virtio-blk on a block device */
};

static const u32 main_ioctls[] = {
	IRQ_IOCTLS,			/* console input */
	KVM_GET_REGS, KVM_GET_SREGS,	/* lkvm debug */
	TCSETS, TCGETS,			/* the terminal restored on exit (and checked) */
	TIOCGWINSZ,			/* its size, on SIGWINCH */
	/* Teardown. */
	KVM_IOEVENTFD, VHOST_NET_SET_BACKEND, VHOST_GET_VRING_BASE,
};

/* ---- other arguments ---- */

static const u32 prctl_ops[] = { PR_SET_NAME };		/* pthread_setname_np */
static const u32 inet_only[] = { AF_INET };		/* user-mode networking */
static const u32 seccomp_ops[] = { SECCOMP_SET_MODE_FILTER };

/* ---- the lists ---- */

/*
 * Every thread: memory, locks, signals, time, naming itself, exiting,
 * logging. fstat for stdio's buffers (dprintf). glibc's malloc opens
 * /proc/sys/vm/overcommit_memory the first time it shrinks a thread's heap,
 * in whatever thread that is: without the file it does what it does anyway,
 * so threads that open nothing get EACCES (the I/O list allows openat).
 */
static const struct seccomp_rule common_rules[] = {
	ALLOW(futex),
	ALLOW(read),
	ALLOW(write),
	ALLOW(close),
	ALLOW_CLEAR(mmap, 2, PROT_EXEC),
	ALLOW_CLEAR(mprotect, 2, PROT_EXEC),
	ALLOW(munmap),
	ALLOW(mremap),
	ALLOW(madvise),
	ALLOW(brk),
	ALLOW(rt_sigprocmask),
	ALLOW(rt_sigaction),
	ALLOW(rt_sigreturn),
	ALLOW(restart_syscall),
	ALLOW(getpid),
	ALLOW(gettid),
	ALLOW_SELF(tgkill, 0),
	ALLOW(clock_gettime),		/* the vDSO's fallbacks */
	ALLOW(gettimeofday),
	ALLOW(time),
	ALLOW(clock_nanosleep),
	ALLOW(nanosleep),
	ALLOW(sched_yield),
	ALLOW_IN(prctl, 0, prctl_ops),
	ALLOW_SET(newfstatat, 3, AT_EMPTY_PATH),
	ALLOW(fstat),
	ALLOW(exit),
	ALLOW(exit_group),
};

static const struct seccomp_rule no_open_rules[] = {
	FAIL(openat, EACCES),
};

static const struct seccomp_rule vcpu_rules[] = {
	ALLOW_IN(ioctl, 1, vcpu_ioctls),
	ALLOW(epoll_ctl),		/* kicks handed to or taken from vhost */
	ALLOW(eventfd2),		/* vhost call eventfds */
	ALLOW(io_uring_enter),		/* virtio-blk reset: drain */
	ALLOW(setsockopt),		/* virtio-net reset: user-mode flows closed */
};

static const struct seccomp_rule io_rules[] = {
	ALLOW_IN(ioctl, 1, io_ioctls),
	ALLOW(io_uring_enter),
	ALLOW(epoll_wait),
	ALLOW(epoll_ctl),
	ALLOW(poll),
	ALLOW(eventfd2),
	/* virtio-blk */
	ALLOW(preadv),
	ALLOW(pwritev),
	ALLOW(pwritev2),		/* RWF_DSYNC */
	ALLOW(pread64),
	ALLOW(pwrite64),
	ALLOW(fsync),
	ALLOW(fdatasync),
	ALLOW(fallocate),
	/* virtio-net: tap, user mode */
	ALLOW(writev),
	ALLOW(readv),
	ALLOW_IN(socket, 0, inet_only),
	ALLOW(connect),
	ALLOW(sendto),
	ALLOW(recvfrom),
	ALLOW(setsockopt),
	ALLOW(getsockopt),
	ALLOW(shutdown),
	/* virtio-rng */
	ALLOW(getrandom),
	/* virtio-9p: every lookup below the share's fds */
	ALLOW(openat),
	ALLOW(openat2),
	ALLOW(newfstatat),
	ALLOW(fstatfs),
	ALLOW(getdents64),
	ALLOW(lseek),
	ALLOW(readlinkat),
	ALLOW(mkdirat),
	ALLOW(mknodat),
	ALLOW(symlinkat),
	ALLOW(linkat),
	ALLOW(renameat),
	ALLOW(unlinkat),
	ALLOW(fchownat),
	ALLOW(fchmodat),
	ALLOW(utimensat),
	ALLOW(ftruncate),
	ALLOW(fcntl),
	ALLOW(dup),
	ALLOW(geteuid),
};

static const struct seccomp_rule main_rules[] = {
	ALLOW_IN(ioctl, 1, main_ioctls),
	ALLOW(epoll_wait),
	ALLOW(epoll_ctl),
	/* the control socket */
	ALLOW(accept4),
	ALLOW(recvfrom),
	ALLOW(sendto),
	ALLOW(getsockopt),
	ALLOW(geteuid),
	ALLOW(timerfd_settime),
	ALLOW(memfd_create),		/* lkvm debug's dump */
	ALLOW(lseek),
	/* teardown */
	ALLOW(unlink),			/* the control socket */
	ALLOW(io_uring_enter),		/* virtio-blk's last requests */
};

/* Thread creation only, for the I/O threads asked for by confined threads. */
static const struct seccomp_rule spawner_rules[] = {
	ALLOW_SET(clone, 0, CLONE_THREAD),
	FAIL(clone3, ENOSYS),		/* flags out of reach: glibc falls back to clone */
	ALLOW(set_robust_list),
	ALLOW(rseq),
	ALLOW_IN(seccomp, 0, seccomp_ops),	/* the new thread's own filter */
};

static const struct seccomp_list common_list = LIST(common_rules);
static const struct seccomp_list vcpu_list = LIST(vcpu_rules);
static const struct seccomp_list io_list = LIST(io_rules);
static const struct seccomp_list main_list = LIST(main_rules);
static const struct seccomp_list spawner_list = LIST(spawner_rules);
static const struct seccomp_list no_open_list = LIST(no_open_rules);

/* Role-specific lists first: KVM_RUN and the I/O syscalls are the hot ones. */
static const struct seccomp_list *const vcpu_lists[] = {
	&vcpu_list, &common_list, &no_open_list, NULL
};
static const struct seccomp_list *const io_lists[] = { &io_list, &common_list, NULL };
static const struct seccomp_list *const main_lists[] = {
	&main_list, &common_list, &no_open_list, NULL
};
/* A superset of the I/O lists: what it creates gets exactly those. */
static const struct seccomp_list *const spawner_lists[] = {
	&io_list, &common_list, &spawner_list, NULL
};

const struct seccomp_list *const *seccomp__role_lists(enum seccomp_role role)
{
	switch (role) {
	case SECCOMP_ROLE_MAIN:		return main_lists;
	case SECCOMP_ROLE_VCPU:		return vcpu_lists;
	case SECCOMP_ROLE_IO:		return io_lists;
	case SECCOMP_ROLE_SPAWNER:	return spawner_lists;
	default:			return NULL;
	}
}

const char *seccomp__role_name(enum seccomp_role role)
{
	switch (role) {
	case SECCOMP_ROLE_MAIN:		return "main";
	case SECCOMP_ROLE_VCPU:		return "vcpu";
	case SECCOMP_ROLE_IO:		return "io";
	case SECCOMP_ROLE_SPAWNER:	return "spawner";
	default:			return "none";
	}
}
