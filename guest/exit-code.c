/*
 * guest/exit-code: prints the kernel command line, then exits with the N of
 * the last "exit=N" on it (decimal or 0x-hex, 0-255). Without a usable
 * "exit=N" it says why and exits with 255.
 */
#include "guest.h"

#define STATUS_NO_EXIT	255

int guest_main(struct boot_params *bp)
{
	const char *line = cmdline(bp);
	const char *val;
	u64 n;

	if (!line) {
		puts("exit-code: no command line\n");
		return STATUS_NO_EXIT;
	}
	printf("cmdline: %s\n", line);
	val = cmdline_get(line, "exit");
	if (!val) {
		puts("exit-code: no exit=N on the command line\n");
		return STATUS_NO_EXIT;
	}
	if (!parse_u64(val, &n) || n > 255) {
		puts("exit-code: exit=N needs N in 0-255\n");
		return STATUS_NO_EXIT;
	}
	printf("exit-code: exiting with %u\n", (unsigned int)n);
	return n;
}
