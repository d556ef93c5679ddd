/*
 * guest/zeropage: checks what the loader put in the zero page and prints
 * what it found; exits 0 if everything is right, 1 otherwise.
 *
 *  - the setup header was copied ("HdrS", our version) and type_of_loader set;
 *  - e820: 1..128 entries, one of them RAM covering this guest's whole image
 *    from 0x100000, and the zero page and command line in RAM;
 *  - the command line is NUL-terminated within cmdline_size;
 *  - the initrd, if any, lies in RAM above the guest's image: its size and
 *    CRC-32 are printed, and checked against "initrd_size=" and
 *    "initrd_crc32=" on the command line when given there;
 *  - the ACPI RSDP, if given, starts with "RSD PTR ".
 */
#include "guest.h"

#define E820_RAM	1
#define HDRS		0x53726448

extern char __end[];

static bool ok = true;

static void fail(const char *what)
{
	printf("zeropage: FAIL %s\n", what);
	ok = false;
}

static bool in_ram(const struct boot_params *bp, u64 addr, u64 size)
{
	for (int i = 0; i < bp->e820_entries && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		const struct boot_e820_entry *e = &bp->e820_table[i];

		if (e->type == E820_RAM && e->addr <= addr &&
		    addr + size <= e->addr + e->size)
			return true;
	}
	return false;
}

static void check_header(const struct boot_params *bp)
{
	printf("hdr: version %x, loader %x, loadflags %x\n", bp->hdr.version,
	       bp->hdr.type_of_loader, bp->hdr.loadflags);
	if (bp->hdr.header != HDRS)
		fail("setup header not copied (no HdrS)");
	if (bp->hdr.version != 0x020f)
		fail("setup header version");
	if (!bp->hdr.type_of_loader)
		fail("type_of_loader is 0");
}

static void check_e820(const struct boot_params *bp)
{
	u64 image = (u64)__end - KERNEL_LOAD_ADDR;

	printf("e820: %u entries\n", bp->e820_entries);
	if (!bp->e820_entries || bp->e820_entries > E820_MAX_ENTRIES_ZEROPAGE) {
		fail("e820 entry count");
		return;
	}
	for (int i = 0; i < bp->e820_entries; i++) {
		const struct boot_e820_entry *e = &bp->e820_table[i];

		printf("  %016llx-%016llx type %u\n", (unsigned long long)e->addr,
		       (unsigned long long)(e->addr + e->size - 1), e->type);
	}
	if (!in_ram(bp, KERNEL_LOAD_ADDR, image))
		fail("no e820 RAM entry covers the kernel at 0x100000");
	if (!in_ram(bp, (u64)bp, sizeof(*bp)))
		fail("the zero page is not in e820 RAM");
}

static void check_cmdline(const struct boot_params *bp)
{
	const char *line = cmdline(bp);
	size_t max = bp->hdr.cmdline_size;

	if (!line) {
		fail("no command line");
		return;
	}
	if (!in_ram(bp, (u64)line, 1)) {
		fail("the command line is not in e820 RAM");
		return;
	}
	if (strnlen(line, max + 1) > max)
		fail("command line longer than cmdline_size");
	else
		printf("cmdline: %s\n", line);
}

static void check_expected(const char *line, const char *key, u64 got)
{
	const char *val = cmdline_get(line, key);
	u64 want;

	if (!val)
		return;
	if (!parse_u64(val, &want))
		fail(key);
	else if (want != got) {
		printf("zeropage: FAIL %s: want %llx, got %llx\n", key,
		       (unsigned long long)want, (unsigned long long)got);
		ok = false;
	}
}

static void check_initrd(const struct boot_params *bp)
{
	u64 addr = bp->hdr.ramdisk_image | (u64)bp->ext_ramdisk_image << 32;
	u64 size = bp->hdr.ramdisk_size | (u64)bp->ext_ramdisk_size << 32;
	const char *line = cmdline(bp);
	u32 crc = 0;

	if (!size) {
		puts("initrd: none\n");
		if (line && (cmdline_get(line, "initrd_size") || cmdline_get(line, "initrd_crc32")))
			fail("initrd expected");
		return;
	}
	if (!in_ram(bp, addr, size)) {
		fail("the initrd is not in e820 RAM");
		return;
	}
	if (addr < (u64)__end && addr + size > KERNEL_LOAD_ADDR)
		fail("the initrd overlaps the kernel");
	crc = crc32((const void *)addr, size);
	printf("initrd: at %llx size %llu crc32 %08x\n", (unsigned long long)addr,
	       (unsigned long long)size, crc);
	check_expected(line, "initrd_size", size);
	check_expected(line, "initrd_crc32", crc);
}

static void check_rsdp(const struct boot_params *bp)
{
	u64 rsdp = bp->acpi_rsdp_addr;

	if (!rsdp) {
		puts("rsdp: none\n");
		return;
	}
	printf("rsdp: %llx\n", (unsigned long long)rsdp);
	if (rsdp >= 0x100000000ull || memcmp((const void *)rsdp, "RSD PTR ", 8))
		fail("no RSDP signature at acpi_rsdp_addr");
}

int guest_main(struct boot_params *bp)
{
	printf("zero page at %p\n", bp);
	check_header(bp);
	check_e820(bp);
	check_cmdline(bp);
	check_initrd(bp);
	check_rsdp(bp);
	puts(ok ? "zeropage: ok\n" : "zeropage: FAILED\n");
	return ok ? 0 : 1;
}
