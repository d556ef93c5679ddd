#ifndef KVM__PARSE_OPTIONS_H
#define KVM__PARSE_OPTIONS_H

#include "kvm/util.h"

enum option_type {
	OPT_END,
	OPT_GROUP,	/* a heading in --help */
	OPT_BOOL,	/* bool *, no argument */
	OPT_STRING,	/* const char **, argument */
	OPT_U64,	/* u64 *, argument */
	OPT_INT,	/* int *, argument */
	OPT_CALLBACK,	/* cb(opt, arg), argument */
};

struct option;
typedef int (*option_cb)(const struct option *opt, const char *arg);

struct option {
	enum option_type	type;
	char			short_name;
	const char		*long_name;
	void			*value;
	const char		*argh;
	const char		*help;
	option_cb		cb;
	u64			min, max;	/* OPT_U64/OPT_INT range, when max != 0 */
};

#define OPT__BOOL(s, l, v, h)		{ OPT_BOOL, s, l, v, NULL, h, NULL, 0, 0 }
#define OPT__STRING(s, l, v, a, h)	{ OPT_STRING, s, l, v, a, h, NULL, 0, 0 }
#define OPT__U64(s, l, v, a, h, lo, hi)	{ OPT_U64, s, l, v, a, h, NULL, lo, hi }
#define OPT__INT(s, l, v, a, h, lo, hi)	{ OPT_INT, s, l, v, a, h, NULL, lo, hi }
#define OPT__CALLBACK(s, l, v, a, h, f)	{ OPT_CALLBACK, s, l, v, a, h, f, 0, 0 }
#define OPT__GROUP(h)			{ OPT_GROUP, 0, NULL, NULL, NULL, h, NULL, 0, 0 }
#define OPT__END()			{ OPT_END, 0, NULL, NULL, NULL, NULL, NULL, 0, 0 }

/*
 * Parse argv[0..argc) against @opts. Options may be given as -k X, -kX,
 * --kernel X, --kernel=X. "--" ends option parsing. Non-option arguments
 * are left in argv (compacted) and their count returned. Returns -1 with a
 * one-line message on stderr on any error; -2 if --help/-h was asked for
 * (usage was printed to stdout).
 */
int parse_options(int argc, const char **argv, const struct option *opts,
		  const char *usage);
/*
 * For commands that take no positional arguments: argv[0] is the command
 * name. Returns -1 to go on, or the status the command should exit with
 * (0 after --help, 1 after an error, which was printed).
 */
int parse_options_noargs(int argc, const char **argv, const struct option *opts,
			 const char *usage);
void usage_with_options(int fd, const char *usage, const struct option *opts);

#endif
