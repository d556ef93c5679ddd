/*
 * The Intel MP table (spec 1.4): a floating pointer and a configuration
 * table listing the processors, the buses, the I/O APIC and how ISA
 * interrupts reach it. Linux uses it when ACPI is off.
 */
#include "hw/pci.h"
#include "x86/mptable.h"

#include <errno.h>
#include <string.h>

#define MP_SPEC_REV		4
#define MP_LAPIC_VERSION	0x14
#define MP_IOAPIC_VERSION	0x11
/* Family 6, model 15, stepping 1; FPU, TSC, MSR, CX8, APIC. */
#define MP_CPU_SIGNATURE	((6 << 8) | (15 << 4) | 1)
#define MP_CPU_FEATURES		((1 << 0) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 9))

_Static_assert(sizeof(struct mpf_intel) == 16, "MP floating pointer");
_Static_assert(sizeof(struct mpc_table) == 44, "MP configuration table header");
_Static_assert(sizeof(struct mpc_cpu) == 20, "MP processor entry");
_Static_assert(sizeof(struct mpc_bus) == 8, "MP bus entry");
_Static_assert(sizeof(struct mpc_ioapic) == 8, "MP I/O APIC entry");
_Static_assert(sizeof(struct mpc_intsrc) == 8, "MP interrupt entry");

static u8 mp__checksum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

/* Appends entries to the configuration table, counting them. */
struct mp_writer {
	u8	*p;
	u8	*end;
	u16	count;
	bool	full;
};

static void *mp__entry(struct mp_writer *w, u8 type, size_t len)
{
	u8 *e = w->p;

	if (w->full || len > (size_t)(w->end - w->p)) {
		w->full = true;
		return NULL;
	}
	memset(e, 0, len);
	e[0] = type;
	w->p += len;
	w->count++;
	return e;
}

static void mp__cpus(struct mp_writer *w, unsigned int nr_cpus)
{
	for (unsigned int i = 0; i < nr_cpus; i++) {
		struct mpc_cpu *c = mp__entry(w, MP_PROCESSOR, sizeof(*c));

		if (!c)
			return;
		c->apicid = i;
		c->apicver = MP_LAPIC_VERSION;
		c->cpuflag = MPC_CPU_ENABLED | (i == 0 ? MPC_CPU_BSP : 0);
		c->signature = MP_CPU_SIGNATURE;
		c->features = MP_CPU_FEATURES;
	}
}

/*
 * Buses, by id. Linux matches an MP source bus id against the PCI bus
 * *number*, so with PCI the PCI bus is id 0 and ISA moves to id 1.
 */
static void mp__bus(struct mp_writer *w, u8 id, const char *type)
{
	struct mpc_bus *b = mp__entry(w, MP_BUS, sizeof(*b));

	if (!b)
		return;
	b->busid = id;
	memcpy(b->bustype, type, sizeof(b->bustype));
}

static u8 mp__isa_bus(const struct fw_config *fw)
{
	return fw->pci ? MP_PCI_BUS + 1 : MP_ISA_BUS;
}

static void mp__buses(struct mp_writer *w, const struct fw_config *fw)
{
	if (fw->pci)
		mp__bus(w, MP_PCI_BUS, "PCI   ");
	mp__bus(w, mp__isa_bus(fw), "ISA   ");
}

static void mp__ioapic(struct mp_writer *w, u8 id)
{
	struct mpc_ioapic *io = mp__entry(w, MP_IOAPIC, sizeof(*io));

	if (!io)
		return;
	io->apicid = id;
	io->apicver = MP_IOAPIC_VERSION;
	io->flags = MPC_APIC_USABLE;
	io->apicaddr = IOAPIC_ADDR;
}

static void mp__intsrc_flags(struct mp_writer *w, u8 type, u8 irqtype, u16 flags,
			     u8 bus, u8 busirq, u8 apic, u8 pin)
{
	struct mpc_intsrc *s = mp__entry(w, type, sizeof(*s));

	if (!s)
		return;
	s->irqtype = irqtype;
	s->irqflag = flags;
	s->srcbus = bus;
	s->srcbusirq = busirq;
	s->dstapic = apic;
	s->dstirq = pin;
}

