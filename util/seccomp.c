/*
 * Seccomp-BPF confinement of lkvm's threads, one allow-list per role: the
 * BPF builder, installing filters, the spawner that creates I/O threads for
 * confined threads, and --debug-seccomp (include/kvm/seccomp.h).
 */
#include "kvm/seccomp.h"
#include "kvm/kvm.h"
#include "kvm/term.h"

#include <dirent.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define SC_NR		offsetof(struct seccomp_data, nr)
#define SC_ARCH		offsetof(struct seccomp_data, arch)
#define SC_IP_LO	offsetof(struct seccomp_data, instruction_pointer)
#define SC_IP_HI	(SC_IP_LO + 4)
/* The low half of an argument (little-endian). */
#define SC_ARG(i)	(offsetof(struct seccomp_data, args) + 8 * (i))
#define SC_X32_BIT	0x40000000u
#define SC_MAX_NR	1024		/* above any x86-64 syscall number */

/* What a 9p server running as root needs to act for the guest's users. */
#define SC_FS_CAPS	((1ull << CAP_CHOWN) | (1ull << CAP_DAC_OVERRIDE) |		\
			 (1ull << CAP_DAC_READ_SEARCH) | (1ull << CAP_FOWNER) |	\
			 (1ull << CAP_FSETID))

/* ---- the BPF builder ---- */

struct bpf_buf {
	struct sock_filter	*f;
	unsigned int		n;
	unsigned int		cap;
	int			err;
};

static void bpf__emit(struct bpf_buf *b, u16 code, u8 jt, u8 jf, u32 k)
{
	struct sock_filter *f;

	if (b->err)
		return;
	if (b->n == BPF_MAXINSNS) {
		b->err = -E2BIG;
		return;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 256;
		f = realloc(b->f, b->cap * sizeof(*f));
		if (!f) {
			b->err = -ENOMEM;
			return;
		}
		b->f = f;
	}
	b->f[b->n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

static void bpf__load(struct bpf_buf *b, u32 off)
{
	bpf__emit(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, off);
}

static void bpf__ret(struct bpf_buf *b, u32 action)
{
	bpf__emit(b, BPF_RET | BPF_K, 0, 0, action);
}

/*
 * One rule, entered and left with the syscall number in A. A condition that
 * does not hold reloads the number and falls through to the next rule:
 *	jeq nr, 0, skip-body
 *	ld args[i]; (and mask;) jeq v1..vn -> ret; ld nr; ja +1; ret action
 */
static void bpf__rule(struct bpf_buf *b, const struct seccomp_rule *r, u32 pid)
{
	u32 action = r->errno_ret ? SECCOMP_RET_ERRNO | (r->errno_ret & SECCOMP_RET_DATA)
				  : SECCOMP_RET_ALLOW;
	const u32 *vals = r->cond == SC_SELF_PID ? &pid : r->vals;
	unsigned int n = r->cond == SC_SELF_PID ? 1 : r->nr_vals;

	switch (r->cond) {
	case SC_ANY:
		bpf__emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, r->nr);
		bpf__ret(b, action);
		return;
	case SC_IN:
	case SC_SELF_PID:
		if (!n || n > 200) {
			b->err = -EINVAL;
			return;
		}
		bpf__emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, n + 4, r->nr);
		bpf__load(b, SC_ARG(r->arg));
		for (unsigned int i = 0; i < n; i++)
			bpf__emit(b, BPF_JMP | BPF_JEQ | BPF_K, n - 1 - i + 2, 0, vals[i]);
		break;
	case SC_MASK_CLEAR:
	case SC_MASK_SET:
		bpf__emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 6, r->nr);
		bpf__load(b, SC_ARG(r->arg));
		bpf__emit(b, BPF_ALU | BPF_AND | BPF_K, 0, 0, r->mask);
		bpf__emit(b, BPF_JMP | BPF_JEQ | BPF_K, 2, 0,
			  r->cond == SC_MASK_SET ? r->mask : 0);
		break;
	default:
		b->err = -EINVAL;
		return;
	}
	bpf__load(b, SC_NR);
	bpf__emit(b, BPF_JMP | BPF_JA, 0, 0, 1);
	bpf__ret(b, action);
}

