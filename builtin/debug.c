/* lkvm debug: dump a guest's vCPU registers and stacks, or send it a SysRq key. */
#include "kvm/builtin.h"
#include "kvm/control.h"
#include "kvm/parse-options.h"

#include <stdio.h>
#include <string.h>

struct debug_ctx {
	const char	*sysrq;
};

static int debug__one(const char *name, void *opaque)
{
	struct debug_ctx *ctx = opaque;

	if (ctx->sysrq)
		return ctl__simple(name, CTL_SYSRQ, ctx->sysrq, 1, false);
	printf("%s:\n", name);
	fflush(stdout);
	return ctl__simple(name, CTL_DEBUG, NULL, 0, true);
}

static int cmd_debug(int argc, const char **argv)
{
	struct debug_ctx ctx = { 0 };
	struct ctl_target t = { 0 };
	const struct option opts[] = {
		OPT__STRING('n', "name", &t.name, "name", "the guest"),
		OPT__BOOL('a', "all", &t.all, "every running guest"),
		OPT__STRING('s', "sysrq", &ctx.sysrq, "key", "send magic SysRq <key> to the guest console"),
		OPT__END(),
	};
	int n = parse_options_noargs(argc, argv, opts, "lkvm debug (--name <name> | --all) [--sysrq <key>]");

	if (n >= 0)
		return n;
	if (ctx.sysrq && strlen(ctx.sysrq) != 1) {
		fprintf(stderr, "lkvm: error: --sysrq takes one key, e.g. --sysrq t\n");
		return 1;
	}
	return ctl__for_targets(&t, "debug", debug__one, &ctx) ? 1 : 0;
}

builtin("debug", cmd_debug, "Dump a guest's registers, or send it SysRq", 7);
