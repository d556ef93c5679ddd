/*
 * The embedded init's kernel modules (a distro kernel's drivers), filesystems
 * (the host's / over 9p, scratch space) and network.
 */
#include "init.h"

#include <asm-generic/errno.h>
#include <linux/fcntl.h>
#include <linux/if.h>
#include <linux/in.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/route.h>
#include <linux/sockios.h>
#include <linux/utsname.h>

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE	4
#endif

#define NEWROOT		"/newroot"	/* in the initramfs: where the new root is built */
#define SCRATCH		"/scratch"	/* in the initramfs: tmpfs for the /var overlay */
#define P9_OPTS		"trans=virtio,version=9p2000.L,msize=524288"
#define PATH_LEN	4096
#define F_OK		0

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = str_len(s), m = str_len(suffix);

	return n >= m && str_eq(s + n - m, suffix);
}

/* What lkvm brought, dependencies first; the kernel unpacks what is compressed. */
void load_modules(const struct init_conf *c)
{
	for (int i = 0; i < c->nr_modules; i++) {
		const char *path = c->modules[i];
		bool packed = has_suffix(path, ".xz") || has_suffix(path, ".zst") ||
			      has_suffix(path, ".gz");
		int fd = sys_open(path, O_RDONLY | O_CLOEXEC, 0), r = fd;

		if (fd >= 0) {
			r = sys_finit_module(fd, "", packed ? MODULE_INIT_COMPRESSED_FILE : 0);
			sys_close(fd);
		}
		if (r < 0 && r != -EEXIST)
			msg("cannot load module %s: %s%s", path, err_name(r),
			    packed ? " (a compressed module: the kernel needs "
				     "CONFIG_MODULE_DECOMPRESS, Linux 5.17 or later)" : "");
	}
}

const char *driver_hint(const struct init_conf *c)
{
	static char hint[256];
	struct new_utsname u;

	if (c->nr_modules || sys_uname(&u) < 0)
		return "";
	u.release[sizeof(u.release) - 1] = 0;
	str_cpy(str_cpy(str_cpy(hint, " (its driver a module? lkvm found no /lib/modules/"),
			u.release), "/modules.dep on the host)");
	return hint;
}

static char *in_root(char *buf, const char *path)
{
	return path_join(buf, PATH_LEN, NEWROOT, path);
}

/* Every missing directory of @path (best effort: errors show at the mount). */
static void mkdir_p(char *path, int mode)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		sys_mkdir(path, mode);
		*p = '/';
	}
	sys_mkdir(path, mode);
}

/* Mount over a directory of the host's tree, if the host has it. */
static int mount_over(const char *path, const char *type, unsigned long flags, const char *data)
{
	char p[PATH_LEN];
	int r;

	if (!in_root(p, path) || sys_access(p, F_OK) < 0)
		return -ENOENT;
	r = sys_mount(type, p, type, flags, data);
	if (r < 0)
		msg("cannot mount %s on %s: %s", type, path, err_name(r));
	return r;
}

/* /var keeps the host's files, but writes go to a tmpfs: an overlay. */
static void mount_var(void)
{
	char p[PATH_LEN];
	int r;

	if (!in_root(p, "/var") || sys_access(p, F_OK) < 0)
		return;
	r = sys_mount("tmpfs", SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	if (!r) {
		sys_mkdir(SCRATCH "/upper", 0755);
		sys_mkdir(SCRATCH "/work", 0755);
		r = sys_mount("overlay", p, "overlay", MS_NOSUID | MS_NODEV,
			      "lowerdir=" NEWROOT "/var,upperdir=" SCRATCH "/upper,workdir=" SCRATCH "/work");
	}
	if (r < 0) {
		msg("no overlay on /var (%s): an empty tmpfs instead", err_name(r));
		mount_over("/var", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	}
}

static void setup_dev(void)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", NEWROOT "/dev/fd" },
		{ "/proc/self/fd/0", NEWROOT "/dev/stdin" },
		{ "/proc/self/fd/1", NEWROOT "/dev/stdout" },
		{ "/proc/self/fd/2", NEWROOT "/dev/stderr" },
	};

	if (mount_over("/dev", "devtmpfs", MS_NOSUID, "mode=0755") < 0)
		return;
	sys_mkdir(NEWROOT "/dev/pts", 0755);
	mount_over("/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666");
	sys_mkdir(NEWROOT "/dev/shm", 01777);
	mount_over("/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		sys_symlink(links[i][0], links[i][1]);
}

/* The sandbox's work directory: the host's, writable, at the same path. */
static void mount_workdir(const struct init_conf *c)
{
	char p[PATH_LEN];
	int r;

	if (!c->workdir)
		return;
	if (!c->workdir_tag || !in_root(p, c->workdir))
		fatal("bad work directory %s", c->workdir);
	mkdir_p(p, 0755);
	r = sys_mount(c->workdir_tag, p, "9p", 0, P9_OPTS);
	if (r < 0)
		fatal("cannot mount the work directory %s (9p): %s%s", c->workdir, err_name(r),
		      driver_hint(c));
}

static void switch_root(void)
{
	int r = sys_chdir(NEWROOT);

	if (!r)
		r = sys_mount(".", "/", NULL, MS_MOVE, NULL);
	if (!r)
		r = sys_chroot(".");
	if (!r)
		r = sys_chdir("/");
	if (r < 0)
		fatal("cannot switch to the new root: %s", err_name(r));
}

static int write_file(const char *path, const char *text)
{
	int fd = sys_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r;

	if (fd < 0)
		return fd;
	r = write_all(fd, text, str_len(text));
	sys_close(fd);
	return r;
}

/*
 * The host's /etc/resolv.conf names the host's resolver, maybe 127.0.0.53:
 * the guest must ask lkvm's. A symlink into /run (systemd-resolved) gets its
 * target written in our tmpfs; a file gets ours bind-mounted over it.
 */
static void setup_resolv(const char *dns)
{
	static const char *const ours[] = { "/run/lkvm-resolv.conf", "/tmp/.lkvm-resolv.conf" };
	char text[64], link[PATH_LEN], dir[PATH_LEN];
	long n;

	if (str_len(dns) > 15)
		return;
	str_cpy(str_cpy(str_cpy(text, "nameserver "), dns), "\n");
	n = sys_readlink("/etc/resolv.conf", link, sizeof(link) - 1);
	if (n > 0) {
		char *slash = NULL;

		link[n] = 0;
		if (link[0] == '/')
			str_cpy(dir, link);
		else if (!path_join(dir, sizeof(dir), "/etc", link))
			return;
		for (char *p = dir; *p; p++)
			if (*p == '/')
				slash = p;
		if (slash && slash != dir) {
			*slash = 0;
			mkdir_p(dir, 0755);
		}
		if (!write_file("/etc/resolv.conf", text))
			return;
	}
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		if (write_file(ours[i], text))
			continue;
		sys_mount(ours[i], "/etc/resolv.conf", NULL, MS_BIND, NULL);
		return;
	}
}

