#include "kvm/builtin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct builtin __start_lkvm_builtins[];
extern const struct builtin __stop_lkvm_builtins[];

const struct builtin *builtin__find(const char *name)
{
	for (const struct builtin *b = __start_lkvm_builtins; b < __stop_lkvm_builtins; b++)
		if (!strcmp(b->name, name))
			return b;
	return NULL;
}

void builtin__list(int fd)
{
	int n = __stop_lkvm_builtins - __start_lkvm_builtins;

	for (int ord = 0, shown = 0; shown < n && ord < 1000; ord++)
		for (const struct builtin *b = __start_lkvm_builtins; b < __stop_lkvm_builtins; b++)
			if (b->order == ord) {
				dprintf(fd, "   %-10s %s\n", b->name, b->summary);
				shown++;
			}
}

static int cmd_help(int argc, const char **argv)
{
	const struct builtin *b;

	if (argc > 1) {
		b = builtin__find(argv[1]);
		if (!b) {
			fprintf(stderr, "lkvm: error: '%s' is not an lkvm command\n", argv[1]);
			return 1;
		}
		const char *args[] = { argv[1], "--help", NULL };

		return b->fn(2, args) == 0 ? 0 : 0;
	}
	printf("usage: lkvm [--version] <command> [<args>]\n\n"
	       "A tiny KVM hypervisor. The commands are:\n");
	fflush(stdout);
	builtin__list(STDOUT_FILENO);
	printf("\nSee 'lkvm help <command>' or 'lkvm <command> --help' for more.\n");
	return 0;
}

builtin("help", cmd_help, "Show the commands, or the help of one", 900);
