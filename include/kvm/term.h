#ifndef KVM__TERM_H
#define KVM__TERM_H

#include <pthread.h>

#include "kvm/init-proto.h"
#include "kvm/util.h"

struct kvm;

/*
 * The guest console on the host side: stdin/stdout. On a TTY the terminal is
 * put in raw mode (restored on every exit path) and Ctrl-A x quits; on pipes
 * and files bytes pass through unchanged. The active console device attaches
 * a receiver that takes input bytes; it returns how many it accepted, and
 * calls term__kick() when it has room again. Input is handled on the main
 * thread's event loop (kvm->loop).
 */
typedef size_t (*term_rx_fn)(void *opaque, const u8 *buf, size_t len);

#define TERM_PENDING_MAX	4096

struct term {
	struct kvm	*kvm;
	int		in_fd;
	int		out_fd;
	int		kick_fd;	/* eventfd: the receiver has room again */
	int		signal_fd;	/* SIGINT/SIGTERM/SIGHUP */
	bool		is_tty;
	bool		in_pollable;	/* false for regular files: read on demand */
	bool		in_parked;
	bool		in_eof;
	bool		saw_escape;
	pthread_mutex_t	out_lock;
	term_rx_fn	rx;
	void		(*sysrq)(void *opaque, u8 key);	/* optional */
	void		(*resize)(void *opaque, u16 rows, u16 cols);	/* optional */
	void		*rx_opaque;
	u8		pending[TERM_PENDING_MAX];
	size_t		nr_pending;
	/* Framed stdio (lkvm sandbox with pipes): see include/kvm/init-proto.h. */
	bool		framed;
	bool		synced;		/* the guest wrote INIT_SYNC: frames from here on */
	size_t		sync_have;	/* bytes of INIT_SYNC matched so far */
	int		err_fd;		/* FRAME_STDERR, and what the guest said before INIT_SYNC */
	struct frame_dec dec;
};

/* Set up and register with kvm->loop; the terminal stays cooked until term__start(). */
int term__init(struct term *t, struct kvm *kvm, int in_fd, int out_fd);
void term__start(struct term *t);
void term__restore(void);
void term__attach(struct term *t, term_rx_fn rx, void *opaque);
/* A console that can deliver a magic SysRq key says how. */
void term__attach_sysrq(struct term *t, void (*fn)(void *opaque, u8 key));
/* A console that can tell the guest the terminal's size: called on SIGWINCH. */
void term__attach_resize(struct term *t, void (*fn)(void *opaque, u16 rows, u16 cols));
/* The size of a terminal (false for pipes and files, or a 0x0 terminal). */
bool term__size(struct term *t, u16 *rows, u16 *cols);
/* The same for any fd, before there is a struct term. */
bool term__fd_size(int fd, u16 *rows, u16 *cols);
/*
 * Carry stdio as frames: input is held until the guest's INIT_SYNC, then
 * sent as FRAME_STDIN (and FRAME_EOF at its end); output frames go to the
 * out and @err_fd. The terminal, if any, stays as it is (no raw mode).
 */
void term__set_framed(struct term *t, int err_fd);
void term__write(struct term *t, const void *buf, size_t len);
void term__kick(struct term *t);

#endif
