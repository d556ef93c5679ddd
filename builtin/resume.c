/* lkvm resume: let paused guests run again. */
#include "kvm/builtin.h"
#include "kvm/control.h"

static int cmd_resume(int argc, const char **argv)
{
	return ctl__target_main(argc, argv, "lkvm resume (--name <name> | --all)", CTL_RESUME, false);
}

builtin("resume", cmd_resume, "Resume a paused guest", 5);
