/*
 * ACPI tables for x86 guests: RSDP -> RSDT/XSDT -> FADT (-> FACS, DSDT) and
 * MADT, built into a host buffer that the guest sees at a given physical
 * address. The platform is "full" ACPI (not hardware-reduced): the fixed
 * PM1a event/control blocks, PM timer and reset register are emulated by
 * hw/acpi-pm.c at the ports from x86/layout.h.
 *
 * The DSDT is hand-encoded AML. A handful of helpers (name strings, integers,
 * PkgLength-prefixed terms) keep it readable; further objects (a PCI host
 * bridge, virtio-mmio devices) go into dsdt__system_bus().
 */
#include "hw/pci.h"
#include "kvm/kvm.h"
#include "x86/acpi.h"
#include "x86/layout.h"

#include <errno.h>
#include <string.h>

#define ACPI_TABLES_LIMIT	(1ull << 32)	/* RSDT/FADT carry 32-bit pointers */
#define ACPI_RSDP_REVISION	2
#define ACPI_FADT_REVISION	6
#define ACPI_MADT_REVISION	4
#define ACPI_DSDT_REVISION	2		/* 64-bit AML integers */
#define ACPI_SDT_REVISION	1
#define ACPI_FACS_VERSION	2

_Static_assert(sizeof(struct acpi_table_header) == 36, "SDT header");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "FADT v5");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT local APIC");
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT I/O APIC");
_Static_assert(sizeof(struct acpi_madt_int_override) == 10, "MADT override");
_Static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "MADT local APIC NMI");

u8 acpi__checksum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

/* ---- Table space: a bump allocator over the guest buffer ---- */

struct acpi_ctx {
	u8			*buf;
	u64			gpa;
	size_t			size;
	size_t			off;
	const struct fw_config	*fw;
};

/* Zeroed space for @len bytes whose guest address is @align-aligned. */
static void *acpi__alloc(struct acpi_ctx *c, size_t len, size_t align)
{
	size_t start = ALIGN_UP(c->gpa + c->off, align) - c->gpa;
	void *p;

	if (start > c->size || len > c->size - start)
		return NULL;
	p = c->buf + start;
	memset(p, 0, len);
	c->off = start + len;
	return p;
}

static u64 acpi__gpa(const struct acpi_ctx *c, const void *p)
{
	return c->gpa + (u64)((const u8 *)p - c->buf);
}

/* Common header; OEM table id is "LKVM" followed by the signature. */
static void acpi__header(struct acpi_table_header *h, const char *sig, u32 len, u8 rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	memcpy(h->oem_table_id, "LKVM", 4);
	memcpy(h->oem_table_id + 4, sig, 4);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = 1;
}

static void acpi__finish(struct acpi_table_header *h)
{
	h->checksum = 0;
	h->checksum = -acpi__checksum(h, h->length);
}

/* ---- AML encoding ---- */

/* Opcodes; the two-byte ones carry ExtOpPrefix (0x5b) in their high byte. */
#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_METHOD_OP		0x14
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_RETURN_OP		0xa4
#define AML_DEVICE_OP		0x5b82

struct aml {
	u8	*buf;
	size_t	len;
	size_t	cap;
	int	err;		/* first error, sticky: -ENOSPC or -EINVAL */
};

static void aml__bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		a->err = -ENOSPC;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml__byte(struct aml *a, u8 b)
{
	aml__bytes(a, &b, 1);
}

static void aml__le(struct aml *a, u64 v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		aml__byte(a, v >> (8 * i));
}

static void aml__op(struct aml *a, u16 op)
{
	if (op > 0xff)
		aml__byte(a, op >> 8);
	aml__byte(a, op);
}

/*
 * A NameString: "\\_SB_.PCI0", "^FOO", "_S5_". Leading '\\' and '^' are
 * prefixes; segments are dot-separated, 1-4 characters, padded with '_'.
 */
