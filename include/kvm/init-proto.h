#ifndef KVM__INIT_PROTO_H
#define KVM__INIT_PROTO_H

/*
 * What lkvm says to its embedded guest init (guest/init/), and how the two
 * carry a sandboxed command's stdio. Compiled into both: no libc here.
 *
 * The configuration is the file INIT_CONF_PATH of the initramfs lkvm
 * builds: records "KEY\0VALUE\0", one after the other. "arg", "env" and
 * "module" repeat, in order; the other keys are given at most once. A value
 * is any bytes but NUL, so a command's arguments pass through with no
 * quoting.
 *
 * Framed stdio (lkvm sandbox when its stdin or stdout is not a terminal):
 * the init puts hvc0 in raw mode and writes INIT_SYNC on it; from then on
 * both directions carry frames: FRAME_HDR bytes (type, then the payload
 * length, 16-bit little-endian) and the payload. The guest sends
 * FRAME_STDOUT and FRAME_STDERR; lkvm sends FRAME_STDIN, and FRAME_EOF
 * (empty) when its stdin ends. A reader skips frames of unknown types.
 * lkvm holds stdin back until it has seen INIT_SYNC, so nothing reaches
 * the guest's terminal before it is raw (no echo, no line editing).
 */
#include <stddef.h>
#include <stdint.h>

#define INIT_CONF_PATH		"/lkvm/config"
#define INIT_MSG_PREFIX		"lkvm-init: "	/* the init's messages on its console */
#define INIT_CONF_MAX		(256 * 1024)	/* the init reads no more */
#define INIT_MAX_ARGS		4096
#define INIT_MAX_ENV		64
#define INIT_MAX_MODULES	64
#define INIT_MODULES_DIR	"/lkvm/modules"	/* the guest kernel's modules, if it needs any */

/* Configuration keys. */
#define INIT_KEY_MODE		"mode"		/* INIT_MODE_SHELL or INIT_MODE_COMMAND */
#define INIT_KEY_CONSOLE	"console"	/* the terminal: ttyS0 or hvc0 */
#define INIT_KEY_IO		"io"		/* INIT_IO_TTY or INIT_IO_FRAMES */
#define INIT_KEY_ROOT		"root"		/* 9p tag of the host's / */
#define INIT_KEY_ROOT_RW	"root_rw"	/* "1": shared writable (no /var overlay) */
#define INIT_KEY_WORKDIR	"workdir"	/* a path, shared writable ... */
#define INIT_KEY_WORKDIR_TAG	"workdir_tag"	/* ... under this 9p tag */
#define INIT_KEY_CWD		"cwd"		/* where to start, if it exists */
#define INIT_KEY_HOSTNAME	"hostname"
#define INIT_KEY_IP		"ip"		/* first NIC: a.b.c.d/prefix */
#define INIT_KEY_GATEWAY	"gateway"
#define INIT_KEY_DNS		"dns"
#define INIT_KEY_ROWS		"rows"		/* terminal size, decimal */
#define INIT_KEY_COLS		"cols"
#define INIT_KEY_ARG		"arg"		/* argv[i]; argv[0] is looked up in PATH */
#define INIT_KEY_ENV		"env"		/* NAME=VALUE */
#define INIT_KEY_MODULE		"module"	/* a module file to load, in order, first thing */

#define INIT_MODE_SHELL		"shell"		/* lkvm run: a shell, power off after */
#define INIT_MODE_COMMAND	"command"	/* lkvm sandbox: its status to PORT_EXIT */
#define INIT_IO_TTY		"tty"		/* the console is the command's terminal */
#define INIT_IO_FRAMES		"frames"	/* stdio framed over the raw console */

/* The 9p tags lkvm gives the shares it adds. */
#define INIT_ROOT_TAG		"lkvm_root"
#define INIT_WORKDIR_TAG	"lkvm_workdir"

/* Written by the init once the console is raw; starts framing. */
#define INIT_SYNC		"\002lkvm-stdio-frames\003"
#define INIT_SYNC_LEN		(sizeof(INIT_SYNC) - 1)

#define FRAME_HDR		3
#define FRAME_MAX		0xffff
enum frame_type {
	FRAME_STDIN	= 0,
	FRAME_STDOUT	= 1,
	FRAME_STDERR	= 2,
	FRAME_EOF	= 3,
};

/* The next "KEY\0VALUE\0" record from *p: 1, 0 at the end, -1 if malformed. */
static inline int init_conf__next(const char **p, const char *end,
				  const char **key, const char **val)
{
	const char *s = *p;

	if (s >= end)
		return 0;
	*key = s;
	while (s < end && *s)
		s++;
	if (s++ >= end)
		return -1;
	*val = s;
	while (s < end && *s)
		s++;
	if (s >= end)
		return -1;
	*p = s + 1;
	return 1;
}

static inline void frame__header(uint8_t *hdr, enum frame_type type, size_t len)
{
	hdr[0] = type;
	hdr[1] = len & 0xff;
	hdr[2] = len >> 8;
}

/* A frame reader fed a byte stream in pieces of any size. */
struct frame_dec {
	uint8_t		hdr[FRAME_HDR];
	uint8_t		nhdr;		/* header bytes seen of the current frame */
	uint32_t	left;		/* payload bytes still to come */
};

/*
 * Consume bytes from [*p, end). Returns the current frame's type with its
 * next payload piece in [*data, *data + *len) (*len is 0 only for an empty
 * frame, reported once), or -1 once the input is used up.
 */
static inline int frame_dec__next(struct frame_dec *d, const uint8_t **p, const uint8_t *end,
				  const uint8_t **data, size_t *len)
{
	while (*p < end) {
		size_t n;

		if (d->nhdr < FRAME_HDR) {
			d->hdr[d->nhdr++] = *(*p)++;
			if (d->nhdr < FRAME_HDR)
				continue;
			d->left = d->hdr[1] | d->hdr[2] << 8;
			if (d->left)
				continue;
			d->nhdr = 0;
			*data = *p;
			*len = 0;
			return d->hdr[0];
		}
		n = (size_t)(end - *p);
		if (n > d->left)
			n = d->left;
		*data = *p;
		*len = n;
		*p += n;
		d->left -= n;
		if (!d->left)
			d->nhdr = 0;
		return d->hdr[0];
	}
	return -1;
}

#endif
