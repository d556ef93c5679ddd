#ifndef KVM__GUEST_INIT_H
#define KVM__GUEST_INIT_H

/*
 * The embedded guest init (guest/init/) on lkvm's side (builtin/guest-init.c):
 * lkvm run with no disk and no initrd, and lkvm sandbox, boot it in an
 * initramfs built in memory, with the host's / shared over virtio-9p.
 */
#include "kvm/init-proto.h"
#include "kvm/initramfs.h"
#include "kvm/kmod.h"
#include "kvm/util.h"

struct kvm_config;

/* --env settings: the init's room less lkvm's own PATH, HOME, TERM and LANG. */
#define GUEST_INIT_MAX_USER_ENV		(INIT_MAX_ENV - 4)

struct guest_init {
	bool		command;	/* run argv and report its status; else a shell */
	const char	**argv;
	int		argc;
	const char	*workdir;	/* shared writable at the same path; the command starts there */
	bool		tty;		/* the command's stdio is the console; else framed */
	const char	*env[GUEST_INIT_MAX_USER_ENV];	/* --env NAME=VALUE, in order */
	int		nr_env;
	/* What guest_init__setup() made. */
	char		*workdir_real;
	struct kmod_set	kmods;		/* the guest kernel's modules, if it needs any */
	struct membuf	conf;
	struct cpio	cpio;
};

/*
 * One --env: NAME=VALUE, or NAME for the host's value. 0, or -1 with a
 * one-line message (bad name, unset on the host, too many).
 */
int guest_init__add_env(struct guest_init *gi, const char *arg);

/* lkvm run: boot the embedded init? Not with a disk, an initrd, root= or --nodefaults. */
bool guest_init__wanted(const struct kvm_config *cfg);
/*
 * Add the shares, the console settings and the initramfs to @cfg (after
 * net__setup(), whose first NIC the init configures): 0, or -1 with a
 * one-line message.
 */
int guest_init__setup(struct guest_init *gi, struct kvm_config *cfg);
void guest_init__free(struct guest_init *gi);

/* The configuration records (unit tests); 0 or -1 with a message. */
int guest_init__conf(struct guest_init *gi, const struct kvm_config *cfg,
		     const char *root_tag, bool root_rw);

#endif
