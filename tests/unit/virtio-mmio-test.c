/* virtio-mmio v2 register semantics, without KVM. */
#include <linux/virtio_mmio.h>

#include "kvm/irq.h"
#include "test.h"
#include "virtio-fake.h"
#include "virtio/transport.h"
#include "x86/layout.h"

#define BASE	VIRTIO_MMIO_BASE

static void setup(struct fake_vm *vm, struct fake_dev *d)
{
	fake_vm__init(vm, TRANSPORT_MMIO);
	CHECK_EQ(fake_dev__init(d, vm), 0);
	CHECK_EQ(virtio_dev__register(&d->vdev), 0);
}

static void teardown(struct fake_vm *vm, struct fake_dev *d)
{
	fake_dev__exit(d);
	virtio_dev__unregister(&d->vdev);
	irq__exit(&vm->kvm);
	fake_vm__exit(vm);
}

/* Each window is recorded for the DSDT; the cmdline stays clean while ACPI is on. */
TEST(virtio_mmio_identity_and_acpi_description)
{
	struct fake_vm vm;
	struct fake_dev d, d2;
	struct kvm *kvm = &vm.kvm;

	setup(&vm, &d);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_MAGIC_VALUE, 4), 0x74726976);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_VERSION, 4), 2);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_DEVICE_ID, 4), 4);
	CHECK(mmio_rd(kvm, BASE + VIRTIO_MMIO_VENDOR_ID, 4));
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_SHM_LEN_LOW, 4), 0xffffffffu);
	/* Registers want aligned dwords. */
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_MAGIC_VALUE, 2), 0);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_MAGIC_VALUE + 1, 1), 0);
	CHECK_EQ(fake_dev__init(&d2, &vm), 0);
	CHECK_EQ(virtio_dev__register(&d2.vdev), 0);
	CHECK(!vm.cfg.cmdline || !strstr(vm.cfg.cmdline, "virtio_mmio.device="));
	CHECK_EQ(kvm->nr_virtio_mmio, 2);
	CHECK_EQ(kvm->virtio_mmio[1].base, BASE + 0x200);
	CHECK_EQ(kvm->virtio_mmio[1].len, 0x200);
	CHECK_EQ(kvm->virtio_mmio[1].irq, 7);
	CHECK_EQ(mmio_rd(kvm, BASE + 0x200 + VIRTIO_MMIO_MAGIC_VALUE, 4), 0x74726976);
	virtio_dev__unregister(&d2.vdev);
	teardown(&vm, &d);
}

/* With acpi=off the guest learns of the devices from its command line. */
TEST(virtio_mmio_cmdline_without_acpi)
{
	struct fake_vm vm;
	struct fake_dev d, d2;

	fake_vm__init(&vm, TRANSPORT_MMIO);
	vm.cfg.cmdline = strdup("console=ttyS0 acpi=off");
	CHECK_EQ(fake_dev__init(&d, &vm), 0);
	CHECK_EQ(virtio_dev__register(&d.vdev), 0);
	CHECK_EQ(fake_dev__init(&d2, &vm), 0);
	CHECK_EQ(virtio_dev__register(&d2.vdev), 0);
	CHECK(vm.cfg.cmdline && strstr(vm.cfg.cmdline, "acpi=off virtio_mmio.device=0x200@0xd0000000:5"));
	CHECK(vm.cfg.cmdline && strstr(vm.cfg.cmdline, " virtio_mmio.device=0x200@0xd0000200:7"));
	virtio_dev__unregister(&d2.vdev);
	teardown(&vm, &d);
}

TEST(virtio_mmio_features_and_status)
{
	struct fake_vm vm;
	struct fake_dev d;
	struct kvm *kvm = &vm.kvm;

	setup(&vm, &d);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 1);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_DEVICE_FEATURES, 4), 1);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 2);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_DEVICE_FEATURES, 4), 0);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_STATUS, 4, 3);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_DRIVER_FEATURES, 4, FAKE_FEATURE);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_STATUS, 4, 0x0b);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_STATUS, 4), 3);	/* no VERSION_1 */
	mmio_wr(kvm, BASE + VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 1);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_DRIVER_FEATURES, 4, 1);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_STATUS, 4, 0x0b);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_STATUS, 4), 0x0b);
	CHECK(virtio_dev__has_feature(&d.vdev, VIRTIO_F_VERSION_1));
	mmio_wr(kvm, BASE + VIRTIO_MMIO_STATUS, 4, 0x0f);
	CHECK_EQ(d.started, 1);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_STATUS, 4, 0);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_STATUS, 4), 0);
	CHECK(!virtio_dev__has_feature(&d.vdev, VIRTIO_F_VERSION_1));
	teardown(&vm, &d);
}