int seccomp__build(const struct seccomp_list *const *lists, u32 deny, u64 trap_ip,
		   u32 pid, struct sock_fprog *prog)
{
	struct bpf_buf b = { 0 };

	bpf__load(&b, SC_ARCH);
	bpf__emit(&b, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AUDIT_ARCH_X86_64);
	bpf__ret(&b, SECCOMP_RET_KILL_PROCESS);
	bpf__load(&b, SC_NR);
	bpf__emit(&b, BPF_JMP | BPF_JGE | BPF_K, 0, 1, SC_X32_BIT);
	bpf__ret(&b, SECCOMP_RET_KILL_PROCESS);
	if (trap_ip) {
		bpf__load(&b, SC_IP_LO);
		bpf__emit(&b, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, (u32)trap_ip);
		bpf__load(&b, SC_IP_HI);
		bpf__emit(&b, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, trap_ip >> 32);
		bpf__ret(&b, SECCOMP_RET_ALLOW);
		bpf__load(&b, SC_NR);
	}
	for (; *lists; lists++)
		for (unsigned int i = 0; i < (*lists)->nr; i++)
			bpf__rule(&b, &(*lists)->rules[i], pid);
	bpf__ret(&b, deny);
	if (b.err) {
		free(b.f);
		return b.err;
	}
	prog->len = b.n;
	prog->filter = b.f;
	return 0;
}

int seccomp__count(const struct seccomp_list *const *lists)
{
	bool seen[SC_MAX_NR] = { false };
	int n = 0;

	for (; *lists; lists++) {
		for (unsigned int i = 0; i < (*lists)->nr; i++) {
			const struct seccomp_rule *r = &(*lists)->rules[i];

			if (r->errno_ret || r->nr < 0 || r->nr >= SC_MAX_NR || seen[r->nr])
				continue;
			seen[r->nr] = true;
			n++;
		}
	}
	return n;
}

static int seccomp__load(const struct sock_fprog *prog)
{
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog))
		return -errno;
	return 0;
}

int seccomp__install(const struct sock_fprog *prog)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return seccomp__load(prog);
}

/* ---- --debug-seccomp: report, then do the syscall anyway ---- */

/*
 * seccomp__raw_syscall(nr, a0..a5): a syscall from a fixed address, which
 * the trace-mode filters (and only they) let through. Only the SIGSYS
 * handler calls it.
 */
long seccomp__raw_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
extern const char seccomp__raw_syscall_ret[];
__asm__(
	"	.pushsection .text\n"
	"	.globl seccomp__raw_syscall\n"
	"	.type seccomp__raw_syscall, @function\n"
	"seccomp__raw_syscall:\n"
	"	movq %rdi, %rax\n"
	"	movq %rsi, %rdi\n"
	"	movq %rdx, %rsi\n"
	"	movq %rcx, %rdx\n"
	"	movq %r8, %r10\n"
	"	movq %r9, %r8\n"
	"	movq 8(%rsp), %r9\n"
	"	syscall\n"
	"	.globl seccomp__raw_syscall_ret\n"
	"seccomp__raw_syscall_ret:\n"
	"	ret\n"
	"	.size seccomp__raw_syscall, .-seccomp__raw_syscall\n"
	"	.popsection\n");

static struct {
	bool			active;		/* seccomp__setup() ran */
	enum seccomp_mode	mode;
	struct sock_fprog	progs[SECCOMP_NR_ROLES];
	u64			io_caps;	/* capabilities I/O threads keep */
	const char		*selftest;	/* LKVM_SECCOMP_SELFTEST: a role name */
	bool			selftest_done;
	pthread_mutex_t		lock;
	pthread_cond_t		cond;		/* a request queued, or a start done */
	struct seccomp_start	*queue;		/* the spawner's requests */
	pthread_t		spawner;
	u64			reported[256];	/* trace mode: what was said already */
} sc = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

/* The calling thread's filter. */
static __thread enum seccomp_role sc_role;

