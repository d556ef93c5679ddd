#ifndef X86__MPTABLE_H
#define X86__MPTABLE_H

#include "kvm/util.h"
#include "x86/firmware.h"
#include "x86/layout.h"

/*
 * Intel MultiProcessor Specification 1.4 tables (little endian, packed).
 * Linux reads them when booted with acpi=off.
 */
struct mpf_intel {
	char	signature[4];		/* "_MP_" */
	u32	physptr;		/* configuration table */
	u8	length;			/* in 16-byte units: 1 */
	u8	spec;			/* 4: MP spec 1.4 */
	u8	checksum;
	u8	feature1;		/* 0: a configuration table is present */
	u8	feature2;		/* bit 7: IMCR present (PIC mode) */
	u8	feature3[3];
} __attribute__((packed));

struct mpc_table {
	char	signature[4];		/* "PCMP" */
	u16	length;			/* base table, header included */
	u8	spec;
	u8	checksum;
	char	oem[8];
	char	product[12];
	u32	oemptr;
	u16	oemsize;
	u16	count;			/* entries */
	u32	lapic;
	u16	ext_length;
	u8	ext_checksum;
	u8	reserved;
} __attribute__((packed));

#define MP_PROCESSOR		0
#define MP_BUS			1
#define MP_IOAPIC		2
#define MP_INTSRC		3
#define MP_LINTSRC		4

struct mpc_cpu {
	u8	type;
	u8	apicid;
	u8	apicver;
	u8	cpuflag;
	u32	signature;		/* CPUID.1 EAX: family/model/stepping */
	u32	features;		/* CPUID.1 EDX */
	u32	reserved[2];
} __attribute__((packed));

#define MPC_CPU_ENABLED		0x01
#define MPC_CPU_BSP		0x02

struct mpc_bus {
	u8	type;
	u8	busid;
	char	bustype[6];		/* "ISA   ", "PCI   " */
} __attribute__((packed));

struct mpc_ioapic {
	u8	type;
	u8	apicid;
	u8	apicver;
	u8	flags;
	u32	apicaddr;
} __attribute__((packed));

#define MPC_APIC_USABLE		0x01

/* I/O interrupt (MP_INTSRC) and local interrupt (MP_LINTSRC) entries. */
struct mpc_intsrc {
	u8	type;
	u8	irqtype;
	u16	irqflag;		/* polarity 1:0, trigger 3:2; 0 = conforms to bus */
	u8	srcbus;
	u8	srcbusirq;		/* ISA: IRQ; PCI: device << 2 | (pin - 1) */
	u8	dstapic;
	u8	dstirq;			/* I/O APIC pin or LINTn */
} __attribute__((packed));

#define MP_INT			0
#define MP_NMI			1
#define MP_SMI			2
#define MP_EXTINT		3

#define MP_APIC_ALL		0xff
#define MP_ISA_BUS		0	/* without PCI; with PCI, ISA is bus 1 */
#define MP_PCI_BUS		0
#define MP_IRQ_LEVEL_LOW	0x0f	/* trigger level (3 << 2), polarity low (3) */
#define MP_ISA_IRQS		16

/*
 * Linux looks for the floating pointer in the first KiB, in the last KiB
 * of base memory (639 KiB) and in 0xf0000-0xfffff, not at 0xe0000: the
 * firmware device puts a copy in the top 16 bytes of the EBDA.
 */
#define MPTABLE_MPF_ADDR	(EBDA_ADDR + EBDA_SIZE - 16)

/*
 * Build the MP floating pointer (first, 16-byte aligned) and the
 * configuration table after it into @buf, seen by the guest at @gpa.
 * Returns 0 and the bytes used, -EINVAL for a bad config, -ENOSPC if it
 * does not fit.
 */
int mptable__build(void *buf, u64 gpa, size_t size, const struct fw_config *fw,
		   size_t *used);

#endif
