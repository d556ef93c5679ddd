/*
 * GSI routing on x86: the in-kernel PIC and IOAPIC routes KVM installs by
 * default (GSIs 0-15 on both chips, 16-23 on the IOAPIC only), plus the MSI
 * routes of MSI-X vectors. KVM_SET_GSI_ROUTING replaces everything, so the
 * defaults are always part of what is sent.
 */
#include "kvm/devices.h"
#include "kvm/irq.h"
#include "kvm/kvm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define IRQ_NR_IOAPIC_PINS	24
#define IRQ_NR_PIC_PINS		16

struct irq_routing {
	pthread_mutex_t		lock;
	int			next_gsi;
	struct kvm_irq_routing	*table;		/* header + IRQ_MAX_ROUTES entries */
};

static void irq__add_chip_route(struct kvm_irq_routing *t, u32 gsi, u32 chip, u32 pin)
{
	struct kvm_irq_routing_entry *e = &t->entries[t->nr++];

	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

/* What KVM_CREATE_IRQCHIP sets up on x86 (arch/x86/kvm/irq_comm.c). */
static void irq__add_defaults(struct kvm_irq_routing *t)
{
	for (u32 gsi = 0; gsi < IRQ_NR_IOAPIC_PINS; gsi++) {
		irq__add_chip_route(t, gsi, KVM_IRQCHIP_IOAPIC, gsi);
		if (gsi < IRQ_NR_PIC_PINS)
			irq__add_chip_route(t, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
					    KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
	}
}

static struct irq_routing *irq__create(void)
{
	struct irq_routing *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->table = calloc(1, sizeof(*r->table) +
			  IRQ_MAX_ROUTES * sizeof(struct kvm_irq_routing_entry));
	if (!r->table) {
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->next_gsi = IRQ_MSI_GSI_BASE;
	irq__add_defaults(r->table);
	return r;
}

/* The VM's table, created on first use; safe against a racing first use. */
static struct irq_routing *irq__get(struct kvm *kvm)
{
	struct irq_routing *r = __atomic_load_n(&kvm->irq_routing, __ATOMIC_ACQUIRE);
	struct irq_routing *none = NULL;

	if (r)
		return r;
	r = irq__create();
	if (!r)
		return NULL;
	if (!__atomic_compare_exchange_n(&kvm->irq_routing, &none, r, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		free(r->table);
		free(r);
		return none;
	}
	return r;
}

static int irq__commit(struct kvm *kvm, struct irq_routing *r)
{
	if (ioctl(kvm->vm_fd, KVM_SET_GSI_ROUTING, r->table) < 0)
		return -errno;
	return 0;
}

static void irq__fill_msi(struct kvm_irq_routing_entry *e, int gsi, u64 addr, u32 data)
{
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = (u32)addr;
	e->u.msi.address_hi = addr >> 32;
	e->u.msi.data = data;
}

int irq__add_msi_route(struct kvm *kvm, u64 addr, u32 data)
{
	struct irq_routing *r = irq__get(kvm);
	int gsi, ret;

	if (!r)
		return -ENOMEM;
	pthread_mutex_lock(&r->lock);
	if (r->table->nr >= IRQ_MAX_ROUTES) {
		pthread_mutex_unlock(&r->lock);
		return -ENOSPC;
	}
	gsi = r->next_gsi++;
	irq__fill_msi(&r->table->entries[r->table->nr++], gsi, addr, data);
	ret = irq__commit(kvm, r);
	pthread_mutex_unlock(&r->lock);
	/* The GSI stays allocated: a later update may still succeed. */
	return ret ? ret : gsi;
}

int irq__update_msi_route(struct kvm *kvm, int gsi, u64 addr, u32 data)
{
	struct irq_routing *r = irq__get(kvm);
	int ret = -ENOENT;

	if (!r)
		return -ENOMEM;
	pthread_mutex_lock(&r->lock);
	for (u32 i = 0; i < r->table->nr; i++) {
		struct kvm_irq_routing_entry *e = &r->table->entries[i];

		if (e->gsi != (u32)gsi || e->type != KVM_IRQ_ROUTING_MSI)
			continue;
		irq__fill_msi(e, gsi, addr, data);
		ret = irq__commit(kvm, r);
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

unsigned int irq__nr_routes(struct kvm *kvm)
{
	struct irq_routing *r = irq__get(kvm);
	unsigned int n;

	if (!r)
		return 0;
	pthread_mutex_lock(&r->lock);
	n = r->table->nr;
	pthread_mutex_unlock(&r->lock);
	return n;
}

int irq__irqfd(struct kvm *kvm, int gsi, int fd, bool assign)
{
	struct kvm_irqfd f = {
		.fd = fd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(kvm->vm_fd, KVM_IRQFD, &f) < 0)
		return -errno;
	return 0;
}

int irq__signal_msi(struct kvm *kvm, u64 addr, u32 data)
{
	struct kvm_msi msi = {
		.address_lo = (u32)addr,
		.address_hi = addr >> 32,
		.data = data,
	};

	/* 0: the guest blocked it; >0: delivered. */
	if (ioctl(kvm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		return -errno;
	return 0;
}

void irq__exit(struct kvm *kvm)
{
	struct irq_routing *r = kvm->irq_routing;

	if (!r)
		return;
	kvm->irq_routing = NULL;
	pthread_mutex_destroy(&r->lock);
	free(r->table);
	free(r);
}

static int irq__dev_init(struct kvm *kvm)
{
	return irq__get(kvm) ? 0 : -ENOMEM;
}
device_init_order(irq__dev_init, irq__exit, DEV_ORDER_CORE);
