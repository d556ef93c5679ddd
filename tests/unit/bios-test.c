/* The real-mode BIOS setup: blob, IVT, BDA and e820 copy, on a fake guest. */
#include <errno.h>
#include <stdlib.h>

#include "kvm/kvm.h"
#include "test.h"
#include "x86/bios.h"
#include "x86/e820.h"
#include "x86/layout.h"

#define FAKE_RAM	(2u << 20)

static struct kvm *fake_kvm(void)
{
	struct kvm *kvm = calloc(1, sizeof(*kvm));

	kvm->ram = calloc(1, FAKE_RAM);
	kvm->ram_size = FAKE_RAM;
	kvm->ram_low = FAKE_RAM;
	return kvm;
}

static void fake_kvm_free(struct kvm *kvm)
{
	free(kvm->ram);
	free(kvm);
}

static u16 rd16(struct kvm *kvm, u64 gpa)
{
	u8 *p = kvm->ram + gpa;

	return p[0] | p[1] << 8;
}

static u32 rd32(struct kvm *kvm, u64 gpa)
{
	return rd16(kvm, gpa) | (u32)rd16(kvm, gpa + 2) << 16;
}

/* The blob offset the IVT gives for @vector (segment checked separately). */
static u16 ivt_off(struct kvm *kvm, int vector)
{
	return rd16(kvm, BOOT_IVT_ADDR + vector * 4);
}

static u16 blob_handler(int h)
{
	return bios_blob[BIOS_HDR_VEC + 2 * h] | bios_blob[BIOS_HDR_VEC + 2 * h + 1] << 8;
}

TEST(bios_blob_header)
{
	size_t size = bios_blob_end - bios_blob;

	CHECK(size > BIOS_HDR_VEC + 2 * BIOS_NR_HANDLERS);
	CHECK(size <= BIOS_E820_ADDR - BIOS_ADDR);
	CHECK_EQ(bios_blob[0] | bios_blob[1] << 8 | bios_blob[2] << 16 |
		 (u32)bios_blob[3] << 24, BIOS_MAGIC);
	CHECK_EQ(bios_blob[BIOS_HDR_NR], BIOS_NR_HANDLERS);
	for (int h = 0; h < BIOS_NR_HANDLERS; h++) {
		CHECK(blob_handler(h) >= BIOS_HDR_VEC + 2 * BIOS_NR_HANDLERS);
		CHECK(blob_handler(h) < size);
	}
}

TEST(bios_setup_ivt)
{
	struct kvm *kvm = fake_kvm();
	struct e820_table t;
	size_t size = bios_blob_end - bios_blob;

	CHECK_EQ(e820__build(&t, FAKE_RAM, FAKE_RAM), 0);
	CHECK_EQ(bios__setup(kvm, &t), 0);
	CHECK(memcmp(kvm->ram + BIOS_ADDR, bios_blob, size) == 0);
	for (int v = 0; v < 256; v++) {
		CHECK_EQ(rd16(kvm, BOOT_IVT_ADDR + v * 4 + 2), BIOS_ADDR >> 4);
		CHECK(ivt_off(kvm, v) < size);
		CHECK(ivt_off(kvm, v) >= BIOS_HDR_VEC + 2 * BIOS_NR_HANDLERS);
	}
	CHECK_EQ(ivt_off(kvm, 0x10), blob_handler(BIOS_H_INT10));
	CHECK_EQ(ivt_off(kvm, 0x12), blob_handler(BIOS_H_INT12));
	CHECK_EQ(ivt_off(kvm, 0x13), blob_handler(BIOS_H_INT13));
	CHECK_EQ(ivt_off(kvm, 0x15), blob_handler(BIOS_H_INT15));
	CHECK_EQ(ivt_off(kvm, 0x16), blob_handler(BIOS_H_INT16));
	CHECK_EQ(ivt_off(kvm, 0x08), blob_handler(BIOS_H_IRQ));
	CHECK_EQ(ivt_off(kvm, 0x76), blob_handler(BIOS_H_IRQ));
	CHECK_EQ(ivt_off(kvm, 0x14), blob_handler(BIOS_H_DEFAULT));
	CHECK_EQ(ivt_off(kvm, 0x1a), blob_handler(BIOS_H_DEFAULT));
	CHECK_EQ(ivt_off(kvm, 0xff), blob_handler(BIOS_H_DEFAULT));
	fake_kvm_free(kvm);
}

