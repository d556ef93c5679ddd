#ifndef HW__PCI_H
#define HW__PCI_H

/*
 * PCI bus 0 behind a host bridge with configuration mechanism #1
 * (0xcf8 address, 0xcfc data). Devices bring a 256-byte configuration
 * space, up to six 32-bit memory BARs that lkvm assigns from the PCI MMIO
 * window (the guest may move them), capabilities and an INTx pin routed to
 * a level-triggered IOAPIC/PIC input.
 *
 * Firmware tables describe the bus with pci__describe(): ACPI needs a
 * PNP0A03 device (\_SB.PCI0) with the windows and a _PRT built from it.
 */
#include <linux/pci.h>		/* pci_regs.h, PCI_SLOT() */
#include <pthread.h>

#include "kvm/bus.h"
#include "kvm/util.h"

struct kvm;
struct pci_dev;
struct pci_msix;

#define PCI_MAX_SLOTS		32
#define PCI_CFG_SIZE		256

/* A BAR access: @off is relative to the BAR, @data holds @len bytes. */
typedef void (*pci_bar_fn)(struct pci_dev *pdev, int bar, u64 off, void *data,
			   u32 len, bool write);

struct pci_bar {
	u32		size;		/* power of two >= 16; 0: unimplemented */
	pci_bar_fn	io;
	struct bus_dev	dev;		/* its window on kvm->mmio while decoded */
	bool		mapped;
	struct pci_dev	*pdev;
	int		index;
};

struct pci_dev {
	const char	*name;
	struct pci_bus	*bus;
	u8		slot;
	u8		irq;		/* INTx GSI (level), 0 without a pin */
	u8		cfg[PCI_CFG_SIZE];
	u8		wmask[PCI_CFG_SIZE];	/* bits the guest may write */
	u8		last_cap;		/* offset of the last capability, 0 if none */
	u8		cap_end;		/* where the next capability goes */
	struct pci_bar	bars[PCI_STD_NUM_BARS];
	struct pci_msix	*msix;
	void		*priv;
	/*
	 * Optional hooks, called with the bus lock held:
	 * cfg_read before the guest reads [off, off + len), cfg_write after
	 * it wrote there, bar_map when a BAR starts (@map) or stops decoding.
	 */
	void		(*cfg_read)(struct pci_dev *pdev, u32 off, u32 len);
	void		(*cfg_write)(struct pci_dev *pdev, u32 off, u32 len);
	void		(*bar_map)(struct pci_dev *pdev, int bar, u64 addr, bool map);
};

/* The host bridge and its devices: kvm->pci. */
struct pci_bus {
	struct kvm	*kvm;
	pthread_mutex_t	lock;		/* configuration space, BAR mappings */
	struct bus_dev	cfg_dev;	/* 0xcf8 - 0xcff */
	u32		cfg_addr;	/* CONFIG_ADDRESS */
	u8		rst_cnt;	/* 0xcf9 reset control */
	u64		mmio_next;	/* BAR allocator */
	struct pci_dev	host;		/* 00.0 */
	struct pci_dev	*devs[PCI_MAX_SLOTS];
};

/* One INTx route: device @slot's pin @pin (1 = INTA) drives GSI @irq. */
struct pci_irq_route {
	u8	slot;
	u8	pin;
	u8	irq;
};

/* What firmware tables must say about the host bridge. */
struct pci_host_desc {
	u16			cfg_port;	/* 0xcf8, PCI_CFG_PORT_SIZE ports */
	u16			cfg_port_len;
	u8			bus_first, bus_last;
	/* I/O windows forwarded to the bus: all ports but the config ones. */
	u16			io_base[2], io_len[2];
	u64			mmio_base;	/* BAR window: 32-bit, non-prefetchable */
	u64			mmio_size;
	unsigned int		nr_routes;
	struct pci_irq_route	routes[PCI_MAX_SLOTS];
};

/* Create kvm->pci with the host bridge on 0xcf8 (device_init does this for PCI). */
int pci__init(struct kvm *kvm);
void pci__exit(struct kvm *kvm);

/* Fill a type 0 header: IDs, class (base << 16 | sub << 8 | prog-if), revision. */
void pci__dev_init(struct pci_dev *pdev, const char *name, u16 vendor, u16 device,
		   u32 class, u8 revision);
