#include "kvm/builtin.h"

#include <stdio.h>

#ifndef LKVM_VERSION
#define LKVM_VERSION "unknown"
#endif

static int cmd_version(int argc, const char **argv)
{
	printf("lkvm version %s\n", LKVM_VERSION);
	return 0;
}

builtin("version", cmd_version, "Print the version of lkvm", 901);