TEST(bios_setup_bda)
{
	struct kvm *kvm = fake_kvm();
	struct e820_table t;

	memset(kvm->ram + BOOT_BDA_ADDR, 0xaa, 0x100);
	CHECK_EQ(e820__build(&t, FAKE_RAM, FAKE_RAM), 0);
	CHECK_EQ(bios__setup(kvm, &t), 0);
	CHECK_EQ(rd16(kvm, 0x400), 0x3f8);
	CHECK_EQ(rd16(kvm, 0x402), 0);		/* no COM2 */
	CHECK_EQ(rd16(kvm, 0x40e), EBDA_ADDR >> 4);
	CHECK_EQ(rd16(kvm, 0x413), EBDA_ADDR / 1024);
	CHECK_EQ(rd16(kvm, 0x413), 639);
	CHECK_EQ(kvm->ram[0x449], 3);
	CHECK_EQ(rd16(kvm, 0x44a), 80);
	/* Nothing past the BDA is touched. */
	CHECK_EQ(kvm->ram[BOOT_GDT_ADDR], 0);
	fake_kvm_free(kvm);
}

TEST(bios_setup_e820_copy)
{
	struct kvm *kvm = fake_kvm();
	struct e820_table t;

	CHECK_EQ(e820__build(&t, FAKE_RAM, FAKE_RAM), 0);
	CHECK(t.nr > 0);
	CHECK_EQ(bios__setup(kvm, &t), 0);
	CHECK_EQ(rd32(kvm, BIOS_E820_ADDR), t.nr);
	CHECK(memcmp(kvm->ram + BIOS_E820_ADDR + 4, t.map, t.nr * 20) == 0);
	/* Entries are 20 bytes, packed, as int 15h E820h returns them. */
	CHECK_EQ(sizeof(struct boot_e820_entry), 20);
	CHECK_EQ(rd32(kvm, BIOS_E820_ADDR + 4 + 16), E820_RAM);
	fake_kvm_free(kvm);
}

TEST(bios_setup_e820_full_and_too_many)
{
	struct kvm *kvm = fake_kvm();
	struct e820_table *t = calloc(1, sizeof(*t));

	for (int i = 0; i < BIOS_E820_MAX; i++)
		CHECK_EQ(e820__add(t, (u64)i << 20, 1 << 20, E820_RAM), 0);
	CHECK_EQ(bios__setup(kvm, t), 0);
	CHECK_EQ(rd32(kvm, BIOS_E820_ADDR), BIOS_E820_MAX);
	CHECK_EQ(rd32(kvm, BIOS_E820_ADDR + 4 + 20 * (BIOS_E820_MAX - 1)),
		 (u32)(BIOS_E820_MAX - 1) << 20);
	/* The copy must end inside the BIOS segment. */
	CHECK(BIOS_E820_ADDR + 4 + 20 * BIOS_E820_MAX <= BIOS_ADDR + BIOS_SIZE);

	t->nr = BIOS_E820_MAX + 1;
	CHECK_EQ(bios__setup(kvm, t), -E2BIG);
	free(t);
	fake_kvm_free(kvm);
}

TEST(bios_load_rejects_bad_blobs)
{
	struct kvm *kvm = fake_kvm();
	size_t size = bios_blob_end - bios_blob;
	size_t big = BIOS_E820_ADDR - BIOS_ADDR + 1;
	u8 *blob = calloc(1, big);
	struct e820_table t;

	CHECK_EQ(e820__build(&t, FAKE_RAM, FAKE_RAM), 0);
	memcpy(blob, bios_blob, size);
	CHECK_EQ(bios__load(kvm, blob, big, &t), -E2BIG);
	CHECK_EQ(bios__load(kvm, blob, big - 1, &t), 0);
	CHECK_EQ(bios__load(kvm, blob, 4, &t), -EINVAL);
	blob[0] ^= 1;					/* bad magic */
	CHECK_EQ(bios__load(kvm, blob, size, &t), -EINVAL);
	blob[0] ^= 1;
	blob[BIOS_HDR_VEC] = 0xff;			/* handler past the end */
	blob[BIOS_HDR_VEC + 1] = 0xff;
	CHECK_EQ(bios__load(kvm, blob, size, &t), -EINVAL);
	free(blob);
	fake_kvm_free(kvm);
}

TEST(bios_setup_needs_low_ram)
{
	struct kvm *kvm = fake_kvm();
	struct e820_table t;

	CHECK_EQ(e820__build(&t, FAKE_RAM, FAKE_RAM), 0);
	kvm->ram_low = kvm->ram_size = BIOS_ADDR;	/* no RAM for the BIOS */
	CHECK_EQ(bios__setup(kvm, &t), -EFAULT);
	fake_kvm_free(kvm);
}
