/* The embedded init's helpers: strings, numbers, errno names. */
#include "sys.h"

#include <asm-generic/errno.h>

/* The compiler may call these for struct copies and zeroing. */
void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = c;
	return dst;
}

size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int str_cmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

bool str_eq(const char *a, const char *b)
{
	return a && b && !str_cmp(a, b);
}

char *str_cpy(char *dst, const char *src)
{
	while (*src)
		*dst++ = *src++;
	*dst = 0;
	return dst;
}

long str_num(const char *s, long max)
{
	long v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	return v;
}

int str_ipv4(const char *s, uint32_t *addr)
{
	uint8_t *b = (uint8_t *)addr;

	for (int i = 0; i < 4; i++) {
		int v = 0, digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 3) {
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if (!digits || v > 255 || *s != (i < 3 ? '.' : 0))
			return -1;
		b[i] = v;
		if (i < 3)
			s++;
	}
	return 0;
}

char *path_join(char *buf, size_t len, const char *a, const char *b)
{
	size_t la = str_len(a), lb = str_len(b);

	while (la && a[la - 1] == '/')
		la--;
	while (*b == '/') {
		b++;
		lb--;
	}
	if (la + lb + 2 > len)
		return NULL;
	memcpy(buf, a, la);
	buf[la] = '/';
	memcpy(buf + la + 1, b, lb + 1);
	return buf;
}

long write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		long n = sys_write(fd, p, len);

		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n <= 0)
			return n ? n : -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

const char *err_name(long err)
{
	static const struct {
		int		err;
		const char	*name;
	} names[] = {
		{ EPERM, "operation not permitted" },
		{ ENOENT, "no such file or directory" },
		{ EIO, "input/output error" },
		{ ENXIO, "no such device or address" },
		{ E2BIG, "argument list too long" },
		{ ENOEXEC, "exec format error" },
		{ ENOMEM, "out of memory" },
		{ EACCES, "permission denied" },
		{ EBUSY, "device or resource busy" },
		{ EEXIST, "file exists" },
		{ ENODEV, "no such device (is the driver built in?)" },
		{ ENOTDIR, "not a directory" },
		{ EISDIR, "is a directory" },
		{ EINVAL, "invalid argument" },
		{ EROFS, "read-only file system" },
		{ ENAMETOOLONG, "file name too long" },
		{ ENOSYS, "function not implemented" },
		{ ELOOP, "too many levels of symbolic links" },
	};

	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	return "error";
}
