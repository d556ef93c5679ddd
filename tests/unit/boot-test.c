/* bzImage parsing, initrd placement, zero page and e820: no KVM needed. */
#include <errno.h>
#include <stdlib.h>

#include "test.h"
#include "x86/boot.h"
#include "x86/layout.h"

#define IMG_SETUP_SECTS	4
#define IMG_PM_SIZE	8192

/* A minimal well-formed bzImage: boot sector, setup sectors, protected-mode part. */
static u8 *fake_bzimage(size_t *size, u16 version, u16 xloadflags)
{
	size_t setup = (IMG_SETUP_SECTS + 1) * 512;
	u8 *img = calloc(1, setup + IMG_PM_SIZE);
	struct setup_header *h = (struct setup_header *)(img + BZIMAGE_HDR_OFFSET);

	h->setup_sects = IMG_SETUP_SECTS;
	h->boot_flag = 0xaa55;
	h->header = 0x53726448;
	h->version = version;
	h->loadflags = LOADED_HIGH;
	h->syssize = IMG_PM_SIZE / 16;
	h->cmdline_size = 2047;
	h->initrd_addr_max = 0x7fffffff;
	h->init_size = 0x400000;
	h->xloadflags = xloadflags;
	img[0x201] = 0x6a;	/* header length, as in 6.x kernels */
	*size = setup + IMG_PM_SIZE;
	return img;
}

TEST(bzimage_parses_good_image)
{
	size_t size;
	u8 *img = fake_bzimage(&size, 0x020f, XLF_KERNEL_64);
	struct bzimage bz;

	CHECK_EQ(bzimage__parse(&bz, img, size, "good"), 0);
	CHECK_EQ(bz.setup_size, (IMG_SETUP_SECTS + 1) * 512);
	CHECK_EQ(bz.pm_size, IMG_PM_SIZE);
	CHECK(bz.has_64bit_entry);
	CHECK_EQ(bzimage__footprint(&bz), 0x400000);
	free(img);
}

TEST(bzimage_without_64bit_entry_needs_legacy)
{
	size_t size;
	u8 *img = fake_bzimage(&size, 0x020b, XLF_KERNEL_64);
	struct bzimage bz;

	/* xloadflags only mean something from protocol 2.12 on. */
	CHECK_EQ(bzimage__parse(&bz, img, size, "old"), 0);
	CHECK(!bz.has_64bit_entry);
	free(img);
}

TEST(bzimage_rejects_garbage)
{
	u8 junk[4096];
	struct bzimage bz;

	memset(junk, 0x5a, sizeof(junk));
	CHECK(bzimage__parse(&bz, junk, sizeof(junk), "junk") < 0);
	CHECK(bzimage__parse(&bz, junk, 100, "tiny") < 0);
	CHECK(bzimage__parse(&bz, junk, 0, "empty") < 0);
}

TEST(bzimage_rejects_truncated)
{
	size_t size;
	u8 *img = fake_bzimage(&size, 0x020f, XLF_KERNEL_64);
	struct bzimage bz;

	CHECK(bzimage__parse(&bz, img, size - 1, "short") < 0);
	CHECK(bzimage__parse(&bz, img, 1024, "setup-only") < 0);
	CHECK(bzimage__parse(&bz, img, 0x250, "header-only") < 0);
	free(img);
}

TEST(bzimage_rejects_absurd_headers)
{
	size_t size;
	u8 *img = fake_bzimage(&size, 0x020f, XLF_KERNEL_64);
	struct setup_header *h = (struct setup_header *)(img + BZIMAGE_HDR_OFFSET);
	struct bzimage bz;

	h->setup_sects = 200;
	CHECK(bzimage__parse(&bz, img, size, "sects") < 0);
	h->setup_sects = IMG_SETUP_SECTS;
	h->init_size = 0xffffffff;
	CHECK(bzimage__parse(&bz, img, size, "init_size") < 0);
	h->init_size = 0x400000;
	h->syssize = 0x7fffffff;
	CHECK(bzimage__parse(&bz, img, size, "syssize") < 0);
	h->syssize = IMG_PM_SIZE / 16;
	h->version = 0x0201;
	CHECK(bzimage__parse(&bz, img, size, "version") < 0);
	h->version = 0x020f;
	h->loadflags = 0;
	CHECK(bzimage__parse(&bz, img, size, "zimage") < 0);
	h->loadflags = LOADED_HIGH;
	img[0x201] = 0xff;	/* header claims to run past the file's setup */
	CHECK_EQ(bzimage__parse(&bz, img, 0x300, "hdrlen"), -ENOEXEC);
	free(img);
}

