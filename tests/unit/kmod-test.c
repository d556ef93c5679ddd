/*
 * The guest kernel's modules (util/kmod.c): the release from a bzImage setup
 * header, and which modules.dep entries go in, in what order, from a module
 * tree made up in a temporary $LKVM_MODULES_DIR.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/guest-init.h"
#include "kvm/init-proto.h"
#include "kvm/kmod.h"
#include "kvm/kvm.h"
#include "test.h"

#define REL	"6.1.0-56-cloud-amd64"
#define BANNER	REL " (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2"

/* A setup header: magic, protocol @proto, kernel_version @kver, @text there. */
static void fake_setup(u8 *img, size_t len, u16 proto, u16 kver, const char *text)
{
	memset(img, 0, len);
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = proto & 0xff;
	img[0x207] = proto >> 8;
	img[0x20e] = kver & 0xff;
	img[0x20f] = kver >> 8;
	if (text)
		memcpy(img + kver + 0x200, text, strlen(text) + 1);
}

TEST(kmod_release_from_setup_header)
{
	static u8 img[0x2000];
	char rel[KMOD_RELEASE_MAX];

	fake_setup(img, sizeof(img), 0x20f, 0x1100, BANNER);
	CHECK_EQ(kmod__release(img, sizeof(img), rel, sizeof(rel)), 0);
	CHECK(!strcmp(rel, REL));
	/* Just the release, NUL-terminated. */
	fake_setup(img, sizeof(img), 0x200, 0x300, "6.6.0");
	CHECK_EQ(kmod__release(img, sizeof(img), rel, sizeof(rel)), 0);
	CHECK(!strcmp(rel, "6.6.0"));
}

TEST(kmod_release_truncated)
{
	static u8 img[0x2000];
	char rel[KMOD_RELEASE_MAX], small[8];
	size_t at = 0x1100 + 0x200;

	fake_setup(img, sizeof(img), 0x20f, 0x1100, BANNER);
	/* The image ends in the release, right after it, or before the header. */
	CHECK_EQ(kmod__release(img, at + 5, rel, sizeof(rel)), -EINVAL);
	CHECK_EQ(kmod__release(img, at + strlen(REL), rel, sizeof(rel)), -EINVAL);
	CHECK_EQ(kmod__release(img, at + strlen(REL) + 1, rel, sizeof(rel)), 0);
	CHECK_EQ(kmod__release(img, 0x20f, rel, sizeof(rel)), -EINVAL);
	CHECK_EQ(kmod__release(img, 0, rel, sizeof(rel)), -EINVAL);
	/* No room for it. */
	CHECK_EQ(kmod__release(img, sizeof(img), small, sizeof(small)), -EINVAL);
	/* No terminator: bytes that are not a word's end. */
	fake_setup(img, sizeof(img), 0x20f, 0x1100, REL "\001");
	CHECK_EQ(kmod__release(img, sizeof(img), rel, sizeof(rel)), -EINVAL);
}

TEST(kmod_release_bad_headers)
{
	static u8 img[0x2000];
	char rel[KMOD_RELEASE_MAX];

	fake_setup(img, sizeof(img), 0x1ff, 0x300, REL);	/* before protocol 2.00 */
	CHECK_EQ(kmod__release(img, sizeof(img), rel, sizeof(rel)), -EINVAL);
	fake_setup(img, sizeof(img), 0x20f, 0, NULL);		/* no kernel_version */
	CHECK_EQ(kmod__release(img, sizeof(img), rel, sizeof(rel)), -EINVAL);
	fake_setup(img, sizeof(img), 0x20f, 0x300, REL);
	img[0x205] = 'X';					/* no "HdrS" */
	CHECK_EQ(kmod__release(img, sizeof(img), rel, sizeof(rel)), -EINVAL);
	fake_setup(img, sizeof(img), 0x20f, 0x300, REL);
	img[0x20e] = 0x00;					/* past the end */
	img[0x20f] = 0xff;
	CHECK_EQ(kmod__release(img, sizeof(img), rel, sizeof(rel)), -EINVAL);
	fake_setup(img, sizeof(img), 0x20f, 0x300, "");	/* empty */
	CHECK_EQ(kmod__release(img, sizeof(img), rel, sizeof(rel)), -EINVAL);
	fake_setup(img, sizeof(img), 0x20f, 0x300, " " REL);
	CHECK_EQ(kmod__release(img, sizeof(img), rel, sizeof(rel)), -EINVAL);
	/* It names a directory: nothing that leaves /lib/modules. */
	fake_setup(img, sizeof(img), 0x20f, 0x300, "../../etc");
	CHECK_EQ(kmod__release(img, sizeof(img), rel, sizeof(rel)), -EINVAL);
	fake_setup(img, sizeof(img), 0x20f, 0x300, "..");
	CHECK_EQ(kmod__release(img, sizeof(img), rel, sizeof(rel)), -EINVAL);
}

