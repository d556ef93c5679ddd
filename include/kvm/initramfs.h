#ifndef KVM__INITRAMFS_H
#define KVM__INITRAMFS_H

/*
 * Building an initramfs in memory (util/initramfs.c): a "newc" cpio
 * archive, uncompressed, as the kernel unpacks it (Documentation/
 * driver-api/early-userspace/buffer-format.rst), and the embedded init's
 * configuration records (include/kvm/init-proto.h).
 */
#include "kvm/util.h"

/* A growing byte buffer; after a failed allocation it stays failed. */
struct membuf {
	u8	*data;
	size_t	len;
	size_t	cap;
	bool	failed;
};

void membuf__add(struct membuf *b, const void *p, size_t n);
void membuf__free(struct membuf *b);

struct cpio {
	struct membuf	buf;
	u32		ino;
};

/*
 * Append one entry: @mode has the type (S_IFDIR, S_IFREG, S_IFCHR, ...) and
 * permissions; @rdev the device number of a device node; @data/@size the
 * contents of a regular file. Returns 0 or -errno (bad name, no memory).
 */
int cpio__add(struct cpio *c, const char *name, u32 mode, dev_t rdev,
	      const void *data, size_t size);
/* The trailer: the archive is then complete in c->buf. */
int cpio__finish(struct cpio *c);

/* One "KEY\0VALUE\0" record: both are C strings, so neither holds a NUL. */
void init_conf__add(struct membuf *b, const char *key, const char *val);

#endif
