/* The host side of the guest console: raw mode, escape keys, input pumping. */
#include "kvm/term.h"
#include "kvm/kvm.h"
#include "kvm/mainloop.h"

#include <errno.h>
#include <execinfo.h>
#include <stdio.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#define TERM_ESCAPE	0x01	/* Ctrl-A */
#define TERM_FILE_CHUNKS	64	/* file chunks read per turn of the loop */

/*
 * The saved terminal state is process-wide by nature: atexit() and fatal
 * signal handlers must be able to restore it whatever struct holds it.
 */
static struct {
	int		fd;
	bool		saved;
	struct termios	orig;
} term_saved = { .fd = -1 };

void term__restore(void)
{
	if (term_saved.saved)
		tcsetattr(term_saved.fd, TCSANOW, &term_saved.orig);
}

static void term__fatal_signal(int sig)
{
	void *frames[32];
	int n = backtrace(frames, 32);

	term__restore();
	dprintf(STDERR_FILENO, "lkvm: fatal signal %d; backtrace:\n", sig);
	backtrace_symbols_fd(frames, n, STDERR_FILENO);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int term__set_raw(int fd)
{
	struct termios raw;

	if (tcgetattr(fd, &term_saved.orig) < 0)
		return -errno;
	term_saved.fd = fd;
	term_saved.saved = true;
	atexit(term__restore);
	signal(SIGSEGV, term__fatal_signal);
	signal(SIGABRT, term__fatal_signal);
	signal(SIGBUS, term__fatal_signal);
	raw = term_saved.orig;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return -errno;
	return 0;
}

void term__start(struct term *t)
{
	if (t->is_tty && term__set_raw(t->in_fd) < 0)
		t->is_tty = false;
}

void term__attach(struct term *t, term_rx_fn rx, void *opaque)
{
	t->rx = rx;
	t->rx_opaque = opaque;
}

void term__attach_sysrq(struct term *t, void (*fn)(void *opaque, u8 key))
{
	t->sysrq = fn;
}

/* A closed or broken stdout must not stop the guest. Output lock held. */
static void term__out(int *fd, const void *buf, size_t len)
{
	if (*fd >= 0 && len && write_in_full(*fd, buf, len) < 0)
		*fd = -1;
}

/*
 * Before INIT_SYNC the guest's console carries the init's messages (or
 * the kernel's, if told so): they go to stderr as they are, less the
 * marker. Returns how many bytes of @buf came before the first frame.
 */
static size_t term__find_sync(struct term *t, const u8 *buf, size_t len)
{
	u8 plain[256];
	size_t n = 0, i;

	for (i = 0; i < len && !t->synced; i++) {
		u8 c = buf[i];

		if (c == (u8)INIT_SYNC[t->sync_have]) {
			if (++t->sync_have == INIT_SYNC_LEN)
				__atomic_store_n(&t->synced, true, __ATOMIC_RELEASE);
			continue;
		}
		term__out(&t->err_fd, plain, n);
		term__out(&t->err_fd, INIT_SYNC, t->sync_have);
		n = 0;
		t->sync_have = 0;
		if (c == (u8)INIT_SYNC[0]) {
			t->sync_have = 1;
			continue;
		}
		plain[n++] = c;
		if (n == sizeof(plain)) {
			term__out(&t->err_fd, plain, n);
			n = 0;
		}
	}
	term__out(&t->err_fd, plain, n);
	if (t->synced)
		term__kick(t);		/* input waited for this */
	return i;
}

static void term__write_framed(struct term *t, const u8 *buf, size_t len)
{
	const u8 *p = buf, *end = buf + len, *data;
	size_t n;
	int type;

	if (!t->synced)
		p += term__find_sync(t, buf, len);
	while ((type = frame_dec__next(&t->dec, &p, end, &data, &n)) >= 0) {
		if (type == FRAME_STDOUT)
			term__out(&t->out_fd, data, n);
		else if (type == FRAME_STDERR)
			term__out(&t->err_fd, data, n);
	}
}

void term__write(struct term *t, const void *buf, size_t len)
{
	pthread_mutex_lock(&t->out_lock);
	if (t->framed)
		term__write_framed(t, buf, len);
	else
		term__out(&t->out_fd, buf, len);
	pthread_mutex_unlock(&t->out_lock);
}

void term__kick(struct term *t)
{
	u64 one = 1;

	if (write(t->kick_fd, &one, sizeof(one)) < 0)
		return;
}

/* Filter Ctrl-A sequences on a TTY; returns false if the user asked to quit. */
static bool term__filter(struct term *t, const u8 *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		u8 c = in[i];

		if (t->is_tty && t->saw_escape) {
			t->saw_escape = false;
			if (c == 'x' || c == 'X')
				return false;
			if (c != TERM_ESCAPE)
				t->pending[t->nr_pending++] = TERM_ESCAPE;
		} else if (t->is_tty && c == TERM_ESCAPE) {
			t->saw_escape = true;
			continue;
		}
		t->pending[t->nr_pending++] = c;
	}
	return true;
}

/* Offer pending input to the console device; keep what it cannot take yet. */
static void term__flush_pending(struct term *t)
{
	size_t n;

	if (!t->rx || !t->nr_pending)
		return;
	if (t->framed && !__atomic_load_n(&t->synced, __ATOMIC_ACQUIRE))
		return;
	n = t->rx(t->rx_opaque, t->pending, t->nr_pending);
	memmove(t->pending, t->pending + n, t->nr_pending - n);
	t->nr_pending -= n;
}

