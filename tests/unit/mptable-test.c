/* MP table builder: floating pointer, configuration table, entry counts. */
#include "test.h"
#include "hw/pci.h"
#include "x86/layout.h"
#include "x86/mptable.h"

#include <errno.h>

#define MP_BASE		(FW_TABLES_ADDR + 0x1000)

static u8 mpbuf[8192];

static u8 sum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 s = 0;

	while (len--)
		s += *b++;
	return s;
}

static int mp_build(unsigned int nr_cpus, u64 gpa, size_t size, size_t *used)
{
	struct fw_config fw = { .nr_cpus = nr_cpus };

	memset(mpbuf, 0xa5, sizeof(mpbuf));
	return mptable__build(mpbuf, gpa, size, &fw, used);
}

struct mp_counts {
	unsigned int	cpu, bsp, bus, ioapic, intsrc, lint, other;
	bool		ok;
};

/* Check the floating pointer and the table it points at; count entries. */
static struct mp_counts mp_parse(unsigned int nr_cpus, size_t used)
{
	struct mpf_intel *mpf = (struct mpf_intel *)mpbuf;
	struct mp_counts c = { .ok = true };
	struct mpc_table *t;
	u8 *p, *end;

	CHECK(!memcmp(mpf->signature, "_MP_", 4));
	CHECK_EQ(mpf->length, 1);
	CHECK_EQ(mpf->spec, 4);
	CHECK_EQ(sum(mpf, 16), 0);
	CHECK_EQ(mpf->feature1, 0);
	CHECK(mpf->physptr >= MP_BASE + 16);
	if (mpf->physptr < MP_BASE + 16 || mpf->physptr - MP_BASE + sizeof(*t) > used)
		return c;
	t = (struct mpc_table *)(mpbuf + (mpf->physptr - MP_BASE));
	CHECK(!memcmp(t->signature, "PCMP", 4));
	CHECK_EQ(t->spec, 4);
	CHECK_EQ(t->lapic, LAPIC_ADDR);
	CHECK_EQ(mpf->physptr - MP_BASE + t->length, used);
	if (mpf->physptr - MP_BASE + t->length > used)
		return c;
	CHECK_EQ(sum(t, t->length), 0);

	p = (u8 *)(t + 1);
	end = (u8 *)t + t->length;
	while (p < end) {
		struct mpc_cpu *cpu = (void *)p;
		struct mpc_bus *bus = (void *)p;
		struct mpc_ioapic *io = (void *)p;
		struct mpc_intsrc *s = (void *)p;

		switch (p[0]) {
		case MP_PROCESSOR:
			c.ok &= cpu->apicid == c.cpu && (cpu->cpuflag & MPC_CPU_ENABLED);
			c.bsp += !!(cpu->cpuflag & MPC_CPU_BSP) && cpu->apicid == 0;
			c.cpu++;
			p += sizeof(*cpu);
			break;
		case MP_BUS:
			c.ok &= bus->busid == MP_ISA_BUS && !memcmp(bus->bustype, "ISA   ", 6);
			c.bus++;
			p += sizeof(*bus);
			break;
		case MP_IOAPIC:
			c.ok &= io->apicid == nr_cpus && io->apicver == 0x11 &&
				(io->flags & MPC_APIC_USABLE) && io->apicaddr == IOAPIC_ADDR;
			c.ioapic++;
			p += sizeof(*io);
			break;
		case MP_INTSRC:
			c.ok &= s->irqtype == MP_INT && s->irqflag == 0 &&
				s->srcbus == MP_ISA_BUS && s->srcbusirq == c.intsrc &&
				s->dstapic == nr_cpus && s->dstirq == c.intsrc;
			c.intsrc++;
			p += sizeof(*s);
			break;
		case MP_LINTSRC:
			c.ok &= s->dstapic == MP_APIC_ALL &&
				s->irqtype == (c.lint ? MP_NMI : MP_EXTINT) &&
				s->dstirq == c.lint;
			c.lint++;
			p += sizeof(*s);
			break;
		default:
			c.other++;
			p = end;
		}
	}
	CHECK(p == end);
	CHECK_EQ(c.cpu + c.bus + c.ioapic + c.intsrc + c.lint + c.other, t->count);
	return c;
}