static void aml__namestring(struct aml *a, const char *path)
{
	unsigned int nsegs = 1;

	while (*path == '\\' || *path == '^')
		aml__byte(a, *path++);
	if (!*path) {
		aml__byte(a, AML_ZERO_OP);	/* NullName */
		return;
	}
	for (const char *p = path; *p; p++)
		nsegs += *p == '.';
	if (nsegs == 2) {
		aml__byte(a, AML_DUAL_NAME_PREFIX);
	} else if (nsegs > 2) {
		aml__byte(a, AML_MULTI_NAME_PREFIX);
		aml__byte(a, nsegs);
	}
	while (*path) {
		size_t n = strcspn(path, ".");

		if (!n || n > 4) {
			a->err = a->err ?: -EINVAL;
			return;
		}
		aml__bytes(a, path, n);
		aml__bytes(a, "___", 4 - n);
		path += n + (path[n] == '.');
	}
}

/* The shortest constant encoding, as iasl emits it. */
static void aml__integer(struct aml *a, u64 v)
{
	if (v == 0) {
		aml__byte(a, AML_ZERO_OP);
	} else if (v == 1) {
		aml__byte(a, AML_ONE_OP);
	} else if (v <= 0xff) {
		aml__byte(a, AML_BYTE_PREFIX);
		aml__le(a, v, 1);
	} else if (v <= 0xffff) {
		aml__byte(a, AML_WORD_PREFIX);
		aml__le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml__byte(a, AML_DWORD_PREFIX);
		aml__le(a, v, 4);
	} else {
		aml__byte(a, AML_QWORD_PREFIX);
		aml__le(a, v, 8);
	}
}

/*
 * PkgLength for @n bytes of content: the encoded value counts its own 1-4
 * bytes too. One byte holds up to 63; longer forms put the byte count in
 * bits 7:6 of the lead byte, the low nibble in bits 3:0, then whole bytes.
 */
static size_t aml__pkglength(size_t n, u8 enc[4])
{
	if (n + 1 < 0x40) {
		enc[0] = n + 1;
		return 1;
	}
	for (size_t k = 2; k <= 4; k++) {
		size_t total = n + k;

		if (total >= 1ul << (4 + 8 * (k - 1)))
			continue;
		enc[0] = ((k - 1) << 6) | (total & 0xf);
		for (size_t i = 1; i < k; i++)
			enc[i] = total >> (4 + 8 * (i - 1));
		return k;
	}
	return 0;
}

/*
 * A PkgLength-prefixed term (Scope, Package, Device, Method, Buffer...):
 * aml__begin() emits the opcode and returns a mark, the caller emits the
 * content, aml__end() slides it up and inserts the PkgLength.
 */
static size_t aml__begin(struct aml *a, u16 op)
{
	aml__op(a, op);
	return a->len;
}

static void aml__end(struct aml *a, size_t mark)
{
	size_t n = a->len - mark, k;
	u8 enc[4];

	if (a->err)
		return;
	k = aml__pkglength(n, enc);
	if (!k || k > a->cap - a->len) {
		a->err = -ENOSPC;
		return;
	}
	memmove(a->buf + mark + k, a->buf + mark, n);
	memcpy(a->buf + mark, enc, k);
	a->len += k;
}

/* Name(@name, ...): the caller emits the object next. */
static void aml__name(struct aml *a, const char *name)
{
	aml__byte(a, AML_NAME_OP);
	aml__namestring(a, name);
}

/* Package(@nr){...}: emit @nr elements, then aml__end(). */
static size_t aml__package(struct aml *a, u8 nr)
{
	size_t mark = aml__begin(a, AML_PACKAGE_OP);

	aml__byte(a, nr);
	return mark;
}

/* Scope(@path){...}: emit the contents, then aml__end(). */
static size_t aml__scope(struct aml *a, const char *path)
{
	size_t mark = aml__begin(a, AML_SCOPE_OP);

	aml__namestring(a, path);
	return mark;
}