/* Framed input: a FRAME_STDIN frame of @len bytes, or FRAME_EOF if @len is 0. */
static void term__frame_input(struct term *t, const u8 *buf, size_t len)
{
	frame__header(t->pending + t->nr_pending, len ? FRAME_STDIN : FRAME_EOF, len);
	memcpy(t->pending + t->nr_pending + FRAME_HDR, buf, len);
	t->nr_pending += FRAME_HDR + len;
}

static void term__read_input(struct term *t)
{
	u8 buf[TERM_PENDING_MAX / 2];
	/* Room: a frame header, or a held Ctrl-A that term__filter() puts back. */
	size_t max = t->framed ? sizeof(buf) - FRAME_HDR : sizeof(buf) - 1;
	ssize_t n = read(t->in_fd, buf, max);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		t->in_eof = true;
		if (t->in_pollable)
			mainloop__remove(t->kvm->loop, t->in_fd);
		if (t->framed)
			term__frame_input(t, NULL, 0);
		term__flush_pending(t);
		return;
	}
	if (t->framed) {
		term__frame_input(t, buf, n);
		term__flush_pending(t);
		return;
	}
	if (!term__filter(t, buf, n)) {
		kvm__request_stop(t->kvm, KVM_STOP_SIGNAL, 0);
		return;
	}
	term__flush_pending(t);
}

/*
 * Read more only while the device keeps up; otherwise wait for its kick.
 * Unpollable input (a regular file) is read chunk after chunk while the
 * device takes each whole; one it cannot take stays pending, and the
 * device kicks once the guest has room (virtio-console kicks only then).
 */
static void term__pump(struct term *t)
{
	bool room;

	term__flush_pending(t);
	if (t->in_eof)
		return;
	if (!t->in_pollable) {
		for (int i = 0; !t->nr_pending && !t->in_eof; i++) {
			if (i == TERM_FILE_CHUNKS) {
				term__kick(t);		/* more later: let the loop breathe */
				break;
			}
			term__read_input(t);
		}
		return;
	}
	room = t->nr_pending <= TERM_PENDING_MAX / 2;
	if (room == t->in_parked) {
		t->in_parked = !room;
		mainloop__modify(t->kvm->loop, t->in_fd, room ? EPOLLIN : 0);
	}
}

static void term__on_input(void *opaque, u32 events)
{
	struct term *t = opaque;

	/*
	 * Parked input wakes only on a hang-up, when pending has no room for
	 * a read: what is left in the pipe is then read on demand, as from a
	 * file, instead of the hang-up waking the loop again and again.
	 */
	if (t->in_parked) {
		mainloop__remove(t->kvm->loop, t->in_fd);
		t->in_pollable = false;
		t->in_parked = false;
		term__pump(t);
		return;
	}
	term__read_input(t);
	term__pump(t);
}

static void term__on_kick(void *opaque, u32 events)
{
	struct term *t = opaque;
	u64 v;

	if (read(t->kick_fd, &v, sizeof(v)) < 0)
		v = 0;
	term__pump(t);
}

bool term__fd_size(int fd, u16 *rows, u16 *cols)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col)
		return false;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return true;
}

bool term__size(struct term *t, u16 *rows, u16 *cols)
{
	return t->is_tty && term__fd_size(t->in_fd, rows, cols);
}

void term__attach_resize(struct term *t, void (*fn)(void *opaque, u16 rows, u16 cols))
{
	t->resize = fn;
}

/* SIGWINCH: the terminal was resized; the console tells the guest. */
static void term__on_resize(struct term *t)
{
	u16 rows, cols;

	if (t->resize && term__size(t, &rows, &cols))
		t->resize(t->rx_opaque, rows, cols);
}

/*
 * SIGINT, SIGTERM and SIGHUP arrive here (blocked elsewhere): stop the VM.
 * SIGWINCH too: a resize.
 */
static void term__on_signal(void *opaque, u32 events)
{
	struct term *t = opaque;
	struct signalfd_siginfo si;

	if (read(t->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGWINCH) {
		term__on_resize(t);
		return;
	}
	pr_info("stopping the guest on signal %u", si.ssi_signo);
	kvm__request_stop(t->kvm, KVM_STOP_SIGNAL, 128 + si.ssi_signo);
}

/* Block the stop signals and SIGWINCH in every thread and read them from a signalfd. */
static int term__signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

void term__set_framed(struct term *t, int err_fd)
{
	t->framed = true;
	t->is_tty = false;
	t->err_fd = err_fd;
}

int term__init(struct term *t, struct kvm *kvm, int in_fd, int out_fd)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->kvm = kvm;
	t->in_fd = in_fd;
	t->out_fd = out_fd;
	pthread_mutex_init(&t->out_lock, NULL);
	t->is_tty = isatty(in_fd);
	t->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->signal_fd = term__signalfd();
	if (t->kick_fd < 0 || t->signal_fd < 0)
		return -errno;
	ret = mainloop__add(kvm->loop, t->kick_fd, EPOLLIN, term__on_kick, t);
	if (!ret)
		ret = mainloop__add(kvm->loop, t->signal_fd, EPOLLIN, term__on_signal, t);
	if (ret)
		return ret;
	/* Regular files (and /dev/null) cannot be polled: read them on demand. */
	t->in_pollable = !mainloop__add(kvm->loop, in_fd, EPOLLIN, term__on_input, t);
	if (!t->in_pollable)
		term__kick(t);
	return 0;
}
