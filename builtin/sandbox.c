/*
 * lkvm sandbox: run one command in a throwaway VM that sees the host's /
 * read-only (builtin/guest-init.c, guest/init/), and exit with its status.
 *
 * The command runs on hvc0; the guest kernel, quiet, has ttyS0, which lkvm
 * keeps off the terminal (--debug shows it). On a terminal (stdin and
 * stdout both TTYs) hvc0 is the command's terminal, as with lkvm run. With
 * pipes or files the init relays the command's stdin, stdout and stderr as
 * frames over hvc0, raw, so bytes pass unchanged, stdout and stderr stay
 * apart and the end of stdin reaches the command (include/kvm/init-proto.h).
 * The init hands the exit status to lkvm through port 0xf4; a kernel panic
 * comes through pvpanic (hw/pvpanic.c).
 *
 * Exit status: the command's (127 not found, 126 not runnable, 128+N
 * killed by signal N, as a shell says it); 125, with a one-line message,
 * when lkvm could not run it (bad options, no kernel, the VM failed, the
 * guest kernel panicked or the guest stopped without a status).
 */
#include "kvm/builtin.h"
#include "kvm/guest-init.h"
#include "kvm/run.h"

#include <string.h>
#include <unistd.h>

#define SANDBOX_FAILED	125	/* as env(1) and chroot(1): could not run it */

static const char sandbox_usage[] =
	"lkvm sandbox [-k <kernel>] [<run options>] [--workdir <dir>] [-e NAME[=VALUE]]... -- <command> [<args>...]";

/* Where "--" is: options before it, the command after. -1 if absent. */
static int sandbox__split(int argc, const char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			return i;
	return -1;
}

static int sandbox__status(int ret, enum kvm_exit_reason why, const char *init_error)
{
	if (ret < 0)
		return SANDBOX_FAILED;
	switch (why) {
	case KVM_STOP_EXIT_PORT:
		return ret;
	case KVM_STOP_SIGNAL:
		return ret ? ret : 128 + 2;	/* Ctrl-A x: as if interrupted */
	case KVM_STOP_POWEROFF:
		if (*init_error)
			pr_err("the guest powered off without the command's exit status: %s",
			       init_error);
		else
			pr_err("the guest powered off without the command's exit status (--debug shows its kernel's messages)");
		break;
	case KVM_STOP_REBOOT:
		pr_err("the guest rebooted before the command finished (did its kernel panic?)");
		break;
	case KVM_STOP_FORCED:
		pr_err("the guest was stopped by force");
		break;
	default:			/* a panic or an error: reported already */
		break;
	}
	return SANDBOX_FAILED;
}

static int sandbox__opt_env(const struct option *opt, const char *arg)
{
	return guest_init__add_env(opt->value, arg);
}

static int cmd_sandbox(int argc, const char **argv)
{
	struct guest_init gi = { .command = true };
	const struct option extra[] = {
		OPT__GROUP("Sandbox options:"),
		OPT__STRING(0, "workdir", &gi.workdir, "dir",
			    "share DIR writable at the same path in the guest, and run the command there"),
		OPT__CALLBACK('e', "env", &gi, "NAME[=VALUE]",
			      "set NAME in the command's environment (the host's value if no =VALUE); repeatable",
			      sandbox__opt_env),
		OPT__END(),
	};
	struct run_args a = {
		.cmd = "sandbox", .usage = sandbox_usage, .extra = extra, .init = &gi, .quiet = true,
	};
	enum kvm_exit_reason why = KVM_STOP_NONE;
	int dashes = sandbox__split(argc, argv), ret;

	ret = run__parse(&a, dashes < 0 ? argc : dashes, argv);
	if (ret)
		return ret < 0 ? SANDBOX_FAILED : 0;
	if (dashes < 0 || dashes + 1 >= argc) {
		pr_err("no command to run: %s", sandbox_usage);
		return SANDBOX_FAILED;
	}
	if (a.cfg.initrd_path) {
		pr_err("lkvm sandbox boots its own init: it takes no -i");
		return SANDBOX_FAILED;
	}
	gi.argv = argv + dashes + 1;
	gi.argc = argc - dashes - 1;
	gi.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	ret = run__main(&a, &why);
	return sandbox__status(ret, why, a.init_error);
}

builtin("sandbox", cmd_sandbox, "Run a command in a throwaway VM over the host's root", 2);
