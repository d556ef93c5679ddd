/*
 * The embedded guest init, lkvm's side. With no disk and no initrd, lkvm run
 * boots the host's own userspace: the host's / shared read-only over
 * virtio-9p (or as the user shared it with --9p /,TAG[,rw]), and the init of
 * guest/init/ in an initramfs built here, whose configuration record says
 * what to run (include/kvm/init-proto.h). lkvm sandbox does the same to run
 * one command, with --workdir shared writable. A kernel whose drivers are
 * modules gets them in the initramfs too (util/kmod.c).
 */
#include "kvm/guest-init.h"
#include "kvm/init-proto.h"
#include "kvm/kvm.h"
#include "kvm/term.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define DEFAULT_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* guest/init/init-blob.S */
extern const u8 init_blob[], init_blob_end[];

bool guest_init__wanted(const struct kvm_config *cfg)
{
	return !cfg->nr_disks && !cfg->initrd_path && !cfg->nodefaults &&
	       !(cfg->params && strstr(cfg->params, "root="));
}

/* A share of the host's / that the user gave: the init's root then. */
static const struct p9_share_config *guest_init__user_root(const struct kvm_config *cfg)
{
	for (int i = 0; i < cfg->nr_shares; i++) {
		char *real = realpath(cfg->shares[i].path, NULL);
		bool root = real && !strcmp(real, "/");

		free(real);
		if (root)
			return &cfg->shares[i];
	}
	return NULL;
}

static int guest_init__add_share(struct kvm_config *cfg, const char *path, const char *tag,
				 bool ro)
{
	for (int i = 0; i < cfg->nr_shares; i++) {
		if (!strcmp(cfg->shares[i].tag, tag)) {
			pr_err("9p mount tag '%s' is lkvm's own; pick another", tag);
			return -1;
		}
	}
	if (cfg->nr_shares >= MAX_9P_SHARES) {
		pr_err("too many 9p shares (at most %d, lkvm's own included)", MAX_9P_SHARES);
		return -1;
	}
	cfg->shares[cfg->nr_shares++] = (struct p9_share_config){
		.path = path, .tag = tag, .ro = ro,
	};
	return 0;
}

/* NAME=VALUE or NAME: the length of NAME if it is a valid name, else 0. */
static size_t env_name_len(const char *s)
{
	size_t n = 0;

	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
	       (s[n] >= '0' && s[n] <= '9') || s[n] == '_')
		n++;
	return s[n] == '=' || !s[n] ? n : 0;
}

int guest_init__add_env(struct guest_init *gi, const char *arg)
{
	size_t n = env_name_len(arg);
	const char *val;
	char *s;

	if (!n) {
		pr_err("--env %s: expected NAME=VALUE or NAME (letters, digits, _)", arg);
		return -1;
	}
	if (!arg[n]) {
		val = getenv(arg);
		if (!val) {
			pr_err("--env %s: %s is not set here (give --env %s=VALUE)", arg, arg, arg);
			return -1;
		}
		if (asprintf(&s, "%s=%s", arg, val) < 0)
			return -1;
		arg = s;	/* lives as long as the command */
	}
	for (int i = 0; i < gi->nr_env; i++) {
		if (!strncmp(gi->env[i], arg, n + 1)) {
			gi->env[i] = arg;	/* the last one wins */
			return 0;
		}
	}
	if (gi->nr_env >= GUEST_INIT_MAX_USER_ENV) {
		pr_err("too many --env settings (at most %d)", GUEST_INIT_MAX_USER_ENV);
		return -1;
	}
	gi->env[gi->nr_env++] = arg;
	return 0;
}

/* Is @name set by --env? */
static bool user_env_has(const struct guest_init *gi, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < gi->nr_env; i++)
		if (!strncmp(gi->env[i], name, n) && gi->env[i][n] == '=')
			return true;
	return false;
}

static void conf_env(struct membuf *b, const char *name, const char *val)
{
	char *s;

	if (!val)
		return;
	if (asprintf(&s, "%s=%s", name, val) < 0) {
		b->failed = true;
		return;
	}
	init_conf__add(b, INIT_KEY_ENV, s);
	free(s);
}

static void conf_ip(struct membuf *b, const char *key, u32 addr, const char *suffix)
{
	char s[INET_ADDRSTRLEN + 4];

	inet_ntop(AF_INET, &addr, s, INET_ADDRSTRLEN);
	strcat(s, suffix);
	init_conf__add(b, key, s);
}

