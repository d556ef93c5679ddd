/* The PCI host bridge (mechanism #1), BARs, MSI-X and virtio-pci, without KVM. */
#include <errno.h>
#include <linux/virtio_pci.h>

#include "hw/pci.h"
#include "kvm/irq.h"
#include "test.h"
#include "virtio-fake.h"
#include "virtq-driver.h"
#include "virtio/transport.h"
#include "x86/acpi.h"
#include "x86/layout.h"

#define VSLOT		1	/* the first device lands in slot 1 */

static void cfg_addr(struct kvm *kvm, u8 bus, u8 slot, u8 fn, u32 off)
{
	u32 a = 0x80000000u | bus << 16 | slot << 11 | fn << 8 | (off & 0xfc);

	bus__access(&kvm->pio, NULL, PCI_CFG_PORT, &a, 4, true);
}

static u32 cfg_rd(struct kvm *kvm, u8 slot, u32 off, u32 len)
{
	u8 data[4] = { 0 };

	cfg_addr(kvm, 0, slot, 0, off);
	bus__access(&kvm->pio, NULL, 0xcfc + (off & 3), data, len, false);
	return bus__get(data, len);
}

static void cfg_wr(struct kvm *kvm, u8 slot, u32 off, u32 len, u32 v)
{
	u8 data[4];

	cfg_addr(kvm, 0, slot, 0, off);
	bus__put(data, len, v);
	bus__access(&kvm->pio, NULL, 0xcfc + (off & 3), data, len, true);
}