/* ---- a module tree in a temporary directory ---- */

struct tree {
	char	base[32];	/* $LKVM_MODULES_DIR */
	char	dir[96];	/* base/REL */
	char	kernel[64];	/* a bzImage with just its setup header */
};

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[256], *slash;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(path, 0755);
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void tree__init(struct tree *t, const char *release)
{
	static u8 img[0x1000];
	int fd;

	strcpy(t->base, "/tmp/lkvm-kmod-XXXXXX");
	CHECK(mkdtemp(t->base) != NULL);
	snprintf(t->dir, sizeof(t->dir), "%s/%s", t->base, REL);
	snprintf(t->kernel, sizeof(t->kernel), "%s/bzImage", t->base);
	mkdir(t->dir, 0755);
	fake_setup(img, sizeof(img), 0x20f, 0x200, release);
	fd = open(t->kernel, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, img, sizeof(img)), (ssize_t)sizeof(img));
	close(fd);
	setenv("LKVM_MODULES_DIR", t->base, 1);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void tree__remove(struct tree *t)
{
	unsetenv("LKVM_MODULES_DIR");
	nftw(t->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * virtio_pci and 9p have dependencies with dependencies of their own (the
 * last one listed loads first); file names mix '-' and '_'; virtio_mmio is
 * built in, overlay and virtio_net are not there at all, virtio_blk's file
 * is missing; virtio_console is compressed.
 */
static const char modules_dep[] =
	"kernel/drivers/virtio/virtio.ko:\n"
	"kernel/drivers/virtio/virtio_ring.ko:\n"
	"kernel/drivers/virtio/virtio_pci_modern_dev.ko:\n"
	"kernel/drivers/virtio/virtio_pci-legacy-dev.ko:\n"
	"kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_modern_dev.ko "
	"kernel/drivers/virtio/virtio_pci-legacy-dev.ko kernel/drivers/virtio/virtio_ring.ko "
	"kernel/drivers/virtio/virtio.ko\n"
	"kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio_ring.ko "
	"kernel/drivers/virtio/virtio.ko\n"
	"kernel/drivers/char/virtio_console.ko.xz: kernel/drivers/virtio/virtio_ring.ko "
	"kernel/drivers/virtio/virtio.ko\n"
	"kernel/sound/core/snd.ko: kernel/sound/soundcore.ko\n"
	"kernel/net/9p/9pnet.ko:\n"
	"kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko "
	"kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
	"kernel/fs/netfs/netfs.ko:\n"
	"kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko\n"
	"kernel/fs/9p/9p.ko: kernel/fs/fscache/fscache.ko kernel/net/9p/9pnet.ko "
	"kernel/fs/netfs/netfs.ko\n"
	"kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko "
	"kernel/drivers/virtio/virtio.ko\n"
	"kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/virtio/virtio_ring.ko "
	"kernel/drivers/virtio/virtio.ko\n";

static const char *const module_files[] = {
	"kernel/drivers/virtio/virtio.ko", "kernel/drivers/virtio/virtio_ring.ko",
	"kernel/drivers/virtio/virtio_pci_modern_dev.ko",
	"kernel/drivers/virtio/virtio_pci-legacy-dev.ko", "kernel/drivers/virtio/virtio_pci.ko",
	"kernel/drivers/virtio/virtio_mmio.ko", "kernel/drivers/char/virtio_console.ko.xz",
	"kernel/net/9p/9pnet.ko", "kernel/net/9p/9pnet_virtio.ko", "kernel/fs/netfs/netfs.ko",
	"kernel/fs/fscache/fscache.ko", "kernel/fs/9p/9p.ko",
	"kernel/drivers/char/hw_random/virtio-rng.ko", "kernel/sound/core/snd.ko",
};

static const char *const load_order[] = {
	INIT_MODULES_DIR "/01-virtio.ko", INIT_MODULES_DIR "/02-virtio_ring.ko",
	INIT_MODULES_DIR "/03-virtio_pci-legacy-dev.ko",
	INIT_MODULES_DIR "/04-virtio_pci_modern_dev.ko", INIT_MODULES_DIR "/05-virtio_pci.ko",
	INIT_MODULES_DIR "/06-virtio_console.ko.xz", INIT_MODULES_DIR "/07-9pnet.ko",
	INIT_MODULES_DIR "/08-9pnet_virtio.ko", INIT_MODULES_DIR "/09-netfs.ko",
	INIT_MODULES_DIR "/10-fscache.ko", INIT_MODULES_DIR "/11-9p.ko",
	INIT_MODULES_DIR "/12-virtio-rng.ko",
};

static void tree__fill(struct tree *t)
{
	put_file(t->dir, "modules.dep", modules_dep);
	put_file(t->dir, "modules.builtin", "kernel/fs/ext4/ext4.ko\n"
		 "kernel/drivers/virtio/virtio-mmio.ko\nkernel/lib/crc32c.ko\n");
	/* Each file holds its own path: what went in is what was there. */
	for (size_t i = 0; i < ARRAY_SIZE(module_files); i++)
		put_file(t->dir, module_files[i], module_files[i]);
}

static bool holds(const struct kmod *m, const char *text)
{
	return m->size == strlen(text) && !memcmp(m->data, text, m->size);
}

TEST(kmod_dependencies_first)
{
	struct kmod_set s = { 0 };
	struct capture cap;
	const char *err;
	size_t sum = 0;
	struct tree t;

	tree__init(&t, BANNER);
	tree__fill(&t);
	capture__begin(&cap);
	CHECK_EQ(kmod__find(&s, t.kernel), 0);
	err = capture__end(&cap);
	/* virtio_blk: listed, no file. One line, and on it goes. */
	CHECK(one_line_with(err, "kernel/drivers/block/virtio_blk.ko"));
	CHECK_EQ(s.nr, (int)ARRAY_SIZE(load_order));
	for (int i = 0; i < s.nr && i < (int)ARRAY_SIZE(load_order); i++) {
		if (strcmp(s.mods[i].path, load_order[i]))
			fprintf(stderr, "    module %d: %s, expected %s\n", i, s.mods[i].path,
				load_order[i]);
		CHECK(!strcmp(s.mods[i].path, load_order[i]));
	}
	CHECK(holds(&s.mods[0], "kernel/drivers/virtio/virtio.ko"));
	CHECK(holds(&s.mods[5], "kernel/drivers/char/virtio_console.ko.xz"));
	CHECK(holds(&s.mods[11], "kernel/drivers/char/hw_random/virtio-rng.ko"));
	for (int i = 0; i < s.nr; i++)
		sum += s.mods[i].size;
	CHECK(sum > 0 && s.total == sum);
	kmod__free(&s);
	CHECK_EQ(s.nr, 0);
	tree__remove(&t);
}

TEST(kmod_dashes_and_underscores)
{
	struct kmod_set s = { 0 };
	struct tree t;

	/* Named with '-' where the list has '_', and a dependency the other way round. */
	tree__init(&t, REL);
	put_file(t.dir, "modules.dep", "kernel/a/virtio-console.ko: kernel/b/virtio_ring.ko\n"
		 "kernel/b/virtio-ring.ko:\n");
	put_file(t.dir, "kernel/a/virtio-console.ko", "c");
	put_file(t.dir, "kernel/b/virtio-ring.ko", "r");
	CHECK_EQ(kmod__find(&s, t.kernel), 0);
	CHECK_EQ(s.nr, 2);
	CHECK(s.nr == 2 && !strcmp(s.mods[0].path, INIT_MODULES_DIR "/01-virtio-ring.ko"));
	CHECK(s.nr == 2 && !strcmp(s.mods[1].path, INIT_MODULES_DIR "/02-virtio-console.ko"));
	kmod__free(&s);
	tree__remove(&t);
}

TEST(kmod_builtin_and_absent_are_skipped)
{
	struct kmod_set s = { 0 };
	struct capture cap;
	struct tree t;

	/* Every wanted module built in: even a stale modules.dep line is not used. */
	tree__init(&t, REL);
	put_file(t.dir, "modules.dep", "kernel/fs/overlayfs/overlay.ko:\nkernel/x/other.ko:\n");
	put_file(t.dir, "modules.builtin", "kernel/fs/overlayfs/overlay.ko\n");
	put_file(t.dir, "kernel/fs/overlayfs/overlay.ko", "o");
	put_file(t.dir, "kernel/x/other.ko", "x");
	capture__begin(&cap);
	CHECK_EQ(kmod__find(&s, t.kernel), 0);
	CHECK(!*capture__end(&cap));
	CHECK_EQ(s.nr, 0);
	/* Not built in after all: overlay goes in, the rest are absent. */
	put_file(t.dir, "modules.builtin", "");
	CHECK_EQ(kmod__find(&s, t.kernel), 0);
	CHECK_EQ(s.nr, 1);
	CHECK(s.nr == 1 && !strcmp(s.mods[0].path, INIT_MODULES_DIR "/01-overlay.ko"));
	kmod__free(&s);
	tree__remove(&t);
}

TEST(kmod_no_module_tree)
{
	struct kmod_set s = { 0 };
	struct capture cap;
	struct tree t;

	/* No modules.dep for the kernel's release: quietly nothing. */
	tree__init(&t, "6.9.9-other");
	tree__fill(&t);
	capture__begin(&cap);
	CHECK_EQ(kmod__find(&s, t.kernel), 0);
	CHECK(!*capture__end(&cap));
	CHECK_EQ(s.nr, 0);
	/* Not a bzImage, or not there: nothing either. */
	CHECK_EQ(kmod__find(&s, t.dir), 0);
	CHECK_EQ(kmod__find(&s, "/nonexistent/bzImage"), 0);
	CHECK_EQ(kmod__find(&s, NULL), 0);
	CHECK_EQ(s.nr, 0);
	tree__remove(&t);
	/* The base directory is not there at all. */
	tree__init(&t, REL);
	setenv("LKVM_MODULES_DIR", "/nonexistent/lkvm-modules", 1);
	CHECK_EQ(kmod__find(&s, t.kernel), 0);
	CHECK_EQ(s.nr, 0);
	tree__remove(&t);
}

/* ---- into the initramfs ---- */

/* The newc entry @name in @buf: its data and size, or NULL. */
static const u8 *cpio_find(const u8 *buf, size_t len, const char *name, size_t *size)
{
	size_t off = 0;

	while (off + 110 <= len && !memcmp(buf + off, "070701", 6)) {
		char hex[9] = { 0 };
		size_t fsize, nsize;
		const char *ename = (const char *)buf + off + 110;

		memcpy(hex, buf + off + 54, 8);
		fsize = strtoul(hex, NULL, 16);
		memcpy(hex, buf + off + 94, 8);
		nsize = strtoul(hex, NULL, 16);
		off = ALIGN_UP(off + 110 + nsize, 4);
		if (!strcmp(ename, name)) {
			*size = fsize;
			return buf + off;
		}
		off = ALIGN_UP(off + fsize, 4);
	}
	return NULL;
}

TEST(guest_init_carries_modules)
{
	static const char *argv[] = { "true" };
	struct guest_init gi = { .command = true, .argv = argv, .argc = 1 };
	struct kvm_config cfg = { 0 };
	const char *p, *end, *k, *v;
	const u8 *data;
	size_t size;
	struct tree t;
	int n = 0;

	tree__init(&t, BANNER);
	cfg.kernel_path = t.kernel;
	put_file(t.dir, "modules.dep", "kernel/b/virtio_ring.ko:\n"
		 "kernel/a/virtio_console.ko.zst: kernel/b/virtio_ring.ko\n");
	put_file(t.dir, "kernel/b/virtio_ring.ko", "ring");
	put_file(t.dir, "kernel/a/virtio_console.ko.zst", "console");
	CHECK_EQ(guest_init__setup(&gi, &cfg), 0);
	/* The records, in load order, before anything else the init reads. */
	p = (const char *)gi.conf.data;
	end = p + gi.conf.len;
	while (init_conf__next(&p, end, &k, &v) > 0) {
		if (strcmp(k, INIT_KEY_MODULE))
			continue;
		CHECK(!strcmp(v, n ? INIT_MODULES_DIR "/02-virtio_console.ko.zst"
				   : INIT_MODULES_DIR "/01-virtio_ring.ko"));
		n++;
	}
	CHECK_EQ(n, 2);
	/* The files, unchanged. */
	data = cpio_find(cfg.initrd_data, cfg.initrd_size, "lkvm/modules/01-virtio_ring.ko", &size);
	CHECK(data && size == 4 && !memcmp(data, "ring", 4));
	data = cpio_find(cfg.initrd_data, cfg.initrd_size, "lkvm/modules/02-virtio_console.ko.zst",
			 &size);
	CHECK(data && size == 7 && !memcmp(data, "console", 7));
	CHECK(cpio_find(cfg.initrd_data, cfg.initrd_size, "lkvm/modules", &size) != NULL);
	guest_init__free(&gi);
	CHECK_EQ(gi.kmods.nr, 0);
	tree__remove(&t);
}