TEST(initrd_goes_high_and_aligned)
{
	u64 addr = 0;

	CHECK_EQ(x86_boot__place_initrd(MB(5), MB(256), 1000000, &addr), 0);
	CHECK_EQ(addr % 4096, 0);
	CHECK(addr + 1000000 <= MB(256));
	CHECK(addr >= MB(255) - 4096);
}

TEST(initrd_too_large_is_an_error)
{
	u64 addr = 0;

	CHECK(x86_boot__place_initrd(MB(5), MB(256), MB(300), &addr) < 0);
	CHECK(x86_boot__place_initrd(MB(5), MB(256), MB(252), &addr) < 0);
	CHECK_EQ(x86_boot__place_initrd(MB(5), MB(256), MB(250), &addr), 0);
}

TEST(e820_small_guest)
{
	struct e820_table t;

	CHECK_EQ(e820__build(&t, MB(256), MB(256)), 0);
	CHECK_EQ(t.nr, 3);
	CHECK_EQ(t.map[0].addr, 0);
	CHECK_EQ(t.map[0].size, LOW_RAM_END);
	CHECK_EQ(t.map[0].type, E820_RAM);
	CHECK_EQ(t.map[1].type, E820_RESERVED);
	CHECK_EQ(t.map[1].addr + t.map[1].size, KERNEL_LOAD_ADDR);
	CHECK_EQ(t.map[2].addr, KERNEL_LOAD_ADDR);
	CHECK_EQ(t.map[2].addr + t.map[2].size, MB(256));
}

TEST(e820_large_guest_splits_at_the_pci_hole)
{
	struct e820_table t;

	CHECK_EQ(e820__build(&t, GB(5), GB(3)), 0);
	CHECK_EQ(t.nr, 4);
	CHECK_EQ(t.map[2].addr + t.map[2].size, GB(3));
	CHECK_EQ(t.map[3].addr, GB(4));
	CHECK_EQ(t.map[3].size, GB(2));
	CHECK(e820__build(&t, MB(256), MB(512)) < 0);
}

TEST(zero_page_carries_header_cmdline_initrd_e820)
{
	size_t size;
	u8 *img = fake_bzimage(&size, 0x020f, XLF_KERNEL_64);
	struct e820_table t;
	struct bzimage bz;
	struct boot_params *bp = malloc(sizeof(*bp));
	struct boot_info info = {
		.cmdline_addr = BOOT_CMDLINE_ADDR, .cmdline_len = 10,
		.initrd_addr = 0x8000000, .initrd_size = 12345,
		.acpi_rsdp = 0xe0000, .e820 = &t,
	};

	CHECK_EQ(bzimage__parse(&bz, img, size, "zp"), 0);
	CHECK_EQ(e820__build(&t, MB(256), MB(256)), 0);
	memset(bp, 0xaa, sizeof(*bp));
	x86_boot__fill_zero_page(bp, &bz, &info);
	CHECK_EQ(bp->hdr.header, 0x53726448);
	CHECK_EQ(bp->hdr.version, 0x020f);
	CHECK_EQ(bp->hdr.type_of_loader, 0xff);
	CHECK_EQ(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	CHECK_EQ(bp->hdr.ramdisk_image, 0x8000000);
	CHECK_EQ(bp->hdr.ramdisk_size, 12345);
	CHECK_EQ(bp->ext_ramdisk_image, 0);
	CHECK_EQ(bp->acpi_rsdp_addr, 0xe0000);
	CHECK_EQ(bp->e820_entries, 3);
	CHECK_EQ(bp->e820_table[2].addr, KERNEL_LOAD_ADDR);
	CHECK(bp->hdr.loadflags & LOADED_HIGH);
	CHECK(bp->hdr.loadflags & CAN_USE_HEAP);
	/* Everything the kernel does not expect from us stays zero. */
	CHECK_EQ(bp->screen_info.orig_video_isVGA, 0);
	CHECK_EQ(bp->e820_table[3].size, 0);
	free(bp);
	free(img);
}