/* Trace mode says each (role, syscall, ioctl request) once. */
static bool seccomp__first_report(u64 key)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(sc.reported); i++) {
		u64 cur = __atomic_load_n(&sc.reported[i], __ATOMIC_ACQUIRE);

		if (cur == key)
			return false;
		if (!cur && __atomic_compare_exchange_n(&sc.reported[i], &cur, key, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return true;
		if (cur == key)
			return false;
	}
	return false;
}

static void seccomp__sigsys(int sig, siginfo_t *si, void *ctx)
{
	greg_t *r = ((ucontext_t *)ctx)->uc_mcontext.gregs;
	long nr = si->si_syscall;
	u32 req = nr == __NR_ioctl ? (u32)r[REG_RSI] : 0;
	u64 key = ((u64)sc_role << 56) | ((u64)(nr & 0xffff) << 32) | req | 1;
	char msg[200];
	int n;

	if (seccomp__first_report(key)) {
		n = snprintf(msg, sizeof(msg), "lkvm: seccomp: a %s thread made syscall %ld "
			     "(args %#llx %#llx %#llx), not in its list\n",
			     seccomp__role_name(sc_role), nr, (unsigned long long)r[REG_RDI],
			     (unsigned long long)r[REG_RSI], (unsigned long long)r[REG_RDX]);
		seccomp__raw_syscall(__NR_write, STDERR_FILENO, (long)msg, n, 0, 0, 0);
	}
	/* A new task would return into this handler's frame: refuse instead. */
	if (nr == __NR_clone || nr == __NR_clone3 || nr == __NR_fork || nr == __NR_vfork) {
		r[REG_RAX] = -EPERM;
		return;
	}
	r[REG_RAX] = seccomp__raw_syscall(nr, r[REG_RDI], r[REG_RSI], r[REG_RDX],
					  r[REG_R10], r[REG_R8], r[REG_R9]);
}

static int seccomp__trace_init(void)
{
	struct sigaction sa = { .sa_sigaction = seccomp__sigsys, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL) ? -errno : 0;
}

/* ---- on: a forbidden syscall stops lkvm ---- */

/*
 * The filters' SECCOMP_RET_TRAP lands here, in the thread that broke its
 * list, which then never goes on: the terminal is restored (tcsetattr's
 * TCGETS and TCSETS are on every list), one line names the syscall, and
 * lkvm dies of SIGSYS as SECCOMP_RET_KILL_PROCESS would make it: a second
 * forbidden syscall, with SIGSYS blocked in its own handler, has the kernel
 * reset SIGSYS to its default action and deliver it. exit_group is the
 * fallback, never reached once filters are on. A SIGSYS that another
 * process sent (not SYS_SECCOMP) ends lkvm the same way, without the line.
 */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP	1	/* si_code of a seccomp SIGSYS (asm-generic/siginfo.h) */
#endif

static void seccomp__fatal(int sig, siginfo_t *si, void *ctx)
{
	greg_t *r = ((ucontext_t *)ctx)->uc_mcontext.gregs;
	char msg[200];
	int n;

	term__restore();
	if (si->si_code == SYS_SECCOMP) {
		n = snprintf(msg, sizeof(msg), "lkvm: error: seccomp: a %s thread made system call %d",
			     seccomp__role_name(sc_role), si->si_syscall);
		if (si->si_syscall == __NR_ioctl)
			n += snprintf(msg + n, sizeof(msg) - n, " (ioctl %#x)", (u32)r[REG_RSI]);
		n += snprintf(msg + n, sizeof(msg) - n, ", not in its list; stopping\n");
		if (write(STDERR_FILENO, msg, n) < 0)
			n = 0;
	}
	syscall(__NR_execve, "/", NULL, NULL);		/* on no list */
	syscall(__NR_exit_group, 128 + SIGSYS);
}

static int seccomp__fatal_init(void)
{
	struct sigaction sa = { .sa_sigaction = seccomp__fatal, .sa_flags = SA_SIGINFO };

	sigfillset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL) ? -errno : 0;
}

/* ---- roles ---- */

/* Keep only @keep of the calling thread's capabilities. */
static int seccomp__drop_caps(u64 keep)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	bool change = false;

	if (syscall(__NR_capget, &h, d))
		return -errno;
	for (int i = 0; i < 2; i++) {
		u32 k = keep >> (32 * i);

		change |= (d[i].effective | d[i].permitted | d[i].inheritable) & ~k;
		d[i].effective &= k;
		d[i].permitted &= k;
		d[i].inheritable = 0;
	}
	if (change && syscall(__NR_capset, &h, d))
		return -errno;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return 0;
}

/* LKVM_SECCOMP_SELFTEST=ROLE: the first thread of ROLE tries a forbidden syscall. */
static void seccomp__selftest(enum seccomp_role role)
{
	static const char *const argv[] = { "lkvm-seccomp-selftest", NULL };
	const char *name = seccomp__role_name(role);

	if (!sc.selftest || strcmp(sc.selftest, name) ||
	    __atomic_exchange_n(&sc.selftest_done, true, __ATOMIC_ACQ_REL))
		return;
	pr_info("seccomp selftest: execve from the first %s thread", name);
	syscall(__NR_execve, "/nonexistent/lkvm-seccomp-selftest", argv, NULL);
	pr_info("seccomp selftest: execve returned (%s); the %s thread is not confined",
		strerror(errno), name);
}

