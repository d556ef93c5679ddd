/*
 * Running the shell or the command, and waiting for it.
 *
 * On a terminal (lkvm run, and lkvm sandbox on a terminal): the init makes
 * itself a session leader with the console as its controlling terminal and
 * runs the program in the foreground process group. The init, not the
 * program, is the controlling process, so the program's exit does not hang
 * up the console and throw away output not yet sent.
 *
 * Framed (lkvm sandbox with pipes or files): the console is raw and the
 * program's stdin, stdout and stderr are pipes; the init relays them as
 * frames over the console (include/kvm/init-proto.h) until the program
 * exits, then takes what is left in its stdout and stderr.
 */
#include "init.h"

#include <asm-generic/errno.h>
#include <asm/poll.h>
#include <asm/termios.h>
#include <linux/fcntl.h>

#define DEFAULT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RELAY_CHUNK	16384
#define PATH_LEN_MAX	4096

static const char *env_get(const struct init_conf *c, const char *name)
{
	size_t n = str_len(name);

	for (int i = 0; i < c->envc; i++) {
		const char *e = c->envp[i];
		size_t j = 0;

		while (j < n && e[j] == name[j])
			j++;
		if (j == n && e[j] == '=')
			return e + n + 1;
	}
	return NULL;
}

static bool has_slash(const char *s)
{
	for (; *s; s++)
		if (*s == '/')
			return true;
	return false;
}

/* execvp() as a shell does it: 127 if not found, 126 if not runnable. */
void exec_command(const struct init_conf *c, const char *const *argv)
{
	const char *name = argv[0], *path = env_get(c, "PATH");
	char buf[PATH_LEN_MAX];
	int err = -ENOENT;

	if (has_slash(name)) {
		err = sys_execve(name, argv, c->envp);
	} else {
		for (path = path ? path : DEFAULT_PATH; ; path++) {
			const char *end = path;
			size_t n;
			int r;

			while (*end && *end != ':')
				end++;
			n = end - path;
			if (n + str_len(name) + 3 <= sizeof(buf)) {
				memcpy(buf, n ? path : ".", n ? n : 1);
				buf[n ? n : 1] = '/';
				str_cpy(buf + (n ? n : 1) + 1, name);
				r = sys_execve(buf, argv, c->envp);
				if (r != -ENOENT && r != -ENOTDIR && err != -EACCES)
					err = r;
			}
			path = end;
			if (!*path)
				break;
		}
	}
	if (err == -ENOENT && !has_slash(name)) {
		msg("%s: command not found", name);
		sys_exit(127);
	}
	msg("%s: %s", name, err_name(err));
	sys_exit(err == -ENOENT ? 127 : 126);
}

/* In the child: what PID 1 ignores and blocks, the program must not. */
static void child_reset(const struct init_conf *c)
{
	struct k_sigaction dfl = { .handler = SIG_DFL_HANDLER };
	uint64_t none = 0;

	sys_sigaction(SIGPIPE, &dfl, NULL);
	sys_sigaction(SIGTTOU, &dfl, NULL);
	sys_sigaction(SIGTTIN, &dfl, NULL);
	sys_sigprocmask(SIG_SETMASK, &none, NULL);
	con_fd = 2;
	con_framed = false;
	if (!c->cwd || sys_chdir(c->cwd) < 0)
		sys_chdir("/");
}

static int exit_status(int st)
{
	if (W_EXITED(st))
		return W_STATUS(st);
	if (W_SIGNALED(st))
		return 128 + W_TERMSIG(st);
	return 125;
}

/* Reap children; true once @pid is among them (its status in *status). */
static bool reap(int pid, int *status, bool block)
{
	int st, r;

	for (;;) {
		r = sys_wait4(-1, &st, block ? 0 : WNOHANG);
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			if (r == -ECHILD) {
				*status = 125;
				return true;
			}
			return false;
		}
		if (r == pid) {
			*status = exit_status(st);
			return true;
		}
	}
}

static void console_path(char *buf, const struct init_conf *c)
{
	str_cpy(str_cpy(buf, "/dev/"), c->console);
}

