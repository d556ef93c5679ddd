#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define MAX_TESTS 1024

static struct {
	const char	*name;
	test_fn		fn;
} tests[MAX_TESTS];
static int nr_tests;
static int cur_failures;

void test__register(const char *name, test_fn fn)
{
	if (nr_tests == MAX_TESTS) {
		fprintf(stderr, "too many unit tests\n");
		exit(2);
	}
	tests[nr_tests].name = name;
	tests[nr_tests].fn = fn;
	nr_tests++;
}

void test__fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "    %s:%d: CHECK failed: %s\n", file, line, expr);
	cur_failures++;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (int i = 0; i < nr_tests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		cur_failures = 0;
		tests[i].fn();
		printf("%s %s\n", cur_failures ? "FAIL" : "ok  ", tests[i].name);
		if (cur_failures)
			failed++;
		else
			passed++;
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
