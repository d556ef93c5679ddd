#ifndef GUEST_INIT__SYS_H
#define GUEST_INIT__SYS_H

/*
 * The embedded init's whole C library: x86-64 system calls and a few
 * helpers (lib.c). Types and constants come from the kernel's UAPI headers.
 */
#include <asm/unistd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AT_FDCWD	-100

static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define sys3(n, a, b, c)	sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static inline long sys_read(int fd, void *buf, size_t n)	{ return sys3(__NR_read, fd, buf, n); }
static inline long sys_write(int fd, const void *buf, size_t n)	{ return sys3(__NR_write, fd, buf, n); }
static inline int sys_open(const char *path, int flags, int mode) { return sys3(__NR_open, path, flags, mode); }
static inline int sys_close(int fd)				{ return sys3(__NR_close, fd, 0, 0); }
static inline int sys_ioctl(int fd, unsigned long req, void *arg) { return sys3(__NR_ioctl, fd, req, arg); }
static inline int sys_poll(void *fds, unsigned int n, int ms)	{ return sys3(__NR_poll, fds, n, ms); }
static inline int sys_pipe2(int *fds, int flags)		{ return sys3(__NR_pipe2, fds, flags, 0); }
static inline int sys_dup2(int from, int to)			{ return sys3(__NR_dup2, from, to, 0); }
static inline int sys_fcntl(int fd, int cmd, long arg)		{ return sys3(__NR_fcntl, fd, cmd, arg); }
static inline int sys_fork(void)				{ return sys3(__NR_fork, 0, 0, 0); }
static inline int sys_execve(const char *path, const char *const *argv, const char *const *envp)
{
	return sys3(__NR_execve, path, argv, envp);
}
static inline int sys_wait4(int pid, int *status, int flags)	{ return sys6(__NR_wait4, pid, (long)status, flags, 0, 0, 0); }
static inline int sys_setpgid(int pid, int pgid)		{ return sys3(__NR_setpgid, pid, pgid, 0); }
static inline int sys_getpid(void)				{ return sys3(__NR_getpid, 0, 0, 0); }
static inline int sys_setsid(void)				{ return sys3(__NR_setsid, 0, 0, 0); }
static inline int sys_chdir(const char *path)			{ return sys3(__NR_chdir, path, 0, 0); }
static inline int sys_chroot(const char *path)			{ return sys3(__NR_chroot, path, 0, 0); }
static inline int sys_mkdir(const char *path, int mode)		{ return sys3(__NR_mkdir, path, mode, 0); }
static inline int sys_symlink(const char *target, const char *path) { return sys3(__NR_symlink, target, path, 0); }
static inline long sys_readlink(const char *path, char *buf, size_t n) { return sys3(__NR_readlink, path, buf, n); }
static inline int sys_access(const char *path, int mode)	{ return sys3(__NR_access, path, mode, 0); }
static inline int sys_mount(const char *src, const char *dst, const char *type,
			    unsigned long flags, const void *data)
{
	return sys6(__NR_mount, (long)src, (long)dst, (long)type, flags, (long)data, 0);
}
static inline int sys_socket(int family, int type, int proto)	{ return sys3(__NR_socket, family, type, proto); }
static inline int sys_sethostname(const char *name, size_t len)	{ return sys3(__NR_sethostname, name, len, 0); }
static inline int sys_ioperm(unsigned long from, unsigned long n, int on) { return sys3(__NR_ioperm, from, n, on); }
static inline int sys_finit_module(int fd, const char *params, int flags)
{
	return sys3(__NR_finit_module, fd, params, flags);
}
static inline int sys_uname(void *buf)				{ return sys3(__NR_uname, buf, 0, 0); }
static inline void sys_sync(void)				{ sys3(__NR_sync, 0, 0, 0); }
static inline int sys_reboot(unsigned int cmd)
{
	return sys6(__NR_reboot, 0xfee1dead, 672274793, cmd, 0, 0, 0);
}
static inline int sys_sigaction(int sig, const void *act, void *old)
{
	return sys6(__NR_rt_sigaction, sig, (long)act, (long)old, 8, 0, 0);
}
static inline int sys_sigprocmask(int how, const uint64_t *set, uint64_t *old)
{
	return sys6(__NR_rt_sigprocmask, how, (long)set, (long)old, 8, 0, 0);
}
static inline int sys_signalfd(int fd, const uint64_t *mask, int flags)
{
	return sys6(__NR_signalfd4, fd, (long)mask, 8, flags, 0, 0);
}
static inline void __attribute__((noreturn)) sys_exit(int status)
{
	for (;;)
		sys3(__NR_exit, status, 0, 0);
}

/* Signals, as x86-64 numbers them; SIG_IGN needs no restorer. */
#define SIGPIPE		13
#define SIGCHLD		17
#define SIGTTIN		21
#define SIGTTOU		22
#define SIG_SETMASK	2
#define SIG_BLOCK	0
#define SIG_IGN_HANDLER	((void *)1)
#define SIG_DFL_HANDLER	((void *)0)
#define SIGBIT(s)	(1ull << ((s) - 1))

struct k_sigaction {
	void		*handler;
	unsigned long	flags;
	void		*restorer;
	uint64_t	mask;
};

/* wait4 status decoding. */
#define W_EXITED(s)	(((s) & 0x7f) == 0)
#define W_STATUS(s)	(((s) >> 8) & 0xff)
#define W_SIGNALED(s)	(((s) & 0x7f) != 0 && ((s) & 0x7f) != 0x7f)
#define W_TERMSIG(s)	((s) & 0x7f)
#define WNOHANG		1

/* lib.c */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t str_len(const char *s);
int str_cmp(const char *a, const char *b);
bool str_eq(const char *a, const char *b);
char *str_cpy(char *dst, const char *src);	/* returns the end of dst */
/* Decimal (up to @max), or -1. */
long str_num(const char *s, long max);
/* "a.b.c.d" in network order, 0 on success. */
int str_ipv4(const char *s, uint32_t *addr);
/* Join @a and @b into @buf (@len bytes): NULL if it does not fit. */
char *path_join(char *buf, size_t len, const char *a, const char *b);
long write_all(int fd, const void *buf, size_t len);
const char *err_name(long err);

#endif
