#ifndef X86__BOOT_H
#define X86__BOOT_H

#include <asm/bootparam.h>

#include "kvm/util.h"
#include "x86/e820.h"

#define BZIMAGE_HDR_OFFSET	0x1f1
#define BZIMAGE_MIN_VERSION	0x0206

/* A parsed bzImage: the file's bytes and what its setup header says. */
struct bzimage {
	const u8		*data;
	size_t			size;
	struct setup_header	hdr;		/* copy of the header in the file */
	size_t			hdr_end;	/* 0x202 + byte at 0x201 */
	size_t			setup_size;	/* real-mode part, incl. boot sector */
	const u8		*pm;		/* protected-mode kernel */
	size_t			pm_size;
	bool			has_64bit_entry;
};

/* Parse and sanity-check @data; prints a one-line error naming @name on failure. */
int bzimage__parse(struct bzimage *bz, const void *data, size_t size, const char *name);
/* Memory the kernel needs from its load address (init_size, at least the image). */
u64 bzimage__footprint(const struct bzimage *bz);

/*
 * Where the initrd goes: as high as possible below @ceiling (RAM end or
 * initrd_addr_max), page aligned, above @floor (the end of the kernel).
 */
int x86_boot__place_initrd(u64 floor, u64 ceiling, u64 size, u64 *addr);

/* Fill a zero page for the 64-bit or 32-bit entry. */
struct boot_info {
	u64			cmdline_addr;
	size_t			cmdline_len;	/* without the NUL */
	u64			initrd_addr;
	u64			initrd_size;
	u64			acpi_rsdp;
	const struct e820_table	*e820;
};
void x86_boot__fill_zero_page(struct boot_params *bp, const struct bzimage *bz,
			      const struct boot_info *info);
/* Adjust the header the real-mode setup code sees (legacy boot). */
void x86_boot__fill_setup_header(struct setup_header *h, const struct boot_info *info);

#endif
