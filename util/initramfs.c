/* An initramfs built in memory: newc cpio entries and the init's records. */
#include "kvm/initramfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define CPIO_MAGIC	"070701"
#define CPIO_HDR_LEN	110	/* the magic and 13 fields of 8 hex digits */
#define CPIO_TRAILER	"TRAILER!!!"
#define CPIO_NAME_MAX	4096

void membuf__add(struct membuf *b, const void *p, size_t n)
{
	if (b->failed || !n)
		return;
	if (b->len + n > b->cap) {
		size_t cap = max_t(size_t, b->cap * 2, b->len + n);
		u8 *d = realloc(b->data, cap);

		if (!d) {
			b->failed = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void membuf__free(struct membuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static void cpio__pad(struct cpio *c)
{
	static const u8 zeros[4];

	membuf__add(&c->buf, zeros, ALIGN_UP(c->buf.len, 4) - c->buf.len);
}

static void cpio__header(struct cpio *c, u32 ino, u32 mode, u32 nlink, size_t size,
			 dev_t rdev, size_t namesize)
{
	char hdr[CPIO_HDR_LEN + 1];

	/* ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check */
	snprintf(hdr, sizeof(hdr), CPIO_MAGIC "%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ino, mode, 0, 0, nlink, 0, (u32)size, 0, 0, major(rdev), minor(rdev),
		 (u32)namesize, 0);
	membuf__add(&c->buf, hdr, CPIO_HDR_LEN);
}

int cpio__add(struct cpio *c, const char *name, u32 mode, dev_t rdev,
	      const void *data, size_t size)
{
	size_t nlen = strlen(name);

	if (!nlen || nlen >= CPIO_NAME_MAX || name[0] == '/' || !strcmp(name, CPIO_TRAILER))
		return -EINVAL;
	if (size > 0xffffffffu || (size && !S_ISREG(mode)))
		return -EINVAL;
	cpio__header(c, ++c->ino, mode, S_ISDIR(mode) ? 2 : 1, size, rdev, nlen + 1);
	membuf__add(&c->buf, name, nlen + 1);
	cpio__pad(c);
	membuf__add(&c->buf, data, size);
	cpio__pad(c);
	return c->buf.failed ? -ENOMEM : 0;
}

int cpio__finish(struct cpio *c)
{
	cpio__header(c, 0, 0, 1, 0, 0, sizeof(CPIO_TRAILER));
	membuf__add(&c->buf, CPIO_TRAILER, sizeof(CPIO_TRAILER));
	cpio__pad(c);
	return c->buf.failed ? -ENOMEM : 0;
}

void init_conf__add(struct membuf *b, const char *key, const char *val)
{
	membuf__add(b, key, strlen(key) + 1);
	membuf__add(b, val, strlen(val) + 1);
}