/* The first NIC, when lkvm knows its address (user mode, or guest_ip=). */
static void conf_net(struct membuf *b, const struct kvm_config *cfg)
{
	const struct net_config *n = &cfg->nets[0];
	u32 dns;

	if (!cfg->nr_nets || !n->guest_ip)
		return;
	conf_ip(b, INIT_KEY_IP, n->guest_ip, "/24");
	conf_ip(b, INIT_KEY_GATEWAY, n->host_ip, "");
	if (n->mode != NET_MODE_USER)
		return;
	/* The user-mode stack's resolver, where virtio/net.c puts it. */
	dns = (n->host_ip & htonl(0xffffff00)) | htonl(3);
	if (dns == n->guest_ip || dns == n->host_ip)
		dns = n->host_ip;
	conf_ip(b, INIT_KEY_DNS, dns, "");
}

/* The modules first: the init loads them before it needs any device. */
static void conf_modules(struct membuf *b, const struct kmod_set *s)
{
	for (int i = 0; i < s->nr; i++)
		init_conf__add(b, INIT_KEY_MODULE, s->mods[i].path);
}

static void conf_winsize(struct membuf *b)
{
	u16 rows, cols;
	char v[16];

	if (!term__fd_size(STDIN_FILENO, &rows, &cols))
		return;
	snprintf(v, sizeof(v), "%u", rows);
	init_conf__add(b, INIT_KEY_ROWS, v);
	snprintf(v, sizeof(v), "%u", cols);
	init_conf__add(b, INIT_KEY_COLS, v);
}

int guest_init__conf(struct guest_init *gi, const struct kvm_config *cfg,
		     const char *root_tag, bool root_rw)
{
	struct membuf *b = &gi->conf;
	const char *shell = getenv("SHELL"), *path = getenv("PATH");
	bool tty = !gi->command || gi->tty;
	char cwd[PATH_MAX];

	init_conf__add(b, INIT_KEY_MODE, gi->command ? INIT_MODE_COMMAND : INIT_MODE_SHELL);
	conf_modules(b, &gi->kmods);
	init_conf__add(b, INIT_KEY_CONSOLE, cfg->console == CONSOLE_VIRTIO ? "hvc0" : "ttyS0");
	if (gi->command)
		init_conf__add(b, INIT_KEY_IO, gi->tty ? INIT_IO_TTY : INIT_IO_FRAMES);
	init_conf__add(b, INIT_KEY_ROOT, root_tag);
	if (root_rw)
		init_conf__add(b, INIT_KEY_ROOT_RW, "1");
	if (gi->workdir_real) {
		init_conf__add(b, INIT_KEY_WORKDIR, gi->workdir_real);
		init_conf__add(b, INIT_KEY_WORKDIR_TAG, INIT_WORKDIR_TAG);
		init_conf__add(b, INIT_KEY_CWD, gi->workdir_real);
	} else if (getcwd(cwd, sizeof(cwd))) {
		init_conf__add(b, INIT_KEY_CWD, cwd);
	}
	init_conf__add(b, INIT_KEY_HOSTNAME, "lkvm");
	conf_net(b, cfg);
	if (tty)
		conf_winsize(b);
	if (gi->command) {
		for (int i = 0; i < gi->argc; i++)
			init_conf__add(b, INIT_KEY_ARG, gi->argv[i]);
	} else {
		init_conf__add(b, INIT_KEY_ARG, shell && shell[0] == '/' ? shell : "/bin/sh");
	}
	if (!user_env_has(gi, "PATH"))
		conf_env(b, "PATH", path && *path ? path : DEFAULT_PATH);
	if (!user_env_has(gi, "HOME"))
		conf_env(b, "HOME", getenv("HOME") ? getenv("HOME") : "/");
	if (tty && !user_env_has(gi, "TERM"))
		conf_env(b, "TERM", getenv("TERM") ? getenv("TERM") : "linux");
	if (!user_env_has(gi, "LANG"))
		conf_env(b, "LANG", getenv("LANG"));
	for (int i = 0; i < gi->nr_env; i++)
		init_conf__add(b, INIT_KEY_ENV, gi->env[i]);

	if (gi->argc > INIT_MAX_ARGS) {
		pr_err("too many arguments for the command (%d; at most %d)", gi->argc, INIT_MAX_ARGS);
		return -1;
	}
	if (b->len > INIT_CONF_MAX) {
		pr_err("the command and its environment are too long (%zu bytes; at most %d)",
		       b->len, INIT_CONF_MAX);
		return -1;
	}
	if (b->failed) {
		pr_err("out of memory for the guest init's configuration");
		return -1;
	}
	return 0;
}

