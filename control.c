/*
 * The control socket server inside lkvm run: answers lkvm list/stop/pause/
 * resume/stat/debug. Runs on the main thread's event loop. Every message is
 * length-checked; garbage gets an error reply and the guest runs on.
 */
#include "kvm/control.h"
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"
#include "kvm/mainloop.h"
#include "kvm/term.h"
#include "virtio/virtio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CTL_MAX_CLIENTS		16

struct control {
	struct kvm		*kvm;
	int			listen_fd;
	int			grace_fd;	/* timerfd: force the stop when it fires */
	char			path[108];
	time_t			started;
	int			clients[CTL_MAX_CLIENTS];
	bool			waiting[CTL_MAX_CLIENTS];	/* wants CTL_STOPPED */
	struct ctl_slot {
		struct control	*c;
		int		index;
	}			slots[CTL_MAX_CLIENTS];
	u8			buf[sizeof(struct ctl_hdr) + CTL_MAX_PAYLOAD];
	u8			msg[sizeof(struct ctl_hdr) + CTL_MAX_PAYLOAD];
};

/* A growing text reply. */
struct reply {
	char	*text;
	size_t	len;
	size_t	cap;
};

static void reply__printf(struct reply *r, const char *fmt, ...) __printf(2, 3);
static void reply__printf(struct reply *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(r->text + r->len, r->cap - r->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (r->len + n < r->cap) {
			r->len += n;
			return;
		}
		if (r->len + n + 1 > CTL_MAX_PAYLOAD - sizeof(s32))
			return;
		r->cap = min_t(size_t, (r->len + n + 1) * 2, CTL_MAX_PAYLOAD - sizeof(s32));
		r->text = realloc(r->text, r->cap);
		if (!r->text)
			return;
	}
}