int run_on_tty(const struct init_conf *c, const char *const *argv)
{
	struct winsize ws = { .ws_row = c->rows, .ws_col = c->cols };
	char path[64];
	int tty, pid, status;

	if (str_len(c->console) > 32)
		fatal("bad console %s", c->console);
	console_path(path, c);
	sys_setsid();
	tty = sys_open(path, O_RDWR, 0);
	if (tty < 0)
		fatal("cannot open %s: %s", path, err_name(tty));
	sys_ioctl(tty, TIOCSCTTY, (void *)0);
	if (c->rows > 0 && c->cols > 0)
		sys_ioctl(tty, TIOCSWINSZ, &ws);
	pid = sys_fork();
	if (pid < 0)
		fatal("fork: %s", err_name(pid));
	if (!pid) {
		pid = sys_getpid();
		sys_setpgid(0, 0);
		sys_ioctl(tty, TIOCSPGRP, &pid);
		for (int fd = 0; fd < 3; fd++)
			sys_dup2(tty, fd);
		if (tty > 2)
			sys_close(tty);
		child_reset(c);
		exec_command(c, argv);
	}
	sys_setpgid(pid, pid);
	sys_ioctl(tty, TIOCSPGRP, &pid);
	while (!reap(pid, &status, true))
		;
	return status;
}

/* ---- framed stdio ---- */

struct relay {
	int			con;
	int			in_w, out_r, err_r;	/* the program's pipes; -1 once closed */
	int			sfd;			/* signalfd for SIGCHLD, or -1 */
	int			pid;
	bool			eof;			/* lkvm sent FRAME_EOF */
	struct frame_dec	dec;
	uint8_t			in[65536];		/* stdin waiting for the program */
	size_t			in_len;
};

static struct relay relay;

void console_raw(int fd)
{
	struct termios t;

	if (sys_ioctl(fd, TCGETS, &t) < 0)
		return;
	t.c_iflag = 0;
	t.c_oflag = 0;
	t.c_lflag = 0;
	t.c_cflag = (t.c_cflag & ~(CSIZE | PARENB | CSTOPB)) | CS8 | CREAD | CLOCAL;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	sys_ioctl(fd, TCSETS, &t);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		sys_close(*fd);
	*fd = -1;
}

