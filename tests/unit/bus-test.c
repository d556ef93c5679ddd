/* Address-space dispatch. */
#include "test.h"
#include "kvm/bus.h"

static int hits;

static void count_io(struct bus_dev *dev, struct kvm_cpu *vcpu, u64 addr, void *data,
		     u32 len, bool write)
{
	hits++;
	if (!write)
		bus__put(data, len, addr - dev->base);
}

TEST(bus_dispatches_and_rejects_overlap)
{
	struct bus b;
	struct bus_dev a = { .name = "a", .base = 0x100, .len = 8, .io = count_io };
	struct bus_dev c = { .name = "c", .base = 0x10, .len = 0x10, .io = count_io };
	struct bus_dev overlap = { .name = "o", .base = 0x107, .len = 2, .io = count_io };
	u8 data[4];

	bus__init(&b, "test");
	CHECK_EQ(bus__register(&b, &a), 0);
	CHECK_EQ(bus__register(&b, &c), 0);
	CHECK(bus__register(&b, &overlap) < 0);
	hits = 0;
	CHECK(bus__access(&b, NULL, 0x103, data, 1, false));
	CHECK_EQ(data[0], 3);
	CHECK(bus__access(&b, NULL, 0x1f, data, 1, false));
	CHECK_EQ(data[0], 0xf);
	/* Misses read as all ones; accesses straddling a device's end miss. */
	CHECK(!bus__access(&b, NULL, 0x200, data, 2, false));
	CHECK_EQ(data[0], 0xff);
	CHECK(!bus__access(&b, NULL, 0x107, data, 2, false));
	CHECK_EQ(hits, 2);
	CHECK_EQ(bus__unregister(&b, &a), 0);
	CHECK(!bus__access(&b, NULL, 0x103, data, 1, false));
	bus__free(&b);
}
