/*
 * /init of the boot benchmark's initramfs: prints
 *   BENCH-INIT-REACHED uptime_ms=N
 * on the console (N: the guest's CLOCK_MONOTONIC, i.e. roughly the time since
 * the kernel's timekeeping started) and ends the VM at once, the way the
 * kernel command line says:
 *   bench_exit=port      write 0 to I/O port 0xf4 (lkvm's exit port; QEMU's
 *                        isa-debug-exit when configured at 0xf4)
 *   bench_exit=reboot    reboot(2) RESTART, i.e. `reboot -f`
 *   bench_exit=poweroff  reboot(2) POWER_OFF, i.e. `poweroff -f` (ACPI S5)
 * (the kernel hands unknown name=value parameters to init's environment).
 * Before that it writes 1 to port 0xf5, lkvm's boot-time marker: with
 * `lkvm run --debug-boot-time` lkvm logs when /init got there, and "guest ran
 * for" at the end, which splits the exit path from the boot. (kvmtool and
 * QEMU ignore the port.)
 * Without libc, so that the initramfs stays a few KiB and nothing but the
 * kernel runs between its start and /init.
 * Build: gcc -static -nostdlib -ffreestanding -fno-stack-protector -O2 -o init init.c
 */
#include <asm/unistd.h>
#include <linux/reboot.h>

static long sys(long n, long a, long b, long c, long d, long e)
{
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;

	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return r;
}

static int prefix(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return 0;
	return 1;
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void say(const char *s)
{
	long n = 0;

	while (s[n])
		n++;
	sys(__NR_write, 1, (long)s, n, 0, 0);
}

/* say_uptime: " uptime_ms=N\n" from CLOCK_MONOTONIC. */
static void say_uptime(void)
{
	struct { long sec, nsec; } ts = { 0, 0 };
	char b[40], *p = b + sizeof(b) - 1;
	unsigned long ms;

	sys(__NR_clock_gettime, 1 /* CLOCK_MONOTONIC */, (long)&ts, 0, 0, 0);
	ms = ts.sec * 1000UL + ts.nsec / 1000000;
	*p = 0;
	*--p = '\n';
	do
		*--p = '0' + ms % 10;
	while (ms /= 10);
	say(" uptime_ms=");
	say(p);
}

static void hang(void)
{
	for (;;)
		sys(__NR_pause, 0, 0, 0, 0, 0);
}

__attribute__((used)) void bench_main(long *sp)
{
	long argc = sp[0];
	char **envp = (char **)(sp + 1 + argc + 1);
	const char *how = "port";
	int fd, port;

	for (; *envp; envp++)
		if (prefix(*envp, "bench_exit="))
			how = *envp + 11;
	/* No /dev/console in the cpio, so the kernel gave us no stdio. */
	sys(__NR_mount, (long)"devtmpfs", (long)"/dev", (long)"devtmpfs", 0, 0);
	fd = sys(__NR_open, (long)"/dev/console", 01 /* O_WRONLY */, 0, 0, 0);
	if (fd >= 0 && fd != 1)
		sys(__NR_dup2, fd, 1, 0, 0, 0);
	say("BENCH-INIT-REACHED");
	say_uptime();
	port = sys(__NR_open, (long)"/dev/port", 01 /* O_WRONLY */, 0, 0, 0);
	if (port >= 0) {
		unsigned char one = 1;

		sys(__NR_pwrite64, port, (long)&one, 1, 0xf5, 0);
	}
	if (streq(how, "reboot")) {
		sys(__NR_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
		    LINUX_REBOOT_CMD_RESTART, 0, 0);
	} else if (streq(how, "poweroff")) {
		sys(__NR_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
		    LINUX_REBOOT_CMD_POWER_OFF, 0, 0);
	} else {
		unsigned char v = 0;

		if (port >= 0)
			sys(__NR_pwrite64, port, (long)&v, 1, 0xf4, 0);
	}
	say("BENCH-INIT-STILL-RUNNING\n");
	hang();
}

__asm__(".globl _start\n"
	"_start:\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call bench_main\n"
	"	hlt\n");