/* @inherited: created by the spawner, whose capabilities and no_new_privs it has. */
static int seccomp__confine(enum seccomp_role role, bool inherited)
{
	int ret;

	if (!sc.active || sc.mode == SECCOMP_OFF) {
		sc_role = role;
		return 0;
	}
	if (!inherited) {
		bool io = role == SECCOMP_ROLE_IO || role == SECCOMP_ROLE_SPAWNER;

		ret = seccomp__drop_caps(io ? sc.io_caps : 0);
		if (ret)
			return ret;
		ret = seccomp__install(&sc.progs[role]);
	} else {
		ret = seccomp__load(&sc.progs[role]);
	}
	if (!ret)
		sc_role = role;
	return ret;
}

int seccomp__enter(enum seccomp_role role)
{
	int ret = seccomp__confine(role, false);

	if (!ret)
		seccomp__selftest(role);
	return ret;
}

/* ---- thread creation ---- */

struct seccomp_start {
	void			*(*fn)(void *);
	void			*arg;
	enum seccomp_role	role;
	bool			inherited;
	pthread_t		*thread;
	int			ret;
	bool			done;
	bool			created;
	struct seccomp_start	*next;
};

static void seccomp__start_done(struct seccomp_start *s, int ret, bool created)
{
	pthread_mutex_lock(&sc.lock);
	s->ret = ret;
	s->created = created;
	s->done = true;
	pthread_cond_broadcast(&sc.cond);
	pthread_mutex_unlock(&sc.lock);
}

/* Every lkvm thread starts here: confined before it runs anything else. */
static void *seccomp__trampoline(void *p)
{
	struct seccomp_start *s = p;
	void *(*fn)(void *) = s->fn;
	void *arg = s->arg;
	enum seccomp_role role = s->role;
	int ret = seccomp__confine(role, s->inherited);

	seccomp__start_done(s, ret, true);	/* s is the creator's again */
	if (ret)
		return NULL;
	seccomp__selftest(role);
	return fn(arg);
}

/* All signals but the synchronous ones blocked, so they reach the main thread's signalfd. */
static void seccomp__block_signals(void)
{
	static const int sync_sigs[] = { SIGSYS, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
	sigset_t set;

	sigfillset(&set);
	for (unsigned int i = 0; i < ARRAY_SIZE(sync_sigs); i++)
		sigdelset(&set, sync_sigs[i]);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void *seccomp__spawner(void *unused)
{
	pthread_setname_np(pthread_self(), "lkvm-spawner");
	seccomp__block_signals();
	for (;;) {
		struct seccomp_start *s;
		int ret;

		pthread_mutex_lock(&sc.lock);
		while (!sc.queue)
			pthread_cond_wait(&sc.cond, &sc.lock);
		s = sc.queue;
		sc.queue = s->next;
		pthread_mutex_unlock(&sc.lock);
		ret = pthread_create(s->thread, NULL, seccomp__trampoline, s);
		if (ret)
			seccomp__start_done(s, -ret, false);
	}
	return NULL;
}

int seccomp__thread_create(pthread_t *thread, enum seccomp_role role,
			   void *(*fn)(void *), void *arg)
{
	struct seccomp_start s = { .fn = fn, .arg = arg, .role = role, .thread = thread };
	int ret;

	if (!sc.active)
		return -pthread_create(thread, NULL, fn, arg);
	if (sc_role == SECCOMP_ROLE_NONE || sc.mode == SECCOMP_OFF) {
		ret = pthread_create(thread, NULL, seccomp__trampoline, &s);
		if (ret)
			return -ret;
	} else {
		/* Only I/O threads: the spawner's filter is their list plus clone. */
		if (role != SECCOMP_ROLE_IO)
			return -EPERM;
		s.inherited = true;
		pthread_mutex_lock(&sc.lock);
		s.next = sc.queue;
		sc.queue = &s;
		pthread_cond_broadcast(&sc.cond);
		pthread_mutex_unlock(&sc.lock);
	}
	pthread_mutex_lock(&sc.lock);
	while (!s.done)
		pthread_cond_wait(&sc.cond, &sc.lock);
	pthread_mutex_unlock(&sc.lock);
	if (s.ret && s.created)
		pthread_join(*thread, NULL);
	if (s.ret)
		pr_err("cannot confine a new %s thread: %s", seccomp__role_name(role),
		       strerror(-s.ret));
	return s.ret;
}

/* ---- setup ---- */

/* Is thread @tid confined? io_uring's kernel workers never run user code. */
static bool seccomp__thread_ok(const char *tid)
{
	char path[300], line[128], name[32] = "";
	bool ok = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	f = fopen(path, "re");
	if (!f)
		return true;		/* gone already */
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Name:", 5))
			sscanf(line + 5, "%31s", name);
		else if (!strncmp(line, "Seccomp:", 8))
			ok = atoi(line + 8) == SECCOMP_MODE_FILTER;
	}
	fclose(f);
	if (!ok && !strncmp(name, "iou-", 4))
		return true;
	if (!ok)
		pr_err("thread %s (%s) runs without a seccomp filter: "
		       "create it with seccomp__thread_create()", tid, name);
	return ok;
}

static int seccomp__check_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	char self[16];
	struct dirent *e;
	int ret = 0;

	if (!d)
		return -errno;
	snprintf(self, sizeof(self), "%d", (int)gettid());
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, self))
			continue;
		if (!seccomp__thread_ok(e->d_name))
			ret = -EPERM;
	}
	closedir(d);
	return ret;
}

