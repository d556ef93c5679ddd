/*
 * MSI-X for lkvm's PCI devices: the capability, the vector table and the
 * pending-bit array in one BAR, and delivery through KVM.
 *
 * Each vector owns an eventfd. The first time a vector fires, it gets a GSI
 * with an MSI route to its message (kvm/irq.h) and the eventfd is bound to
 * that GSI with KVM_IRQFD; from then on an interrupt is one eventfd write.
 * A changed message is re-routed on the next delivery. If routing fails the
 * message is injected with KVM_SIGNAL_MSI instead.
 */
#include "hw/pci.h"
#include "kvm/irq.h"
#include "kvm/kvm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MSIX_PBA_ALIGN		4096

static u32 msix__roundup_pow2(u32 v)
{
	u32 p = 16;

	while (p < v)
		p <<= 1;
	return p;
}

static u64 msix__addr(const struct pci_msix_vec *v)
{
	return (u64)v->addr_hi << 32 | v->addr_lo;
}

/* Route @v through a GSI and its irqfd; false if KVM would not. */
static bool msix__route(struct pci_msix *m, struct pci_msix_vec *v)
{
	struct kvm *kvm = m->pdev->bus->kvm;
	int ret;

	if (v->gsi < 0) {
		ret = irq__add_msi_route(kvm, msix__addr(v), v->data);
		if (ret < 0)
			return false;
		v->gsi = ret;
		v->dirty = false;
	} else if (v->dirty) {
		if (irq__update_msi_route(kvm, v->gsi, msix__addr(v), v->data))
			return false;
		v->dirty = false;
	}
	if (!v->irqfd && v->fd >= 0) {
		if (irq__irqfd(kvm, v->gsi, v->fd, true))
			return false;
		v->irqfd = true;
	}
	return v->irqfd;
}

/* Send @v's message now. Lock held. */
static void msix__deliver(struct pci_msix *m, struct pci_msix_vec *v)
{
	u64 one = 1;

	v->pending = false;
	if (v->gsi != -2 && msix__route(m, v)) {
		if (write(v->fd, &one, sizeof(one)) == sizeof(one))
			return;
	} else {
		v->gsi = v->gsi < 0 ? -2 : v->gsi;	/* -2: routing failed, don't retry */
	}
	if (irq__signal_msi(m->pdev->bus->kvm, msix__addr(v), v->data) && !m->warned) {
		m->warned = true;
		pr_warn("pci %02x.0 %s: cannot deliver MSI-X interrupts",
			m->pdev->slot, m->pdev->name);
	}
}

