/* lkvm stat: vCPU exit counts and device statistics of a running guest. */
#include "kvm/builtin.h"
#include "kvm/control.h"
#include "kvm/parse-options.h"

#include <stdio.h>

static int stat__one(const char *name, void *opaque)
{
	printf("%s:\n", name);
	fflush(stdout);
	return ctl__simple(name, CTL_STAT, NULL, 0, true);
}

static int cmd_stat(int argc, const char **argv)
{
	struct ctl_target t = { 0 };
	const struct option opts[] = {
		OPT__STRING('n', "name", &t.name, "name", "the guest"),
		OPT__BOOL('a', "all", &t.all, "every running guest"),
		OPT__END(),
	};
	int n = parse_options(argc - 1, argv + 1, opts, "lkvm stat (--name <name> | --all)");

	if (n == -2)
		return 0;
	if (n != 0) {
		if (n > 0)
			fprintf(stderr, "lkvm: error: unexpected argument '%s'\n", argv[1]);
		return 1;
	}
	return ctl__for_targets(&t, "lkvm stat", stat__one, NULL) ? 1 : 0;
}

builtin("stat", cmd_stat, "Show vCPU and device statistics of a guest", 6);
