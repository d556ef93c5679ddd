#ifndef X86__LAYOUT_H
#define X86__LAYOUT_H

/*
 * Guest physical memory below 1 MiB, as lkvm lays it out:
 *
 *   0x00000 - 0x004ff	real-mode IVT and BIOS data area (legacy boot)
 *   0x00500 - 0x0051f	boot GDT
 *   0x07000 - 0x07fff	zero page (struct boot_params), 64-bit boot
 *   0x06ff0		initial stack top, 64-bit boot (grows down)
 *   0x09000 - 0x0efff	identity page tables: PML4, PDPT, 4 PDs (4 GiB, 2 MiB pages)
 *   0x10000 - 0x1ffff	real-mode kernel, stack and heap (legacy boot)
 *   0x20000 - 0x2ffff	kernel command line
 *   0x9fc00 - 0x9ffff	EBDA (reserved)
 *   0xa0000 - 0xdffff	VGA hole and option ROM space (reserved)
 *   0xe0000 - 0xeffff	firmware tables: ACPI and MP (reserved)
 *   0xf0000 - 0xfffff	the built-in BIOS and its e820 copy (reserved)
 *   0x100000		protected-mode kernel
 */
#define BOOT_IVT_ADDR		0x00000
#define BOOT_BDA_ADDR		0x00400
#define BOOT_GDT_ADDR		0x00500
#define BOOT_ZERO_PAGE_ADDR	0x07000
#define BOOT_STACK_TOP		0x07000	/* grows down, below the zero page */
#define BOOT_PML4_ADDR		0x09000
#define BOOT_PDPT_ADDR		0x0a000
#define BOOT_PD_ADDR		0x0b000	/* four pages */
#define BOOT_REALMODE_ADDR	0x10000
#define BOOT_REALMODE_HEAP_END	0xe000	/* offset in the real-mode segment */
#define BOOT_CMDLINE_ADDR	0x20000
#define BOOT_CMDLINE_MAX	0x10000
#define EBDA_ADDR		0x9fc00
#define EBDA_SIZE		0x400
#define LOW_RAM_END		EBDA_ADDR
#define FW_TABLES_ADDR		0xe0000
#define FW_TABLES_SIZE		0x10000
#define BIOS_ADDR		0xf0000
#define BIOS_SIZE		0x10000
#define BIOS_E820_ADDR		0xfe000	/* u32 count, then struct boot_e820_entry[] */
#define BIOS_E820_MAX		128
#define KERNEL_LOAD_ADDR	0x100000

/* Legacy I/O ports that lkvm itself defines. */
#define PORT_EXIT		0xf4	/* isa-debug-exit style: write status */
#define PORT_BOOT_MARKER	0xf5	/* any write: log time since lkvm start */

/* ACPI fixed hardware (PM1a event/control, PM timer, reset register). */
#define ACPI_PM1A_EVT_PORT	0x600	/* 4 bytes: status, enable */
#define ACPI_PM1A_CNT_PORT	0x604	/* 2 bytes */
#define ACPI_PM_TMR_PORT	0x608	/* 4 bytes */
#define ACPI_RESET_PORT		0x60c	/* 1 byte */
#define ACPI_RESET_VALUE	0x0f
#define ACPI_SCI_IRQ		9
#define ACPI_S5_TYP		5	/* SLP_TYP for S5 in the DSDT */

/*
 * The 32-bit MMIO hole between the end of low RAM (KVM_32BIT_GAP_START) and
 * 4 GiB:
 *
 *   0xc0000000 - 0xcfffffff	PCI memory BARs, assigned by lkvm (hw/pci.c)
 *   0xd0000000 - 0xd0ffffff	virtio-mmio devices, 0x200 bytes each
 *   0xfec00000			IOAPIC
 *   0xfee00000			local APIC
 */
#define PCI_CFG_PORT		0xcf8	/* configuration mechanism #1 */
#define PCI_CFG_PORT_SIZE	8	/* address at 0xcf8, data at 0xcfc-0xcff */
#define PCI_MMIO_BASE		0xc0000000ull
#define PCI_MMIO_SIZE		0x10000000ull
#define VIRTIO_MMIO_BASE	0xd0000000ull
#define VIRTIO_MMIO_SIZE	0x01000000ull
#define VIRTIO_MMIO_DEV_SIZE	0x200

#define IOAPIC_ADDR		0xfec00000
#define LAPIC_ADDR		0xfee00000

#endif
