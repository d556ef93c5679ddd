#ifndef KVM__IRQ_H
#define KVM__IRQ_H

/*
 * The VM's GSI routing table. KVM_SET_GSI_ROUTING replaces the whole table,
 * so one module owns it: the default irqchip routes for the legacy GSIs and
 * every MSI route handed out, re-sent to KVM on each change.
 *
 * The table lives in kvm->irq_routing, created on first use; MSI GSIs are
 * allocated from IRQ_MSI_GSI_BASE up. Without a VM (unit tests) the table
 * is still kept and the ioctls fail with an error the caller may ignore.
 */
#include "kvm/util.h"

struct kvm;

#define IRQ_MSI_GSI_BASE	24	/* above the IOAPIC pins */
#define IRQ_MAX_ROUTES		1024

/* Allocate a GSI that delivers the MSI (@addr, @data); returns it or -errno. */
int irq__add_msi_route(struct kvm *kvm, u64 addr, u32 data);
/* Point an allocated MSI GSI at a new message. */
int irq__update_msi_route(struct kvm *kvm, int gsi, u64 addr, u32 data);
/* Number of routes in the table (the legacy ones included). */
unsigned int irq__nr_routes(struct kvm *kvm);
/* Bind (or unbind) eventfd @fd to @gsi with KVM_IRQFD: a write raises an edge. */
int irq__irqfd(struct kvm *kvm, int gsi, int fd, bool assign);
/* Inject one MSI directly (KVM_SIGNAL_MSI): the path without a route. */
int irq__signal_msi(struct kvm *kvm, u64 addr, u32 data);
void irq__exit(struct kvm *kvm);

#endif