/* The module files, where the configuration records name them. */
static int guest_init__cpio_modules(struct guest_init *gi)
{
	const struct kmod_set *s = &gi->kmods;
	int ret = 0;

	if (s->nr)
		ret = cpio__add(&gi->cpio, INIT_MODULES_DIR + 1, S_IFDIR | 0755, 0, NULL, 0);
	for (int i = 0; i < s->nr && !ret; i++)
		ret = cpio__add(&gi->cpio, s->mods[i].path + 1, S_IFREG | 0600, 0,
				s->mods[i].data, s->mods[i].size);
	return ret;
}

/* /init, its configuration, and the directories and node it needs. */
static int guest_init__cpio(struct guest_init *gi)
{
	struct cpio *c = &gi->cpio;
	int ret = 0;

	ret = ret ?: cpio__add(c, "dev", S_IFDIR | 0755, 0, NULL, 0);
	ret = ret ?: cpio__add(c, "dev/console", S_IFCHR | 0600, makedev(5, 1), NULL, 0);
	ret = ret ?: cpio__add(c, "newroot", S_IFDIR | 0755, 0, NULL, 0);
	ret = ret ?: cpio__add(c, "scratch", S_IFDIR | 0755, 0, NULL, 0);
	ret = ret ?: cpio__add(c, "lkvm", S_IFDIR | 0755, 0, NULL, 0);
	ret = ret ?: cpio__add(c, INIT_CONF_PATH + 1, S_IFREG | 0600, 0, gi->conf.data, gi->conf.len);
	ret = ret ?: guest_init__cpio_modules(gi);
	ret = ret ?: cpio__add(c, "init", S_IFREG | 0755, 0, init_blob, init_blob_end - init_blob);
	ret = ret ?: cpio__finish(c);
	if (ret)
		pr_err("cannot build the guest's initramfs: %s", strerror(-ret));
	return ret;
}

static int guest_init__workdir(struct guest_init *gi, struct kvm_config *cfg)
{
	struct stat st;

	gi->workdir_real = realpath(gi->workdir, NULL);
	if (!gi->workdir_real || stat(gi->workdir_real, &st) < 0) {
		pr_err("--workdir %s: %s", gi->workdir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		pr_err("--workdir %s is not a directory", gi->workdir);
		return -1;
	}
	return guest_init__add_share(cfg, gi->workdir_real, INIT_WORKDIR_TAG, false);
}

int guest_init__setup(struct guest_init *gi, struct kvm_config *cfg)
{
	const struct p9_share_config *root = guest_init__user_root(cfg);
	const char *root_tag = root ? root->tag : INIT_ROOT_TAG;
	bool root_rw = root && !root->ro;

	if (!root && guest_init__add_share(cfg, "/", INIT_ROOT_TAG, true))
		return -1;
	if (gi->workdir && guest_init__workdir(gi, cfg))
		return -1;
	if (gi->command) {
		cfg->console = CONSOLE_VIRTIO;
		cfg->framed_stdio = !gi->tty;
	}
	if (kmod__find(&gi->kmods, cfg->kernel_path) ||
	    guest_init__conf(gi, cfg, root_tag, root_rw) || guest_init__cpio(gi))
		return -1;
	cfg->initrd_data = gi->cpio.buf.data;
	cfg->initrd_size = gi->cpio.buf.len;
	pr_debug("embedded init: %zu-byte initramfs, the host's / as 9p tag %s (%s), %d kernel modules",
		 cfg->initrd_size, root_tag, root_rw ? "writable" : "read-only", gi->kmods.nr);
	kmod__free(&gi->kmods);		/* the cpio has its own copy (up to 64 MiB) */
	return 0;
}

void guest_init__free(struct guest_init *gi)
{
	free(gi->workdir_real);
	gi->workdir_real = NULL;
	kmod__free(&gi->kmods);
	membuf__free(&gi->conf);
	membuf__free(&gi->cpio.buf);
}