/* A VM with the host bridge and the fake device on PCI, memory decoding on. */
static void setup(struct fake_vm *vm, struct fake_dev *d)
{
	fake_vm__init(vm, TRANSPORT_PCI);
	CHECK_EQ(pci__init(&vm->kvm), 0);
	CHECK_EQ(fake_dev__init(d, vm), 0);
	CHECK_EQ(virtio_dev__register(&d->vdev), 0);
	cfg_wr(&vm->kvm, VSLOT, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void teardown(struct fake_vm *vm, struct fake_dev *d)
{
	fake_dev__exit(d);
	virtio_dev__unregister(&d->vdev);
	pci__exit(&vm->kvm);
	irq__exit(&vm->kvm);
	fake_vm__exit(vm);
}

static u64 bar0(struct fake_vm *vm)
{
	return cfg_rd(&vm->kvm, VSLOT, PCI_BASE_ADDRESS_0, 4) & PCI_BASE_ADDRESS_MEM_MASK;
}

static u64 bar1(struct fake_vm *vm)
{
	return cfg_rd(&vm->kvm, VSLOT, PCI_BASE_ADDRESS_1, 4) & PCI_BASE_ADDRESS_MEM_MASK;
}

TEST(pci_host_bridge_mechanism1)
{
	struct fake_vm vm;
	struct kvm *kvm = &vm.kvm;
	u32 v = 0x80000000u;
	u8 b = 1;

	fake_vm__init(&vm, TRANSPORT_PCI);
	CHECK_EQ(pci__init(kvm), 0);
	/* Linux's pci_check_type1(): outb 0xcfb, outl/inl 0xcf8. */
	bus__access(&kvm->pio, NULL, 0xcfb, &b, 1, true);
	bus__access(&kvm->pio, NULL, PCI_CFG_PORT, &v, 4, true);
	v = 0;
	bus__access(&kvm->pio, NULL, PCI_CFG_PORT, &v, 4, false);
	CHECK_EQ(v, 0x80000000u);
	CHECK_EQ(cfg_rd(kvm, 0, PCI_VENDOR_ID, 4), 0x12378086);
	CHECK_EQ(cfg_rd(kvm, 0, PCI_CLASS_DEVICE, 2), 0x0600);	/* host bridge */
	CHECK_EQ(cfg_rd(kvm, 0, PCI_DEVICE_ID + 1, 1), 0x12);
	CHECK_EQ(cfg_rd(kvm, 0, PCI_HEADER_TYPE, 1), 0);
	/* Empty slots, other functions, other buses and a clear enable bit: all ones. */
	CHECK_EQ(cfg_rd(kvm, 5, PCI_VENDOR_ID, 2), 0xffff);
	cfg_addr(kvm, 0, 0, 1, 0);
	v = 0;
	bus__access(&kvm->pio, NULL, 0xcfc, &v, 4, false);
	CHECK_EQ(v, 0xffffffffu);
	cfg_addr(kvm, 1, 0, 0, 0);
	bus__access(&kvm->pio, NULL, 0xcfc, &v, 4, false);
	CHECK_EQ(v, 0xffffffffu);
	v = 0;
	bus__access(&kvm->pio, NULL, PCI_CFG_PORT, &v, 4, true);
	bus__access(&kvm->pio, NULL, 0xcfc, &v, 4, false);
	CHECK_EQ(v, 0xffffffffu);
	/* The host bridge's IDs are read-only. */
	cfg_wr(kvm, 0, PCI_VENDOR_ID, 4, 0);
	CHECK_EQ(cfg_rd(kvm, 0, PCI_VENDOR_ID, 2), 0x8086);
	pci__exit(kvm);
	fake_vm__exit(&vm);
}

TEST(pci_cf9_resets)
{
	struct fake_vm vm;
	u8 v = 0x02;

	fake_vm__init(&vm, TRANSPORT_PCI);
	CHECK_EQ(pci__init(&vm.kvm), 0);
	bus__access(&vm.kvm.pio, NULL, 0xcf9, &v, 1, true);
	CHECK(!vm.kvm.stopping);
	v = 0x06;
	bus__access(&vm.kvm.pio, NULL, 0xcf9, &v, 1, true);
	CHECK(vm.kvm.stopping);
	CHECK_EQ(vm.kvm.stop_reason, KVM_STOP_REBOOT);
	pci__exit(&vm.kvm);
	fake_vm__exit(&vm);
}

TEST(virtio_pci_identity)
{
	struct fake_vm vm;
	struct fake_dev d;
	struct kvm *kvm = &vm.kvm;

	setup(&vm, &d);
	CHECK_EQ(cfg_rd(kvm, VSLOT, PCI_VENDOR_ID, 2), 0x1af4);
	CHECK_EQ(cfg_rd(kvm, VSLOT, PCI_DEVICE_ID, 2), 0x1040 + 4);
	CHECK_EQ(cfg_rd(kvm, VSLOT, PCI_REVISION_ID, 1), 1);
	CHECK_EQ(cfg_rd(kvm, VSLOT, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	CHECK_EQ(cfg_rd(kvm, VSLOT, PCI_SUBSYSTEM_ID, 2), 4);
	CHECK(cfg_rd(kvm, VSLOT, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	CHECK_EQ(cfg_rd(kvm, VSLOT, PCI_INTERRUPT_PIN, 1), 1);
	CHECK_EQ(cfg_rd(kvm, VSLOT, PCI_INTERRUPT_LINE, 1), 10);
	/* BARs come from the PCI window, naturally aligned. */
	CHECK(bar0(&vm) >= PCI_MMIO_BASE && bar0(&vm) < PCI_MMIO_BASE + PCI_MMIO_SIZE);
	CHECK_EQ(bar0(&vm) % 0x4000, 0);
	CHECK(bar1(&vm) >= PCI_MMIO_BASE && bar1(&vm) != bar0(&vm));
	CHECK_EQ(cfg_rd(kvm, VSLOT, PCI_ROM_ADDRESS, 4), 0);
	teardown(&vm, &d);
}

/* Walk the list the way Linux's virtio_pci_find_capability() does. */
TEST(virtio_pci_capability_list)
{
	struct fake_vm vm;
	struct fake_dev d;
	struct kvm *kvm = &vm.kvm;
	u8 types[8], nr = 0, msix = 0, notify = 0;
	u32 pos;

	setup(&vm, &d);
	for (pos = cfg_rd(kvm, VSLOT, PCI_CAPABILITY_LIST, 1); pos && nr < 8;
	     pos = cfg_rd(kvm, VSLOT, pos + PCI_CAP_LIST_NEXT, 1)) {
		u8 id = cfg_rd(kvm, VSLOT, pos, 1);

		CHECK(pos >= 0x40 && pos % 4 == 0);
		if (id == PCI_CAP_ID_MSIX) {
			msix = pos;
			continue;
		}
		CHECK_EQ(id, PCI_CAP_ID_VNDR);
		types[nr] = cfg_rd(kvm, VSLOT, pos + VIRTIO_PCI_CAP_CFG_TYPE, 1);
		if (types[nr] == VIRTIO_PCI_CAP_NOTIFY_CFG)
			notify = pos;
		if (types[nr] != VIRTIO_PCI_CAP_PCI_CFG)
			CHECK_EQ(cfg_rd(kvm, VSLOT, pos + VIRTIO_PCI_CAP_BAR, 1), 0);
		nr++;
	}
	CHECK_EQ(nr, 5);
	CHECK_EQ(types[0], VIRTIO_PCI_CAP_COMMON_CFG);
	CHECK_EQ(types[1], VIRTIO_PCI_CAP_NOTIFY_CFG);
	CHECK_EQ(types[2], VIRTIO_PCI_CAP_ISR_CFG);
	CHECK_EQ(types[3], VIRTIO_PCI_CAP_DEVICE_CFG);
	CHECK_EQ(types[4], VIRTIO_PCI_CAP_PCI_CFG);
	CHECK(msix);
	CHECK_EQ(cfg_rd(kvm, VSLOT, msix + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE, 2);
	CHECK_EQ(cfg_rd(kvm, VSLOT, msix + PCI_MSIX_TABLE, 4), 1);	/* BAR1, offset 0 */
	CHECK_EQ(cfg_rd(kvm, VSLOT, notify + VIRTIO_PCI_NOTIFY_CAP_MULT, 4), 4);
	CHECK_EQ(cfg_rd(kvm, VSLOT, notify + VIRTIO_PCI_CAP_LENGTH, 4), 8);
	teardown(&vm, &d);
}

TEST(pci_bar_sizing_and_moving)
{
	struct fake_vm vm;
	struct fake_dev d;
	struct kvm *kvm = &vm.kvm;
	u64 old, moved = PCI_MMIO_BASE + 0x100000;

	setup(&vm, &d);
	old = bar0(&vm);
	CHECK_EQ(mmio_rd(kvm, old + VIRTIO_PCI_COMMON_NUMQ, 2), 2);
	/* Sizing with decoding off, as Linux does. */
	cfg_wr(kvm, VSLOT, PCI_COMMAND, 2, 0);
	CHECK_EQ(mmio_rd(kvm, old + VIRTIO_PCI_COMMON_NUMQ, 2), 0xffff);
	cfg_wr(kvm, VSLOT, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	CHECK_EQ(cfg_rd(kvm, VSLOT, PCI_BASE_ADDRESS_0, 4), 0xffffc000u);
	cfg_wr(kvm, VSLOT, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	CHECK_EQ(cfg_rd(kvm, VSLOT, PCI_BASE_ADDRESS_2, 4), 0);
	/* The guest moves BAR0; the old window stops decoding. */
	cfg_wr(kvm, VSLOT, PCI_BASE_ADDRESS_0, 4, moved | 0x123);
	CHECK_EQ(bar0(&vm), moved);
	cfg_wr(kvm, VSLOT, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ(mmio_rd(kvm, moved + VIRTIO_PCI_COMMON_NUMQ, 2), 2);
	CHECK_EQ(mmio_rd(kvm, old + VIRTIO_PCI_COMMON_NUMQ, 2), 0xffff);
	teardown(&vm, &d);
}

TEST(virtio_pci_feature_negotiation)
{
	struct fake_vm vm;
	struct fake_dev d;
	struct kvm *kvm = &vm.kvm;
	u64 c;

	setup(&vm, &d);
	c = bar0(&vm);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_DF, 4), 1);	/* VERSION_1 is bit 32 */
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	CHECK(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_DF, 4) & FAKE_FEATURE);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	/* Without VERSION_1, FEATURES_OK does not stick, nor DRIVER_OK after it. */
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_GF, 4, FAKE_FEATURE);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1, 0x0b);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1), 0x03);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1), 0x03);
	CHECK_EQ(d.started, 0);
	/* A wrong width is ignored. */
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_GFSELECT, 2, 1);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_GFSELECT, 4), 0);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_GF, 4, 1);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1, 0x0b);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
	CHECK(virtio_dev__has_feature(&d.vdev, VIRTIO_F_VERSION_1));
	CHECK(virtio_dev__has_feature(&d.vdev, 3));
	/* Frozen now. */
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_GF, 4, 0);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_GF, 4), 1);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
	CHECK_EQ(d.started, 1);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1, 0);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1), 0);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_GF, 4), 0);
	teardown(&vm, &d);
}

