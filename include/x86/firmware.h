#ifndef X86__FIRMWARE_H
#define X86__FIRMWARE_H

#include "kvm/util.h"

/*
 * What the firmware table builders (ACPI, MP table) need to know about the
 * machine. Kept separate from struct kvm so the builders are pure functions
 * that unit tests can call on a plain buffer.
 */
struct pci_host_desc;
struct mmio_dev_desc;

struct fw_config {
	unsigned int			nr_cpus;
	const struct pci_host_desc	*pci;	/* hw/pci.h; NULL: no PCI bus */
	const struct mmio_dev_desc	*virtio_mmio;	/* kvm/kvm.h */
	unsigned int			nr_virtio_mmio;
};

/*
 * APIC ids are one byte: CPUs get ids 0..nr_cpus-1, the I/O APIC gets
 * nr_cpus, and 0xff means "all local APICs".
 */
#define FW_MAX_CPUS	254

#endif
