/*
 * The seccomp BPF builder and the per-role confinement, each run in a forked
 * child: what a list allows works, anything else kills with SIGSYS.
 */
#include "test.h"
#include "kvm/kvm.h"
#include "kvm/seccomp.h"
#include "kvm/term.h"
#include "kvm/uring.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const u32 test_ioctls[] = { FIONREAD, KVM_RUN };

static const struct seccomp_rule test_rules[] = {
	{ .nr = __NR_ioctl, .cond = SC_IN, .arg = 1, .vals = test_ioctls,
	  .nr_vals = ARRAY_SIZE(test_ioctls) },
	{ .nr = __NR_exit_group },
	{ .nr = __NR_getpid },
	{ .nr = __NR_gettid },
	{ .nr = __NR_mmap, .cond = SC_MASK_CLEAR, .arg = 2, .mask = PROT_EXEC },
	{ .nr = __NR_getpriority, .cond = SC_MASK_SET, .arg = 0, .mask = 2 },
	{ .nr = __NR_tgkill, .cond = SC_SELF_PID, .arg = 0 },
	{ .nr = __NR_clone3, .errno_ret = ENOSYS },
	{ .nr = __NR_getpid },		/* a second entry for a syscall is fine */
};

static const struct seccomp_list test_list = {
	.rules = test_rules, .nr = ARRAY_SIZE(test_rules),
};
static const struct seccomp_list *const test_lists[] = { &test_list, NULL };

enum probe {
	PROBE_ALLOWED,		/* everything the list allows: exits 0 */
	PROBE_OTHER_SYSCALL,
	PROBE_OTHER_IOCTL,
	PROBE_EXEC_MMAP,
	PROBE_MASK_NOT_SET,
	PROBE_OTHER_PID,
	PROBE_X32,
};