static void setup_queue(struct kvm *kvm, u64 c, u16 q, u64 ring)
{
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_SIZE, 2, FAKE_QUEUE_SIZE);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_DESCLO, 4, ring);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_AVAILLO, 4, ring + 0x1000);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_AVAILHI, 4, 0);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_USEDLO, 4, ring + 0x2000);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_USEDHI, 4, 0);
}

TEST(virtio_pci_queue_setup)
{
	struct fake_vm vm;
	struct fake_dev d;
	struct kvm *kvm = &vm.kvm;
	u64 c;

	setup(&vm, &d);
	c = bar0(&vm);
	setup_queue(kvm, c, 1, 0x10000);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	CHECK(d.vdev.vqs[1].ready);
	CHECK_EQ(d.vdev.vqs[1].avail_gpa, 0x11000);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0x10000);
	/* An enabled queue's setup is frozen. */
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_SIZE, 2, 4);
	CHECK_EQ(d.vdev.vqs[1].size, FAKE_QUEUE_SIZE);
	/* A queue that does not exist reads 0 and ignores writes. */
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_SELECT, 2, 7);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_Q_SELECT, 2), 7);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	/* Rings outside RAM: the queue stays off and the device needs a reset. */
	setup_queue(kvm, c, 0, FAKE_RAM_SIZE - 0x1000);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	CHECK(!d.vdev.vqs[0].ready);
	CHECK(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* Reset clears queues and the transport's selectors. */
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1, 0);
	CHECK(!d.vdev.vqs[1].ready);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1), 0);
	teardown(&vm, &d);
}

