#include "kvm/mainloop.h"
#include "kvm/kvm.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

int mainloop__init(struct mainloop *l)
{
	memset(l, 0, sizeof(*l));
	l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	return l->epoll_fd < 0 ? -errno : 0;
}

void mainloop__exit(struct mainloop *l)
{
	if (l->epoll_fd >= 0)
		close(l->epoll_fd);
	l->epoll_fd = -1;
}

static struct mainloop_watch *mainloop__find(struct mainloop *l, int fd)
{
	for (int i = 0; i < l->nr; i++)
		if (l->watches[i].fd == fd)
			return &l->watches[i];
	return NULL;
}

int mainloop__add(struct mainloop *l, int fd, u32 events, mainloop_fn fn, void *opaque)
{
	struct mainloop_watch *w;
	struct epoll_event ev = { .events = events };

	if (l->nr == MAINLOOP_MAX_WATCHES)
		return -ENOSPC;
	w = &l->watches[l->nr];
	*w = (struct mainloop_watch){ .fd = fd, .fn = fn, .opaque = opaque };
	ev.data.fd = fd;
	if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	l->nr++;
	return 0;
}

int mainloop__modify(struct mainloop *l, int fd, u32 events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(l->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void mainloop__remove(struct mainloop *l, int fd)
{
	struct mainloop_watch *w = mainloop__find(l, fd);

	if (!w)
		return;
	epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
	*w = l->watches[--l->nr];
}

void mainloop__run(struct mainloop *l, struct kvm *kvm)
{
	while (!kvm__stopping(kvm)) {
		struct epoll_event ev[8];
		int n = epoll_wait(l->epoll_fd, ev, 8, -1);

		for (int i = 0; i < n && !kvm__stopping(kvm); i++) {
			struct mainloop_watch *w = mainloop__find(l, ev[i].data.fd);

			if (w && w->fn)
				w->fn(w->opaque, ev[i].events);
		}
	}
}