/* ---- DSDT ---- */

/* \_S5_: the SLP_TYPa/SLP_TYPb values the OS writes to PM1a_CNT to power off. */
static void dsdt__sleep_states(struct aml *a)
{
	size_t pkg;

	aml__name(a, "_S5_");
	pkg = aml__package(a, 4);
	aml__integer(a, ACPI_S5_TYP);
	aml__integer(a, ACPI_S5_TYP);
	aml__integer(a, 0);
	aml__integer(a, 0);
	aml__end(a, pkg);
}

/* ---- \_SB.PCI0: the PCI host bridge hw/pci.c describes ---- */

#define AML_EISAID_PNP0A03	0x030ad041
#define ACPI_RES_WORD_ADDR	0x88	/* large items */
#define ACPI_RES_DWORD_ADDR	0x87
#define ACPI_RES_IO		0x47	/* small items */
#define ACPI_RES_END		0x79
#define ACPI_RES_MEM		0
#define ACPI_RES_IO_SPACE	1
#define ACPI_RES_BUS		2
#define ACPI_RES_PRODUCER_FIXED	0x0c	/* producer, MinFixed, MaxFixed, PosDecode */
#define ACPI_RES_IO_ENTIRE	0x03
#define ACPI_RES_MEM_RW		0x01	/* read-write, non-cacheable */
#define ACPI_PCI0_CRS_LEN	(16 + 8 + 2 * 16 + 26 + 2)

/* Word{BusNumber,IO}(ResourceProducer, MinFixed, MaxFixed, PosDecode, ...) */
static void aml__res_word(struct aml *a, u8 type, u8 tflags, u16 min, u16 max, u16 len)
{
	aml__byte(a, ACPI_RES_WORD_ADDR);
	aml__le(a, 13, 2);
	aml__byte(a, type);
	aml__byte(a, ACPI_RES_PRODUCER_FIXED);
	aml__byte(a, tflags);
	aml__le(a, 0, 2);		/* granularity */
	aml__le(a, min, 2);
	aml__le(a, max, 2);
	aml__le(a, 0, 2);		/* translation */
	aml__le(a, len, 2);
}

/* DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite) */
static void aml__res_mem32(struct aml *a, u32 base, u32 len)
{
	aml__byte(a, ACPI_RES_DWORD_ADDR);
	aml__le(a, 23, 2);
	aml__byte(a, ACPI_RES_MEM);
	aml__byte(a, ACPI_RES_PRODUCER_FIXED);
	aml__byte(a, ACPI_RES_MEM_RW);
	aml__le(a, 0, 4);		/* granularity */
	aml__le(a, base, 4);
	aml__le(a, base + len - 1, 4);
	aml__le(a, 0, 4);		/* translation */
	aml__le(a, len, 4);
}

/* IO(Decode16, @port, @port, 1, @len) */
static void aml__res_io(struct aml *a, u16 port, u8 len)
{
	aml__byte(a, ACPI_RES_IO);
	aml__byte(a, 0x01);		/* 16-bit decode */
	aml__le(a, port, 2);
	aml__le(a, port, 2);
	aml__byte(a, 1);
	aml__byte(a, len);
}

/* _CRS: bus numbers, the config ports, the I/O windows around them, the BAR window. */
static void dsdt__pci0_crs(struct aml *a, const struct pci_host_desc *d)
{
	size_t buf;

	aml__name(a, "_CRS");
	buf = aml__begin(a, AML_BUFFER_OP);
	aml__integer(a, ACPI_PCI0_CRS_LEN);
	aml__res_word(a, ACPI_RES_BUS, 0, d->bus_first, d->bus_last,
		      d->bus_last - d->bus_first + 1);
	aml__res_io(a, d->cfg_port, d->cfg_port_len);
	for (int i = 0; i < 2; i++)
		aml__res_word(a, ACPI_RES_IO_SPACE, ACPI_RES_IO_ENTIRE, d->io_base[i],
			      d->io_base[i] + d->io_len[i] - 1, d->io_len[i]);
	aml__res_mem32(a, d->mmio_base, d->mmio_size);
	aml__byte(a, ACPI_RES_END);
	aml__byte(a, 0);		/* checksum: none */
	aml__end(a, buf);
}

