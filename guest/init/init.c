/*
 * lkvm's embedded guest init: PID 1 of a guest booted with no disk and no
 * initrd. lkvm builds an initramfs around it in memory, with what to do in
 * INIT_CONF_PATH (include/kvm/init-proto.h). The init
 *  - loads the guest kernel's modules lkvm brought, if any (its drivers);
 *  - mounts the host's / (virtio-9p) as the new root, with tmpfs on /tmp
 *    and /run, an overlay on /var, proc, sysfs, devtmpfs, devpts, and the
 *    sandbox's work directory (setup.c);
 *  - brings lo up and gives the first NIC lkvm's user-mode addresses;
 *  - runs the user's shell (lkvm run) or the command (lkvm sandbox) on the
 *    console (run.c), then powers off, or hands the command's exit status
 *    to lkvm through port PORT_EXIT.
 * Written against raw system calls: no libc, a few KiB, static.
 */
#include "init.h"
#include "x86/layout.h"

#include <asm-generic/errno.h>
#include <asm/ioctls.h>
#include <linux/fcntl.h>
#include <linux/reboot.h>

int con_fd = 2;		/* where messages go: the console */
bool con_framed;	/* ... as FRAME_STDERR frames */
/* Until the console is open (its driver may be a module), messages wait here. */
static char early[2048];
static size_t early_len;
static bool con_open;

static char conf_buf[INIT_CONF_MAX];
static struct init_conf conf;

static char *fmt_num(char *p, char *end, long v)
{
	char tmp[24];
	int n = 0;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	do {
		tmp[n++] = '0' + u % 10;
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[n++] = '-';
	while (n && p < end)
		*p++ = tmp[--n];
	return p;
}

/* %s and %d: all the init needs. */
static size_t vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
	char *p = buf, *end = buf + len;

	for (; *fmt && p < end; fmt++) {
		const char *s;

		if (*fmt != '%' || !fmt[1]) {
			*p++ = *fmt;
			continue;
		}
		fmt++;
		if (*fmt == 'd') {
			p = fmt_num(p, end, va_arg(ap, int));
			continue;
		}
		s = *fmt == 's' ? va_arg(ap, const char *) : "?";
		for (s = s ? s : "(null)"; *s && p < end; s++)
			*p++ = *s;
	}
	return p - buf;
}

static void vmsg(const char *fmt, va_list ap)
{
	static const char prefix[] = INIT_MSG_PREFIX;
	char buf[FRAME_HDR + 512];
	char *text = buf + FRAME_HDR;
	size_t n = sizeof(prefix) - 1;

	str_cpy(text, prefix);
	n += vformat(text + n, 512 - n - 1, fmt, ap);
	text[n++] = '\n';
	if (con_framed) {
		frame__header((uint8_t *)buf, FRAME_STDERR, n);
		write_all(con_fd, buf, n + FRAME_HDR);
	} else if (con_open) {
		write_all(con_fd, text, n);
	} else if (early_len + n <= sizeof(early)) {
		memcpy(early + early_len, text, n);
		early_len += n;
	}
}

/* Messages go to @fd from now on, those that waited first. */
static void con_set(int fd)
{
	con_fd = fd;
	con_open = true;
	write_all(fd, early, early_len);
	early_len = 0;
}

void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

/*
 * Let output reach lkvm, then stop the VM: with the command's exit status,
 * or by powering off (the shell is done, or the init failed: lkvm sandbox
 * then knows it has no status).
 */
static void __attribute__((noreturn)) finish(int status, bool report)
{
	uint8_t v = status;

	sys_ioctl(con_fd, TCSBRK, (void *)1);	/* tcdrain */
	sys_sync();
	if (report) {
		/* /dev/port: the kernel does the outb; ioperm() where there is none. */
		int fd = sys_open("/dev/port", O_WRONLY | O_CLOEXEC, 0);

		if (fd < 0 || sys6(__NR_pwrite64, fd, (long)&v, 1, PORT_EXIT, 0, 0) != 1) {
			if (!sys_ioperm(PORT_EXIT, 1, 1))
				__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"((uint16_t)PORT_EXIT));
		}
	}
	for (;;) {
		sys_reboot(LINUX_REBOOT_CMD_POWER_OFF);
		sys6(__NR_pause, 0, 0, 0, 0, 0, 0);
	}
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	if (!con_open)
		con_set(2);	/* /dev/console, if the kernel had one */
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	finish(0, false);
}

