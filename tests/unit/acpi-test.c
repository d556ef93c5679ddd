/* ACPI table builder: checksums, lengths, linkage, MADT and DSDT contents. */
#include "test.h"
#include "x86/acpi.h"
#include "x86/layout.h"

#include <errno.h>

#define BASE	FW_TABLES_ADDR

static u8 buf[FW_TABLES_SIZE];

struct built {
	u64	rsdp;
	size_t	used;
	int	ret;
};

static struct built build(unsigned int nr_cpus, u64 gpa, size_t size)
{
	struct fw_config fw = { .nr_cpus = nr_cpus };
	struct built b = { 0 };

	memset(buf, 0xa5, sizeof(buf));
	b.ret = acpi__build(buf, gpa, size, &fw, &b.rsdp, &b.used);
	return b;
}

/* The host pointer for [gpa, gpa+len) if it lies inside what was built. */
static void *at(const struct built *b, u64 gpa, size_t len)
{
	if (gpa < BASE || gpa - BASE > b->used || len > b->used - (gpa - BASE))
		return NULL;
	return buf + (gpa - BASE);
}

/* A table at @gpa with signature @sig, whole and with a valid checksum. */
static struct acpi_table_header *table(const struct built *b, u64 gpa, const char *sig)
{
	struct acpi_table_header *h = at(b, gpa, sizeof(*h));

	CHECK(h != NULL);
	if (!h)
		return NULL;
	CHECK(!memcmp(h->signature, sig, 4));
	CHECK(at(b, gpa, h->length) != NULL);
	if (!at(b, gpa, h->length))
		return NULL;
	CHECK_EQ(acpi__checksum(h, h->length), 0);
	CHECK(!memcmp(h->oem_id, "LKVM  ", 6));
	return h;
}

static u64 xsdt_entry(struct acpi_table_header *x, unsigned int i)
{
	u64 v;

	memcpy(&v, (u8 *)(x + 1) + 8 * i, 8);
	return v;
}

static u32 rsdt_entry(struct acpi_table_header *r, unsigned int i)
{
	u32 v;

	memcpy(&v, (u8 *)(r + 1) + 4 * i, 4);
	return v;
}

/* The table with @sig among the XSDT's entries. */
static struct acpi_table_header *find(const struct built *b, const char *sig)
{
	struct acpi_rsdp *r = at(b, b->rsdp, sizeof(*r));
	struct acpi_table_header *x = r ? table(b, r->xsdt_addr, "XSDT") : NULL;

	if (!x)
		return NULL;
	for (unsigned int i = 0; i < (x->length - sizeof(*x)) / 8; i++) {
		struct acpi_table_header *h = at(b, xsdt_entry(x, i), sizeof(*h));

		if (h && !memcmp(h->signature, sig, 4))
			return table(b, xsdt_entry(x, i), sig);
	}
	return NULL;
}

TEST(acpi_rsdp_checksums_and_alignment)
{
	struct built b = build(1, BASE, sizeof(buf));
	struct acpi_rsdp *r;

	CHECK_EQ(b.ret, 0);
	CHECK_EQ(b.rsdp, BASE);
	CHECK(b.used > sizeof(*r) && b.used < sizeof(buf));
	r = at(&b, b.rsdp, sizeof(*r));
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(!memcmp(r->signature, "RSD PTR ", 8));
	CHECK_EQ(r->revision, 2);
	CHECK_EQ(r->length, 36);
	CHECK_EQ(acpi__checksum(r, 20), 0);
	CHECK_EQ(acpi__checksum(r, 36), 0);
	CHECK(!memcmp(r->oem_id, "LKVM  ", 6));

	/* An unaligned base still gets a 16-byte aligned RSDP. */
	b = build(1, BASE + 4, sizeof(buf) - 4);
	CHECK_EQ(b.ret, 0);
	CHECK_EQ(b.rsdp, BASE + 16);
}

TEST(acpi_root_tables_link_everything)
{
	struct built b = build(2, BASE, sizeof(buf));
	struct acpi_rsdp *r = at(&b, b.rsdp, sizeof(*r));
	struct acpi_table_header *x, *rs;

	CHECK(r != NULL);
	if (!r)
		return;
	x = table(&b, r->xsdt_addr, "XSDT");
	rs = table(&b, r->rsdt_addr, "RSDT");
	CHECK(x && rs);
	if (!x || !rs)
		return;
	CHECK_EQ(x->length, 36 + 2 * 8);
	CHECK_EQ(rs->length, 36 + 2 * 4);
	for (unsigned int i = 0; i < 2; i++) {
		CHECK_EQ(xsdt_entry(x, i), rsdt_entry(rs, i));
		CHECK(at(&b, xsdt_entry(x, i), 36) != NULL);
	}
	CHECK(table(&b, xsdt_entry(x, 0), "FACP") != NULL);
	CHECK(table(&b, xsdt_entry(x, 1), "APIC") != NULL);
}

