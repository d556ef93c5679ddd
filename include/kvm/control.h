#ifndef KVM__CONTROL_H
#define KVM__CONTROL_H

/*
 * The control socket of a running guest: $XDG_RUNTIME_DIR/lkvm/NAME.sock
 * (or ~/.lkvm/NAME.sock), a SOCK_SEQPACKET socket in a 0700 directory, mode
 * 0600. One message per request and per reply: a fixed header, then
 * @len bytes of payload. Replies carry the request's type with
 * CTL_REPLY set and start with an s32 status (0 or -errno).
 */
#include "kvm/util.h"

struct kvm;

#define CTL_MAGIC		0x4d564b4c	/* "LKVM" */
#define CTL_VERSION		1
#define CTL_MAX_PAYLOAD		65536
#define CTL_REPLY		0x8000
#define CTL_NAME_MAX		64

enum ctl_type {
	CTL_INFO = 1,		/* -> text "key=value" lines */
	CTL_STOP,		/* struct ctl_stop -> reply now, then CTL_STOPPED at exit */
	CTL_PAUSE,
	CTL_RESUME,
	CTL_STAT,		/* -> text */
	CTL_DEBUG,		/* -> text: registers and stacks */
	CTL_SYSRQ,		/* one byte: the sysrq key */
	CTL_STOPPED,		/* server -> client: the VM has stopped; text reason */
	CTL_TYPE_MAX,
};

struct ctl_hdr {
	u32	magic;
	u16	version;
	u16	type;
	u32	len;
} __attribute__((packed));

struct ctl_stop {
	u8	force;
	u32	grace_ms;
} __attribute__((packed));

/* Check a received message; returns 0 or -EINVAL/-EPROTO with *why set. */
int ctl__parse(const void *buf, size_t n, struct ctl_hdr *hdr, const u8 **payload,
	       const char **why);
/* Build a message into @buf (CTL_MAX_PAYLOAD + header); returns its length. */
size_t ctl__build(void *buf, u16 type, const void *payload, u32 len);

/* The directory holding the sockets; created 0700 and checked. */
int ctl__runtime_dir(char *buf, size_t len, bool create);
bool ctl__valid_name(const char *name);
/* Connect to guest @name; -ENOENT if there is none. */
int ctl__connect(const char *name);
/* One request, one reply (payload copied to @out, NUL-terminated). */
int ctl__request(int fd, u16 type, const void *payload, u32 len, char *out, size_t outlen,
		 s32 *status);

/* Call @fn for every live guest's name (stale sockets are removed). */
int ctl__for_each(int (*fn)(const char *name, void *opaque), void *opaque);

/* Client helpers shared by the builtins: --name X / --all handling. */
struct ctl_target {
	const char	*name;
	bool		all;
};
int ctl__for_targets(const struct ctl_target *t, const char *cmd,
		     int (*fn)(const char *name, void *opaque), void *opaque);
/* Send one request to guest @name and print the reply text; 0 or 1 (error printed). */
int ctl__simple(const char *name, u16 type, const void *payload, u32 len, bool print);

/* The whole of a "--name X | --all" subcommand sending @type to each guest. */
int ctl__target_main(int argc, const char **argv, const char *usage, u16 type, bool print);

/* Server side, in lkvm run. */
int control__init(struct kvm *kvm);
void control__exit(struct kvm *kvm, const char *reason);

#endif