/* _PRT: Package { slot << 16 | 0xffff, pin (0 = INTA), 0, GSI } per route. */
static void dsdt__pci0_prt(struct aml *a, const struct pci_host_desc *d)
{
	size_t prt;

	aml__name(a, "_PRT");
	prt = aml__package(a, d->nr_routes);
	for (unsigned int i = 0; i < d->nr_routes; i++) {
		size_t e = aml__package(a, 4);

		aml__integer(a, (u32)d->routes[i].slot << 16 | 0xffff);
		aml__integer(a, d->routes[i].pin - 1);
		aml__integer(a, 0);	/* no link device: a GSI, level, active low */
		aml__integer(a, d->routes[i].irq);
		aml__end(a, e);
	}
	aml__end(a, prt);
}

/* Device(PCI0): Linux enumerates PCI under ACPI only through a PNP0A03 device. */
static void dsdt__pci0(struct aml *a, const struct pci_host_desc *d)
{
	size_t dev = aml__begin(a, AML_DEVICE_OP);

	aml__namestring(a, "PCI0");
	aml__name(a, "_HID");
	aml__byte(a, AML_DWORD_PREFIX);	/* EisaId("PNP0A03") */
	aml__le(a, AML_EISAID_PNP0A03, 4);
	aml__name(a, "_UID");
	aml__integer(a, 0);
	aml__name(a, "_SEG");
	aml__integer(a, 0);
	aml__name(a, "_BBN");
	aml__integer(a, d->bus_first);
	dsdt__pci0_crs(a, d);
	dsdt__pci0_prt(a, d);
	aml__end(a, dev);
}

/* ---- \_SB.VRnn: virtio-mmio devices (virtio/mmio.c) ---- */

#define ACPI_RES_MEM32_FIXED	0x86	/* large items */
#define ACPI_RES_EXT_IRQ	0x89
#define ACPI_IRQ_CONSUMER	0x01
#define ACPI_IRQ_EDGE		0x02	/* active high: bit 2 clear */
#define ACPI_IRQ_SHARED		0x08
#define ACPI_VMMIO_CRS_LEN	(12 + 9 + 2)

/* Name(_HID, "@id") */
static void aml__hid_string(struct aml *a, const char *id)
{
	aml__name(a, "_HID");
	aml__byte(a, AML_STRING_PREFIX);
	aml__bytes(a, id, strlen(id) + 1);
}

/* Memory32Fixed(ReadWrite, base, len) + Interrupt(ResourceConsumer, Edge, ActiveHigh) */
static void dsdt__vmmio_crs(struct aml *a, const struct mmio_dev_desc *d, bool shared)
{
	size_t buf;

	aml__name(a, "_CRS");
	buf = aml__begin(a, AML_BUFFER_OP);
	aml__integer(a, ACPI_VMMIO_CRS_LEN);
	aml__byte(a, ACPI_RES_MEM32_FIXED);
	aml__le(a, 9, 2);
	aml__byte(a, ACPI_RES_MEM_RW);
	aml__le(a, d->base, 4);
	aml__le(a, d->len, 4);
	aml__byte(a, ACPI_RES_EXT_IRQ);
	aml__le(a, 6, 2);
	aml__byte(a, ACPI_IRQ_CONSUMER | ACPI_IRQ_EDGE | (shared ? ACPI_IRQ_SHARED : 0));
	aml__byte(a, 1);		/* one interrupt */
	aml__le(a, d->irq, 4);
	aml__byte(a, ACPI_RES_END);
	aml__byte(a, 0);
	aml__end(a, buf);
}

