/* The option parser behind every builtin. */
#include "test.h"
#include "kvm/parse-options.h"

struct opts {
	const char	*kernel;
	u64		mem;
	int		cpus;
	bool		flag;
};

static int parse(struct opts *o, int argc, const char **argv)
{
	const struct option table[] = {
		OPT__STRING('k', "kernel", &o->kernel, "image", "kernel"),
		OPT__U64('m', "mem", &o->mem, "MiB", "memory", 16, 4096),
		OPT__INT('c', "cpus", &o->cpus, "n", "cpus", 1, 8),
		OPT__BOOL(0, "flag", &o->flag, "a flag"),
		OPT__END(),
	};

	memset(o, 0, sizeof(*o));
	return parse_options(argc, argv, table, "test");
}

TEST(options_long_short_and_equals)
{
	struct opts o;
	const char *argv[] = { "-k", "bz", "--mem=512", "-c2", "--flag" };

	CHECK_EQ(parse(&o, 5, argv), 0);
	CHECK(o.kernel && !strcmp(o.kernel, "bz"));
	CHECK_EQ(o.mem, 512);
	CHECK_EQ(o.cpus, 2);
	CHECK(o.flag);
}

TEST(options_keep_positional_and_stop_at_dashdash)
{
	struct opts o;
	const char *argv[] = { "file", "--kernel", "x", "--", "-c", "3" };

	CHECK_EQ(parse(&o, 6, argv), 3);
	CHECK(!strcmp(argv[0], "file"));
	CHECK(!strcmp(argv[1], "-c"));
	CHECK_EQ(o.cpus, 0);
}

TEST(options_reject_bad_input)
{
	struct opts o;
	const char *unknown[] = { "--bogus" };
	const char *missing[] = { "--kernel" };
	const char *notnum[] = { "-m", "lots" };
	const char *range[] = { "-c", "99" };
	const char *negative[] = { "--mem", "-5" };
	const char *boolval[] = { "--flag=yes" };
	const char *trailing[] = { "-m", "12x" };

	CHECK_EQ(parse(&o, 1, unknown), -1);
	CHECK_EQ(parse(&o, 1, missing), -1);
	CHECK_EQ(parse(&o, 2, notnum), -1);
	CHECK_EQ(parse(&o, 2, range), -1);
	CHECK_EQ(parse(&o, 2, negative), -1);
	CHECK_EQ(parse(&o, 1, boolval), -1);
	CHECK_EQ(parse(&o, 2, trailing), -1);
}