static void control__send(struct control *c, int fd, u16 type, s32 status,
			  const char *text, size_t len)
{
	u8 *payload = malloc(sizeof(status) + len);
	size_t n;

	if (!payload)
		return;
	memcpy(payload, &status, sizeof(status));
	if (len)
		memcpy(payload + sizeof(status), text, len);
	n = ctl__build(c->buf, type | CTL_REPLY, payload, sizeof(status) + len);
	if (send(fd, c->buf, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		pr_debug("control: reply lost: %s", strerror(errno));
	free(payload);
}

static const char *control__state(struct kvm *kvm)
{
	return kvm->paused ? "paused" : "running";
}

static void control__info(struct control *c, struct reply *r)
{
	struct kvm *kvm = c->kvm;

	reply__printf(r, "name=%s\npid=%d\nstate=%s\ncpus=%d\nmem_mib=%llu\n"
		      "started=%lld\nuptime_ms=%llu\nkernel=%s\n",
		      kvm->cfg->name, (int)getpid(), control__state(kvm), kvm->nr_cpus,
		      (unsigned long long)kvm->cfg->ram_mib, (long long)c->started,
		      (unsigned long long)((util__now_ns() - kvm->start_ns) / 1000000),
		      kvm->cfg->kernel_path);
}

static void control__stat(struct control *c, struct reply *r)
{
	struct kvm *kvm = c->kvm;

	for (int i = 0; i < kvm->nr_cpus; i++) {
		struct kvm_cpu_stats *s = &kvm->cpus[i]->stats;

		reply__printf(r, "vcpu%d exits=%llu io=%llu mmio=%llu\n", i,
			      (unsigned long long)s->exits, (unsigned long long)s->io,
			      (unsigned long long)s->mmio);
	}
	for (int i = 0; i < kvm->nr_vdevs; i++) {
		struct virtio_dev *v = kvm->vdevs[i];

		reply__printf(r, "virtio-%s.%d kicks=%llu requests=%llu interrupts=%llu "
			      "bad_chains=%llu bytes=%llu\n", v->ops->name, i,
			      (unsigned long long)v->stats.kicks,
			      (unsigned long long)v->stats.requests,
			      (unsigned long long)v->stats.interrupts,
			      (unsigned long long)v->stats.bad_chains,
			      (unsigned long long)v->stats.bytes);
	}
}

/* Registers and a stack snippet of every vCPU, taken while they are parked. */
static int control__debug(struct control *c, struct reply *r)
{
	struct kvm *kvm = c->kvm;
	bool was_paused = kvm->paused;
	int fd = memfd_create("lkvm-debug", MFD_CLOEXEC);
	char buf[4096];
	ssize_t n;
	int ret;

	if (fd < 0)
		return -errno;
	ret = kvm_cpu__pause_all(kvm);
	if (!ret) {
		for (int i = 0; i < kvm->nr_cpus; i++)
			kvm_cpu__dump(kvm->cpus[i], fd);
		if (!was_paused)
			kvm_cpu__resume_all(kvm);
	}
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = 0;
		reply__printf(r, "%s", buf);
	}
	close(fd);
	return ret;
}

static int control__sysrq(struct control *c, const u8 *p, u32 len)
{
	struct term *t = c->kvm->term;

	if (len != 1 || p[0] < 0x20 || p[0] > 0x7e)
		return -EINVAL;
	if (!t || !t->sysrq)
		return -EOPNOTSUPP;
	t->sysrq(t->rx_opaque, p[0]);
	return 0;
}

static int control__stop(struct control *c, int slot, const u8 *p, u32 len)
{
	struct kvm *kvm = c->kvm;
	struct ctl_stop req;
	struct itimerspec its = { 0 };

	if (len != sizeof(req))
		return -EINVAL;
	memcpy(&req, p, sizeof(req));
	c->waiting[slot] = true;
	if (req.force || !kvm->power_button || kvm->power_button(kvm) < 0) {
		kvm__request_stop(kvm, KVM_STOP_FORCED, KVM_EXIT_STATUS_FORCED);
		return 0;
	}
	/* An orderly stop: the guest got its power button; force it after the grace. */
	its.it_value.tv_sec = req.grace_ms / 1000;
	its.it_value.tv_nsec = (req.grace_ms % 1000) * 1000000L + 1;
	timerfd_settime(c->grace_fd, 0, &its, NULL);
	return 0;
}

static void control__handle(struct control *c, int slot, const u8 *msg, size_t n)
{
	int fd = c->clients[slot];
	struct reply r = { 0 };
	struct ctl_hdr hdr;
	const u8 *p;
	const char *why;
	s32 status = 0;

	if (ctl__parse(msg, n, &hdr, &p, &why)) {
		pr_debug("control: rejected a message: %s", why);
		control__send(c, fd, n >= sizeof(hdr) ? ((const struct ctl_hdr *)msg)->type & 0x7fff : 0,
			      -EINVAL, why, strlen(why));
		return;
	}
	switch (hdr.type) {
	case CTL_INFO:		control__info(c, &r); break;
	case CTL_STAT:		control__stat(c, &r); break;
	case CTL_DEBUG:		status = control__debug(c, &r); break;
	case CTL_PAUSE:		status = kvm_cpu__pause_all(c->kvm); break;
	case CTL_RESUME:	kvm_cpu__resume_all(c->kvm); break;
	case CTL_SYSRQ:		status = control__sysrq(c, p, hdr.len); break;
	case CTL_STOP:		status = control__stop(c, slot, p, hdr.len); break;
	default:		status = -EINVAL; break;
	}
	control__send(c, fd, hdr.type, status, r.text, r.len);
	free(r.text);
}

static void control__drop(struct control *c, int slot)
{
	mainloop__remove(c->kvm->loop, c->clients[slot]);
	close(c->clients[slot]);
	c->clients[slot] = -1;
	c->waiting[slot] = false;
}

static void control__on_client(void *opaque, u32 events)
{
	struct ctl_slot *sl = opaque;
	struct control *c = sl->c;
	int slot = sl->index;
	ssize_t n;

	n = recv(c->clients[slot], c->buf, sizeof(c->buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		control__drop(c, slot);
		return;
	}
	if ((size_t)n > sizeof(c->buf)) {
		control__send(c, c->clients[slot], 0, -EMSGSIZE, NULL, 0);
		return;
	}
	memcpy(c->msg, c->buf, n);
	control__handle(c, slot, c->msg, n);
}

static void control__on_accept(void *opaque, u32 events)
{
	struct control *c = opaque;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	int slot;

	if (fd < 0)
		return;
	/* The socket's mode keeps others out; the peer's uid is checked too. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != geteuid() && cred.uid != 0)) {
		close(fd);
		return;
	}
	for (slot = 0; slot < CTL_MAX_CLIENTS && c->clients[slot] >= 0; slot++)
		;
	if (slot == CTL_MAX_CLIENTS || mainloop__add(c->kvm->loop, fd, EPOLLIN,
						     control__on_client, &c->slots[slot])) {
		close(fd);
		return;
	}
	c->clients[slot] = fd;
}

static void control__on_grace(void *opaque, u32 events)
{
	struct control *c = opaque;
	u64 v;

	if (read(c->grace_fd, &v, sizeof(v)) < 0)
		return;
	pr_info("guest %s did not power off in time; stopping it", c->kvm->cfg->name);
	kvm__request_stop(c->kvm, KVM_STOP_FORCED, KVM_EXIT_STATUS_FORCED);
}

/* Claim @path: refuse if a live guest answers there, remove a dead one's socket. */
static int control__claim(const char *path, const char *name)
{
	int fd = ctl__connect(name);

	if (fd >= 0) {
		close(fd);
		pr_err("a guest named '%s' is already running", name);
		return -EEXIST;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int control__listen(struct control *c, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[200];
	mode_t old;
	int ret = ctl__runtime_dir(dir, sizeof(dir), true);

	if (ret) {
		pr_err("cannot use the runtime directory %s: %s", dir,
		       ret == -EPERM ? "it and its parent must be directories owned by you that others cannot write to"
				     : strerror(-ret));
		return ret;
	}
	if ((size_t)snprintf(c->path, sizeof(c->path), "%.*s/%s.sock",
			     (int)sizeof(sa.sun_path) - CTL_NAME_MAX - 7, dir, name) >=
	    sizeof(c->path))
		return -ENAMETOOLONG;
	ret = control__claim(c->path, name);
	if (ret)
		return ret;
	memcpy(sa.sun_path, c->path, sizeof(c->path));
	c->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0)
		return -errno;
	old = umask(0177);
	ret = bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(c->listen_fd, 8) < 0) {
		ret = -errno;
		pr_err("cannot listen on %s: %s", c->path, strerror(errno));
		return ret;
	}
	return 0;
}

int control__init(struct kvm *kvm)
{
	struct control *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	if (!ctl__valid_name(kvm->cfg->name)) {
		pr_err("invalid guest name '%s': use up to %d letters, digits, '-', '_' or '.'",
		       kvm->cfg->name, CTL_NAME_MAX);
		free(c);
		return -EINVAL;
	}
	c->kvm = kvm;
	c->started = time(NULL);
	c->listen_fd = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		c->clients[i] = -1;
		c->slots[i] = (struct ctl_slot){ .c = c, .index = i };
	}
	kvm->control = c;
	c->grace_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (c->grace_fd < 0)
		return -errno;
	ret = control__listen(c, kvm->cfg->name);
	if (!ret)
		ret = mainloop__add(kvm->loop, c->listen_fd, EPOLLIN, control__on_accept, c);
	if (!ret)
		ret = mainloop__add(kvm->loop, c->grace_fd, EPOLLIN, control__on_grace, c);
	return ret;
}

void control__exit(struct kvm *kvm, const char *reason)
{
	struct control *c = kvm->control;

	if (!c)
		return;
	if (c->listen_fd >= 0) {
		unlink(c->path);
		close(c->listen_fd);
	}
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (c->clients[i] < 0)
			continue;
		if (c->waiting[i])
			control__send(c, c->clients[i], CTL_STOPPED, kvm->stop_status,
				      reason, strlen(reason));
		close(c->clients[i]);
	}
	if (c->grace_fd >= 0)
		close(c->grace_fd);
	free(c);
	kvm->control = NULL;
}
