/* pvpanic: QEMU's PCI IDs, the events it offers, and a panic stops the VM. */
#include <fcntl.h>

#include "hw/pci.h"
#include "test.h"
#include "virtio-fake.h"
#include "virtq-driver.h"

static struct pci_dev *pvpanic_dev(struct kvm *kvm)
{
	for (int slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		struct pci_dev *pdev = kvm->pci->devs[slot];

		if (pdev && !strcmp(pdev->name, "pvpanic"))
			return pdev;
	}
	return NULL;
}

static u8 bar_io(struct pci_dev *pdev, u64 off, u8 v, bool write)
{
	pdev->bars[0].io(pdev, 0, off, &v, 1, write);
	return v;
}

TEST(pvpanic_stops_the_vm_on_panic)
{
	const struct device_init *init = drv__device("pvpanic__init");
	struct fake_vm vm;
	struct pci_dev *pdev;
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	fake_vm__init(&vm, TRANSPORT_PCI);
	CHECK_EQ(pci__init(&vm.kvm), 0);
	CHECK(init != NULL);
	if (!init)
		return;
	CHECK_EQ(init->init(&vm.kvm), 0);
	pdev = pvpanic_dev(&vm.kvm);
	CHECK(pdev != NULL);
	if (!pdev)
		return;
	CHECK_EQ(pci__get16(pdev, PCI_VENDOR_ID), 0x1b36);
	CHECK_EQ(pci__get16(pdev, PCI_DEVICE_ID), 0x0011);
	CHECK_EQ(pdev->bars[0].size, 16);
	CHECK_EQ(pdev->cfg[PCI_INTERRUPT_PIN], 0);
	/* The events Linux's pvpanic reads at probe: panicked and crash loaded. */
	CHECK_EQ(bar_io(pdev, 0, 0, false), 3);
	/* A crash kernel takes over: the VM goes on. */
	dup2(null, 2);
	bar_io(pdev, 0, 2, true);
	dup2(saved, 2);
	CHECK(!vm.kvm.stopping);
	bar_io(pdev, 0, 1, true);
	CHECK(vm.kvm.stopping);
	CHECK_EQ(vm.kvm.stop_reason, KVM_STOP_PANIC);
	CHECK_EQ(vm.kvm.stop_status, 1);
	init->exit(&vm.kvm);
	CHECK(pvpanic_dev(&vm.kvm) == NULL);
	pci__exit(&vm.kvm);
	fake_vm__exit(&vm);
	close(saved);
	close(null);
}

TEST(pvpanic_only_with_pci)
{
	const struct device_init *init = drv__device("pvpanic__init");
	struct fake_vm vm;

	fake_vm__init(&vm, TRANSPORT_MMIO);
	CHECK(init && init->init(&vm.kvm) == 0);
	CHECK(vm.kvm.pci == NULL);
	fake_vm__exit(&vm);
}
