/* lkvm run: boot a kernel in a new VM and connect its console to this terminal. */
#include "kvm/builtin.h"
#include "kvm/control.h"
#include "kvm/guest-init.h"
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"
#include "kvm/mainloop.h"
#include "kvm/parse-options.h"
#include "kvm/run.h"
#include "kvm/seccomp.h"
#include "kvm/term.h"
#include "virtio/9p.h"
#include "virtio/blk.h"
#include "virtio/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/utsname.h>
#include <unistd.h>

#define DEFAULT_RAM_MIB		256
#define DEFAULT_CPUS		1
#define MAX_CPUS		254

static const char run_usage[] = "lkvm run [<options>] [-k <kernel>]";

static int run__opt_console(const struct option *opt, const char *arg)
{
	enum console_type *c = opt->value;

	if (!strcmp(arg, "serial")) {
		*c = CONSOLE_SERIAL;
		return 0;
	}
	if (!strcmp(arg, "virtio")) {
		*c = CONSOLE_VIRTIO;
		return 0;
	}
	fprintf(stderr, "lkvm: error: unknown console '%s' (expected serial or virtio)\n", arg);
	return -1;
}

static int run__opt_disk(const struct option *opt, const char *arg)
{
	return blk__add_disk(opt->value, arg);
}

static int run__opt_9p(const struct option *opt, const char *arg)
{
	return p9__add_share(opt->value, arg);
}

static int run__opt_network(const struct option *opt, const char *arg)
{
	return net__add(opt->value, arg);
}

/*
 * pci (default): virtio-pci with MSI-X, per-queue interrupts, found by every
 * distro kernel without command-line help. mmio: virtio-mmio, no PCI bus to
 * enumerate; the devices are announced on the guest command line.
 */
static int run__opt_transport(const struct option *opt, const char *arg)
{
	enum virtio_transport *t = opt->value;

	if (!strcmp(arg, "pci"))
		*t = TRANSPORT_PCI;
	else if (!strcmp(arg, "mmio"))
		*t = TRANSPORT_MMIO;
	else {
		fprintf(stderr, "lkvm: error: unknown transport '%s' (expected pci or mmio)\n", arg);
		return -1;
	}
	return 0;
}

/* -p may be given several times: the parameters add up, in order. */
static int run__opt_params(const struct option *opt, const char *arg)
{
	const char **params = opt->value;
	char *s;

	if (!*params) {
		*params = arg;
		return 0;
	}
	if (asprintf(&s, "%s %s", *params, arg) < 0)
		return -1;
	*params = s;	/* lives as long as the command: a few bytes, once */
	return 0;
}

static int run__opt_boot(const struct option *opt, const char *arg)
{
	enum boot_mode *m = opt->value;

	if (!strcmp(arg, "auto"))
		*m = BOOT_AUTO;
	else if (!strcmp(arg, "64"))
		*m = BOOT_64;
	else if (!strcmp(arg, "legacy"))
		*m = BOOT_LEGACY;
	else {
		fprintf(stderr, "lkvm: error: unknown boot mode '%s' (expected auto, 64 or legacy)\n", arg);
		return -1;
	}
	return 0;
}

/* Run's options, then the command's own (lkvm sandbox). */
static void run__merge_options(struct option *all, const struct option *opts,
			       const struct option *extra)
{
	size_t n = 0;

	for (; opts->type != OPT_END; opts++)
		all[n++] = *opts;
	for (int i = 0; extra && extra->type != OPT_END && i < RUN_MAX_EXTRA; i++)
		all[n++] = *extra++;
	all[n] = (struct option)OPT__END();
}

