/* guest/hello: the smallest guest. Prints one line and exits with 0. */
#include "guest.h"

int guest_main(struct boot_params *bp)
{
	puts("hello from lkvm guest\n");
	return 0;
}
