/*
 * The guest kernel's modules for the embedded init (include/kvm/kmod.h):
 * its release from the bzImage setup header (Documentation/x86/boot.rst),
 * then the modules the init needs and their dependencies from the release's
 * modules.dep ("kernel/x/y.ko[.xz]: dep1 dep2 ...", dependencies listed so
 * that the last one loads first, as modprobe does it).
 */
#include "kvm/kmod.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SETUP_MAGIC_OFF		0x202	/* "HdrS" */
#define SETUP_VERSION_OFF	0x206	/* boot protocol version */
#define SETUP_KVER_OFF		0x20e	/* kernel_version: the string is 0x200 further */
#define SETUP_READ		KB(128)	/* setup_sects is 8 bits: setup fits in 128 KiB */
#define KMOD_BASE		"/lib/modules"
#define KMOD_TEXT_MAX		MB(16)	/* modules.dep, modules.builtin */
#define KMOD_NAME_MAX		64

/*
 * What the embedded init needs, if it is a module: the virtio transports
 * (PCI and MMIO: both, the init does not know which), the console, the 9p
 * root, overlay for /var, and the devices lkvm may give.
 */
static const char *const kmod_wanted[] = {
	"virtio_pci", "virtio_mmio", "virtio_console", "9pnet_virtio", "9p", "overlay",
	"virtio_net", "virtio_blk", "virtio_rng",
};

enum kmod_state { KMOD_NEW, KMOD_BUSY, KMOD_DONE };

/* One line of modules.dep. */
struct kmod_dep {
	const char	*path;		/* relative to the tree, or absolute */
	char		*deps;		/* space-separated paths */
	char		name[KMOD_NAME_MAX];	/* '-' as '_' */
	enum kmod_state	state;
};

/* A release's module tree: DIR/modules.dep and DIR/modules.builtin. */
struct kmod_tree {
	char		dir[PATH_MAX];
	char		*dep_text;	/* cut into strings in place */
	char		*builtin;	/* one NUL-terminated path after the other, or NULL */
	size_t		builtin_len;
	struct kmod_dep	*ents;
	int		nr;
};

static u16 le16(const u8 *p)
{
	return p[0] | p[1] << 8;
}

int kmod__release(const u8 *img, size_t len, char *buf, size_t size)
{
	size_t off, n = 0;

	if (len < SETUP_KVER_OFF + 2 || memcmp(img + SETUP_MAGIC_OFF, "HdrS", 4) ||
	    le16(img + SETUP_VERSION_OFF) < 0x200 || !le16(img + SETUP_KVER_OFF))
		return -EINVAL;
	off = le16(img + SETUP_KVER_OFF) + 0x200;
	while (off + n < len && n < size && img[off + n] > ' ' && img[off + n] < 0x7f)
		n++;
	/* A word, whole: it ends at a space or the string's NUL. */
	if (!n || n >= size || off + n >= len || (img[off + n] != ' ' && img[off + n]))
		return -EINVAL;
	memcpy(buf, img + off, n);
	buf[n] = 0;
	/* It names a directory. */
	if (strchr(buf, '/') || !strcmp(buf, ".") || !strcmp(buf, ".."))
		return -EINVAL;
	return 0;
}

static int kmod__image_release(const char *path, char *buf, size_t size)
{
	u8 *img = malloc(SETUP_READ);
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -ENOMEM;
	ssize_t n;

	if (fd < 0) {
		ret = -errno;
	} else if (img) {
		n = read_in_full(fd, img, SETUP_READ);
		ret = n < 0 ? (int)n : kmod__release(img, n, buf, size);
	}
	if (fd >= 0)
		close(fd);
	free(img);
	return ret;
}