int run__parse(struct run_args *a, int argc, const char **argv)
{
	struct kvm_config *c = &a->cfg;
	const struct option opts[] = {
		OPT__GROUP("Basic options:"),
		OPT__STRING('k', "kernel", &c->kernel_path, "image", "kernel (bzImage) to boot"),
		OPT__STRING('i', "initrd", &c->initrd_path, "file", "initial ramdisk"),
		OPT__CALLBACK('p', "params", &c->params, "params", "kernel command line, appended to the defaults (repeatable)", run__opt_params),
		OPT__U64('m', "mem", &c->ram_mib, "MiB", "guest memory in MiB (default 256)", 16, 1 << 20),
		OPT__INT('c', "cpus", &c->nr_cpus, "n", "number of vCPUs (default 1)", 1, MAX_CPUS),
		OPT__CALLBACK('d', "disk", c, "image", "virtio-blk disk: file or block device, image[,ro][,direct]; repeatable, the first is root=/dev/vda", run__opt_disk),
		OPT__CALLBACK('n', "network", c, "mode=user|tap|none[,...]", "virtio-net NIC: mode=user (default), tap [tapif=,vhost=1,script=,host_ip=] or none; guest_mac=, host_mac=, guest_ip=; repeatable", run__opt_network),
		OPT__CALLBACK(0, "9p", c, "dir[,tag][,ro]", "share a host directory over virtio-9p as mount tag TAG (repeatable; default tag kvm_9p)", run__opt_9p),
		OPT__STRING(0, "name", &c->name, "name", "guest name (default guest-<pid>)"),
		OPT__CALLBACK(0, "console", &c->console, "serial|virtio", "guest console", run__opt_console),
		OPT__CALLBACK(0, "transport", &c->transport, "pci|mmio", "virtio transport (default pci)", run__opt_transport),
		OPT__BOOL(0, "nodefaults", &c->nodefaults, "no default kernel parameters, no default NIC"),
		OPT__BOOL(0, "no-seccomp", &c->no_seccomp, "no syscall filters (debugging)"),
		OPT__GROUP("Debug options:"),
		OPT__CALLBACK(0, "boot", &c->boot, "auto|64|legacy", "boot protocol (default auto: 64-bit entry if the kernel has one)", run__opt_boot),
		OPT__BOOL(0, "debug-boot-time", &c->debug_boot_time, "log the time of guest writes to port 0xf5 and of exit"),
		OPT__BOOL(0, "debug-seccomp", &c->debug_seccomp, "report syscalls outside the seccomp allow-lists instead of killing"),
		OPT__BOOL(0, "debug", &a->debug, "print what lkvm does"),
		OPT__END(),
	};
	struct option all[ARRAY_SIZE(opts) + RUN_MAX_EXTRA];
	int n;

	run__merge_options(all, opts, a->extra);
	c->ram_mib = DEFAULT_RAM_MIB;
	c->nr_cpus = DEFAULT_CPUS;
	n = parse_options(argc - 1, argv + 1, all, a->usage ? a->usage : run_usage);
	if (n == -2)
		return 1;
	if (n < 0)
		return -1;
	if (n > 0) {
		fprintf(stderr, "lkvm: error: unexpected argument '%s' (see 'lkvm %s --help')\n",
			argv[1], a->cmd ? a->cmd : "run");
		return -1;
	}
	return 0;
}

/* With no -k: ./bzImage, then the running kernel's image. */
static const char *run__find_kernel(char *buf, size_t len)
{
	struct utsname u;

	if (!access("bzImage", R_OK))
		return "bzImage";
	if (!uname(&u)) {
		snprintf(buf, len, "/boot/vmlinuz-%s", u.release);
		if (!access(buf, R_OK))
			return buf;
	}
	return NULL;
}

/*
 * Defaults, then what the user gave with -p. With a disk and no root= of
 * the user's, the first disk is the root filesystem (as in kvmtool). A
 * sandboxed command has hvc0 to itself: the kernel, quiet, talks on ttyS0.
 */
static char *run__cmdline(const struct run_args *a)
{
	const struct kvm_config *c = &a->cfg;
	const char *params = c->params ? c->params : "";
	const char *root = "", *console = c->console == CONSOLE_VIRTIO ? "hvc0" : "ttyS0";
	bool command = a->init && a->init->command;
	char defaults[128];
	char *s;

	if (c->nr_disks && !strstr(params, "root="))
		root = c->disks[0].ro ? " root=/dev/vda ro" : " root=/dev/vda rw";
	snprintf(defaults, sizeof(defaults), "console=%s panic=-1%s%s",
		 command ? "ttyS0" : console, root, command ? " quiet" : "");
	if (c->nodefaults)
		defaults[0] = 0;
	if (asprintf(&s, "%s%s%s", defaults, *defaults && *params ? " " : "", params) < 0)
		return NULL;
	return s;
}

static const char *run__reason(struct kvm *kvm)
{
	switch (kvm->stop_reason) {
	case KVM_STOP_POWEROFF:		return "powered off";
	case KVM_STOP_REBOOT:		return "rebooted";
	case KVM_STOP_EXIT_PORT:	return "exit port";
	case KVM_STOP_FORCED:		return "forced";
	case KVM_STOP_SIGNAL:		return "signal";
	case KVM_STOP_ERROR:		return "error";
	case KVM_STOP_PANIC:		return "panicked";
	default:			return "stopped";
	}
}

