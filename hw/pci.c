/*
 * PCI bus 0: a host bridge at 00.0 and configuration mechanism #1 at
 * 0xcf8/0xcfc. lkvm plays firmware: it assigns every BAR from the PCI MMIO
 * window and an INTx line to every pin; the guest may re-program both.
 * A BAR is decoded (registered on kvm->mmio) only while the device has
 * memory decoding enabled and the BAR holds an address.
 *
 * Port 0xcf9 is the reset control register of Intel chipsets (reboot=pci).
 */
#include "hw/pci.h"
#include "kvm/devices.h"
#include "kvm/kvm.h"
#include "x86/layout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PCI_HOST_VENDOR		0x8086	/* Intel 82441FX (i440FX) PMC */
#define PCI_HOST_DEVICE		0x1237
#define PCI_HOST_REVISION	0x02
#define PCI_HOST_CLASS		0x060000

#define PCI_CFG_ENABLE		0x80000000u
#define PCI_CFG_ADDR_MASK	0x80fffffcu	/* enable, bus, device, function, register */
#define PCI_RST_CNT_PORT	0xcf9
#define PCI_RST_CPU		0x04

#define PCI_COMMAND_WMASK	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
				 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | \
				 PCI_COMMAND_INTX_DISABLE)

/* INTx lines for PCI slots, level-triggered, shared round-robin. */
static const u8 pci_intx_irqs[] = { 10, 11, 5, 7 };

static bool ranges_overlap(u32 a, u32 alen, u32 b, u32 blen)
{
	return a < b + blen && b < a + alen;
}

