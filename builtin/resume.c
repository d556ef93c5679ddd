/* lkvm resume: resume the vCPUs of running guests. */
#include "kvm/builtin.h"
#include "kvm/control.h"
#include "kvm/parse-options.h"

#include <stdio.h>

static int resume__one(const char *name, void *opaque)
{
	return ctl__simple(name, CTL_RESUME, NULL, 0, false);
}

static int cmd_resume(int argc, const char **argv)
{
	struct ctl_target t = { 0 };
	const struct option opts[] = {
		OPT__STRING('n', "name", &t.name, "name", "the guest"),
		OPT__BOOL('a', "all", &t.all, "every running guest"),
		OPT__END(),
	};
	int n = parse_options(argc - 1, argv + 1, opts, "lkvm resume (--name <name> | --all)");

	if (n == -2)
		return 0;
	if (n != 0) {
		if (n > 0)
			fprintf(stderr, "lkvm: error: unexpected argument '%s'\n", argv[1]);
		return 1;
	}
	return ctl__for_targets(&t, "lkvm resume", resume__one, NULL) ? 1 : 0;
}
builtin("resume", cmd_resume, "Resume a paused guest", 5);