static void conf_set(struct init_conf *c, const char *k, const char *v)
{
	const char **str[] = {
		&c->mode, &c->console, &c->io, &c->root, &c->workdir, &c->workdir_tag,
		&c->cwd, &c->hostname, &c->ip, &c->gateway, &c->dns,
	};
	static const char *const keys[] = {
		INIT_KEY_MODE, INIT_KEY_CONSOLE, INIT_KEY_IO, INIT_KEY_ROOT, INIT_KEY_WORKDIR,
		INIT_KEY_WORKDIR_TAG, INIT_KEY_CWD, INIT_KEY_HOSTNAME, INIT_KEY_IP,
		INIT_KEY_GATEWAY, INIT_KEY_DNS,
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (str_eq(k, keys[i])) {
			*str[i] = v;
			return;
		}
	}
	if (str_eq(k, INIT_KEY_ARG) && c->argc < INIT_MAX_ARGS)
		c->argv[c->argc++] = v;
	else if (str_eq(k, INIT_KEY_ENV) && c->envc < INIT_MAX_ENV)
		c->envp[c->envc++] = v;
	else if (str_eq(k, INIT_KEY_MODULE) && c->nr_modules < INIT_MAX_MODULES)
		c->modules[c->nr_modules++] = v;
	else if (str_eq(k, INIT_KEY_ROOT_RW))
		c->root_rw = str_eq(v, "1");
	else if (str_eq(k, INIT_KEY_ROWS))
		c->rows = str_num(v, 9999);
	else if (str_eq(k, INIT_KEY_COLS))
		c->cols = str_num(v, 9999);
}

static void conf_load(struct init_conf *c)
{
	const char *p = conf_buf, *end, *k, *v;
	long n, len = 0;
	int fd, r;

	fd = sys_open(INIT_CONF_PATH, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		fatal("cannot open %s: %s", INIT_CONF_PATH, err_name(fd));
	while ((n = sys_read(fd, conf_buf + len, sizeof(conf_buf) - len)) > 0)
		len += n;
	sys_close(fd);
	end = conf_buf + len;
	while ((r = init_conf__next(&p, end, &k, &v)) > 0)
		conf_set(c, k, v);
	if (r < 0)
		fatal("%s is malformed", INIT_CONF_PATH);
	c->argv[c->argc] = NULL;
	c->envp[c->envc] = NULL;
	if (!c->root || !c->console)
		fatal("%s names no root or no console", INIT_CONF_PATH);
}

/* A console whose driver was just loaded may take a moment: up to 2 s. */
static int open_tty(const char *path)
{
	int fd;

	for (int tries = 0; ; tries++) {
		fd = sys_open(path, O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
		if (fd >= 0 || tries == 100 || (fd != -ENOENT && fd != -ENODEV && fd != -ENXIO))
			return fd;
		sys_poll(NULL, 0, 20);
	}
}

/* The console, for messages until the command owns it. */
static void open_console(const struct init_conf *c)
{
	char path[64] = "/dev/";
	int fd;

	if (str_len(c->console) > 32) {
		con_set(2);
		return;
	}
	str_cpy(path + 5, c->console);
	fd = open_tty(path);
	if (fd < 0)
		fatal("cannot open %s: %s%s", path, err_name(fd), driver_hint(c));
	/* Framed: even what the init says before the frames start passes raw. */
	if (str_eq(c->io, INIT_IO_FRAMES))
		console_raw(fd);
	con_set(fd);
}

/* PID 1 ignores what would kill it or stop it; children get the defaults back. */
static void init_signals(void)
{
	struct k_sigaction ign = { .handler = SIG_IGN_HANDLER };

	sys_sigaction(SIGPIPE, &ign, NULL);
	sys_sigaction(SIGTTOU, &ign, NULL);
	sys_sigaction(SIGTTIN, &ign, NULL);
}

int init_main(long *sp)
{
	int status;

	(void)sp;
	init_signals();
	/* The initramfs has /dev/console only: the console device comes from devtmpfs. */
	sys_mount("devtmpfs", "/dev", "devtmpfs", 0, "mode=0755");
	conf_load(&conf);
	/* Before the console: it may be a module (virtio_console). */
	load_modules(&conf);
	open_console(&conf);
	setup_root(&conf);
	setup_net(&conf);
	if (conf.hostname)
		sys_sethostname(conf.hostname, str_len(conf.hostname));

	if (str_eq(conf.mode, INIT_MODE_COMMAND)) {
		if (!conf.argc)
			fatal("no command to run");
		if (str_eq(conf.io, INIT_IO_FRAMES))
			status = run_framed(&conf);
		else
			status = run_on_tty(&conf, conf.argv);
	} else {
		const char *shell[] = { NULL, NULL };

		shell[0] = conf.argc ? conf.argv[0] : "/bin/sh";
		msg("the host's / is shared %s; exit the shell to power off",
		    conf.root_rw ? "writable" : "read-only, with scratch /tmp, /run and /var");
		status = run_on_tty(&conf, shell);
	}
	finish(status, str_eq(conf.mode, INIT_MODE_COMMAND));
}

__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call init_main\n"
	"	hlt\n");