TEST(acpi_fadt_fixed_hardware)
{
	struct built b = build(1, BASE, sizeof(buf));
	struct acpi_fadt *f = (struct acpi_fadt *)find(&b, "FACP");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ(f->header.length, sizeof(*f));
	CHECK(f->header.revision >= 5);
	CHECK(!(f->flags & ACPI_FADT_HW_REDUCED));
	CHECK(f->flags & ACPI_FADT_TMR_VAL_EXT);
	CHECK(f->flags & ACPI_FADT_RESET_REG_SUP);
	CHECK(!(f->flags & ACPI_FADT_PWR_BUTTON));
	CHECK_EQ(f->sci_int, ACPI_SCI_IRQ);
	CHECK_EQ(f->smi_cmd, 0);
	CHECK_EQ(f->pm1a_evt_blk, ACPI_PM1A_EVT_PORT);
	CHECK_EQ(f->pm1_evt_len, 4);
	CHECK_EQ(f->pm1a_cnt_blk, ACPI_PM1A_CNT_PORT);
	CHECK_EQ(f->pm1_cnt_len, 2);
	CHECK_EQ(f->pm_tmr_blk, ACPI_PM_TMR_PORT);
	CHECK_EQ(f->pm_tmr_len, 4);
	CHECK_EQ(f->x_pm1a_evt_blk.space_id, ACPI_GAS_SYSTEM_IO);
	CHECK_EQ(f->x_pm1a_evt_blk.address, ACPI_PM1A_EVT_PORT);
	CHECK_EQ(f->x_pm1a_evt_blk.bit_width, 32);
	CHECK_EQ(f->x_pm1a_cnt_blk.address, ACPI_PM1A_CNT_PORT);
	CHECK_EQ(f->x_pm1a_cnt_blk.bit_width, 16);
	CHECK_EQ(f->x_pm_tmr_blk.address, ACPI_PM_TMR_PORT);
	CHECK_EQ(f->x_pm_tmr_blk.bit_width, 32);
	CHECK_EQ(f->x_pm1b_evt_blk.address, 0);
	CHECK_EQ(f->reset_reg.space_id, ACPI_GAS_SYSTEM_IO);
	CHECK_EQ(f->reset_reg.address, ACPI_RESET_PORT);
	CHECK_EQ(f->reset_reg.bit_width, 8);
	CHECK_EQ(f->reset_value, ACPI_RESET_VALUE);
	CHECK(f->iapc_boot_arch & ACPI_BOOT_8042);
	CHECK(!(f->iapc_boot_arch & ACPI_BOOT_NO_CMOS_RTC));
}

TEST(acpi_fadt_points_at_dsdt_and_facs)
{
	struct built b = build(1, BASE, sizeof(buf));
	struct acpi_fadt *f = (struct acpi_fadt *)find(&b, "FACP");
	struct acpi_facs *facs;

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ(f->dsdt, f->x_dsdt);
	CHECK(table(&b, f->x_dsdt, "DSDT") != NULL);
	CHECK_EQ(f->firmware_ctrl, f->x_firmware_ctrl);
	CHECK_EQ(f->x_firmware_ctrl % 64, 0);
	facs = at(&b, f->x_firmware_ctrl, sizeof(*facs));
	CHECK(facs != NULL);
	if (!facs)
		return;
	CHECK(!memcmp(facs->signature, "FACS", 4));
	CHECK_EQ(facs->length, 64);
}

struct madt_counts {
	unsigned int	lapic, ioapic, iso, nmi, other;
	bool		ids_ok;
};

static struct madt_counts madt_count(const struct built *b, unsigned int nr_cpus)
{
	struct acpi_madt *m = (struct acpi_madt *)find(b, "APIC");
	struct madt_counts c = { .ids_ok = true };
	u8 *p, *end;

	CHECK(m != NULL);
	if (!m)
		return c;
	CHECK_EQ(m->lapic_addr, LAPIC_ADDR);
	CHECK(m->flags & ACPI_MADT_PCAT_COMPAT);
	p = (u8 *)(m + 1);
	end = (u8 *)m + m->header.length;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		struct acpi_madt_lapic *l = (void *)p;
		struct acpi_madt_ioapic *io = (void *)p;
		struct acpi_madt_int_override *iso = (void *)p;
		struct acpi_madt_lapic_nmi *nmi = (void *)p;