static void set_nonblock(int fd)
{
	int fl = sys_fcntl(fd, F_GETFL, 0);

	if (fl >= 0)
		sys_fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Frames from lkvm: stdin bytes for the program, or its end. */
static void relay_input(struct relay *r)
{
	static uint8_t raw[4096];
	const uint8_t *p = raw, *end, *data;
	long n = sys_read(r->con, raw, sizeof(raw));
	size_t len;
	int type;

	if (n == -EINTR || n == -EAGAIN)
		return;
	if (n <= 0) {
		r->eof = true;
		return;
	}
	end = raw + n;
	while ((type = frame_dec__next(&r->dec, &p, end, &data, &len)) >= 0) {
		if (type == FRAME_EOF)
			r->eof = true;
		if (type != FRAME_STDIN || r->eof || r->in_w < 0)
			continue;
		memcpy(r->in + r->in_len, data, len);	/* room: see relay() */
		r->in_len += len;
	}
}

static void relay_stdin(struct relay *r)
{
	long n = sys_write(r->in_w, r->in, r->in_len);

	if (n == -EAGAIN || n == -EINTR)
		return;
	if (n < 0) {		/* EPIPE: the program closed its stdin */
		close_fd(&r->in_w);
		r->in_len = 0;
		return;
	}
	memmove(r->in, r->in + n, r->in_len - n);
	r->in_len -= n;
}

/* One read of the program's stdout or stderr, sent as a frame: 1, 0 if none, -1 at EOF. */
static int relay_output(struct relay *r, int *fd, enum frame_type type)
{
	static uint8_t buf[FRAME_HDR + RELAY_CHUNK];
	long n = sys_read(*fd, buf + FRAME_HDR, RELAY_CHUNK);

	if (n == -EAGAIN || n == -EINTR)
		return 0;
	if (n <= 0) {
		close_fd(fd);
		return -1;
	}
	frame__header(buf, type, n);
	write_all(r->con, buf, n + FRAME_HDR);
	return 1;
}

static int relay_poll(struct relay *r, struct pollfd *pfd, int *idx)
{
	int n = 0;

	for (int i = 0; i < 5; i++)
		idx[i] = -1;
	if (!r->eof && sizeof(r->in) - r->in_len >= 4096) {
		pfd[n] = (struct pollfd){ .fd = r->con, .events = POLLIN };
		idx[0] = n++;
	}
	if (r->in_w >= 0 && r->in_len) {
		pfd[n] = (struct pollfd){ .fd = r->in_w, .events = POLLOUT };
		idx[1] = n++;
	}
	if (r->out_r >= 0) {
		pfd[n] = (struct pollfd){ .fd = r->out_r, .events = POLLIN };
		idx[2] = n++;
	}
	if (r->err_r >= 0) {
		pfd[n] = (struct pollfd){ .fd = r->err_r, .events = POLLIN };
		idx[3] = n++;
	}
	if (r->sfd >= 0) {
		pfd[n] = (struct pollfd){ .fd = r->sfd, .events = POLLIN };
		idx[4] = n++;
	}
	return sys_poll(pfd, n, r->sfd >= 0 ? -1 : 50);
}

static bool ready(const struct pollfd *pfd, int i)
{
	return i >= 0 && pfd[i].revents;
}

static int relay_run(struct relay *r)
{
	struct pollfd pfd[5];
	int idx[5], status = 125;
	uint8_t siginfo[128];

	for (;;) {
		if (relay_poll(r, pfd, idx) < 0)
			continue;
		if (ready(pfd, idx[0]))
			relay_input(r);
		if (ready(pfd, idx[1]) || (r->in_w >= 0 && r->in_len))
			relay_stdin(r);
		if (r->eof && !r->in_len)
			close_fd(&r->in_w);
		if (ready(pfd, idx[2]))
			relay_output(r, &r->out_r, FRAME_STDOUT);
		if (ready(pfd, idx[3]))
			relay_output(r, &r->err_r, FRAME_STDERR);
		if (ready(pfd, idx[4]))
			sys_read(r->sfd, siginfo, sizeof(siginfo));
		if ((r->sfd < 0 || ready(pfd, idx[4])) && reap(r->pid, &status, false))
			break;
	}
	/* What the program wrote before it exited is in the pipes now. */
	set_nonblock(r->out_r);
	set_nonblock(r->err_r);
	while (r->out_r >= 0 && relay_output(r, &r->out_r, FRAME_STDOUT) > 0)
		;
	while (r->err_r >= 0 && relay_output(r, &r->err_r, FRAME_STDERR) > 0)
		;
	return status;
}

static void make_pipe(int *fds)
{
	int r = sys_pipe2(fds, O_CLOEXEC);

	if (r < 0)
		fatal("pipe: %s", err_name(r));
}

int run_framed(const struct init_conf *c)
{
	struct relay *r = &relay;
	uint64_t chld = SIGBIT(SIGCHLD);
	int in[2], out[2], err[2];

	console_raw(con_fd);
	write_all(con_fd, INIT_SYNC, INIT_SYNC_LEN);
	con_framed = true;
	make_pipe(in);
	make_pipe(out);
	make_pipe(err);
	sys_sigprocmask(SIG_BLOCK, &chld, NULL);
	r->sfd = sys_signalfd(-1, &chld, O_NONBLOCK | O_CLOEXEC);
	r->pid = sys_fork();
	if (r->pid < 0)
		fatal("fork: %s", err_name(r->pid));
	if (!r->pid) {
		sys_setsid();
		sys_dup2(in[0], 0);
		sys_dup2(out[1], 1);
		sys_dup2(err[1], 2);
		child_reset(c);
		exec_command(c, c->argv);
	}
	sys_close(in[0]);
	sys_close(out[1]);
	sys_close(err[1]);
	r->con = con_fd;
	r->in_w = in[1];
	r->out_r = out[0];
	r->err_r = err[0];
	set_nonblock(r->in_w);
	return relay_run(r);
}