void pci__set_wmask(struct pci_dev *pdev, u32 off, u32 len, u32 mask)
{
	for (u32 i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		pdev->wmask[off + i] = mask >> (8 * i);
}

void pci__dev_init(struct pci_dev *pdev, const char *name, u16 vendor, u16 device,
		   u32 class, u8 revision)
{
	memset(pdev->cfg, 0, sizeof(pdev->cfg));
	memset(pdev->wmask, 0, sizeof(pdev->wmask));
	memset(pdev->bars, 0, sizeof(pdev->bars));
	pdev->name = name;
	pdev->last_cap = 0;
	pdev->cap_end = PCI_STD_HEADER_SIZEOF;
	pdev->irq = 0;
	pdev->msix = NULL;
	pci__put16(pdev, PCI_VENDOR_ID, vendor);
	pci__put16(pdev, PCI_DEVICE_ID, device);
	pdev->cfg[PCI_REVISION_ID] = revision;
	pci__put16(pdev, PCI_CLASS_DEVICE, class >> 8);
	pdev->cfg[PCI_CLASS_PROG] = class;
	pdev->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	pci__set_wmask(pdev, PCI_COMMAND, 2, PCI_COMMAND_WMASK);
	pci__set_wmask(pdev, PCI_CACHE_LINE_SIZE, 1, 0xff);
	pci__set_wmask(pdev, PCI_LATENCY_TIMER, 1, 0xff);
	pci__set_wmask(pdev, PCI_INTERRUPT_LINE, 1, 0xff);
}

void pci__set_subsystem(struct pci_dev *pdev, u16 vendor, u16 device)
{
	pci__put16(pdev, PCI_SUBSYSTEM_VENDOR_ID, vendor);
	pci__put16(pdev, PCI_SUBSYSTEM_ID, device);
}

int pci__set_bar(struct pci_dev *pdev, int bar, u32 size, pci_bar_fn io)
{
	struct pci_bar *b;

	if (bar < 0 || bar >= PCI_STD_NUM_BARS || size < 16 || (size & (size - 1)) || !io)
		return -EINVAL;
	b = &pdev->bars[bar];
	b->size = size;
	b->io = io;
	b->pdev = pdev;
	b->index = bar;
	/* Memory, 32-bit, not prefetchable: the flag bits read 0. */
	pci__set_wmask(pdev, PCI_BASE_ADDRESS_0 + 4 * bar, 4,
		       ~(size - 1) & PCI_BASE_ADDRESS_MEM_MASK);
	return 0;
}

int pci__add_cap(struct pci_dev *pdev, const void *cap, u8 len)
{
	u32 off = ALIGN_UP(pdev->cap_end, 4);

	if (len < 2 || off + len > PCI_CFG_SIZE)
		return -ENOSPC;
	memcpy(&pdev->cfg[off], cap, len);
	pdev->cfg[off + PCI_CAP_LIST_NEXT] = 0;
	if (pdev->last_cap)
		pdev->cfg[pdev->last_cap + PCI_CAP_LIST_NEXT] = off;
	else
		pdev->cfg[PCI_CAPABILITY_LIST] = off;
	pci__put16(pdev, PCI_STATUS, pci__get16(pdev, PCI_STATUS) | PCI_STATUS_CAP_LIST);
	pdev->last_cap = off;
	pdev->cap_end = ALIGN_UP(off + len, 4);
	return off;
}

void pci__set_intx(struct pci_dev *pdev)
{
	pdev->cfg[PCI_INTERRUPT_PIN] = 1;	/* INTA# */
}

u64 pci__bar_addr(struct pci_dev *pdev, int bar)
{
	return pci__get32(pdev, PCI_BASE_ADDRESS_0 + 4 * bar) & PCI_BASE_ADDRESS_MEM_MASK;
}

static u8 pci__command_byte(struct pci_dev *pdev, int i)
{
	return __atomic_load_n(&pdev->cfg[PCI_COMMAND + i], __ATOMIC_RELAXED);
}

bool pci__mem_enabled(struct pci_dev *pdev)
{
	return pci__command_byte(pdev, 0) & PCI_COMMAND_MEMORY;
}

bool pci__intx_disabled(struct pci_dev *pdev)
{
	return pci__command_byte(pdev, 1) & (PCI_COMMAND_INTX_DISABLE >> 8);
}

static void pci__bar_bus_io(struct bus_dev *dev, struct kvm_cpu *vcpu, u64 addr,
			    void *data, u32 len, bool write)
{
	struct pci_bar *b = dev->priv;

	b->io(b->pdev, b->index, addr - dev->base, data, len, write);
}

static void pci__unmap_bar(struct pci_dev *pdev, struct pci_bar *b)
{
	bus__unregister(&pdev->bus->kvm->mmio, &b->dev);
	b->mapped = false;
	if (pdev->bar_map)
		pdev->bar_map(pdev, b->index, b->dev.base, false);
}

static void pci__map_bar(struct pci_dev *pdev, struct pci_bar *b, u64 addr)
{
	int ret;

	b->dev = (struct bus_dev){
		.name = pdev->name, .base = addr, .len = b->size,
		.io = pci__bar_bus_io, .priv = b,
	};
	ret = bus__register(&pdev->bus->kvm->mmio, &b->dev);
	if (ret) {
		pr_warn("pci %02x.0 %s: BAR%d at %#llx overlaps another device; not decoded",
			pdev->slot, pdev->name, b->index, (unsigned long long)addr);
		return;
	}
	b->mapped = true;
	if (pdev->bar_map)
		pdev->bar_map(pdev, b->index, addr, true);
}

/* Make the MMIO bus match the BARs and the memory enable bit. Bus lock held. */
static void pci__update_bars(struct pci_dev *pdev)
{
	bool mem = pci__mem_enabled(pdev);

	for (int i = 0; i < PCI_STD_NUM_BARS; i++) {
		struct pci_bar *b = &pdev->bars[i];
		u64 addr = pci__bar_addr(pdev, i);
		u32 sizing = ~(b->size - 1) & PCI_BASE_ADDRESS_MEM_MASK;
		bool want = mem && addr && addr != sizing;

		if (!b->size)
			continue;
		if (b->mapped && (!want || b->dev.base != addr))
			pci__unmap_bar(pdev, b);
		if (want && !b->mapped)
			pci__map_bar(pdev, b, addr);
	}
}

static struct pci_dev *pci__lookup(struct pci_bus *bus, u8 devfn)
{
	if (PCI_FUNC(devfn))
		return NULL;	/* single-function devices only */
	return bus->devs[PCI_SLOT(devfn)];
}

static bool pci__cfg_access_ok(u32 off, u32 len)
{
	return (len == 1 || len == 2 || len == 4) && off + len <= PCI_CFG_SIZE &&
	       !(off & (len - 1));
}

u32 pci__cfg_read(struct pci_bus *bus, u8 devfn, u32 off, u32 len)
{
	struct pci_dev *pdev;
	u32 v = 0;

	if (!pci__cfg_access_ok(off, len))
		return 0xffffffff;
	pthread_mutex_lock(&bus->lock);
	pdev = pci__lookup(bus, devfn);
	if (!pdev) {
		pthread_mutex_unlock(&bus->lock);
		return 0xffffffff >> (32 - 8 * len);
	}
	if (pdev->cfg_read)
		pdev->cfg_read(pdev, off, len);
	for (u32 i = 0; i < len; i++)
		v |= (u32)pdev->cfg[off + i] << (8 * i);
	pthread_mutex_unlock(&bus->lock);
	return v;
}

void pci__cfg_write(struct pci_bus *bus, u8 devfn, u32 off, u32 len, u32 val)
{
	struct pci_dev *pdev;

	if (!pci__cfg_access_ok(off, len))
		return;
	pthread_mutex_lock(&bus->lock);
	pdev = pci__lookup(bus, devfn);
	if (!pdev) {
		pthread_mutex_unlock(&bus->lock);
		return;
	}
	for (u32 i = 0; i < len; i++) {
		u8 m = pdev->wmask[off + i], b = val >> (8 * i);

		__atomic_store_n(&pdev->cfg[off + i], (pdev->cfg[off + i] & ~m) | (b & m),
				 __ATOMIC_RELAXED);
	}
	if (ranges_overlap(off, len, PCI_COMMAND, 2) ||
	    ranges_overlap(off, len, PCI_BASE_ADDRESS_0, 4 * PCI_STD_NUM_BARS))
		pci__update_bars(pdev);
	if (pdev->msix && ranges_overlap(off, len, pdev->msix->cap, PCI_CAP_MSIX_SIZEOF))
		pci_msix__cfg_write(pdev->msix, off, len);
	if (pdev->cfg_write)
		pdev->cfg_write(pdev, off, len);
	pthread_mutex_unlock(&bus->lock);
}

/* 0xcf8-0xcfb: CONFIG_ADDRESS takes dword accesses; 0xcf9 is RST_CNT. */
static void pci__addr_io(struct pci_bus *bus, u32 port, void *data, u32 len, bool write)
{
	if (port == 0 && len == 4) {
		if (write)
			__atomic_store_n(&bus->cfg_addr, (u32)bus__get(data, 4) & PCI_CFG_ADDR_MASK,
					 __ATOMIC_RELAXED);
		else
			bus__put(data, 4, __atomic_load_n(&bus->cfg_addr, __ATOMIC_RELAXED));
		return;
	}
	if (PCI_CFG_PORT + port == PCI_RST_CNT_PORT && len == 1) {
		u8 v = *(u8 *)data;

		if (!write) {
			*(u8 *)data = bus->rst_cnt;
			return;
		}
		bus->rst_cnt = v & ~PCI_RST_CPU;
		if (v & PCI_RST_CPU)
			kvm__request_stop(bus->kvm, KVM_STOP_REBOOT, 0);
		return;
	}
	if (!write)
		memset(data, 0xff, len);
}

/* 0xcfc-0xcff: the data window onto the register CONFIG_ADDRESS selects. */
static void pci__data_io(struct pci_bus *bus, u32 port, void *data, u32 len, bool write)
{
	u32 addr = __atomic_load_n(&bus->cfg_addr, __ATOMIC_RELAXED);
	u32 off = (addr & 0xfc) + port;
	u8 devfn = addr >> 8;

	if (!(addr & PCI_CFG_ENABLE) || ((addr >> 16) & 0xff)) {
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	if (write)
		pci__cfg_write(bus, devfn, off, len, bus__get(data, len));
	else
		bus__put(data, len, pci__cfg_read(bus, devfn, off, len));
}

static void pci__cfg_io(struct bus_dev *dev, struct kvm_cpu *vcpu, u64 addr, void *data,
			u32 len, bool write)
{
	struct pci_bus *bus = dev->priv;
	u32 port = addr - PCI_CFG_PORT;

	if (port < 4)
		pci__addr_io(bus, port, data, len, write);
	else
		pci__data_io(bus, port - 4, data, len, write);
}

int pci__register(struct kvm *kvm, struct pci_dev *pdev)
{
	struct pci_bus *bus = kvm->pci;
	u64 next;
	int slot;

	if (!bus)
		return -ENODEV;
	pthread_mutex_lock(&bus->lock);
	for (slot = 1; slot < PCI_MAX_SLOTS && bus->devs[slot]; slot++)
		;
	if (slot == PCI_MAX_SLOTS) {
		pthread_mutex_unlock(&bus->lock);
		return -ENOSPC;
	}
	next = bus->mmio_next;
	for (int i = 0; i < PCI_STD_NUM_BARS; i++) {
		struct pci_bar *b = &pdev->bars[i];
		u64 addr = ALIGN_UP(next, b->size ? b->size : 1);

		if (!b->size)
			continue;
		if (addr + b->size > PCI_MMIO_BASE + PCI_MMIO_SIZE) {
			pthread_mutex_unlock(&bus->lock);
			return -ENOSPC;
		}
		pci__put32(pdev, PCI_BASE_ADDRESS_0 + 4 * i, addr);
		next = addr + b->size;
	}
	bus->mmio_next = next;
	pdev->bus = bus;
	pdev->slot = slot;
	if (pdev->cfg[PCI_INTERRUPT_PIN]) {
		pdev->irq = pci_intx_irqs[(slot - 1) % ARRAY_SIZE(pci_intx_irqs)];
		pdev->cfg[PCI_INTERRUPT_LINE] = pdev->irq;
	}
	bus->devs[slot] = pdev;
	pthread_mutex_unlock(&bus->lock);
	pr_debug("pci %02x.0: %s, BAR0 %#llx, IRQ %u", slot, pdev->name,
		 (unsigned long long)pci__bar_addr(pdev, 0), pdev->irq);
	return 0;
}

void pci__unregister(struct pci_dev *pdev)
{
	struct pci_bus *bus = pdev->bus;

	if (!bus)
		return;
	pthread_mutex_lock(&bus->lock);
	for (int i = 0; i < PCI_STD_NUM_BARS; i++)
		if (pdev->bars[i].mapped)
			pci__unmap_bar(pdev, &pdev->bars[i]);
	if (bus->devs[pdev->slot] == pdev)
		bus->devs[pdev->slot] = NULL;
	pdev->bus = NULL;
	pthread_mutex_unlock(&bus->lock);
}

int pci__irq_routes(struct kvm *kvm, struct pci_irq_route *routes, int max)
{
	struct pci_bus *bus = kvm->pci;
	int n = 0;

	if (!bus)
		return 0;
	pthread_mutex_lock(&bus->lock);
	for (int slot = 0; slot < PCI_MAX_SLOTS && n < max; slot++) {
		struct pci_dev *pdev = bus->devs[slot];

		if (!pdev || !pdev->cfg[PCI_INTERRUPT_PIN] || !pdev->irq)
			continue;
		routes[n++] = (struct pci_irq_route){
			.slot = slot, .pin = pdev->cfg[PCI_INTERRUPT_PIN], .irq = pdev->irq,
		};
	}
	pthread_mutex_unlock(&bus->lock);
	return n;
}

int pci__describe(struct kvm *kvm, struct pci_host_desc *d)
{
	if (!kvm->pci)
		return -ENODEV;
	memset(d, 0, sizeof(*d));
	d->cfg_port = PCI_CFG_PORT;
	d->cfg_port_len = PCI_CFG_PORT_SIZE;
	d->bus_first = d->bus_last = 0;
	d->io_base[0] = 0;
	d->io_len[0] = PCI_CFG_PORT;
	d->io_base[1] = PCI_CFG_PORT + PCI_CFG_PORT_SIZE;
	d->io_len[1] = 0x10000 - (PCI_CFG_PORT + PCI_CFG_PORT_SIZE);
	d->mmio_base = PCI_MMIO_BASE;
	d->mmio_size = PCI_MMIO_SIZE;
	d->nr_routes = pci__irq_routes(kvm, d->routes, PCI_MAX_SLOTS);
	return 0;
}

int pci__init(struct kvm *kvm)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));
	int ret;

	if (!bus)
		return -ENOMEM;
	bus->kvm = kvm;
	bus->mmio_next = PCI_MMIO_BASE;
	pthread_mutex_init(&bus->lock, NULL);
	pci__dev_init(&bus->host, "host-bridge", PCI_HOST_VENDOR, PCI_HOST_DEVICE,
		      PCI_HOST_CLASS, PCI_HOST_REVISION);
	pci__put16(&bus->host, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	pci__set_wmask(&bus->host, PCI_COMMAND, 2, 0);
	bus->host.bus = bus;
	bus->devs[0] = &bus->host;
	bus->cfg_dev = (struct bus_dev){
		.name = "pci-config", .base = PCI_CFG_PORT, .len = PCI_CFG_PORT_SIZE,
		.io = pci__cfg_io, .priv = bus,
	};
	ret = bus__register(&kvm->pio, &bus->cfg_dev);
	if (ret) {
		free(bus);
		return ret;
	}
	kvm->pci = bus;
	return 0;
}

void pci__exit(struct kvm *kvm)
{
	struct pci_bus *bus = kvm->pci;

	if (!bus)
		return;
	bus__unregister(&kvm->pio, &bus->cfg_dev);
	for (int slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		struct pci_dev *pdev = bus->devs[slot];

		for (int i = 0; pdev && i < PCI_STD_NUM_BARS; i++)
			if (pdev->bars[i].mapped)
				bus__unregister(&kvm->mmio, &pdev->bars[i].dev);
	}
	kvm->pci = NULL;
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

/* The host bridge exists only when virtio devices sit on PCI. */
static int pci__dev_init_hook(struct kvm *kvm)
{
	if (kvm->cfg->transport != TRANSPORT_PCI)
		return 0;
	return pci__init(kvm);
}
device_init_order(pci__dev_init_hook, pci__exit, DEV_ORDER_CORE);
