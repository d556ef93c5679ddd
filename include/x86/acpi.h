#ifndef X86__ACPI_H
#define X86__ACPI_H

#include "kvm/util.h"
#include "x86/firmware.h"

struct kvm;

/*
 * ACPI tables as the guest sees them (little endian, packed), and the bits
 * of the fixed hardware registers that hw/acpi-pm.c emulates.
 */
#define ACPI_OEM_ID		"LKVM  "
#define ACPI_CREATOR_ID		"LKVM"

struct acpi_table_header {
	char	signature[4];
	u32	length;
	u8	revision;
	u8	checksum;
	char	oem_id[6];
	char	oem_table_id[8];
	u32	oem_revision;
	char	creator_id[4];
	u32	creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char	signature[8];		/* "RSD PTR " */
	u8	checksum;		/* over the first 20 bytes */
	char	oem_id[6];
	u8	revision;		/* 2: ACPI 2.0+ */
	u32	rsdt_addr;
	u32	length;			/* 36 */
	u64	xsdt_addr;
	u8	ext_checksum;		/* over all 36 bytes */
	u8	reserved[3];
} __attribute__((packed));

#define ACPI_RSDP_V1_LEN	20

/* Generic Address Structure. */
struct acpi_gas {
	u8	space_id;
	u8	bit_width;
	u8	bit_offset;
	u8	access_width;
	u64	address;
} __attribute__((packed));

#define ACPI_GAS_SYSTEM_IO	1
#define ACPI_GAS_ACCESS_BYTE	1

struct acpi_facs {
	char	signature[4];		/* "FACS", no checksum */
	u32	length;			/* 64 */
	u32	hw_signature;
	u32	waking_vector;
	u32	global_lock;
	u32	flags;
	u64	x_waking_vector;
	u8	version;
	u8	reserved[3];
	u32	ospm_flags;
	u8	reserved1[24];
} __attribute__((packed));

/* Fixed ACPI Description Table, revision 6 layout. */
struct acpi_fadt {
	struct acpi_table_header header;	/* "FACP" */
	u32	firmware_ctrl;
	u32	dsdt;
	u8	reserved0;
	u8	preferred_pm_profile;
	u16	sci_int;
	u32	smi_cmd;
	u8	acpi_enable;
	u8	acpi_disable;
	u8	s4bios_req;
	u8	pstate_cnt;
	u32	pm1a_evt_blk;
	u32	pm1b_evt_blk;
	u32	pm1a_cnt_blk;
	u32	pm1b_cnt_blk;
	u32	pm2_cnt_blk;
	u32	pm_tmr_blk;
	u32	gpe0_blk;
	u32	gpe1_blk;
	u8	pm1_evt_len;
	u8	pm1_cnt_len;
	u8	pm2_cnt_len;
	u8	pm_tmr_len;
	u8	gpe0_blk_len;
	u8	gpe1_blk_len;
	u8	gpe1_base;
	u8	cst_cnt;
	u16	p_lvl2_lat;
	u16	p_lvl3_lat;
	u16	flush_size;
	u16	flush_stride;
	u8	duty_offset;
	u8	duty_width;
	u8	day_alrm;
	u8	mon_alrm;
	u8	century;
	u16	iapc_boot_arch;
	u8	reserved1;
	u32	flags;
	struct acpi_gas reset_reg;
	u8	reset_value;
	u16	arm_boot_arch;
	u8	minor_version;
	u64	x_firmware_ctrl;
	u64	x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	u64	hypervisor_vendor_id;
} __attribute__((packed));

/* FADT flags. */
#define ACPI_FADT_WBINVD		(1u << 0)
#define ACPI_FADT_PROC_C1		(1u << 2)
#define ACPI_FADT_PWR_BUTTON		(1u << 4)	/* set: no fixed power button */
#define ACPI_FADT_SLP_BUTTON		(1u << 5)	/* set: no fixed sleep button */
#define ACPI_FADT_FIX_RTC		(1u << 6)	/* set: no RTC wake status */
#define ACPI_FADT_TMR_VAL_EXT		(1u << 8)	/* 32-bit PM timer */
#define ACPI_FADT_RESET_REG_SUP		(1u << 10)
#define ACPI_FADT_HW_REDUCED		(1u << 20)