static bool msix__vec_masked(struct pci_msix *m, struct pci_msix_vec *v)
{
	return m->masked || (v->ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/* Deliver what became unmasked. Lock held. */
static void msix__flush_pending(struct pci_msix *m)
{
	if (!m->enabled || m->masked)
		return;
	for (u16 i = 0; i < m->nr; i++) {
		struct pci_msix_vec *v = &m->vecs[i];

		if (v->pending && !msix__vec_masked(m, v))
			msix__deliver(m, v);
	}
}

bool pci_msix__notify(struct pci_msix *m, u16 vector)
{
	struct pci_msix_vec *v;

	pthread_mutex_lock(&m->lock);
	if (!m->enabled) {
		pthread_mutex_unlock(&m->lock);
		return false;
	}
	if (vector < m->nr) {
		v = &m->vecs[vector];
		if (msix__vec_masked(m, v))
			v->pending = true;
		else
			msix__deliver(m, v);
	}
	pthread_mutex_unlock(&m->lock);
	return true;
}

bool pci_msix__enabled(struct pci_msix *m)
{
	return __atomic_load_n(&m->enabled, __ATOMIC_ACQUIRE);
}

int pci_msix__fd(struct pci_msix *m, u16 vector)
{
	return vector < m->nr ? m->vecs[vector].fd : -1;
}

void pci_msix__cfg_write(struct pci_msix *m, u32 off, u32 len)
{
	u16 flags = pci__get16(m->pdev, m->cap + PCI_MSIX_FLAGS);

	pthread_mutex_lock(&m->lock);
	__atomic_store_n(&m->enabled, !!(flags & PCI_MSIX_FLAGS_ENABLE), __ATOMIC_RELEASE);
	m->masked = flags & PCI_MSIX_FLAGS_MASKALL;
	msix__flush_pending(m);
	pthread_mutex_unlock(&m->lock);
}

static u32 msix__table_read(struct pci_msix *m, u32 off)
{
	struct pci_msix_vec *v = &m->vecs[off / PCI_MSIX_ENTRY_SIZE];

	switch (off % PCI_MSIX_ENTRY_SIZE) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:	return v->addr_lo;
	case PCI_MSIX_ENTRY_UPPER_ADDR:	return v->addr_hi;
	case PCI_MSIX_ENTRY_DATA:	return v->data;
	default:			return v->ctrl;
	}
}

static void msix__table_write(struct pci_msix *m, u32 off, u32 val)
{
	struct pci_msix_vec *v = &m->vecs[off / PCI_MSIX_ENTRY_SIZE];

	switch (off % PCI_MSIX_ENTRY_SIZE) {
	case PCI_MSIX_ENTRY_LOWER_ADDR:
		v->dirty |= v->addr_lo != (val & ~3u);
		v->addr_lo = val & ~3u;
		break;
	case PCI_MSIX_ENTRY_UPPER_ADDR:
		v->dirty |= v->addr_hi != val;
		v->addr_hi = val;
		break;
	case PCI_MSIX_ENTRY_DATA:
		v->dirty |= v->data != val;
		v->data = val;
		break;
	default:
		v->ctrl = val & PCI_MSIX_ENTRY_CTRL_MASKBIT;
		if (v->pending && !msix__vec_masked(m, v) && m->enabled)
			msix__deliver(m, v);
		break;
	}
	/* A route that failed may work with the new message. */
	if (v->gsi == -2 && v->dirty)
		v->gsi = -1;
}

static u32 msix__pba_read(struct pci_msix *m, u32 off)
{
	u32 v = 0;

	for (u32 bit = 0; bit < 32; bit++) {
		u32 n = off * 8 + bit;

		if (n < m->nr && m->vecs[n].pending)
			v |= 1u << bit;
	}
	return v;
}

/* One aligned dword of the BAR. Lock held. */
static void msix__dword(struct pci_msix *m, u32 off, u32 *val, bool write)
{
	if (off < (u32)m->nr * PCI_MSIX_ENTRY_SIZE) {
		if (write)
			msix__table_write(m, off, *val);
		else
			*val = msix__table_read(m, off);
	} else if (off >= m->pba_off && off - m->pba_off < ALIGN_UP(m->nr, 64) / 8) {
		if (!write)
			*val = msix__pba_read(m, off - m->pba_off);
	} else if (!write) {
		*val = 0;
	}
}

void pci_msix__bar_io(struct pci_dev *pdev, int bar, u64 off, void *data,
		      u32 len, bool write)
{
	struct pci_msix *m = pdev->msix;

	/* The spec allows aligned dword and qword accesses only. */
	if ((len != 4 && len != 8) || (off & (len - 1))) {
		if (!write)
			memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	for (u32 i = 0; i < len; i += 4) {
		u32 v = bus__get((u8 *)data + i, 4);

		msix__dword(m, off + i, &v, write);
		if (!write)
			bus__put((u8 *)data + i, 4, v);
	}
	pthread_mutex_unlock(&m->lock);
}

int pci_msix__init(struct pci_msix *m, struct pci_dev *pdev, u16 nr, int bar)
{
	u8 cap[PCI_CAP_MSIX_SIZEOF] = { PCI_CAP_ID_MSIX };
	u32 table_size = (u32)nr * PCI_MSIX_ENTRY_SIZE;
	int off, ret = 0;

	if (!nr || nr > PCI_MSIX_FLAGS_QSIZE + 1)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->pdev = pdev;
	m->nr = nr;
	m->bar = bar;
	m->pba_off = ALIGN_UP(table_size, MSIX_PBA_ALIGN);
	m->vecs = calloc(nr, sizeof(*m->vecs));
	if (!m->vecs)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	for (u16 i = 0; i < nr; i++) {
		m->vecs[i].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
		m->vecs[i].gsi = -1;
		m->vecs[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}
	cap[PCI_MSIX_FLAGS] = (nr - 1) & 0xff;
	cap[PCI_MSIX_FLAGS + 1] = (nr - 1) >> 8;
	cap[PCI_MSIX_TABLE] = bar;			/* offset 0, BIR */
	cap[PCI_MSIX_PBA] = bar | (m->pba_off & 0xff);
	cap[PCI_MSIX_PBA + 1] = m->pba_off >> 8;
	cap[PCI_MSIX_PBA + 2] = m->pba_off >> 16;
	off = pci__add_cap(pdev, cap, sizeof(cap));
	if (off < 0)
		goto fail;
	m->cap = off;
	pci__set_wmask(pdev, off + PCI_MSIX_FLAGS, 2,
		       PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	ret = pci__set_bar(pdev, bar, msix__roundup_pow2(m->pba_off + MSIX_PBA_ALIGN),
			   pci_msix__bar_io);
	if (ret)
		goto fail;
	pdev->msix = m;
	return 0;
fail:
	pci_msix__exit(m);
	return off < 0 ? off : ret;
}

void pci_msix__exit(struct pci_msix *m)
{
	for (u16 i = 0; m->vecs && i < m->nr; i++) {
		struct pci_msix_vec *v = &m->vecs[i];

		if (v->irqfd)
			irq__irqfd(m->pdev->bus->kvm, v->gsi, v->fd, false);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(m->vecs);
	m->vecs = NULL;
	m->nr = 0;
}
