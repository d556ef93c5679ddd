/* lkvm pause: pause the vCPUs of running guests. */
#include "kvm/builtin.h"
#include "kvm/control.h"
#include "kvm/parse-options.h"

#include <stdio.h>

static int pause__one(const char *name, void *opaque)
{
	return ctl__simple(name, CTL_PAUSE, NULL, 0, false);
}

static int cmd_pause(int argc, const char **argv)
{
	struct ctl_target t = { 0 };
	const struct option opts[] = {
		OPT__STRING('n', "name", &t.name, "name", "the guest"),
		OPT__BOOL('a', "all", &t.all, "every running guest"),
		OPT__END(),
	};
	int n = parse_options(argc - 1, argv + 1, opts, "lkvm pause (--name <name> | --all)");

	if (n == -2)
		return 0;
	if (n != 0) {
		if (n > 0)
			fprintf(stderr, "lkvm: error: unexpected argument '%s'\n", argv[1]);
		return 1;
	}
	return ctl__for_targets(&t, "lkvm pause", pause__one, NULL) ? 1 : 0;
}
builtin("pause", cmd_pause, "Pause the vCPUs of a running guest", 4);