/*
 * Device(VRnn): _HID LNRO0005 is the ACPI binding of Linux's virtio_mmio
 * driver; with it a distro kernel built without
 * CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES (Debian's) still finds the devices.
 */
static void dsdt__virtio_mmio(struct aml *a, const struct fw_config *fw)
{
	bool shared = false;

	for (unsigned int i = 0; i < fw->nr_virtio_mmio && !shared; i++)
		for (unsigned int j = 0; j < i && !shared; j++)
			shared = fw->virtio_mmio[i].irq == fw->virtio_mmio[j].irq;
	for (unsigned int i = 0; i < fw->nr_virtio_mmio && i < 256; i++) {
		size_t dev = aml__begin(a, AML_DEVICE_OP);
		static const char hex[] = "0123456789ABCDEF";
		char name[] = { 'V', 'R', hex[i >> 4], hex[i & 15], 0 };

		aml__namestring(a, name);
		aml__hid_string(a, "LNRO0005");
		aml__name(a, "_UID");
		aml__integer(a, i);
		dsdt__vmmio_crs(a, &fw->virtio_mmio[i], shared);
		aml__end(a, dev);
	}
}

/*
 * \_SB: the system bus. Devices go here: a PCI host bridge
 * (Device(PCI0) with _HID PNP0A03, _CRS, _PRT) and the virtio-mmio devices
 * (_HID LNRO0005 with a Memory32Fixed + Interrupt _CRS each).
 */
static void dsdt__system_bus(struct aml *a, const struct fw_config *fw)
{
	size_t sb = aml__scope(a, "\\_SB_");

	if (fw->pci)
		dsdt__pci0(a, fw->pci);
	dsdt__virtio_mmio(a, fw);
	aml__end(a, sb);
}

static int acpi__build_dsdt(struct acpi_ctx *c, u64 *gpa)
{
	struct acpi_table_header *h = acpi__alloc(c, sizeof(*h), 16);
	struct aml a;

	if (!h)
		return -ENOSPC;
	a = (struct aml){ .buf = c->buf + c->off, .cap = c->size - c->off };
	dsdt__sleep_states(&a);
	dsdt__system_bus(&a, c->fw);
	if (a.err)
		return a.err;
	c->off += a.len;
	acpi__header(h, "DSDT", sizeof(*h) + a.len, ACPI_DSDT_REVISION);
	acpi__finish(h);
	*gpa = acpi__gpa(c, h);
	return 0;
}

/* ---- FACS, FADT ---- */

static int acpi__build_facs(struct acpi_ctx *c, u64 *gpa)
{
	struct acpi_facs *facs = acpi__alloc(c, sizeof(*facs), 64);

	if (!facs)
		return -ENOSPC;
	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = ACPI_FACS_VERSION;
	*gpa = acpi__gpa(c, facs);
	return 0;
}

static struct acpi_gas acpi__gas_io(u16 port, u8 bytes, u8 access_width)
{
	return (struct acpi_gas){
		.space_id = ACPI_GAS_SYSTEM_IO, .bit_width = bytes * 8,
		.access_width = access_width, .address = port,
	};
}

/* The fixed hardware blocks, in both the 32-bit and the X_ (GAS) form. */
static void acpi__fadt_hw(struct acpi_fadt *f)
{
	f->sci_int = ACPI_SCI_IRQ;
	f->smi_cmd = 0;			/* no SMM: ACPI mode is always on */
	f->pm1a_evt_blk = ACPI_PM1A_EVT_PORT;
	f->pm1a_cnt_blk = ACPI_PM1A_CNT_PORT;
	f->pm_tmr_blk = ACPI_PM_TMR_PORT;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	f->x_pm1a_evt_blk = acpi__gas_io(ACPI_PM1A_EVT_PORT, 4, 0);
	f->x_pm1a_cnt_blk = acpi__gas_io(ACPI_PM1A_CNT_PORT, 2, 0);
	f->x_pm_tmr_blk = acpi__gas_io(ACPI_PM_TMR_PORT, 4, 0);
	f->reset_reg = acpi__gas_io(ACPI_RESET_PORT, 1, ACPI_GAS_ACCESS_BYTE);
	f->reset_value = ACPI_RESET_VALUE;
}

