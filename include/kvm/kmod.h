#ifndef KVM__KMOD_H
#define KVM__KMOD_H

/*
 * The guest kernel's modules for the embedded init (util/kmod.c). A distro
 * kernel has its virtio, 9p and overlay drivers as modules: lkvm reads the
 * kernel's release from its bzImage setup header, finds the modules the init
 * needs and their dependencies in /lib/modules/RELEASE/modules.dep
 * ($LKVM_MODULES_DIR instead of /lib/modules), and carries the files,
 * unchanged, in the initramfs; the init loads them in that order. A kernel
 * with no module tree (drivers built in) gets none.
 */
#include "kvm/init-proto.h"
#include "kvm/util.h"

#define KMOD_RELEASE_MAX	128
#define KMOD_TOTAL_MAX		MB(64)

/* One module file, read in, and where the init finds it. */
struct kmod {
	char	*path;		/* in the initramfs: INIT_MODULES_DIR "/NN-name.ko[.xz]" */
	u8	*data;
	size_t	size;
};

/* The modules to load, in load order (dependencies first). */
struct kmod_set {
	struct kmod	mods[INIT_MAX_MODULES];
	int		nr;
	size_t		total;		/* bytes */
};

/*
 * The kernel release from the start of a bzImage (@len bytes, its setup
 * header and the version string): the string's first word, in @buf. 0, or
 * -EINVAL when @img has no setup header of protocol 2.00 or later, or no
 * plausible release.
 */
int kmod__release(const u8 *img, size_t len, char *buf, size_t size);

/*
 * The modules @kernel_path needs, into @s (empty with no module tree for its
 * release). Files it cannot read are left out with a warning. 0, or -ENOMEM
 * with a message.
 */
int kmod__find(struct kmod_set *s, const char *kernel_path);
void kmod__free(struct kmod_set *s);

#endif