/* Polarity and trigger "conform to the bus" (ISA: edge, active high). */
static void mp__intsrc(struct mp_writer *w, u8 type, u8 irqtype, u8 bus,
		       u8 busirq, u8 apic, u8 pin)
{
	mp__intsrc_flags(w, type, irqtype, 0, bus, busirq, apic, pin);
}

static bool mp__is_pci_irq(const struct fw_config *fw, u8 irq)
{
	for (unsigned int i = 0; fw->pci && i < fw->pci->nr_routes; i++)
		if (fw->pci->routes[i].irq == irq)
			return true;
	return false;
}

/*
 * I/O interrupt assignments: ISA IRQ n is I/O APIC pin n (level/low where
 * a PCI device shares it), then each PCI device's INTx: source bus irq
 * slot << 2 | (pin - 1), level-triggered, active low.
 */
static void mp__irqs(struct mp_writer *w, const struct fw_config *fw, u8 ioapic)
{
	for (u8 irq = 0; irq < MP_ISA_IRQS; irq++)
		mp__intsrc_flags(w, MP_INTSRC, MP_INT,
				 mp__is_pci_irq(fw, irq) ? MP_IRQ_LEVEL_LOW : 0,
				 mp__isa_bus(fw), irq, ioapic, irq);
	for (unsigned int i = 0; fw->pci && i < fw->pci->nr_routes; i++) {
		const struct pci_irq_route *r = &fw->pci->routes[i];

		mp__intsrc_flags(w, MP_INTSRC, MP_INT, MP_IRQ_LEVEL_LOW, MP_PCI_BUS,
				 r->slot << 2 | (r->pin - 1), ioapic, r->irq);
	}
}

/* Local interrupts of every local APIC: the 8259 on LINT0, NMI on LINT1. */
static void mp__lints(struct mp_writer *w, const struct fw_config *fw)
{
	mp__intsrc(w, MP_LINTSRC, MP_EXTINT, mp__isa_bus(fw), 0, MP_APIC_ALL, 0);
	mp__intsrc(w, MP_LINTSRC, MP_NMI, mp__isa_bus(fw), 0, MP_APIC_ALL, 1);
}

static int mp__build_config(struct mpc_table *t, size_t size, const struct fw_config *fw)
{
	struct mp_writer w = { .p = (u8 *)(t + 1), .end = (u8 *)t + size };
	unsigned int nr_cpus = fw->nr_cpus;
	size_t len;

	mp__cpus(&w, nr_cpus);
	mp__buses(&w, fw);
	mp__ioapic(&w, nr_cpus);
	mp__irqs(&w, fw, nr_cpus);
	mp__lints(&w, fw);
	len = w.p - (u8 *)t;
	if (w.full || len > 0xffff)
		return -ENOSPC;

	memcpy(t->signature, "PCMP", 4);
	t->length = len;
	t->spec = MP_SPEC_REV;
	memcpy(t->oem, "LKVM    ", sizeof(t->oem));
	memcpy(t->product, "LKVM MPTABLE", sizeof(t->product));
	t->count = w.count;
	t->lapic = LAPIC_ADDR;
	t->checksum = -mp__checksum(t, len);
	return 0;
}

int mptable__build(void *buf, u64 gpa, size_t size, const struct fw_config *fw,
		   size_t *used)
{
	size_t off = ALIGN_UP(gpa, 16) - gpa;
	struct mpf_intel *mpf;
	struct mpc_table *t;
	int ret;

	if (!fw->nr_cpus || fw->nr_cpus > FW_MAX_CPUS)
		return -EINVAL;
	if (gpa + size > (1ull << 32) || gpa + size < gpa)
		return -EINVAL;
	if (off > size || size - off < sizeof(*mpf) + sizeof(*t))
		return -ENOSPC;
	mpf = (struct mpf_intel *)((u8 *)buf + off);
	t = (struct mpc_table *)(mpf + 1);
	memset(mpf, 0, sizeof(*mpf) + sizeof(*t));
	ret = mp__build_config(t, size - off - sizeof(*mpf), fw);
	if (ret)
		return ret;

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = gpa + off + sizeof(*mpf);
	mpf->length = 1;
	mpf->spec = MP_SPEC_REV;
	mpf->checksum = -mp__checksum(mpf, sizeof(*mpf));
	if (used)
		*used = off + sizeof(*mpf) + t->length;
	return 0;
}