void pci__set_subsystem(struct pci_dev *pdev, u16 vendor, u16 device);
/* Let the guest write the bits in @mask of the @len bytes at @off. */
void pci__set_wmask(struct pci_dev *pdev, u32 off, u32 len, u32 mask);
/* Declare memory BAR @bar of @size bytes (a power of two, >= 16). */
int pci__set_bar(struct pci_dev *pdev, int bar, u32 size, pci_bar_fn io);
/* Append capability @cap (@len bytes, id first): returns its offset or -errno. */
int pci__add_cap(struct pci_dev *pdev, const void *cap, u8 len);
/* Give the device an INTx pin (INTA); pci__register picks its GSI. */
void pci__set_intx(struct pci_dev *pdev);
/* Put @pdev in a free slot, assign its BARs and IRQ. */
int pci__register(struct kvm *kvm, struct pci_dev *pdev);
/* Take @pdev off the bus (its BARs stop decoding). */
void pci__unregister(struct pci_dev *pdev);

/* Where BAR @bar is programmed now (without the flag bits). */
u64 pci__bar_addr(struct pci_dev *pdev, int bar);
bool pci__mem_enabled(struct pci_dev *pdev);
bool pci__intx_disabled(struct pci_dev *pdev);

/* For ACPI and the MP table; -ENODEV when the VM has no PCI. */
int pci__describe(struct kvm *kvm, struct pci_host_desc *desc);
/* Fill @routes (up to @max) with every device's INTx route; returns the count. */
int pci__irq_routes(struct kvm *kvm, struct pci_irq_route *routes, int max);

/* Configuration space access as through mechanism #1 (also for tests). */
u32 pci__cfg_read(struct pci_bus *bus, u8 devfn, u32 off, u32 len);
void pci__cfg_write(struct pci_bus *bus, u8 devfn, u32 off, u32 len, u32 val);

/* Little-endian config space field helpers. */
static inline u16 pci__get16(const struct pci_dev *pdev, u32 off)
{
	return pdev->cfg[off] | pdev->cfg[off + 1] << 8;
}

static inline u32 pci__get32(const struct pci_dev *pdev, u32 off)
{
	return pci__get16(pdev, off) | (u32)pci__get16(pdev, off + 2) << 16;
}

static inline void pci__put16(struct pci_dev *pdev, u32 off, u16 v)
{
	pdev->cfg[off] = v;
	pdev->cfg[off + 1] = v >> 8;
}

static inline void pci__put32(struct pci_dev *pdev, u32 off, u32 v)
{
	pci__put16(pdev, off, v);
	pci__put16(pdev, off + 2, v >> 16);
}

/* ---- MSI-X (hw/pci-msix.c) ---- */

/*
 * An MSI-X capability whose table and PBA fill BAR @bar: the table at 0,
 * the PBA at the next 4 KiB boundary. Vectors are routed through KVM's GSI
 * routing with an irqfd each; a masked vector's message is kept pending in
 * the PBA and delivered when the guest unmasks it.
 */
struct pci_msix_vec {
	u32	addr_lo, addr_hi, data, ctrl;	/* the table entry */
	int	gsi;		/* -1 until first delivered */
	int	fd;		/* eventfd, bound to gsi with KVM_IRQFD once routed */
	bool	irqfd;		/* fd is bound */
	bool	dirty;		/* the entry changed since it was routed */
	bool	pending;	/* PBA bit */
};

struct pci_msix {
	struct pci_dev		*pdev;
	pthread_mutex_t		lock;
	u8			cap;		/* offset in configuration space */
	int			bar;
	u16			nr;
	u32			pba_off;
	bool			enabled;	/* cached message control */
	bool			masked;		/* function mask */
	bool			warned;
	struct pci_msix_vec	*vecs;
};

int pci_msix__init(struct pci_msix *m, struct pci_dev *pdev, u16 nr, int bar);
void pci_msix__exit(struct pci_msix *m);
bool pci_msix__enabled(struct pci_msix *m);
/* Raise @vector: delivered, or pending while masked. False if MSI-X is off. */
bool pci_msix__notify(struct pci_msix *m, u16 vector);
/* The eventfd behind @vector (what vq->call_fd reports), -1 if none. */
int pci_msix__fd(struct pci_msix *m, u16 vector);
/* The table/PBA BAR handler (pci__set_bar is done by pci_msix__init). */
void pci_msix__bar_io(struct pci_dev *pdev, int bar, u64 off, void *data,
		      u32 len, bool write);
/* The bus calls this after the guest wrote the capability. */
void pci_msix__cfg_write(struct pci_msix *m, u32 off, u32 len);

#endif
