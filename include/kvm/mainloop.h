#ifndef KVM__MAINLOOP_H
#define KVM__MAINLOOP_H

#include "kvm/util.h"

struct kvm;

/*
 * The main thread's event loop: the console, the control socket and the
 * stop request all wait here on file descriptors. Callbacks run on the
 * main thread only.
 */
typedef void (*mainloop_fn)(void *opaque, u32 events);

struct mainloop_watch {
	int		fd;
	mainloop_fn	fn;
	void		*opaque;
};

#define MAINLOOP_MAX_WATCHES	32

struct mainloop {
	int			epoll_fd;
	int			nr;
	struct mainloop_watch	watches[MAINLOOP_MAX_WATCHES];
};

int mainloop__init(struct mainloop *l);
void mainloop__exit(struct mainloop *l);
/* Watch @fd for @events (EPOLLIN...); events 0 parks it; @fn NULL only wakes the loop. */
int mainloop__add(struct mainloop *l, int fd, u32 events, mainloop_fn fn, void *opaque);
int mainloop__modify(struct mainloop *l, int fd, u32 events);
void mainloop__remove(struct mainloop *l, int fd);
/* Run until the VM is stopping; @timeout_ms (or -1) bounds each wait. */
void mainloop__run(struct mainloop *l, struct kvm *kvm);

#endif