static void check_counts(unsigned int nr_cpus)
{
	size_t used = 0;
	struct mp_counts c;

	CHECK_EQ(mp_build(nr_cpus, MP_BASE, sizeof(mpbuf), &used), 0);
	CHECK_EQ(used, 16 + 44 + nr_cpus * 20 + 8 + 8 + 16 * 8 + 2 * 8);
	c = mp_parse(nr_cpus, used);
	CHECK_EQ(c.cpu, nr_cpus);
	CHECK_EQ(c.bsp, 1);
	CHECK_EQ(c.bus, 1);
	CHECK_EQ(c.ioapic, 1);
	CHECK_EQ(c.intsrc, 16);
	CHECK_EQ(c.lint, 2);
	CHECK_EQ(c.other, 0);
	CHECK(c.ok);
}

TEST(mptable_one_cpu)
{
	check_counts(1);
}

TEST(mptable_eight_cpus)
{
	check_counts(8);
}

TEST(mptable_floating_pointer_aligned)
{
	size_t used = 0;

	/* An unaligned base: the floating pointer moves up to 16 bytes. */
	CHECK_EQ(mp_build(2, MP_BASE + 4, sizeof(mpbuf) - 4, &used), 0);
	CHECK(!memcmp(mpbuf + 12, "_MP_", 4));
	CHECK_EQ(sum(mpbuf + 12, 16), 0);
	CHECK_EQ(MPTABLE_MPF_ADDR % 16, 0);
	CHECK(MPTABLE_MPF_ADDR >= 639 * 1024 && MPTABLE_MPF_ADDR + 16 <= 640 * 1024);
}

TEST(mptable_too_small_or_bad_config)
{
	size_t need = 0, used;

	CHECK_EQ(mp_build(8, MP_BASE, sizeof(mpbuf), &need), 0);
	for (size_t size = 0; size < need; size++) {
		int ret = mp_build(8, MP_BASE, size, &used);

		if (ret != -ENOSPC) {
			CHECK_EQ(ret, -ENOSPC);
			break;
		}
	}
	CHECK_EQ(mp_build(8, MP_BASE, need, &used), 0);
	CHECK_EQ(used, need);
	CHECK_EQ(mp_build(0, MP_BASE, sizeof(mpbuf), &used), -EINVAL);
	CHECK_EQ(mp_build(FW_MAX_CPUS + 1, MP_BASE, sizeof(mpbuf), &used), -EINVAL);
	CHECK_EQ(mp_build(FW_MAX_CPUS, MP_BASE, sizeof(mpbuf), &used), 0);
}

/* With PCI: bus 0 is PCI (Linux matches ids to bus numbers), ISA is 1, INTx listed. */
TEST(mptable_pci_bus_and_intx_routes)
{
	struct pci_host_desc pci = { .nr_routes = 2,
		.routes = { { .slot = 1, .pin = 1, .irq = 10 }, { .slot = 2, .pin = 1, .irq = 11 } } };
	struct fw_config fw = { .nr_cpus = 2, .pci = &pci };
	struct mpf_intel *mpf = (struct mpf_intel *)mpbuf;
	struct mpc_table *t;
	size_t used = 0;
	int pci_bus = -1, isa_bus = -1, pci_ints = 0, level_isa = 0;
	u8 *p, *end;

	memset(mpbuf, 0, sizeof(mpbuf));
	CHECK_EQ(mptable__build(mpbuf, MP_BASE, sizeof(mpbuf), &fw, &used), 0);
	t = (struct mpc_table *)(mpbuf + (mpf->physptr - MP_BASE));
	CHECK_EQ(sum(t, t->length), 0);
	p = (u8 *)(t + 1);
	end = (u8 *)t + t->length;
	while (p < end) {
		if (*p == MP_PROCESSOR) {
			p += sizeof(struct mpc_cpu);
			continue;
		}
		if (*p == MP_BUS) {
			struct mpc_bus *b = (struct mpc_bus *)p;

			if (!memcmp(b->bustype, "PCI   ", 6))
				pci_bus = b->busid;
			if (!memcmp(b->bustype, "ISA   ", 6))
				isa_bus = b->busid;
		} else if (*p == MP_INTSRC) {
			struct mpc_intsrc *s = (struct mpc_intsrc *)p;

			if (s->srcbus == pci_bus && pci_bus >= 0) {
				pci_ints++;
				CHECK_EQ(s->irqflag, MP_IRQ_LEVEL_LOW);
				CHECK(s->srcbusirq == (1 << 2) || s->srcbusirq == (2 << 2));
				CHECK_EQ(s->dstirq, s->srcbusirq == 4 ? 10 : 11);
			} else if (s->srcbus == isa_bus && s->irqflag == MP_IRQ_LEVEL_LOW) {
				level_isa++;
			}
		}
		p += 8;
	}
	CHECK_EQ(pci_bus, 0);
	CHECK_EQ(isa_bus, 1);
	CHECK_EQ(pci_ints, 2);
	CHECK_EQ(level_isa, 2);
}
