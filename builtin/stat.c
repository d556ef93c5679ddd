/* lkvm stat: vCPU exit counts and device statistics of a running guest. */
#include "kvm/builtin.h"
#include "kvm/control.h"

static int cmd_stat(int argc, const char **argv)
{
	return ctl__target_main(argc, argv, "lkvm stat (--name <name> | --all)", CTL_STAT, true);
}

builtin("stat", cmd_stat, "Show vCPU and device statistics of a guest", 6);