static void run__report(struct kvm *kvm, const struct run_args *a)
{
	const char *why = kvm->panic_reason;

	switch (kvm->stop_reason) {
	case KVM_STOP_REBOOT:
		if (!a->quiet)
			pr_info("guest %s rebooted; stopping", kvm->cfg->name);
		break;
	case KVM_STOP_ERROR:
		pr_err("guest %s stopped on an error", kvm->cfg->name);
		break;
	case KVM_STOP_PANIC:
		pr_err("guest kernel panicked%s%s", *why ? ": " : "", why);
		break;
	default:
		break;
	}
	if (kvm->cfg->debug_boot_time) {
		u64 ns = util__now_ns() - kvm->start_ns;

		pr_info("guest ran for %llu.%03llu ms", (unsigned long long)(ns / 1000000),
			(unsigned long long)(ns / 1000 % 1000));
	}
}

static int run__vm(struct run_args *a, enum kvm_exit_reason *why)
{
	struct kvm_config *cfg = &a->cfg;
	struct mainloop loop;
	struct term term;
	struct kvm kvm = { .term = &term, .loop = &loop };
	int ret, status;

	ret = mainloop__init(&loop);
	if (!ret)
		ret = kvm__init_early(&kvm, cfg);
	if (!ret)
		ret = mainloop__add(&loop, kvm.stop_fd, EPOLLIN, NULL, NULL);
	if (!ret)
		ret = term__init(&term, &kvm, STDIN_FILENO, STDOUT_FILENO);
	if (!ret && cfg->framed_stdio)
		term__set_framed(&term, STDERR_FILENO);
	if (!ret)
		ret = control__init(&kvm);
	if (!ret)
		ret = seccomp__setup(cfg);
	if (!ret)
		ret = kvm__init(&kvm);
	if (!ret)
		ret = kvm_cpu__create_all(&kvm);
	if (ret) {
		control__exit(&kvm, "failed to start");
		kvm_cpu__destroy_all(&kvm);
		kvm__exit(&kvm);
		return -1;
	}
	term__start(&term);
	ret = kvm_cpu__start_all(&kvm);
	if (!ret)
		ret = seccomp__enter_main();
	if (ret)
		kvm__request_stop(&kvm, KVM_STOP_ERROR, 1);
	mainloop__run(&loop, &kvm);
	kvm_cpu__stop_all(&kvm);
	term__restore();
	control__exit(&kvm, run__reason(&kvm));
	run__report(&kvm, a);
	status = kvm.stop_status;
	*why = kvm.stop_reason;
	snprintf(a->init_error, sizeof(a->init_error), "%s", kvm.init_error);
	kvm_cpu__destroy_all(&kvm);
	kvm__exit(&kvm);
	mainloop__exit(&loop);
	return status;
}

/* The command line, then the VM. */
static int run__boot(struct run_args *a, enum kvm_exit_reason *why)
{
	struct kvm_config *c = &a->cfg;
	int ret;

	c->cmdline = run__cmdline(a);
	if (!c->cmdline)
		return -1;
	pr_debug("kernel %s, %d vCPU(s), %llu MiB, cmdline \"%s\"", c->kernel_path,
		 c->nr_cpus, (unsigned long long)c->ram_mib, c->cmdline);
	ret = run__vm(a, why);
	free(c->cmdline);
	c->cmdline = NULL;
	return ret;
}

int run__main(struct run_args *a, enum kvm_exit_reason *why)
{
	struct kvm_config *c = &a->cfg;
	struct guest_init shell = { 0 };
	char name[32], kbuf[256];
	int ret;

	util__debug = a->debug;
	if (!c->kernel_path) {
		c->kernel_path = run__find_kernel(kbuf, sizeof(kbuf));
		if (!c->kernel_path) {
			pr_err("no kernel given with -k, and neither ./bzImage nor /boot/vmlinuz-<release> exists");
			return -1;
		}
		if (a->quiet)
			pr_debug("using kernel %s", c->kernel_path);
		else
			pr_info("using kernel %s", c->kernel_path);
	}
	if (!c->name) {
		snprintf(name, sizeof(name), "guest-%d", (int)getpid());
		c->name = name;
	}
	if (!a->init && guest_init__wanted(c))
		a->init = &shell;
	if (blk__check_disks(c) || net__setup(c) || (a->init && guest_init__setup(a->init, c)) ||
	    p9__check_shares(c))
		ret = -1;
	else
		ret = run__boot(a, why);
	if (a->init)
		guest_init__free(a->init);
	if (a->init == &shell)
		a->init = NULL;
	return ret;
}

static int cmd_run(int argc, const char **argv)
{
	struct run_args a = { .cmd = "run" };
	enum kvm_exit_reason why;
	int ret;

	ret = run__parse(&a, argc, argv);
	if (ret)
		return ret < 0 ? 1 : 0;
	ret = run__main(&a, &why);
	return ret < 0 ? 1 : ret;
}

builtin("run", cmd_run, "Start a virtual machine", 1);
