#ifndef KVM__RUN_H
#define KVM__RUN_H

/*
 * lkvm run's machinery (builtin/run.c), shared with lkvm sandbox
 * (builtin/sandbox.c): the same options, checks and VM; the sandbox adds
 * options of its own and always boots the embedded init.
 */
#include "kvm/kvm.h"
#include "kvm/parse-options.h"

struct guest_init;

#define RUN_MAX_EXTRA	8	/* options a command adds to run's */

struct run_args {
	struct kvm_config	cfg;
	bool			debug;
	const char		*cmd;		/* "run" or "sandbox", for messages */
	const char		*usage;
	const struct option	*extra;		/* more options (OPT__END-terminated), or NULL */
	struct guest_init	*init;		/* the embedded init's program; NULL: run decides */
	bool			quiet;		/* no informational lines (stderr is the command's) */
	char			init_error[160];	/* out: kvm->init_error at the end */
};

/* 0 to go on, 1 after --help, -1 after an error (printed). */
int run__parse(struct run_args *a, int argc, const char **argv);
/*
 * Check and set up everything, then run the VM: its exit status (as lkvm
 * run exits) with *why it stopped, or -1 if it never ran (message printed).
 */
int run__main(struct run_args *a, enum kvm_exit_reason *why);

#endif
