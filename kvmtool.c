/* lkvm: git-style dispatch to the builtin subcommands. */
#include "kvm/builtin.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, const char **argv)
{
	const struct builtin *b;
	const char *cmd = argc > 1 ? argv[1] : "help";

	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
		cmd = "help";
	else if (!strcmp(cmd, "--version"))
		cmd = "version";

	b = builtin__find(cmd);
	if (!b) {
		fprintf(stderr, "lkvm: error: '%s' is not an lkvm command; see 'lkvm help'\n", cmd);
		return 1;
	}
	return b->fn(argc > 1 ? argc - 1 : 0, argc > 1 ? argv + 1 : argv);
}
