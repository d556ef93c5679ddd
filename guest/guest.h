#ifndef GUEST__GUEST_H
#define GUEST__GUEST_H

/*
 * The freestanding library of the test guests (64-bit part): COM1 output,
 * the exit port, a few string helpers and the kernel command line.
 */
#include <asm/bootparam.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x86/layout.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define COM1		0x3f8

/* Each guest provides this; its return value is the exit status. */
int guest_main(struct boot_params *bp);

/* Write @status to PORT_EXIT; halts forever if nothing stops the VM. */
void __attribute__((noreturn)) guest_exit(int status);

static inline void outb(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (u64)hi << 32 | lo;
}

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

/* If set, putc also hands it every character (a guest's own copy of its output). */
extern void (*putc_hook)(char c);
void putc(char c);
void puts(const char *s);
/* printf subset: %s %c %d %u %x %p, 'l'/'ll' sizes, '0' and width. */
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);

/* The kernel command line from the zero page, NULL if there is none. */
const char *cmdline(const struct boot_params *bp);
/* The value of the last "key=value" word on @cmdline, NULL if absent. */
const char *cmdline_get(const char *cmdline, const char *key);
/* Parse a decimal or 0x-hex number ending at a space or NUL. */
bool parse_u64(const char *s, u64 *v);

/* CRC-32 (IEEE, as zlib and gzip compute it). */
u32 crc32(const void *p, size_t n);

#endif