/* A whole regular file of at most @max bytes, with a NUL after it: 0 or -errno. */
static int kmod__slurp(const char *path, size_t max, char **data, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	struct stat st;
	char *d = NULL;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		ret = -errno;
	else if (!S_ISREG(st.st_mode))
		ret = -EINVAL;
	else if ((u64)st.st_size > max)
		ret = -EFBIG;
	else if (!(d = malloc(st.st_size + 1)))
		ret = -ENOMEM;
	if (!ret) {
		n = read_in_full(fd, d, st.st_size);
		ret = n < 0 ? (int)n : n != st.st_size ? -EIO : 0;
	}
	close(fd);
	if (ret) {
		free(d);
		return ret;
	}
	d[st.st_size] = 0;
	*data = d;
	*size = st.st_size;
	return 0;
}

/* The module name of a path: its file name up to ".ko", '-' as '_'. */
static int kmod__name(char *name, const char *path)
{
	const char *base = strrchr(path, '/'), *end;
	size_t n;

	base = base ? base + 1 : path;
	end = strstr(base, ".ko");
	n = end ? (size_t)(end - base) : strlen(base);
	if (!n || n >= KMOD_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		name[i] = base[i] == '-' ? '_' : base[i];
	name[n] = 0;
	return 0;
}

static int kmod_tree__parse(struct kmod_tree *t)
{
	char *line, *save = NULL;
	size_t lines = 1;

	for (const char *p = t->dep_text; *p; p++)
		lines += *p == '\n';
	t->ents = calloc(lines, sizeof(*t->ents));
	if (!t->ents)
		return -ENOMEM;
	for (line = strtok_r(t->dep_text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct kmod_dep *e = &t->ents[t->nr];
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = 0;
		if (kmod__name(e->name, line))
			continue;
		e->path = line;
		e->deps = colon + 1;
		t->nr++;
	}
	return 0;
}

/* modules.builtin is optional: what is built in is not in modules.dep either. */
static void kmod_tree__load_builtin(struct kmod_tree *t)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/modules.builtin", t->dir);
	if (kmod__slurp(path, KMOD_TEXT_MAX, &t->builtin, &t->builtin_len))
		return;
	for (size_t i = 0; i < t->builtin_len; i++)
		if (t->builtin[i] == '\n')
			t->builtin[i] = 0;
}

/* DIR/modules.dep: 0, or -errno (-ENOENT: no module tree). */
static int kmod_tree__load(struct kmod_tree *t)
{
	char path[PATH_MAX + 32];
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "%s/modules.dep", t->dir);
	ret = kmod__slurp(path, KMOD_TEXT_MAX, &t->dep_text, &len);
	if (!ret)
		ret = kmod_tree__parse(t);
	if (!ret)
		kmod_tree__load_builtin(t);
	return ret;
}

static void kmod_tree__free(struct kmod_tree *t)
{
	free(t->dep_text);
	free(t->builtin);
	free(t->ents);
}

static struct kmod_dep *kmod_tree__find(struct kmod_tree *t, const char *path)
{
	char name[KMOD_NAME_MAX];

	if (kmod__name(name, path))
		return NULL;
	for (int i = 0; i < t->nr; i++)
		if (!strcmp(t->ents[i].name, name))
			return &t->ents[i];
	return NULL;
}

static bool kmod_tree__builtin(const struct kmod_tree *t, const char *name)
{
	char want[KMOD_NAME_MAX], have[KMOD_NAME_MAX];
	const char *p = t->builtin, *end = p + t->builtin_len;

	if (!p || kmod__name(want, name))
		return false;
	for (; p < end; p += strlen(p) + 1)
		if (!kmod__name(have, p) && !strcmp(have, want))
			return true;
	return false;
}