int seccomp__enter_main(void)
{
	int ret;

	if (!sc.active)
		return 0;
	if (sc.mode != SECCOMP_OFF) {
		ret = seccomp__check_threads();
		if (ret)
			return ret;
	}
	ret = seccomp__enter(SECCOMP_ROLE_MAIN);
	if (ret)
		pr_err("cannot confine the main thread: %s", strerror(-ret));
	return ret;
}

static int seccomp__build_all(enum seccomp_mode mode)
{
	u32 deny = SECCOMP_RET_TRAP;		/* to seccomp__fatal() or seccomp__sigsys() */
	u64 trap_ip = mode == SECCOMP_TRACE ? (u64)(unsigned long)seccomp__raw_syscall_ret : 0;
	int ret;

	for (int r = SECCOMP_ROLE_MAIN; r < SECCOMP_NR_ROLES; r++) {
		ret = seccomp__build(seccomp__role_lists(r), deny, trap_ip, getpid(),
				     &sc.progs[r]);
		if (ret)
			return ret;
	}
	return 0;
}

int seccomp__setup(const struct kvm_config *cfg)
{
	int ret;

	sc.mode = cfg->no_seccomp ? SECCOMP_OFF :
		  cfg->debug_seccomp ? SECCOMP_TRACE : SECCOMP_ON;
	sc.selftest = getenv("LKVM_SECCOMP_SELFTEST");
	sc.active = true;
	if (sc.mode == SECCOMP_OFF) {
		pr_debug("seccomp: off (--no-seccomp)");
		return 0;
	}
	/*
	 * Files glibc would read lazily, in whatever thread comes first: the
	 * time zone (the RTC's gmtime_r) and the CPU count (malloc's arena
	 * limit, glibc's default).
	 */
	tzset();
	mallopt(M_ARENA_MAX, 8 * get_nprocs());
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
		pr_err("this kernel has no seccomp (--no-seccomp runs without it)");
		return -ENOSYS;
	}
	ret = seccomp__build_all(sc.mode);
	if (!ret)
		ret = sc.mode == SECCOMP_TRACE ? seccomp__trace_init() : seccomp__fatal_init();
	if (ret) {
		pr_err("cannot build the seccomp filters: %s", strerror(-ret));
		return ret;
	}
	if (cfg->nr_shares && geteuid() == 0)
		sc.io_caps = SC_FS_CAPS;
	pr_debug("seccomp: %s; syscalls allowed: vCPU %d, I/O %d, main %d (spawner %d)",
		 sc.mode == SECCOMP_TRACE ? "reporting, not killing" : "on",
		 seccomp__count(seccomp__role_lists(SECCOMP_ROLE_VCPU)),
		 seccomp__count(seccomp__role_lists(SECCOMP_ROLE_IO)),
		 seccomp__count(seccomp__role_lists(SECCOMP_ROLE_MAIN)),
		 seccomp__count(seccomp__role_lists(SECCOMP_ROLE_SPAWNER)));
	ret = seccomp__thread_create(&sc.spawner, SECCOMP_ROLE_SPAWNER, seccomp__spawner, NULL);
	if (ret)
		pr_err("seccomp filters do not work here (--no-seccomp runs without them)");
	return ret;
}
