/* The test guests' freestanding library: COM1, the exit port, strings. */
#include "guest.h"

#define UART_LSR	5
#define UART_THRE	0x20
#define THRE_SPINS	100000

void guest_exit(int status)
{
	outb(PORT_EXIT, status);
	for (;;)
		asm volatile("cli; hlt");
}

static void uart_write(char c)
{
	for (int i = 0; i < THRE_SPINS; i++) {
		if (inb(COM1 + UART_LSR) & UART_THRE)
			break;
		cpu_relax();
	}
	outb(COM1, c);
}

void (*putc_hook)(char c);

void putc(char c)
{
	if (putc_hook)
		putc_hook(c);
	if (c == '\n')
		uart_write('\r');
	uart_write(c);
}

void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void put_num(u64 v, unsigned int base, int width, char pad, bool neg)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		buf[n++] = '-';
	while (width-- > n)
		putc(pad);
	while (n)
		putc(buf[--n]);
}

static u64 get_arg(va_list *ap, int longs, bool is_signed)
{
	if (longs)
		return va_arg(*ap, u64);
	if (is_signed)
		return (u64)(int64_t)va_arg(*ap, int);
	return va_arg(*ap, unsigned int);
}

void printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		int width = 0, longs = 0;
		char pad = ' ';
		int64_t s;

		if (*fmt != '%') {
			putc(*fmt);
			continue;
		}
		if (*++fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + *fmt++ - '0';
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			puts(va_arg(ap, const char *));
			break;
		case 'c':
			putc(va_arg(ap, int));
			break;
		case 'd':
			s = get_arg(&ap, longs, true);
			put_num(s < 0 ? -(u64)s : (u64)s, 10, width, pad, s < 0);
			break;
		case 'u':
			put_num(get_arg(&ap, longs, false), 10, width, pad, false);
			break;
		case 'x':
			put_num(get_arg(&ap, longs, false), 16, width, pad, false);
			break;
		case 'p':
			puts("0x");
			put_num((u64)va_arg(ap, void *), 16, width, pad, false);
			break;
		case '\0':
			fmt--;
			break;
		default:
			putc(*fmt);
			break;
		}
	}
	va_end(ap);
}

void *memset(void *dst, int c, size_t n)
{
	u8 *d = dst;

	while (n--)
		*d++ = c;
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	const u8 *s = src;
	u8 *d = dst;

	while (n--)
		*d++ = *s++;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x - *y;
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

const char *cmdline(const struct boot_params *bp)
{
	u64 p = bp->hdr.cmd_line_ptr | (u64)bp->ext_cmd_line_ptr << 32;

	return p ? (const char *)p : NULL;
}

const char *cmdline_get(const char *cmdline, const char *key)
{
	size_t len = strlen(key);
	const char *found = NULL;
	const char *p = cmdline;

	if (!cmdline)
		return NULL;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!memcmp(p, key, len) && p[len] == '=')
			found = p + len + 1;
		while (*p && *p != ' ')
			p++;
	}
	return found;
}

bool parse_u64(const char *s, u64 *v)
{
	unsigned int base = 10;
	bool any = false;

	*v = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s && *s != ' '; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && (*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			d = (*s | 0x20) - 'a' + 10;
		else
			return false;
		if (*v > (~0ull - d) / base)
			return false;
		*v = *v * base + d;
		any = true;
	}
	return any;
}

u32 crc32(const void *p, size_t n)
{
	static u32 table[256];
	const u8 *b = p;
	u32 crc = ~0u;

	if (!table[1]) {
		for (u32 i = 0; i < 256; i++) {
			u32 c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320 ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	while (n--)
		crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
