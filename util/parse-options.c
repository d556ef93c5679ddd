#include "kvm/parse-options.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool option__takes_arg(const struct option *o)
{
	return o->type != OPT_BOOL;
}

static int option__number(const struct option *o, const char *arg)
{
	const char *name = o->long_name;
	unsigned long long v;
	char *end;

	errno = 0;
	if (!*arg || *arg == '-') {
		fprintf(stderr, "lkvm: error: option '--%s' expects a number, not '%s'\n", name, arg);
		return -1;
	}
	v = strtoull(arg, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "lkvm: error: option '--%s' expects a number, not '%s'\n", name, arg);
		return -1;
	}
	if (o->max && (v < o->min || v > o->max)) {
		fprintf(stderr, "lkvm: error: option '--%s' must be between %" PRIu64 " and %" PRIu64 ", not %s\n",
			name, o->min, o->max, arg);
		return -1;
	}
	if (o->type == OPT_INT)
		*(int *)o->value = (int)v;
	else
		*(u64 *)o->value = v;
	return 0;
}

static int option__apply(const struct option *o, const char *arg)
{
	switch (o->type) {
	case OPT_BOOL:
		*(bool *)o->value = true;
		return 0;
	case OPT_STRING:
		*(const char **)o->value = arg;
		return 0;
	case OPT_U64:
	case OPT_INT:
		return option__number(o, arg);
	case OPT_CALLBACK:
		return o->cb(o, arg);
	default:
		return -1;
	}
}

static const struct option *option__find_long(const struct option *opts, const char *name,
					      size_t len)
{
	for (const struct option *o = opts; o->type != OPT_END; o++)
		if (o->long_name && strlen(o->long_name) == len &&
		    !strncmp(o->long_name, name, len))
			return o;
	return NULL;
}

static const struct option *option__find_short(const struct option *opts, char c)
{
	for (const struct option *o = opts; o->type != OPT_END; o++)
		if (o->type != OPT_GROUP && o->short_name == c)
			return o;
	return NULL;
}

/* Returns how many argv entries it consumed, or -1. */
static int parse_long(int argc, const char **argv, const struct option *opts)
{
	const char *name = argv[0] + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct option *o = option__find_long(opts, name, len);

	if (!o) {
		fprintf(stderr, "lkvm: error: unknown option '--%.*s'\n", (int)len, name);
		return -1;
	}
	if (!option__takes_arg(o)) {
		if (eq) {
			fprintf(stderr, "lkvm: error: option '--%s' takes no value\n", o->long_name);
			return -1;
		}
		return option__apply(o, NULL) ? -1 : 1;
	}
	if (eq)
		return option__apply(o, eq + 1) ? -1 : 1;
	if (argc < 2) {
		fprintf(stderr, "lkvm: error: option '--%s' requires a value\n", o->long_name);
		return -1;
	}
	return option__apply(o, argv[1]) ? -1 : 2;
}

static int parse_short(int argc, const char **argv, const struct option *opts)
{
	for (const char *p = argv[0] + 1; *p; p++) {
		const struct option *o = option__find_short(opts, *p);

		if (!o) {
			fprintf(stderr, "lkvm: error: unknown option '-%c'\n", *p);
			return -1;
		}
		if (!option__takes_arg(o)) {
			if (option__apply(o, NULL))
				return -1;
			continue;
		}
		if (p[1])
			return option__apply(o, p + 1) ? -1 : 1;
		if (argc < 2) {
			fprintf(stderr, "lkvm: error: option '-%c' requires a value\n", *p);
			return -1;
		}
		return option__apply(o, argv[1]) ? -1 : 2;
	}
	return 1;
}

int parse_options(int argc, const char **argv, const struct option *opts,
		  const char *usage)
{
	int i = 0, kept = 0;

	while (i < argc) {
		const char *a = argv[i];
		int n;

		if (!strcmp(a, "--")) {
			i++;
			while (i < argc)
				argv[kept++] = argv[i++];
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage_with_options(STDOUT_FILENO, usage, opts);
			return -2;
		}
		if (a[0] != '-' || !a[1]) {
			argv[kept++] = argv[i++];
			continue;
		}
		n = a[1] == '-' ? parse_long(argc - i, argv + i, opts)
				: parse_short(argc - i, argv + i, opts);
		if (n < 0)
			return -1;
		i += n;
	}
	return kept;
}

int parse_options_noargs(int argc, const char **argv, const struct option *opts,
			 const char *usage)
{
	int n = parse_options(argc - 1, argv + 1, opts, usage);

	if (n == -2)
		return 0;
	if (n > 0)
		fprintf(stderr, "lkvm: error: unexpected argument '%s'\n", argv[1]);
	return n ? 1 : -1;
}

void usage_with_options(int fd, const char *usage, const struct option *opts)
{
	dprintf(fd, "usage: %s\n", usage);
	for (const struct option *o = opts; o->type != OPT_END; o++) {
		char left[64];
		int n = 0;

		if (o->type == OPT_GROUP) {
			dprintf(fd, "\n%s\n", o->help);
			continue;
		}
		if (o->short_name)
			n += snprintf(left + n, sizeof(left) - n, "-%c", o->short_name);
		if (o->long_name)
			n += snprintf(left + n, sizeof(left) - n, "%s--%s",
				      o->short_name ? ", " : "    ", o->long_name);
		if (o->argh)
			snprintf(left + n, sizeof(left) - n, " <%s>", o->argh);
		dprintf(fd, "    %-28s %s\n", left, o->help);
	}
}
