#ifndef KVM__UTIL_H
#define KVM__UTIL_H

#include <stdbool.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include <sys/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)		(((x) + (a) - 1) & ~((u64)(a) - 1))
#define ALIGN_DOWN(x, a)	((x) & ~((u64)(a) - 1))
#define min_t(t, a, b)		((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b)		((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define __unused		__attribute__((unused))
#define __noreturn		__attribute__((noreturn))
#define __printf(a, b)		__attribute__((format(printf, a, b)))

#define KB(x)			((u64)(x) << 10)
#define MB(x)			((u64)(x) << 20)
#define GB(x)			((u64)(x) << 30)

/*
 * Messages go to stderr as one line, prefixed "lkvm: ". Errors are returned
 * as negative errno values up to the builtin, which decides whether to die().
 */
/* One line on stderr: "lkvm: " @prefix and the message. */
void pr_log(const char *prefix, const char *fmt, ...) __printf(2, 3);
#define pr_err(...)	pr_log("error: ", __VA_ARGS__)
#define pr_warn(...)	pr_log("warning: ", __VA_ARGS__)
#define pr_info(...)	pr_log("", __VA_ARGS__)
#define pr_debug(...)	do { if (util__debug) pr_log("debug: ", __VA_ARGS__); } while (0)
#define die(...)	do { pr_err(__VA_ARGS__); exit(1); } while (0)
void __noreturn die_perror(const char *what);

extern bool util__debug;

/* Full read/write of a file descriptor, retrying on EINTR and short counts. */
ssize_t read_in_full(int fd, void *buf, size_t count);
ssize_t write_in_full(int fd, const void *buf, size_t count);
ssize_t pread_in_full(int fd, void *buf, size_t count, off_t off);

/* Monotonic time in nanoseconds. */
u64 util__now_ns(void);

#endif
