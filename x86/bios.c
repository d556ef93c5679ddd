/*
 * The built-in real-mode BIOS for legacy boots: the blob at BIOS_ADDR, its
 * copy of the e820 table, the interrupt vector table and the BIOS data area.
 */
#include "x86/bios.h"
#include "x86/layout.h"

#include <errno.h>
#include <string.h>

#define BIOS_SEG		(BIOS_ADDR >> 4)
#define BIOS_MAX_SIZE		(BIOS_E820_ADDR - BIOS_ADDR)
#define IVT_VECTORS		256
#define BDA_SIZE		0x100

/* BIOS data area fields, as offsets from BOOT_BDA_ADDR. */
#define BDA_COM1		0x00	/* u16 I/O base of COM1 */
#define BDA_EBDA_SEG		0x0e	/* u16 segment of the EBDA */
#define BDA_EQUIPMENT		0x10	/* u16 equipment list (int 11h) */
#define BDA_BASE_MEM_KB		0x13	/* u16 KiB below the EBDA (int 12h) */
#define BDA_VIDEO_MODE		0x49	/* u8 */
#define BDA_VIDEO_COLS		0x4a	/* u16 */
#define BDA_VIDEO_PAGE_SIZE	0x4c	/* u16 */
#define BDA_CRTC_BASE		0x63	/* u16 */
#define BDA_VIDEO_ROWS		0x84	/* u8, rows - 1 */
#define BDA_FONT_HEIGHT		0x85	/* u16 */

#define EQUIP_VIDEO_80X25	(2 << 4)
#define EQUIP_ONE_SERIAL	(1 << 9)

/* Which handler each vector gets; the rest get BIOS_H_DEFAULT. */
static const struct {
	u8	first;
	u8	last;
	u8	handler;
} bios_vectors[] = {
	{ 0x00, 0x0f, BIOS_H_IRQ },	/* exceptions and IRQ 0-7 */
	{ 0x10, 0x10, BIOS_H_INT10 },
	{ 0x11, 0x11, BIOS_H_INT11 },
	{ 0x12, 0x12, BIOS_H_INT12 },
	{ 0x13, 0x13, BIOS_H_INT13 },
	{ 0x15, 0x15, BIOS_H_INT15 },
	{ 0x16, 0x16, BIOS_H_INT16 },
	{ 0x70, 0x77, BIOS_H_IRQ },	/* IRQ 8-15 */
};

static u16 get_le16(const u8 *p)
{
	return p[0] | p[1] << 8;
}

static u32 get_le32(const u8 *p)
{
	return get_le16(p) | (u32)get_le16(p + 2) << 16;
}

static void put_le16(u8 *p, u16 v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put_le32(u8 *p, u32 v)
{
	put_le16(p, v);
	put_le16(p + 2, v >> 16);
}

static int bios__check_blob(const u8 *blob, size_t size)
{
	size_t hdr = BIOS_HDR_VEC + 2 * BIOS_NR_HANDLERS;

	if (size > BIOS_MAX_SIZE) {
		pr_err("the built-in BIOS is %zu bytes; at most %u fit before its e820 table",
		       size, BIOS_MAX_SIZE);
		return -E2BIG;
	}
	if (size < hdr || get_le32(blob + BIOS_HDR_MAGIC) != BIOS_MAGIC ||
	    get_le16(blob + BIOS_HDR_NR) != BIOS_NR_HANDLERS) {
		pr_err("the built-in BIOS has no valid handler table");
		return -EINVAL;
	}
	for (int i = 0; i < BIOS_NR_HANDLERS; i++) {
		if (get_le16(blob + BIOS_HDR_VEC + 2 * i) >= size) {
			pr_err("the built-in BIOS handler %d is outside the blob", i);
			return -EINVAL;
		}
	}
	return 0;
}

static u16 bios__handler(const u8 *blob, int vector)
{
	int h = BIOS_H_DEFAULT;

	for (size_t i = 0; i < ARRAY_SIZE(bios_vectors); i++) {
		if (vector >= bios_vectors[i].first && vector <= bios_vectors[i].last)
			h = bios_vectors[i].handler;
	}
	return get_le16(blob + BIOS_HDR_VEC + 2 * h);
}

static int bios__write_ivt(struct kvm *kvm, const u8 *blob)
{
	u8 *ivt = guest_ptr(kvm, BOOT_IVT_ADDR, IVT_VECTORS * 4);

	if (!ivt)
		return -EFAULT;
	for (int v = 0; v < IVT_VECTORS; v++) {
		put_le16(ivt + v * 4, bios__handler(blob, v));
		put_le16(ivt + v * 4 + 2, BIOS_SEG);
	}
	return 0;
}

static int bios__write_bda(struct kvm *kvm)
{
	u8 *bda = guest_ptr(kvm, BOOT_BDA_ADDR, BDA_SIZE);

	if (!bda)
		return -EFAULT;
	memset(bda, 0, BDA_SIZE);
	put_le16(bda + BDA_COM1, 0x3f8);
	put_le16(bda + BDA_EBDA_SEG, EBDA_ADDR >> 4);
	put_le16(bda + BDA_EQUIPMENT, EQUIP_VIDEO_80X25 | EQUIP_ONE_SERIAL);
	put_le16(bda + BDA_BASE_MEM_KB, EBDA_ADDR / 1024);
	/* An 80x25 colour text mode, for the setup code's video probing. */
	bda[BDA_VIDEO_MODE] = 3;
	put_le16(bda + BDA_VIDEO_COLS, 80);
	put_le16(bda + BDA_VIDEO_PAGE_SIZE, 80 * 25 * 2);
	put_le16(bda + BDA_CRTC_BASE, 0x3d4);
	bda[BDA_VIDEO_ROWS] = 25 - 1;
	put_le16(bda + BDA_FONT_HEIGHT, 16);
	return 0;
}

static int bios__write_e820(struct kvm *kvm, const struct e820_table *t)
{
	size_t len;
	u8 *p;

	if (t->nr > BIOS_E820_MAX || t->nr > ARRAY_SIZE(t->map)) {
		pr_err("the memory map has %u entries; the BIOS takes at most %u",
		       t->nr, BIOS_E820_MAX);
		return -E2BIG;
	}
	len = sizeof(t->map[0]) * t->nr;
	p = guest_ptr(kvm, BIOS_E820_ADDR, 4 + len);
	if (!p)
		return -EFAULT;
	put_le32(p, t->nr);
	memcpy(p + 4, t->map, len);
	return 0;
}

int bios__load(struct kvm *kvm, const u8 *blob, size_t size, const struct e820_table *t)
{
	u8 *dst;
	int ret;

	ret = bios__check_blob(blob, size);
	if (ret)
		return ret;
	dst = guest_ptr(kvm, BIOS_ADDR, size);
	if (!dst)
		return -EFAULT;
	memcpy(dst, blob, size);
	ret = bios__write_e820(kvm, t);
	if (!ret)
		ret = bios__write_ivt(kvm, blob);
	if (!ret)
		ret = bios__write_bda(kvm);
	return ret;
}

int bios__setup(struct kvm *kvm, const struct e820_table *t)
{
	return bios__load(kvm, bios_blob, bios_blob_end - bios_blob, t);
}