static int acpi__build_fadt(struct acpi_ctx *c, u64 facs, u64 dsdt, u64 *gpa)
{
	struct acpi_fadt *f = acpi__alloc(c, sizeof(*f), 16);

	if (!f)
		return -ENOSPC;
	acpi__header(&f->header, "FACP", sizeof(*f), ACPI_FADT_REVISION);
	f->firmware_ctrl = facs;
	f->x_firmware_ctrl = facs;
	f->dsdt = dsdt;
	f->x_dsdt = dsdt;
	acpi__fadt_hw(f);
	f->p_lvl2_lat = 101;		/* > 100: no C2 */
	f->p_lvl3_lat = 1001;		/* > 1000: no C3 */
	f->century = 0x32;		/* hw/rtc.c keeps the century in CMOS 0x32 */
	f->iapc_boot_arch = ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_8042 | ACPI_BOOT_NO_VGA;
	/* Fixed power button (PWR_BUTTON clear); no sleep button, no RTC wake. */
	f->flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_SLP_BUTTON |
		   ACPI_FADT_FIX_RTC | ACPI_FADT_TMR_VAL_EXT | ACPI_FADT_RESET_REG_SUP;
	acpi__finish(&f->header);
	*gpa = acpi__gpa(c, f);
	return 0;
}

/* ---- MADT ---- */

static void *madt__entry(u8 **p, u8 type, u8 len)
{
	struct acpi_madt_entry *e = (struct acpi_madt_entry *)*p;

	e->type = type;
	e->length = len;
	*p += len;
	return e;
}

static void madt__cpus(u8 **p, unsigned int nr_cpus)
{
	for (unsigned int i = 0; i < nr_cpus; i++) {
		struct acpi_madt_lapic *l = madt__entry(p, ACPI_MADT_LAPIC, sizeof(*l));

		l->processor_uid = i;
		l->apic_id = i;
		l->flags = ACPI_MADT_LAPIC_ENABLED;
	}
}

static void madt__ioapic(u8 **p, unsigned int nr_cpus)
{
	struct acpi_madt_ioapic *io = madt__entry(p, ACPI_MADT_IOAPIC, sizeof(*io));
	struct acpi_madt_int_override *iso;
	struct acpi_madt_lapic_nmi *nmi;

	io->ioapic_id = nr_cpus;
	io->address = IOAPIC_ADDR;
	io->gsi_base = 0;

	/* ISA IRQs are identity-mapped; only the SCI differs: level, active high. */
	iso = madt__entry(p, ACPI_MADT_INT_OVERRIDE, sizeof(*iso));
	iso->bus = 0;
	iso->source = ACPI_SCI_IRQ;
	iso->gsi = ACPI_SCI_IRQ;
	iso->flags = ACPI_INTI_POLARITY_HIGH | ACPI_INTI_TRIGGER_LEVEL;

	nmi = madt__entry(p, ACPI_MADT_LAPIC_NMI, sizeof(*nmi));
	nmi->processor_uid = 0xff;
	nmi->flags = 0;
	nmi->lint = 1;
}