/* Read one module's file into @s; what cannot be read is left out, with a warning. */
static int kmod__read(struct kmod_set *s, const struct kmod_tree *t, const struct kmod_dep *e)
{
	const char *base = strrchr(e->path, '/');
	bool abs = e->path[0] == '/';
	char host[PATH_MAX];
	struct kmod *m;
	size_t size;
	char *data;
	int ret, n;

	base = base ? base + 1 : e->path;
	n = snprintf(host, sizeof(host), "%s%s%s", abs ? "" : t->dir, abs ? "" : "/", e->path);
	if (s->nr == INIT_MAX_MODULES) {
		pr_warn("more than %d kernel modules for the guest: %s left out",
			INIT_MAX_MODULES, host);
		return 0;
	}
	m = &s->mods[s->nr];
	if (n < 0 || (size_t)n >= sizeof(host))
		ret = -ENAMETOOLONG;
	else
		ret = kmod__slurp(host, KMOD_TOTAL_MAX - s->total, &data, &size);
	if (ret == -EFBIG)
		pr_warn("kernel modules for the guest over %llu MiB: %s left out",
			(unsigned long long)(KMOD_TOTAL_MAX >> 20), host);
	else if (ret)
		pr_warn("cannot read kernel module %s: %s", host, strerror(-ret));
	if (ret)
		return 0;
	if (asprintf(&m->path, INIT_MODULES_DIR "/%02d-%s", s->nr + 1, base) < 0) {
		free(data);
		return -ENOMEM;
	}
	m->data = (u8 *)data;
	m->size = size;
	s->total += size;
	s->nr++;
	return 0;
}

/* @e after its dependencies, the last one listed first; each module once. */
static int kmod__add(struct kmod_set *s, struct kmod_tree *t, struct kmod_dep *e, int depth)
{
	char *deps[INIT_MAX_MODULES], *save = NULL;
	int n = 0;

	if (e->state != KMOD_NEW || depth > INIT_MAX_MODULES)
		return 0;
	e->state = KMOD_BUSY;
	for (char *d = strtok_r(e->deps, " \t", &save); d && n < INIT_MAX_MODULES;
	     d = strtok_r(NULL, " \t", &save))
		deps[n++] = d;
	while (n--) {
		struct kmod_dep *dep = kmod_tree__find(t, deps[n]);

		if (dep && kmod__add(s, t, dep, depth + 1))
			return -ENOMEM;
	}
	e->state = KMOD_DONE;
	return kmod__read(s, t, e);
}

static int kmod__resolve(struct kmod_set *s, struct kmod_tree *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(kmod_wanted); i++) {
		struct kmod_dep *e;

		if (kmod_tree__builtin(t, kmod_wanted[i]))
			continue;
		e = kmod_tree__find(t, kmod_wanted[i]);
		if (e && kmod__add(s, t, e, 0))
			return -ENOMEM;
	}
	return 0;
}

/* $LKVM_MODULES_DIR/RELEASE, else /lib/modules/RELEASE. */
static int kmod__dir(char *buf, size_t size, const char *release)
{
	const char *base = getenv("LKVM_MODULES_DIR");
	int n;

	n = snprintf(buf, size, "%s/%s", base && *base ? base : KMOD_BASE, release);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int kmod__find(struct kmod_set *s, const char *kernel_path)
{
	char release[KMOD_RELEASE_MAX];
	struct kmod_tree t = { 0 };
	int ret;

	if (!kernel_path)
		return 0;
	if (kmod__image_release(kernel_path, release, sizeof(release))) {
		pr_debug("no kernel release in %s: no kernel modules for the guest", kernel_path);
		return 0;
	}
	ret = kmod__dir(t.dir, sizeof(t.dir), release);
	ret = ret ?: kmod_tree__load(&t);
	ret = ret ?: kmod__resolve(s, &t);
	kmod_tree__free(&t);
	if (ret == -ENOMEM) {
		pr_err("out of memory for the guest kernel's modules");
		kmod__free(s);
		return ret;
	}
	if (ret == -ENOENT)
		pr_debug("kernel %s: no %s/modules.dep, no modules", release, t.dir);
	else if (ret)
		pr_warn("cannot read %s/modules.dep: %s; the guest gets no modules", t.dir,
			strerror(-ret));
	else
		pr_debug("kernel %s: %d modules (%zu KiB) from %s", release, s->nr,
			 s->total >> 10, t.dir);
	return 0;
}

void kmod__free(struct kmod_set *s)
{
	for (int i = 0; i < s->nr; i++) {
		free(s->mods[i].path);
		free(s->mods[i].data);
	}
	s->nr = 0;
	s->total = 0;
}
