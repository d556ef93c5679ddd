#ifndef TESTS__UNIT__TEST_H
#define TESTS__UNIT__TEST_H

/*
 * A minimal unit-test harness: TEST(name) { ... } registers a test; CHECK()
 * records a failure without stopping the test. run-unit prints one line per
 * failure and ends with "N passed, N failed".
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void test__register(const char *name, test_fn fn);
void test__fail(const char *file, int line, const char *expr);

#define TEST(name)								\
	static void name(void);							\
	__attribute__((constructor)) static void test__reg_##name(void)		\
	{ test__register(#name, name); }					\
	static void name(void)

#define CHECK(cond)								\
	do {									\
		if (!(cond))							\
			test__fail(__FILE__, __LINE__, #cond);			\
	} while (0)

#define CHECK_EQ(a, b)								\
	do {									\
		long long __a = (long long)(a), __b = (long long)(b);		\
		if (__a != __b) {						\
			char __m[256];						\
			snprintf(__m, sizeof(__m), "%s == %s (%lld != %lld)",	\
				 #a, #b, __a, __b);				\
			test__fail(__FILE__, __LINE__, __m);			\
		}								\
	} while (0)

/* stderr, captured between capture__begin() and capture__end() (capture.c). */
struct capture {
	int	saved, fd;
	char	text[512];	/* the start */
	char	tail[512];	/* the end */
	int	lines;		/* in all of it */
};

void capture__begin(struct capture *c);
const char *capture__end(struct capture *c);
/* @text is exactly one line and contains @what. */
bool one_line_with(const char *text, const char *what);

#endif