void setup_root(const struct init_conf *c)
{
	char opts[128];
	int r;

	str_cpy(str_cpy(opts, P9_OPTS), c->root_rw ? "" : ",cache=loose");
	r = sys_mount(c->root, NEWROOT, "9p", c->root_rw ? 0 : MS_RDONLY, opts);
	if (r == -ENODEV && !c->nr_modules)
		fatal("the guest kernel has no 9p file system, for the host's root%s",
		      driver_hint(c));
	if (r == -ENODEV)
		fatal("the guest kernel has no 9p file system (CONFIG_9P_FS), for the host's root");
	if (r < 0)
		fatal("cannot mount the host's root (9p tag %s): %s%s", c->root, err_name(r),
		      driver_hint(c));
	mount_over("/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_over("/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	if (!c->root_rw)
		mount_var();
	mount_over("/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_over("/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	setup_dev();
	mount_workdir(c);
	switch_root();
	if (c->dns)
		setup_resolv(c->dns);
}

/* ---- network: static addresses through the old ioctls ---- */

static void if_name(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	for (int i = 0; name[i] && i < IFNAMSIZ - 1; i++)
		ifr->ifr_name[i] = name[i];
}

static int if_up(int s, const char *name)
{
	struct ifreq ifr;
	int r;

	if_name(&ifr, name);
	r = sys_ioctl(s, SIOCGIFFLAGS, &ifr);
	if (r < 0)
		return r;
	ifr.ifr_flags |= IFF_UP;
	return sys_ioctl(s, SIOCSIFFLAGS, &ifr);
}

static void in_addr(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = addr;
}

static int if_addr(int s, const char *name, unsigned long req, uint32_t addr)
{
	struct ifreq ifr;

	if_name(&ifr, name);
	in_addr(&ifr.ifr_addr, addr);
	return sys_ioctl(s, req, &ifr);
}

static int add_gateway(int s, uint32_t gw)
{
	struct rtentry rt;

	memset(&rt, 0, sizeof(rt));
	in_addr(&rt.rt_dst, 0);
	in_addr(&rt.rt_genmask, 0);
	in_addr(&rt.rt_gateway, gw);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	return sys_ioctl(s, SIOCADDRT, &rt);
}

/* "a.b.c.d/prefix" (prefix 24 if left out): address and mask, network order. */
static int parse_cidr(const char *s, uint32_t *addr, uint32_t *mask)
{
	char ip[16];
	long prefix = 24;
	size_t n = 0;

	while (s[n] && s[n] != '/' && n < sizeof(ip) - 1) {
		ip[n] = s[n];
		n++;
	}
	ip[n] = 0;
	if (s[n] == '/')
		prefix = str_num(s + n + 1, 32);
	else if (s[n])
		return -1;
	if (prefix < 0 || str_ipv4(ip, addr))
		return -1;
	*mask = prefix ? __builtin_bswap32(~0u << (32 - prefix)) : 0;
	return 0;
}

void setup_net(const struct init_conf *c)
{
	uint32_t ip, mask, gw;
	int s, r;

	s = sys_socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	if_up(s, "lo");
	if (c->ip) {
		if (parse_cidr(c->ip, &ip, &mask)) {
			msg("bad address %s", c->ip);
			goto out;
		}
		r = if_addr(s, "eth0", SIOCSIFADDR, ip);
		if (!r)
			r = if_addr(s, "eth0", SIOCSIFNETMASK, mask);
		if (!r)
			r = if_up(s, "eth0");
		if (!r && c->gateway && !str_ipv4(c->gateway, &gw))
			r = add_gateway(s, gw);
		if (r < 0)
			msg("cannot configure eth0: %s", err_name(r));
	}
out:
	sys_close(s);
}
