/*
 * QEMU cross-check for the BIOS and the test guests where there is no KVM:
 * lay out guest memory as lkvm does, with lkvm's own bzImage, zero page,
 * e820 and BIOS code, and write it out as files that qemu-system-x86_64
 * loads with -bios (the 64 KiB at 0xf0000, plus a reset stub) and
 * -device loader (low memory, the kernel, the initrd).
 *
 * usage: mkimg legacy|64 BZIMAGE RAM_MIB CMDLINE INITRD|- STUB.bin OUTDIR
 * Prints the QEMU arguments.
 */
#include "kvm/kvm.h"
#include "x86/bios.h"
#include "x86/boot.h"
#include "x86/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STUB_OFF	0xf000	/* 0xff000: reset code, legacy entry */
#define STUB_64_OFF	0xf100	/* 0xff100: long-mode entry */
#define RESET_OFF	0xfff0

/* mkimg is not linked with kvm.o: the same checks, on a flat buffer. */
void *guest_ptr(struct kvm *kvm, u64 gpa, u64 len)
{
	if (gpa + len < gpa || gpa + len > kvm->ram_low)
		return NULL;
	return kvm->ram + gpa;
}

static u8 *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	long n;
	u8 *b;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		die("cannot read '%s'", path);
	b = malloc(n + 1);
	if (!b || fread(b, 1, n, f) != (size_t)n)
		die("cannot read '%s'", path);
	fclose(f);
	*size = n;
	return b;
}

static const char *dump(const char *dir, const char *name, const void *p, size_t n)
{
	static char path[4][512];
	static int i;
	char *s = path[i++ % 4];
	FILE *f;

	snprintf(s, sizeof(path[0]), "%s/%s", dir, name);
	f = fopen(s, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f))
		die("cannot write '%s'", s);
	return s;
}

/* The identity map of the first 4 GiB with 2 MiB pages, as lkvm builds it. */
static void page_tables(struct kvm *kvm)
{
	u64 *pml4 = guest_ptr(kvm, BOOT_PML4_ADDR, 4096);
	u64 *pdpt = guest_ptr(kvm, BOOT_PDPT_ADDR, 4096);
	u64 *pd = guest_ptr(kvm, BOOT_PD_ADDR, 4 * 4096);

	pml4[0] = BOOT_PDPT_ADDR | 3;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * 4096) | 3;
	for (int i = 0; i < 4 * 512; i++)
		pd[i] = (u64)i << 21 | 0x83;
}

int main(int argc, char **argv)
{
	struct e820_table e820;
	struct boot_info info = { .e820 = &e820 };
	struct kvm kvm = { 0 };
	u8 *kdata, *idata = NULL, *stub, fw[0x10000];
	size_t ksize, isize = 0, ssize;
	struct bzimage bz;
	const char *out;
	bool legacy;
	u64 end;

	if (argc != 8)
		die("usage: mkimg legacy|64 BZIMAGE RAM_MIB CMDLINE INITRD|- STUB OUTDIR");
	legacy = !strcmp(argv[1], "legacy");
	out = argv[7];
	kvm.ram_size = kvm.ram_low = MB(atoi(argv[3]));
	kvm.ram = calloc(1, kvm.ram_size);
	kdata = slurp(argv[2], &ksize);
	if (strcmp(argv[5], "-"))
		idata = slurp(argv[5], &isize);
	stub = slurp(argv[6], &ssize);
	if (!kvm.ram || bzimage__parse(&bz, kdata, ksize, argv[2]) ||
	    e820__build(&e820, kvm.ram_size, kvm.ram_low))
		return 1;
	end = KERNEL_LOAD_ADDR + bzimage__footprint(&bz);
	if (end > kvm.ram_low || ssize > RESET_OFF - STUB_OFF)
		die("does not fit");
	memcpy(kvm.ram + KERNEL_LOAD_ADDR, bz.pm, bz.pm_size);
	if (idata) {
		u64 ceil = kvm.ram_low;

		if (bz.hdr.initrd_addr_max && bz.hdr.initrd_addr_max < ceil - 1)
			ceil = (u64)bz.hdr.initrd_addr_max + 1;
		if (x86_boot__place_initrd(end, ceil, isize, &info.initrd_addr))
			die("initrd does not fit");
		info.initrd_size = isize;
	}
	info.cmdline_addr = BOOT_CMDLINE_ADDR;
	info.cmdline_len = strlen(argv[4]);
	if (!guest_ptr(&kvm, BOOT_CMDLINE_ADDR, info.cmdline_len + 1))
		die("command line");
	memcpy(kvm.ram + BOOT_CMDLINE_ADDR, argv[4], info.cmdline_len + 1);
	if (legacy) {
		memcpy(kvm.ram + BOOT_REALMODE_ADDR, bz.data, bz.setup_size);
		x86_boot__fill_setup_header((void *)(kvm.ram + BOOT_REALMODE_ADDR +
						     BZIMAGE_HDR_OFFSET), &info);
		if (bios__setup(&kvm, &e820))
			return 1;
	} else {
		x86_boot__fill_zero_page((void *)(kvm.ram + BOOT_ZERO_PAGE_ADDR), &bz, &info);
		page_tables(&kvm);
	}

	/* The firmware: the BIOS segment, with the reset code on top. */
	memcpy(fw, kvm.ram + BIOS_ADDR, sizeof(fw));
	memcpy(fw + STUB_OFF, stub, ssize);
	memcpy(fw + RESET_OFF, legacy ? "\xea\x00\xf0\x00\xf0" : "\xea\x00\xf1\x00\xf0", 5);
	printf("-bios %s", dump(out, "fw.bin", fw, sizeof(fw)));
	printf(" -device loader,file=%s,addr=0,force-raw=on",
	       dump(out, "low.bin", kvm.ram, LOW_RAM_END));
	printf(" -device loader,file=%s,addr=0x%x,force-raw=on",
	       dump(out, "kernel.bin", bz.pm, bz.pm_size), KERNEL_LOAD_ADDR);
	if (idata)
		printf(" -device loader,file=%s,addr=0x%llx,force-raw=on",
		       dump(out, "initrd.bin", idata, isize),
		       (unsigned long long)info.initrd_addr);
	printf("\n");
	return 0;
}
