/* lkvm pause: stop the vCPUs of running guests (they stay in memory). */
#include "kvm/builtin.h"
#include "kvm/control.h"

static int cmd_pause(int argc, const char **argv)
{
	return ctl__target_main(argc, argv, "lkvm pause (--name <name> | --all)", CTL_PAUSE, false);
}

builtin("pause", cmd_pause, "Pause the vCPUs of a running guest", 4);