TEST(virtio_pci_notify_and_config)
{
	struct fake_vm vm;
	struct fake_dev d;
	struct kvm *kvm = &vm.kvm;
	u64 c;

	setup(&vm, &d);
	c = bar0(&vm);
	/* No ioeventfd without KVM: the trapped write kicks the queue. */
	mmio_wr(kvm, c + 0x3000 + 4, 2, 1);
	CHECK_EQ(fake_kicks(&d.vdev.vqs[1]), 1);
	CHECK_EQ(fake_kicks(&d.vdev.vqs[0]), 0);
	mmio_wr(kvm, c + 0x3000 + 2, 2, 0);	/* not a queue's address */
	CHECK_EQ(fake_kicks(&d.vdev.vqs[0]), 0);
	/* Device config: any width within its 8 bytes. */
	CHECK_EQ(mmio_rd(kvm, c + 0x2000, 4), 0xa3a2a1a0u);
	CHECK_EQ(mmio_rd(kvm, c + 0x2000 + 7, 1), 0xa7);
	CHECK_EQ(mmio_rd(kvm, c + 0x2000 + 6, 4), 0);
	mmio_wr(kvm, c + 0x2000 + 2, 2, 0x1234);
	CHECK_EQ(d.config[2], 0x34);
	mmio_wr(kvm, c + 0x2000 + 7, 2, 0xffff);
	CHECK_EQ(d.config[7], 0xa7);
	teardown(&vm, &d);
}

TEST(virtio_pci_intx)
{
	struct fake_vm vm;
	struct fake_dev d;
	struct kvm *kvm = &vm.kvm;
	u64 c;

	setup(&vm, &d);
	c = bar0(&vm);
	d.vdev.transport->signal(&d.vdev, &d.vdev.vqs[0]);
	d.vdev.transport->signal(&d.vdev, NULL);
	CHECK_EQ(mmio_rd(kvm, c + 0x1000, 1), VIRTIO_PCI_ISR_CONFIG | 1);
	CHECK_EQ(mmio_rd(kvm, c + 0x1000, 1), 0);	/* read clears */
	teardown(&vm, &d);
}

