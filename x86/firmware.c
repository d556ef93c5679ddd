/*
 * Firmware tables in guest memory: ACPI (RSDP first, at FW_TABLES_ADDR)
 * followed by the MP table, all in [FW_TABLES_ADDR, +FW_TABLES_SIZE). Runs
 * last (DEV_ORDER_FIRMWARE) so the tables can describe every device.
 *
 * Linux scans 0xe0000-0xfffff for the RSDP but looks for the MP floating
 * pointer only in the first KiB, at 639 KiB and in 0xf0000-0xfffff, so a
 * copy of the floating pointer also goes to the top of the EBDA.
 */
#include "hw/pci.h"
#include "kvm/devices.h"
#include "kvm/kvm.h"
#include "x86/acpi.h"
#include "x86/layout.h"
#include "x86/mptable.h"

#include <errno.h>
#include <string.h>

static int firmware__build(struct kvm *kvm, u8 *mem, const struct fw_config *fw)
{
	size_t acpi_len, mp_off, mp_len;
	u64 rsdp;
	int ret;

	ret = acpi__build(mem, FW_TABLES_ADDR, FW_TABLES_SIZE, fw, &rsdp, &acpi_len);
	if (ret)
		return ret;
	mp_off = ALIGN_UP(acpi_len, 16);
	if (mp_off > FW_TABLES_SIZE)
		return -ENOSPC;
	ret = mptable__build(mem + mp_off, FW_TABLES_ADDR + mp_off,
			     FW_TABLES_SIZE - mp_off, fw, &mp_len);
	if (ret)
		return ret;
	/* mptable__build() puts the floating pointer first. */
	ret = guest_write(kvm, MPTABLE_MPF_ADDR, mem + mp_off, sizeof(struct mpf_intel));
	if (ret)
		return ret;
	kvm->acpi_rsdp = rsdp;
	pr_debug("firmware tables: %zu bytes ACPI, %zu bytes MP table, RSDP at %#llx",
		 acpi_len, mp_len, (unsigned long long)rsdp);
	return 0;
}

static int firmware__init(struct kvm *kvm)
{
	struct pci_host_desc pci;
	struct fw_config fw = {
		.nr_cpus = kvm->cfg->nr_cpus,
		.pci = pci__describe(kvm, &pci) ? NULL : &pci,
		.virtio_mmio = kvm->virtio_mmio,
		.nr_virtio_mmio = kvm->nr_virtio_mmio,
	};
	u8 *mem = guest_ptr(kvm, FW_TABLES_ADDR, FW_TABLES_SIZE);
	int ret;

	if (!mem) {
		pr_err("firmware tables: no guest RAM at %#x", FW_TABLES_ADDR);
		return -EFAULT;
	}
	memset(mem, 0, FW_TABLES_SIZE);
	ret = firmware__build(kvm, mem, &fw);
	if (ret)
		pr_err("cannot build firmware tables for %u CPUs in %#x bytes at %#x: %s",
		       fw.nr_cpus, FW_TABLES_SIZE, FW_TABLES_ADDR, strerror(-ret));
	return ret;
}
device_init(firmware__init, DEV_ORDER_FIRMWARE);
