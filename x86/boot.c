/* bzImage parsing and the zero page: pure functions, unit-tested without KVM. */
#include "x86/boot.h"
#include "x86/layout.h"

#include <errno.h>
#include <string.h>

#define HDRS_MAGIC	0x53726448	/* "HdrS" */
#define MAX_SETUP_SECTS	64		/* the real-mode code must fit in 32 KiB */
#define MAX_INIT_SIZE	GB(1)

static int bzimage__check_header(struct bzimage *bz, const char *name)
{
	const struct setup_header *h = &bz->hdr;

	if (h->header != HDRS_MAGIC) {
		pr_err("'%s' is not a bzImage (no HdrS signature)", name);
		return -ENOEXEC;
	}
	if (h->version < BZIMAGE_MIN_VERSION) {
		pr_err("kernel '%s' uses boot protocol %u.%02u; lkvm needs %u.%02u or newer",
		       name, h->version >> 8, h->version & 0xff,
		       BZIMAGE_MIN_VERSION >> 8, BZIMAGE_MIN_VERSION & 0xff);
		return -ENOEXEC;
	}
	if (!(h->loadflags & LOADED_HIGH)) {
		pr_err("kernel '%s' is a zImage; lkvm boots bzImages only", name);
		return -ENOEXEC;
	}
	if (h->setup_sects > MAX_SETUP_SECTS) {
		pr_err("kernel '%s' is corrupt: %u setup sectors", name, h->setup_sects);
		return -ENOEXEC;
	}
	if (h->version >= 0x020a && h->init_size > MAX_INIT_SIZE) {
		pr_err("kernel '%s' is corrupt: it asks for %u MiB to decompress",
		       name, h->init_size >> 20);
		return -ENOEXEC;
	}
	return 0;
}

int bzimage__parse(struct bzimage *bz, const void *data, size_t size, const char *name)
{
	const u8 *p = data;
	size_t hdr_len;
	int ret;

	memset(bz, 0, sizeof(*bz));
	bz->data = p;
	bz->size = size;
	if (size < 0x202 + 4 + 1) {
		pr_err("'%s' is not a bzImage (only %zu bytes)", name, size);
		return -ENOEXEC;
	}
	bz->hdr_end = 0x202 + p[0x201];
	hdr_len = min_t(size_t, bz->hdr_end, BZIMAGE_HDR_OFFSET + sizeof(bz->hdr)) -
		  BZIMAGE_HDR_OFFSET;
	if (bz->hdr_end > size) {
		pr_err("kernel '%s' is truncated (%zu bytes, its header ends at %zu)",
		       name, size, bz->hdr_end);
		return -ENOEXEC;
	}
	memcpy(&bz->hdr, p + BZIMAGE_HDR_OFFSET, hdr_len);
	ret = bzimage__check_header(bz, name);
	if (ret)
		return ret;

	bz->setup_size = ((bz->hdr.setup_sects ? bz->hdr.setup_sects : 4) + 1) * 512;
	if (bz->setup_size >= size ||
	    (u64)bz->hdr.syssize * 16 > size - bz->setup_size) {
		pr_err("kernel '%s' is truncated (%zu bytes; its header promises %llu)",
		       name, size, (unsigned long long)bz->setup_size +
		       (unsigned long long)bz->hdr.syssize * 16);
		return -ENOEXEC;
	}
	bz->pm = p + bz->setup_size;
	bz->pm_size = size - bz->setup_size;
	bz->has_64bit_entry = bz->hdr.version >= 0x020c &&
			      (bz->hdr.xloadflags & XLF_KERNEL_64);
	return 0;
}

u64 bzimage__footprint(const struct bzimage *bz)
{
	u64 need = bz->pm_size;

	if (bz->hdr.version >= 0x020a && bz->hdr.init_size > need)
		need = bz->hdr.init_size;
	return ALIGN_UP(need, 4096);
}

int x86_boot__place_initrd(u64 floor, u64 ceiling, u64 size, u64 *addr)
{
	u64 a;

	if (size > ceiling)
		return -ENOMEM;
	a = ALIGN_DOWN(ceiling - size, 4096);
	if (a < floor)
		return -ENOMEM;
	*addr = a;
	return 0;
}

void x86_boot__fill_setup_header(struct setup_header *h, const struct boot_info *info)
{
	h->type_of_loader = 0xff;	/* undefined boot loader */
	h->loadflags &= ~(QUIET_FLAG | KEEP_SEGMENTS);
	h->loadflags |= CAN_USE_HEAP;
	h->heap_end_ptr = BOOT_REALMODE_HEAP_END - 0x200;
	h->vid_mode = 0xffff;		/* "normal" */
	h->cmd_line_ptr = info->cmdline_addr;
	h->ramdisk_image = info->initrd_addr;
	h->ramdisk_size = info->initrd_size;
}

void x86_boot__fill_zero_page(struct boot_params *bp, const struct bzimage *bz,
			      const struct boot_info *info)
{
	size_t hdr_len = min_t(size_t, bz->hdr_end, BZIMAGE_HDR_OFFSET + sizeof(bp->hdr)) -
			 BZIMAGE_HDR_OFFSET;

	memset(bp, 0, sizeof(*bp));
	memcpy(&bp->hdr, &bz->hdr, hdr_len);
	x86_boot__fill_setup_header(&bp->hdr, info);
	bp->ext_ramdisk_image = info->initrd_addr >> 32;
	bp->ext_ramdisk_size = info->initrd_size >> 32;
	bp->ext_cmd_line_ptr = info->cmdline_addr >> 32;
	bp->acpi_rsdp_addr = info->acpi_rsdp;
	bp->e820_entries = info->e820->nr;
	memcpy(bp->e820_table, info->e820->map, info->e820->nr * sizeof(bp->e820_table[0]));
}