TEST(virtio_pci_msix)
{
	struct fake_vm vm;
	struct fake_dev d;
	struct kvm *kvm = &vm.kvm;
	u64 c, t;
	u32 msix;

	setup(&vm, &d);
	c = bar0(&vm);
	t = bar1(&vm);
	msix = cfg_rd(kvm, VSLOT, PCI_CAPABILITY_LIST, 1);
	CHECK_EQ(cfg_rd(kvm, VSLOT, msix, 1), PCI_CAP_ID_MSIX);
	/* Vectors past the table are refused. */
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_MSIX, 2, 0);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_MSIX, 2), 0);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_MSIX, 2, 3);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_Q_MSIX, 2), 2);
	CHECK(d.vdev.vqs[1].call_fd >= 0);
	/* The table: entries start masked; the message is stored. */
	CHECK_EQ(mmio_rd(kvm, t + 2 * 16 + 12, 4), 1);
	mmio_wr(kvm, t + 2 * 16, 4, 0xfee00000);
	mmio_wr(kvm, t + 2 * 16 + 8, 4, 0x4041);
	CHECK_EQ(mmio_rd(kvm, t + 2 * 16 + 8, 4), 0x4041);
	CHECK_EQ(mmio_rd(kvm, t + 2 * 16 + 8, 2), 0);	/* dword/qword only */
	/* MSI-X on: a masked vector's interrupt waits in the PBA, no ISR/INTx. */
	cfg_wr(kvm, VSLOT, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	CHECK(cfg_rd(kvm, VSLOT, msix + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE);
	d.vdev.transport->signal(&d.vdev, &d.vdev.vqs[1]);
	CHECK_EQ(mmio_rd(kvm, t + 0x1000, 4), 1u << 2);
	CHECK_EQ(d.vdev.isr, 0);
	/* Unmasking delivers it (through KVM_SIGNAL_MSI here, which fails). */
	mmio_wr(kvm, t + 2 * 16 + 12, 4, 0);
	CHECK_EQ(mmio_rd(kvm, t + 0x1000, 4), 0);
	/* The function mask holds it back too. */
	cfg_wr(kvm, VSLOT, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	d.vdev.transport->signal(&d.vdev, &d.vdev.vqs[1]);
	CHECK_EQ(mmio_rd(kvm, t + 0x1000, 4), 1u << 2);
	cfg_wr(kvm, VSLOT, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	CHECK_EQ(mmio_rd(kvm, t + 0x1000, 4), 0);
	/* A device reset forgets the vectors but not the table. */
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1, 0);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ(mmio_rd(kvm, c + VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ(mmio_rd(kvm, t + 2 * 16 + 8, 4), 0x4041);
	teardown(&vm, &d);
}

TEST(virtio_pci_cfg_access_capability)
{
	struct fake_vm vm;
	struct fake_dev d;
	struct kvm *kvm = &vm.kvm;
	u32 pos, data;

	setup(&vm, &d);
	for (pos = cfg_rd(kvm, VSLOT, PCI_CAPABILITY_LIST, 1); pos;
	     pos = cfg_rd(kvm, VSLOT, pos + PCI_CAP_LIST_NEXT, 1))
		if (cfg_rd(kvm, VSLOT, pos, 1) == PCI_CAP_ID_VNDR &&
		    cfg_rd(kvm, VSLOT, pos + VIRTIO_PCI_CAP_CFG_TYPE, 1) == VIRTIO_PCI_CAP_PCI_CFG)
			break;
	CHECK(pos);
	data = pos + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
	cfg_wr(kvm, VSLOT, pos + VIRTIO_PCI_CAP_BAR, 1, 0);
	cfg_wr(kvm, VSLOT, pos + VIRTIO_PCI_CAP_OFFSET, 4, VIRTIO_PCI_COMMON_NUMQ);
	cfg_wr(kvm, VSLOT, pos + VIRTIO_PCI_CAP_LENGTH, 4, 2);
	CHECK_EQ(cfg_rd(kvm, VSLOT, data, 4), 2);
	/* Write the device config through the window. */
	cfg_wr(kvm, VSLOT, pos + VIRTIO_PCI_CAP_OFFSET, 4, 0x2000);
	cfg_wr(kvm, VSLOT, pos + VIRTIO_PCI_CAP_LENGTH, 4, 1);
	cfg_wr(kvm, VSLOT, data, 4, 0x55);
	CHECK_EQ(d.config[0], 0x55);
	/* A window off the BAR's end does nothing. */
	cfg_wr(kvm, VSLOT, pos + VIRTIO_PCI_CAP_OFFSET, 4, 0x4000);
	CHECK_EQ(cfg_rd(kvm, VSLOT, data, 4), 0);
	teardown(&vm, &d);
}

TEST(pci_describe_routes)
{
	struct fake_vm vm;
	struct fake_dev d;
	struct pci_host_desc desc;

	setup(&vm, &d);
	CHECK_EQ(pci__describe(&vm.kvm, &desc), 0);
	CHECK_EQ(desc.cfg_port, 0xcf8);
	CHECK_EQ(desc.mmio_base, PCI_MMIO_BASE);
	CHECK_EQ(desc.io_base[1] + desc.io_len[1], 0x10000);
	CHECK_EQ(desc.nr_routes, 1);
	CHECK_EQ(desc.routes[0].slot, VSLOT);
	CHECK_EQ(desc.routes[0].pin, 1);
	CHECK_EQ(desc.routes[0].irq, 10);
	teardown(&vm, &d);
	CHECK_EQ(pci__describe(&vm.kvm, &desc), -ENODEV);
}

static const u8 *find_bytes(const u8 *p, size_t n, const void *s, size_t len)
{
	for (size_t i = 0; i + len <= n; i++)
		if (!memcmp(p + i, s, len))
			return p + i;
	return NULL;
}

/* Build the tables for @fw into @buf; the DSDT (checksum checked) and its length. */
static const u8 *build_dsdt(u8 *buf, size_t size, const struct fw_config *fw, size_t *len)
{
	const u8 *p;
	size_t used;
	u64 rsdp;

	CHECK_EQ(acpi__build(buf, 0xe0000, size, fw, &rsdp, &used), 0);
	p = find_bytes(buf, used, "DSDT", 4);
	CHECK(p);
	if (!p)
		return NULL;
	*len = *(u32 *)(p + 4);
	CHECK_EQ(acpi__checksum(p, *len), 0);
	return p;
}

/* The DSDT gets \_SB.PCI0 with a well-formed _CRS and one _PRT entry per device. */
TEST(acpi_dsdt_describes_pci0)
{
	static u8 buf[0x4000];
	struct pci_host_desc desc = {
		.cfg_port = 0xcf8, .cfg_port_len = 8, .io_base = { 0, 0xd00 },
		.io_len = { 0xcf8, 0xf300 }, .mmio_base = PCI_MMIO_BASE,
		.mmio_size = PCI_MMIO_SIZE, .nr_routes = 2,
		.routes = { { 1, 1, 10 }, { 2, 1, 11 } },
	};
	struct fw_config fw = { .nr_cpus = 1, .pci = &desc };
	const u8 *p, *crs;
	size_t len;

	p = build_dsdt(buf, sizeof(buf), &fw, &len);
	if (!p)
		return;
	CHECK(find_bytes(p, len, "PCI0", 4));
	CHECK(find_bytes(p, len, "\x08_HID\x0c\x41\xd0\x0a\x03", 10));
	crs = find_bytes(p, len, "_CRS", 4);
	CHECK(crs);
	if (!crs)
		return;
	/* Name(_CRS, Buffer(84) {...}): BufferOp, PkgLength, BytePrefix 84. */
	CHECK_EQ(crs[4], 0x11);
	CHECK_EQ(crs[7], 0x0a);
	CHECK_EQ(crs[8], 84);
	CHECK_EQ(crs[9], 0x88);				/* WordBusNumber */
	CHECK_EQ(crs[9 + 84 - 2], 0x79);		/* end tag */
	CHECK(find_bytes(p, len, "\x0c\xff\xff\x02\x00\x00\x00\x0a\x0b", 9));
}

/* Each virtio-mmio window gets \_SB.VRnn, _HID "LNRO0005", its memory and IRQ. */
TEST(acpi_dsdt_describes_virtio_mmio)
{
	static u8 buf[0x4000];
	const struct mmio_dev_desc devs[] = {
		{ 0xd0000000, 0x200, 5 }, { 0xd0000200, 0x200, 7 },
	};
	struct fw_config fw = { .nr_cpus = 1, .virtio_mmio = devs, .nr_virtio_mmio = 2 };
	static const u8 mem1[] = { 0x86, 9, 0, 1, 0x00, 0x02, 0x00, 0xd0, 0x00, 0x02, 0, 0 };
	static const u8 irq1[] = { 0x89, 6, 0, 0x03, 1, 7, 0, 0, 0, 0x79 };
	const u8 *p, *vr1;
	size_t len;

	p = build_dsdt(buf, sizeof(buf), &fw, &len);
	if (!p)
		return;
	CHECK(find_bytes(p, len, "VR00", 4));
	vr1 = find_bytes(p, len, "VR01", 4);
	CHECK(vr1);
	if (!vr1)
		return;
	len -= vr1 - p;
	CHECK(find_bytes(vr1, len, "\x08_HID\x0dLNRO0005\x00", 15));
	CHECK(find_bytes(vr1, len, "\x08_UID\x01", 6));
	CHECK(find_bytes(vr1, len, mem1, sizeof(mem1)));
	CHECK(find_bytes(vr1, len, irq1, sizeof(irq1)));
}

TEST(irq_routing_keeps_defaults)
{
	struct fake_vm vm;

	fake_vm__init(&vm, TRANSPORT_PCI);
	CHECK_EQ(irq__nr_routes(&vm.kvm), 16 * 2 + 8);
	CHECK(irq__add_msi_route(&vm.kvm, 0xfee00000, 0x41) < 0);	/* no VM */
	CHECK_EQ(irq__nr_routes(&vm.kvm), 41);
	irq__exit(&vm.kvm);
	fake_vm__exit(&vm);
}

/* ---- a guest writing garbage into every register ---- */

static u32 fuzz_rand(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s >> 16;
}

/* Where in BAR0 a fuzzed access goes: mostly the common config. */
static u32 fuzz_bar0_off(u32 r)
{
	switch (r % 20) {
	case 0 ... 11:	return r / 20 % 0x40;			/* common */
	case 12 ... 14:	return 0x3000 + r / 20 % 16;		/* notify */
	case 15 ... 16:	return 0x1000 + r / 20 % 8;		/* ISR */
	case 17 ... 18:	return 0x2000 + r / 20 % 16;		/* device config */
	default:	return r / 20 % 0x4000;			/* anywhere */
	}
}

/* One random access: config space (not the BARs or the command), BAR0, BAR1. */
static void fuzz_one(struct kvm *kvm, u64 *seed, u64 c, u64 t)
{
	static const u8 lens[] = { 1, 2, 4, 8, 3, 4, 2, 4 };
	u32 r = fuzz_rand(seed), v = fuzz_rand(seed) << 16 | fuzz_rand(seed);
	u32 len = lens[r & 7], off = fuzz_rand(seed);
	bool wr = r & 0x400;
	u8 data[8] = { 0 };

	/* Small numbers (selectors, status bits), RAM addresses, or anything. */
	switch (r >> 11 & 3) {
	case 0:	v %= 8; break;
	case 1:	v %= FAKE_RAM_SIZE; break;
	case 2:	v |= 0xf; break;		/* DRIVER_OK with the rest */
	}
	bus__put(data, len < 8 ? len : 4, v);
	switch ((r >> 3) % 16) {
	case 0:
		off %= 256;
		if (off < PCI_COMMAND + 2 || (off >= PCI_BASE_ADDRESS_0 && off < PCI_CARDBUS_CIS))
			break;
		cfg_addr(kvm, 0, VSLOT, 0, off);
		bus__access(&kvm->pio, NULL, 0xcfc + (off & 3), data, len, wr);
		break;
	case 1:
		bus__access(&kvm->pio, NULL, PCI_CFG_PORT + off % 8, data, len, wr);
		break;
	case 2 ... 12:
		bus__access(&kvm->mmio, NULL, c + fuzz_bar0_off(off), data, len, wr);
		break;
	default:	/* BAR1: the MSI-X table and the PBA */
		bus__access(&kvm->mmio, NULL, t + off % 0x1100, data, len, wr);
		break;
	}
}

/*
 * What a driver does to start the device, with the ring in RAM but where
 * the fuzz's garbage is: then the random accesses kick, break and reset a
 * running device too.
 */
static void fuzz_bring_up(struct kvm *kvm, u64 c, u64 *seed)
{
	u64 ring = fuzz_rand(seed) % (FAKE_RAM_SIZE - 0x3000) & ~0xfffull;

	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1, 0);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_GF, 4, 1);		/* VERSION_1 */
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1, 0x0b);
	setup_queue(kvm, c, 0, ring);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	mmio_wr(kvm, c + VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
}

/*
 * 300,000 random reads and writes of every size over virtio-rng's PCI
 * registers: status and features at random, rings anywhere (many in RAM,
 * over memory the test fills with garbage), a proper start every 1,000
 * accesses so that kicks reach a running device, MSI-X entries and masks,
 * BARs moved and decoding switched now and then. lkvm must not crash or hang, must log a bounded number of lines,
 * and after a reset the device must work as new.
 */
TEST(virtio_pci_register_fuzz)
{
	struct fake_vm vm;
	struct kvm *kvm = &vm.kvm;
	struct virtio_dev *vdev;
	struct capture cap;
	u64 seed = 0x9e3779b97f4a7c15ull, c, t, c0, t0;
	int oks = 0;

	fake_vm__init(&vm, TRANSPORT_PCI);
	CHECK_EQ(pci__init(kvm), 0);
	CHECK_EQ(drv__device("rng__init")->init(kvm), 0);
	vdev = drv__last_vdev(kvm);
	CHECK(vdev != NULL);
	if (!vdev)
		return;
	for (u32 i = 0; i < FAKE_RAM_SIZE / 4; i++)
		((u32 *)kvm->ram)[i] = fuzz_rand(&seed) << 16 | fuzz_rand(&seed);
	cfg_wr(kvm, VSLOT, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	c0 = c = bar0(&vm);
	t0 = t = bar1(&vm);
	capture__begin(&cap);
	for (int i = 0; i < 300000; i++) {
		if (i % 10000 == 9999) {	/* move a BAR, flip decoding */
			u32 r = fuzz_rand(&seed);

			cfg_wr(kvm, VSLOT, r & 1 ? PCI_BASE_ADDRESS_0 : PCI_BASE_ADDRESS_1, 4,
			       r & 2 ? PCI_MMIO_BASE + (r & 0xfffc000) : fuzz_rand(&seed) << 16);
			cfg_wr(kvm, VSLOT, PCI_COMMAND, 2,
			       r & 4 ? 0 : PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
			c = bar0(&vm);
			t = bar1(&vm);
		}
		if (i % 1000 == 0)
			fuzz_bring_up(kvm, c, &seed);
		fuzz_one(kvm, &seed, c, t);
		oks += !!(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK);
	}
	capture__end(&cap);
	CHECK(oks > 1000);			/* the fuzz reached the running device */
	CHECK(vdev->stats.bad_chains > 0);	/* and fed it bad rings */
	CHECK(cap.lines <= VIRTIO_MAX_WARNINGS + 1);
	/* Back where they were, reset: the device is as new. */
	cfg_wr(kvm, VSLOT, PCI_COMMAND, 2, 0);
	cfg_wr(kvm, VSLOT, PCI_BASE_ADDRESS_0, 4, c0);
	cfg_wr(kvm, VSLOT, PCI_BASE_ADDRESS_1, 4, t0);
	cfg_wr(kvm, VSLOT, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	CHECK_EQ(cfg_rd(kvm, VSLOT, PCI_VENDOR_ID, 2), 0x1af4);
	mmio_wr(kvm, c0 + VIRTIO_PCI_COMMON_STATUS, 1, 0);
	CHECK_EQ(mmio_rd(kvm, c0 + VIRTIO_PCI_COMMON_STATUS, 1), 0);
	CHECK_EQ(mmio_rd(kvm, c0 + VIRTIO_PCI_COMMON_NUMQ, 2), 1);
	mmio_wr(kvm, c0 + VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	CHECK_EQ(mmio_rd(kvm, c0 + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	CHECK(mmio_rd(kvm, c0 + VIRTIO_PCI_COMMON_Q_SIZE, 2) > 0);
	drv__device("rng__init")->exit(kvm);
	pci__exit(kvm);
	irq__exit(kvm);
	fake_vm__exit(&vm);
}