/* In the child, after the filter: raw syscalls only, exit status = what failed. */
static int probe(enum probe p)
{
	long pid = syscall(__NR_getpid);

	switch (p) {
	case PROBE_ALLOWED:
		if (syscall(__NR_ioctl, -1, FIONREAD, 0) != -1 || errno != EBADF)
			return 2;
		if (syscall(__NR_ioctl, -1, KVM_RUN, 0) != -1 || errno != EBADF)
			return 3;
		if (syscall(__NR_mmap, 0, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == -1)
			return 4;
		if (syscall(__NR_getpriority, PRIO_USER, 0) == -1 && errno != 0)
			return 5;
		if (syscall(__NR_tgkill, pid, syscall(__NR_gettid), 0))
			return 6;
		if (syscall(__NR_clone3, NULL, 0) != -1 || errno != ENOSYS)
			return 7;
		return 0;
	case PROBE_OTHER_SYSCALL:
		syscall(__NR_getppid);
		break;
	case PROBE_OTHER_IOCTL:
		syscall(__NR_ioctl, -1, TCGETS, 0);
		break;
	case PROBE_EXEC_MMAP:
		syscall(__NR_mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case PROBE_MASK_NOT_SET:
		syscall(__NR_getpriority, PRIO_PROCESS, 0);
		break;
	case PROBE_OTHER_PID:
		syscall(__NR_tgkill, 1, 1, 0);
		break;
	case PROBE_X32:
		syscall(0x40000000 | __NR_getpid);
		break;
	}
	return 1;		/* not killed */
}

/* Run @p under the test filter in a child: its wait status. */
static int run_probe(enum probe p)
{
	struct sock_fprog prog;
	int status = -1;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		if (seccomp__build(test_lists, SECCOMP_RET_KILL_PROCESS, 0, getpid(), &prog) ||
		    seccomp__install(&prog))
			_exit(100);
		_exit(probe(p));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static bool killed_by_sigsys(int status)
{
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

TEST(seccomp_filter_allows_its_list)
{
	int status = run_probe(PROBE_ALLOWED);

	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

TEST(seccomp_filter_kills_the_rest)
{
	CHECK(killed_by_sigsys(run_probe(PROBE_OTHER_SYSCALL)));
	CHECK(killed_by_sigsys(run_probe(PROBE_OTHER_IOCTL)));
	CHECK(killed_by_sigsys(run_probe(PROBE_EXEC_MMAP)));
	CHECK(killed_by_sigsys(run_probe(PROBE_MASK_NOT_SET)));
	CHECK(killed_by_sigsys(run_probe(PROBE_OTHER_PID)));
	CHECK(killed_by_sigsys(run_probe(PROBE_X32)));
}

TEST(seccomp_build_rejects_bad_rules)
{
	static const struct seccomp_rule empty_in[] = { { .nr = __NR_ioctl, .cond = SC_IN } };
	static const struct seccomp_list l = { .rules = empty_in, .nr = 1 };
	const struct seccomp_list *const lists[] = { &l, NULL };
	struct sock_fprog prog;

	CHECK_EQ(seccomp__build(lists, SECCOMP_RET_KILL_PROCESS, 0, 1, &prog), -EINVAL);
	CHECK_EQ(seccomp__count(test_lists), 7);	/* clone3 fails, getpid twice */
}

/* Does @lists allow ioctl request @req anywhere? */
static bool allows_ioctl(const struct seccomp_list *const *lists, u32 req)
{
	for (; *lists; lists++)
		for (unsigned int i = 0; i < (*lists)->nr; i++) {
			const struct seccomp_rule *r = &(*lists)->rules[i];

			if (r->nr != __NR_ioctl)
				continue;
			if (r->cond == SC_ANY)
				return true;
			for (unsigned int j = 0; j < r->nr_vals; j++)
				if (r->vals[j] == req)
					return true;
		}
	return false;
}

static bool allows(const struct seccomp_list *const *lists, int nr)
{
	for (; *lists; lists++)
		for (unsigned int i = 0; i < (*lists)->nr; i++)
			if ((*lists)->rules[i].nr == nr && !(*lists)->rules[i].errno_ret)
				return true;
	return false;
}

TEST(seccomp_role_lists)
{
	const struct seccomp_list *const *vcpu = seccomp__role_lists(SECCOMP_ROLE_VCPU);
	const struct seccomp_list *const *io = seccomp__role_lists(SECCOMP_ROLE_IO);
	const struct seccomp_list *const *main = seccomp__role_lists(SECCOMP_ROLE_MAIN);
	const struct seccomp_list *const *spawner = seccomp__role_lists(SECCOMP_ROLE_SPAWNER);

	CHECK(allows_ioctl(vcpu, KVM_RUN));
	CHECK(!allows_ioctl(io, KVM_RUN));
	CHECK(!allows_ioctl(main, KVM_RUN));
	CHECK(!allows_ioctl(vcpu, KVM_CREATE_VM));
	CHECK(!allows_ioctl(vcpu, KVM_SET_USER_MEMORY_REGION));
	for (int r = SECCOMP_ROLE_MAIN; r < SECCOMP_NR_ROLES; r++) {
		const struct seccomp_list *const *l = seccomp__role_lists(r);

		CHECK(!allows(l, __NR_execve));
		CHECK(!allows(l, __NR_execveat));
		CHECK(!allows(l, __NR_ptrace));
		CHECK(!allows(l, __NR_open_by_handle_at));
		CHECK(!allows(l, __NR_clone3));
		CHECK(allows(l, __NR_exit_group));
	}
	/* Only the spawner creates threads, and it holds all an I/O thread needs. */
	CHECK(allows(spawner, __NR_clone));
	CHECK(!allows(vcpu, __NR_clone) && !allows(io, __NR_clone) && !allows(main, __NR_clone));
	for (const struct seccomp_list *const *l = io; *l; l++) {
		bool found = false;

		for (const struct seccomp_list *const *s = spawner; *s; s++)
			found |= *s == *l;
		CHECK(found);
	}
}

/* The README's table of allowed syscalls per role must match the lists. */
TEST(seccomp_readme_counts)
{
	static const struct {
		const char		*row;
		enum seccomp_role	role;
	} rows[] = {
		{ "| vCPU |", SECCOMP_ROLE_VCPU },
		{ "| device I/O |", SECCOMP_ROLE_IO },
		{ "| main |", SECCOMP_ROLE_MAIN },
	};
	char line[256];
	int found = 0;
	FILE *f = fopen("README.md", "r");

	if (!f)
		return;		/* not run from the top of the tree */
	while (fgets(line, sizeof(line), f)) {
		for (unsigned int i = 0; i < ARRAY_SIZE(rows); i++) {
			size_t n = strlen(rows[i].row);

			if (strncmp(line, rows[i].row, n))
				continue;
			found++;
			CHECK_EQ(atoi(line + n), seccomp__count(seccomp__role_lists(rows[i].role)));
		}
	}
	fclose(f);
	CHECK_EQ(found, ARRAY_SIZE(rows));
}

static int io_pipe[2];

static void *io_thread(void *arg)
{
	char c;

	/* getrandom: on the I/O list, not on the vCPU list of the creator. */
	c = getrandom(&c, 1, 0) == 1 ? 'y' : 'n';
	if (write(io_pipe[1], &c, 1) != 1)
		return NULL;
	return NULL;
}

/*
 * A vCPU-confined thread has an I/O thread made for it (by the spawner) that
 * gets the I/O list, not vCPU ∩ I/O; then the vCPU thread itself dies trying
 * an I/O syscall.
 */
TEST(seccomp_threads_get_their_role)
{
	struct kvm_config cfg = { 0 };
	int status = -1;
	char c = 0;
	pid_t pid;

	if (pipe(io_pipe))
		return;
	pid = fork();
	if (pid == 0) {
		pthread_t t;

		if (seccomp__setup(&cfg) || seccomp__enter(SECCOMP_ROLE_VCPU))
			_exit(100);
		if (seccomp__thread_create(&t, SECCOMP_ROLE_VCPU, io_thread, NULL) != -EPERM)
			_exit(101);
		if (seccomp__thread_create(&t, SECCOMP_ROLE_IO, io_thread, NULL))
			_exit(102);
		pthread_join(t, NULL);
		getrandom(&c, 1, 0);
		_exit(0);
	}
	close(io_pipe[1]);
	if (read(io_pipe[0], &c, 1) != 1)
		c = 0;
	close(io_pipe[0]);
	waitpid(pid, &status, 0);
	CHECK_EQ(c, 'y');
	CHECK(killed_by_sigsys(status));
}

/* What child @pid wrote to the pipe @err (its stderr), then its status. */
static int child_wait(pid_t pid, int err[2], char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;
	int status = -1;

	close(err[1]);
	while (n < len - 1 && (r = read(err[0], buf + n, len - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	close(err[0]);
	waitpid(pid, &status, 0);
	return status;
}

/*
 * Fork a child whose stderr goes to the pipe @err and which runs confined
 * to @role under @cfg: 0 in the child, its pid in the parent (-1 on error).
 */
static pid_t confined_fork(const struct kvm_config *cfg, enum seccomp_role role, int err[2])
{
	pid_t pid;

	if (pipe(err))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(err[1], STDERR_FILENO);
		if (seccomp__setup(cfg) || seccomp__enter(role))
			_exit(100);
	}
	return pid;
}

/* --debug-seccomp: a syscall outside the list is reported, then done. */
TEST(seccomp_trace_mode_reports_and_goes_on)
{
	struct kvm_config cfg = { .debug_seccomp = true };
	int err[2], status = -1;
	char buf[512];
	pid_t pid;

	pid = confined_fork(&cfg, SECCOMP_ROLE_VCPU, err);
	if (pid < 0)
		return;
	if (pid == 0) {
		/* getppid is on no list: trapped, reported, then really done. */
		_exit(syscall(__NR_getppid) == getppid() ? 0 : 1);
	}
	status = child_wait(pid, err, buf, sizeof(buf));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(strstr(buf, "a vcpu thread made syscall 110") != NULL);
}

/*
 * On: a syscall outside the list stops lkvm with one line naming it, the
 * terminal restored (a pty in raw mode here), killed by SIGSYS.
 */
TEST(seccomp_violation_restores_the_terminal)
{
	struct kvm_config cfg = { 0 };
	struct termios before, after;
	struct term t = { 0 };
	int err[2], status = -1, master, slave;
	char buf[512];
	pid_t pid;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master) || pipe(err))
		return;
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	CHECK(slave >= 0 && !tcgetattr(slave, &before));
	CHECK(before.c_lflag & ICANON);
	pid = fork();
	if (pid == 0) {
		dup2(err[1], STDERR_FILENO);
		t.in_fd = slave;
		t.is_tty = true;
		term__start(&t);
		if (!t.is_tty || tcgetattr(slave, &after) || (after.c_lflag & ICANON))
			_exit(101);
		if (seccomp__setup(&cfg) || seccomp__enter(SECCOMP_ROLE_IO))
			_exit(100);
		syscall(__NR_getppid);		/* on no list */
		_exit(0);
	}
	status = child_wait(pid, err, buf, sizeof(buf));
	CHECK(killed_by_sigsys(status));
	CHECK(strstr(buf, "lkvm: error: seccomp: a io thread made system call 110, "
		      "not in its list; stopping\n") != NULL);
	CHECK(!tcgetattr(slave, &after));
	CHECK(after.c_lflag & ICANON);
	CHECK(after.c_lflag & ECHO);
	close(slave);
	close(master);
}

/* A SIGSYS that seccomp did not send still ends lkvm, but names no syscall. */
TEST(seccomp_foreign_sigsys_is_not_a_violation)
{
	struct kvm_config cfg = { 0 };
	int err[2], status = -1;
	char buf[512];
	pid_t pid;

	pid = confined_fork(&cfg, SECCOMP_ROLE_VCPU, err);
	if (pid < 0)
		return;
	if (pid == 0) {
		raise(SIGSYS);			/* tgkill to itself: on the list */
		_exit(0);
	}
	status = child_wait(pid, err, buf, sizeof(buf));
	CHECK(killed_by_sigsys(status));
	CHECK(!strstr(buf, "seccomp:"));
}

/* io_uring works outside seccomp: the disk ring takes only its own opcodes. */
TEST(seccomp_uring_takes_only_its_ops)
{
	static const u8 ops[] = { IORING_OP_READV, IORING_OP_NOP };
	static const char path[] = "/dev/null";
	static u8 probe_buf[sizeof(struct io_uring_probe) + 16 * sizeof(struct io_uring_probe_op)];
	struct io_uring_cqe cqe;
	struct io_uring_sqe *sqe;
	struct uring u;
	char buf[16];
	struct iovec iov = { buf, sizeof(buf) };
	int fd, ret, got = 0;

	ret = uring__init_restricted(&u, 8, ops, ARRAY_SIZE(ops));
	if (ret) {
		printf("    (io_uring unavailable here: %s; skipped)\n", strerror(-ret));
		return;
	}
	fd = open("/dev/zero", O_RDONLY);
	sqe = uring__get_sqe(&u);
	uring__prep_rw(sqe, IORING_OP_READV, fd, &iov, 1, 0, 1);
	sqe = uring__get_sqe(&u);
	uring__prep_rw(sqe, IORING_OP_WRITEV, fd, &iov, 1, 0, 2);
	sqe = uring__get_sqe(&u);
	sqe->opcode = IORING_OP_OPENAT;
	sqe->fd = AT_FDCWD;
	sqe->addr = (u64)(unsigned long)path;
	sqe->user_data = 3;
	/* A refused SQE ends its submit call: the rest goes with the next. */
	for (int n = 0, tries = 0; n < 3 && tries < 3; tries++) {
		ret = uring__submit(&u);
		CHECK(ret > 0);
		n += ret > 0 ? ret : 0;
	}
	while (got < 3) {
		CHECK_EQ(uring__wait(&u), 0);
		while (uring__reap(&u, &cqe)) {
			CHECK_EQ(cqe.res, cqe.user_data == 1 ? (int)sizeof(buf) : -EACCES);
			got++;
		}
	}
	/* No register calls either. */
	CHECK_EQ(syscall(__NR_io_uring_register, u.fd, IORING_REGISTER_PROBE, probe_buf, 16), -1);
	CHECK_EQ(errno, EACCES);
	uring__exit(&u);
	close(fd);
}