		switch (p[0]) {
		case ACPI_MADT_LAPIC:
			c.ids_ok &= l->h.length == 8 && l->apic_id == c.lapic &&
				    l->processor_uid == c.lapic &&
				    (l->flags & ACPI_MADT_LAPIC_ENABLED);
			c.lapic++;
			break;
		case ACPI_MADT_IOAPIC:
			c.ids_ok &= io->h.length == 12 && io->ioapic_id == nr_cpus &&
				    io->address == IOAPIC_ADDR && io->gsi_base == 0;
			c.ioapic++;
			break;
		case ACPI_MADT_INT_OVERRIDE:
			c.ids_ok &= iso->h.length == 10 && iso->bus == 0 &&
				    iso->source == ACPI_SCI_IRQ && iso->gsi == ACPI_SCI_IRQ &&
				    iso->flags == 0xd;
			c.iso++;
			break;
		case ACPI_MADT_LAPIC_NMI:
			c.ids_ok &= nmi->h.length == 6 && nmi->processor_uid == 0xff &&
				    nmi->lint == 1;
			c.nmi++;
			break;
		default:
			c.other++;
		}
		p += p[1];
	}
	CHECK(p == end);
	return c;
}

TEST(acpi_madt_one_cpu)
{
	struct built b = build(1, BASE, sizeof(buf));
	struct madt_counts c = madt_count(&b, 1);

	CHECK_EQ(c.lapic, 1);
	CHECK_EQ(c.ioapic, 1);
	CHECK_EQ(c.iso, 1);
	CHECK_EQ(c.nmi, 1);
	CHECK_EQ(c.other, 0);
	CHECK(c.ids_ok);
}

TEST(acpi_madt_eight_cpus)
{
	struct built b = build(8, BASE, sizeof(buf));
	struct madt_counts c = madt_count(&b, 8);

	CHECK_EQ(c.lapic, 8);
	CHECK_EQ(c.ioapic, 1);
	CHECK_EQ(c.iso, 1);
	CHECK_EQ(c.nmi, 1);
	CHECK_EQ(c.other, 0);
	CHECK(c.ids_ok);
}

TEST(acpi_dsdt_s5_and_sb)
{
	/* Name(_S5_, Package(4){5, 5, Zero, Zero}) */
	static const u8 s5[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
		0x0a, ACPI_S5_TYP, 0x0a, ACPI_S5_TYP, 0x00, 0x00,
	};
	/* Scope(\_SB_) {} */
	static const u8 sb[] = { 0x10, 0x06, '\\', '_', 'S', 'B', '_' };
	struct built b = build(1, BASE, sizeof(buf));
	struct acpi_fadt *f = (struct acpi_fadt *)find(&b, "FACP");
	struct acpi_table_header *d = f ? table(&b, f->x_dsdt, "DSDT") : NULL;
	u8 *aml;
	size_t len;

	CHECK(d != NULL);
	if (!d)
		return;
	aml = (u8 *)(d + 1);
	len = d->length - sizeof(*d);
	CHECK(memmem(aml, len, s5, sizeof(s5)) != NULL);
	CHECK(memmem(aml, len, sb, sizeof(sb)) != NULL);
	CHECK_EQ(len, sizeof(s5) + sizeof(sb));
}

TEST(acpi_too_small_or_bad_config)
{
	struct built b = build(8, BASE, sizeof(buf));
	size_t need = b.used;

	CHECK_EQ(b.ret, 0);
	for (size_t size = 0; size < need; size++) {
		b = build(8, BASE, size);
		if (b.ret != -ENOSPC) {
			CHECK_EQ(b.ret, -ENOSPC);
			break;
		}
	}
	b = build(8, BASE, need);
	CHECK_EQ(b.ret, 0);
	CHECK_EQ(b.used, need);
	CHECK_EQ(build(0, BASE, sizeof(buf)).ret, -EINVAL);
	CHECK_EQ(build(FW_MAX_CPUS + 1, BASE, sizeof(buf)).ret, -EINVAL);
	CHECK_EQ(build(FW_MAX_CPUS, BASE, sizeof(buf)).ret, 0);
	CHECK_EQ(build(1, 0xfffff000ull, sizeof(buf)).ret, -EINVAL);
}