/* FADT IAPC_BOOT_ARCH. */
#define ACPI_BOOT_LEGACY_DEVICES	(1u << 0)
#define ACPI_BOOT_8042			(1u << 1)
#define ACPI_BOOT_NO_VGA		(1u << 2)
#define ACPI_BOOT_NO_CMOS_RTC		(1u << 5)

/* Multiple APIC Description Table and the entries lkvm uses. */
struct acpi_madt {
	struct acpi_table_header header;	/* "APIC" */
	u32	lapic_addr;
	u32	flags;
} __attribute__((packed));

#define ACPI_MADT_PCAT_COMPAT		(1u << 0)

#define ACPI_MADT_LAPIC			0
#define ACPI_MADT_IOAPIC		1
#define ACPI_MADT_INT_OVERRIDE		2
#define ACPI_MADT_LAPIC_NMI		4

struct acpi_madt_entry {
	u8	type;
	u8	length;
} __attribute__((packed));

struct acpi_madt_lapic {
	struct acpi_madt_entry h;
	u8	processor_uid;
	u8	apic_id;
	u32	flags;
} __attribute__((packed));

#define ACPI_MADT_LAPIC_ENABLED		(1u << 0)

struct acpi_madt_ioapic {
	struct acpi_madt_entry h;
	u8	ioapic_id;
	u8	reserved;
	u32	address;
	u32	gsi_base;
} __attribute__((packed));

struct acpi_madt_int_override {
	struct acpi_madt_entry h;
	u8	bus;
	u8	source;
	u32	gsi;
	u16	flags;
} __attribute__((packed));

/* MPS INTI flags, shared by the MADT and the MP table. */
#define ACPI_INTI_POLARITY_HIGH		0x1
#define ACPI_INTI_POLARITY_LOW		0x3
#define ACPI_INTI_TRIGGER_EDGE		0x4
#define ACPI_INTI_TRIGGER_LEVEL		0xc

struct acpi_madt_lapic_nmi {
	struct acpi_madt_entry h;
	u8	processor_uid;		/* 0xff: all processors */
	u16	flags;
	u8	lint;
} __attribute__((packed));

/* PM1 status / enable bits (PM1a_EVT_BLK: status word, then enable word). */
#define ACPI_PM1_TMR			(1u << 0)
#define ACPI_PM1_GBL			(1u << 5)
#define ACPI_PM1_PWRBTN			(1u << 8)
#define ACPI_PM1_RTC			(1u << 10)	/* enable only: we never raise it */
#define ACPI_PM1_WAK_STS		(1u << 15)

/* PM1 control bits. */
#define ACPI_PM1_CNT_SCI_EN		(1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT	10
#define ACPI_PM1_CNT_SLP_TYP_MASK	(7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN		(1u << 13)

#define ACPI_PM_TIMER_HZ		3579545ull

/*
 * Build RSDP, RSDT, XSDT, FADT, FACS, MADT and DSDT into @buf, which the
 * guest sees at @gpa (@size bytes). The RSDP comes first (16-byte aligned
 * when @gpa is). Returns 0 and the RSDP's guest address and the bytes used,
 * -EINVAL for a bad config, -ENOSPC if the tables do not fit.
 */
int acpi__build(void *buf, u64 gpa, size_t size, const struct fw_config *fw,
		u64 *rsdp_gpa, size_t *used);

/* Byte sum of @len bytes; a valid table sums to 0. */
u8 acpi__checksum(const void *p, size_t len);

/* Press the ACPI fixed power button (PWRBTN_STS, SCI if enabled). */
int acpi_pm__power_button(struct kvm *kvm);

#endif
