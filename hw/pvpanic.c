/*
 * pvpanic, as QEMU's PCI device (1b36:0011, Linux's pvpanic-pci): BAR 0
 * reads the events the host understands; the guest kernel's panic
 * notifier writes PVPANIC_PANICKED there, and lkvm stops the VM with
 * KVM_STOP_PANIC (lkvm run and lkvm sandbox report it). When a crash
 * kernel is loaded the guest writes PVPANIC_CRASH_LOADED instead: kdump
 * takes over, so the VM runs on. Present whenever there is a PCI bus (the
 * default transport); with --transport mmio a panicking guest just
 * reboots (panic=-1).
 */
#include "hw/pci.h"
#include "kvm/devices.h"
#include "kvm/kvm.h"

#include <errno.h>
#include <misc/pvpanic.h>
#include <stdlib.h>
#include <string.h>

#define PVPANIC_VENDOR		0x1b36	/* Red Hat, QEMU's devices */
#define PVPANIC_DEVICE		0x0011
#define PVPANIC_CLASS		0x088000	/* system peripheral, other */
#define PVPANIC_REVISION	1
#define PVPANIC_BAR_SIZE	16
#define PVPANIC_NAME		"pvpanic"

struct pvpanic {
	struct pci_dev	pdev;
	struct kvm	*kvm;
};

static void pvpanic__bar_io(struct pci_dev *pdev, int bar, u64 off, void *data, u32 len,
			    bool write)
{
	struct pvpanic *p = container_of(pdev, struct pvpanic, pdev);
	u64 v;

	if (!write) {
		bus__put(data, len, off ? 0 : PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
		return;
	}
	if (off)
		return;
	v = bus__get(data, len);
	if (v & PVPANIC_PANICKED)
		kvm__request_stop(p->kvm, KVM_STOP_PANIC, 1);
	else if (v & PVPANIC_CRASH_LOADED)
		pr_info("the guest kernel panicked; its crash kernel takes over");
}

static int pvpanic__init(struct kvm *kvm)
{
	struct pvpanic *p;
	int ret;

	if (!kvm->pci)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->kvm = kvm;
	pci__dev_init(&p->pdev, PVPANIC_NAME, PVPANIC_VENDOR, PVPANIC_DEVICE, PVPANIC_CLASS,
		      PVPANIC_REVISION);
	pci__set_subsystem(&p->pdev, 0x1af4, 0x1100);	/* QEMU's */
	ret = pci__set_bar(&p->pdev, 0, PVPANIC_BAR_SIZE, pvpanic__bar_io);
	if (!ret)
		ret = pci__register(kvm, &p->pdev);
	if (ret)
		free(p);
	return ret;
}

static void pvpanic__exit(struct kvm *kvm)
{
	for (int slot = 0; kvm->pci && slot < PCI_MAX_SLOTS; slot++) {
		struct pci_dev *pdev = kvm->pci->devs[slot];

		if (!pdev || strcmp(pdev->name, PVPANIC_NAME))
			continue;
		pci__unregister(pdev);
		free(container_of(pdev, struct pvpanic, pdev));
	}
}
/* After the virtio devices: their PCI slots stay where they were. */
device_init_order(pvpanic__init, pvpanic__exit, DEV_ORDER_VIRTIO + 5);