static void setup_queue(struct kvm *kvm, u32 q, u64 ring)
{
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_SEL, 4, q);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_NUM, 4, FAKE_QUEUE_SIZE);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_DESC_LOW, 4, ring);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_DESC_HIGH, 4, 0);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_AVAIL_LOW, 4, ring + 0x1000);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 4, 0);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_USED_LOW, 4, ring + 0x2000);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_USED_HIGH, 4, 0);
}

TEST(virtio_mmio_queue_setup)
{
	struct fake_vm vm;
	struct fake_dev d;
	struct kvm *kvm = &vm.kvm;

	setup(&vm, &d);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_SEL, 4, 1);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_QUEUE_NUM_MAX, 4), FAKE_QUEUE_SIZE);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_QUEUE_READY, 4), 0);
	setup_queue(kvm, 1, 0x20000);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_READY, 4, 1);
	CHECK(d.vdev.vqs[1].ready);
	CHECK_EQ(d.vdev.vqs[1].used_gpa, 0x22000);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_QUEUE_READY, 4), 1);
	/* Frozen while ready. */
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_NUM, 4, 4);
	CHECK_EQ(d.vdev.vqs[1].size, FAKE_QUEUE_SIZE);
	/* Linux's vm_del_vq(): QueueReady 0 turns it off. */
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_READY, 4, 0);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_QUEUE_READY, 4), 0);
	/* A queue that does not exist. */
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_SEL, 4, 9);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_QUEUE_NUM_MAX, 4), 0);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_READY, 4, 1);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_QUEUE_READY, 4), 0);
	/* A bad size fails at QueueReady, and flags the device. */
	setup_queue(kvm, 0, 0x20000);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_NUM, 4, 12);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_READY, 4, 1);
	CHECK(!d.vdev.vqs[0].ready);
	CHECK(mmio_rd(kvm, BASE + VIRTIO_MMIO_STATUS, 4) & VIRTIO_CONFIG_S_NEEDS_RESET);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_STATUS, 4, 0);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_STATUS, 4), 0);
	teardown(&vm, &d);
}

TEST(virtio_mmio_notify_interrupt_config)
{
	struct fake_vm vm;
	struct fake_dev d;
	struct kvm *kvm = &vm.kvm;

	setup(&vm, &d);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_NOTIFY, 4, 1);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_QUEUE_NOTIFY, 4, 7);
	CHECK_EQ(fake_kicks(&d.vdev.vqs[1]), 1);
	CHECK_EQ(fake_kicks(&d.vdev.vqs[0]), 0);
	d.vdev.transport->signal(&d.vdev, &d.vdev.vqs[0]);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_INTERRUPT_STATUS, 4), VIRTIO_MMIO_INT_VRING);
	d.vdev.transport->signal(&d.vdev, NULL);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_INTERRUPT_STATUS, 4), 3);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_INTERRUPT_ACK, 4, VIRTIO_MMIO_INT_VRING);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_INTERRUPT_STATUS, 4), VIRTIO_MMIO_INT_CONFIG);
	/* Config space at 0x100: any width inside, nothing outside. */
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_CONFIG + 4, 4), 0xa7a6a5a4u);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_CONFIG + 1, 1), 0xa1);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_CONFIG + 8, 4), 0);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_CONFIG + 6, 4), 0);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_CONFIG, 2, 0xbeef);
	CHECK_EQ(d.config[1], 0xbe);
	mmio_wr(kvm, BASE + VIRTIO_MMIO_CONFIG + 0xfc, 4, 0);
	CHECK_EQ(mmio_rd(kvm, BASE + VIRTIO_MMIO_CONFIG_GENERATION, 4), 0);
	teardown(&vm, &d);
}

/* kvm__cmdline_has() matches whole words only. */
TEST(kvm_cmdline_has_whole_words)
{
	struct kvm_config cfg = { .cmdline = "xacpi=off acpi=offx console=ttyS0 acpi=off" };
	struct kvm kvm = { .cfg = &cfg };

	CHECK(kvm__cmdline_has(&kvm, "acpi=off"));
	CHECK(kvm__cmdline_has(&kvm, "console=ttyS0"));
	cfg.cmdline = "xacpi=off acpi=offx";
	CHECK(!kvm__cmdline_has(&kvm, "acpi=off"));
	cfg.cmdline = NULL;
	CHECK(!kvm__cmdline_has(&kvm, "acpi=off"));
}