static int acpi__build_madt(struct acpi_ctx *c, u64 *gpa)
{
	unsigned int nr = c->fw->nr_cpus;
	size_t len = sizeof(struct acpi_madt) + nr * sizeof(struct acpi_madt_lapic) +
		     sizeof(struct acpi_madt_ioapic) +
		     sizeof(struct acpi_madt_int_override) +
		     sizeof(struct acpi_madt_lapic_nmi);
	struct acpi_madt *m = acpi__alloc(c, len, 16);
	u8 *p;

	if (!m)
		return -ENOSPC;
	acpi__header(&m->header, "APIC", len, ACPI_MADT_REVISION);
	m->lapic_addr = LAPIC_ADDR;
	m->flags = ACPI_MADT_PCAT_COMPAT;
	p = (u8 *)(m + 1);
	madt__cpus(&p, nr);
	madt__ioapic(&p, nr);
	acpi__finish(&m->header);
	*gpa = acpi__gpa(c, m);
	return 0;
}

/* ---- RSDT, XSDT, RSDP ---- */

/* A root table: the header, then @nr pointers of @width bytes each. */
static int acpi__build_root(struct acpi_ctx *c, const char *sig, unsigned int width,
			    const u64 *tables, unsigned int nr, u64 *gpa)
{
	size_t len = sizeof(struct acpi_table_header) + (size_t)nr * width;
	struct acpi_table_header *h = acpi__alloc(c, len, 16);
	u8 *p;

	if (!h)
		return -ENOSPC;
	acpi__header(h, sig, len, ACPI_SDT_REVISION);
	p = (u8 *)(h + 1);
	for (unsigned int i = 0; i < nr; i++, p += width)
		memcpy(p, &tables[i], width);	/* little endian host */
	acpi__finish(h);
	*gpa = acpi__gpa(c, h);
	return 0;
}

static void acpi__fill_rsdp(struct acpi_rsdp *r, u64 rsdt, u64 xsdt)
{
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, sizeof(r->oem_id));
	r->revision = ACPI_RSDP_REVISION;
	r->rsdt_addr = rsdt;
	r->length = sizeof(*r);
	r->xsdt_addr = xsdt;
	r->checksum = -acpi__checksum(r, ACPI_RSDP_V1_LEN);
	r->ext_checksum = -acpi__checksum(r, sizeof(*r));
}

/* Everything the RSDP points at, in allocation order after the RSDP. */
static int acpi__build_tables(struct acpi_ctx *c, u64 *rsdt, u64 *xsdt)
{
	u64 facs, dsdt, tables[2];
	int ret;

	ret = acpi__build_facs(c, &facs);
	if (!ret)
		ret = acpi__build_dsdt(c, &dsdt);
	if (!ret)
		ret = acpi__build_fadt(c, facs, dsdt, &tables[0]);
	if (!ret)
		ret = acpi__build_madt(c, &tables[1]);
	if (!ret)
		ret = acpi__build_root(c, "RSDT", 4, tables, ARRAY_SIZE(tables), rsdt);
	if (!ret)
		ret = acpi__build_root(c, "XSDT", 8, tables, ARRAY_SIZE(tables), xsdt);
	return ret;
}

int acpi__build(void *buf, u64 gpa, size_t size, const struct fw_config *fw,
		u64 *rsdp_gpa, size_t *used)
{
	struct acpi_ctx c = { .buf = buf, .gpa = gpa, .size = size, .fw = fw };
	struct acpi_rsdp *rsdp;
	u64 rsdt, xsdt;
	int ret;

	if (!fw->nr_cpus || fw->nr_cpus > FW_MAX_CPUS)
		return -EINVAL;
	if (gpa >= ACPI_TABLES_LIMIT || size > ACPI_TABLES_LIMIT - gpa)
		return -EINVAL;
	rsdp = acpi__alloc(&c, sizeof(*rsdp), 16);
	if (!rsdp)
		return -ENOSPC;
	ret = acpi__build_tables(&c, &rsdt, &xsdt);
	if (ret)
		return ret;
	acpi__fill_rsdp(rsdp, rsdt, xsdt);
	*rsdp_gpa = acpi__gpa(&c, rsdp);
	if (used)
		*used = c.off;
	return 0;
}
