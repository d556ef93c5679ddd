#ifndef KVM__KVM_H
#define KVM__KVM_H

#include <pthread.h>

#include "kvm/bus.h"
#include "kvm/util.h"

struct kvm_cpu;
struct term;
struct pci_bus;
struct irq_routing;
struct mainloop;
struct virtio_dev;

enum console_type {
	CONSOLE_SERIAL,
	CONSOLE_VIRTIO,
};

/* How virtio devices attach to the guest (virtio/transport.c). */
enum virtio_transport {
	TRANSPORT_PCI,		/* virtio-pci modern, MSI-X: the default */
	TRANSPORT_MMIO,		/* virtio-mmio v2, announced on the command line */
};

enum boot_mode {
	BOOT_AUTO,	/* 64-bit entry when the image has one, else legacy */
	BOOT_64,	/* 64-bit boot protocol, straight into long mode */
	BOOT_LEGACY,	/* 16-bit entry through the built-in BIOS */
};

/* A disk image given with -d PATH[,ro][,direct] (virtio/blk.c). */
#define MAX_DISKS	8

struct disk_config {
	const char	*path;
	bool		ro;		/* opened read-only, offered as VIRTIO_BLK_F_RO */
	bool		direct;		/* O_DIRECT: bypass the host page cache */
};

/* A host directory shared with --9p DIR[,TAG][,ro] (virtio/9p.c). */
#define MAX_9P_SHARES	8

struct p9_share_config {
	const char	*path;
	const char	*tag;		/* the guest's mount source */
	bool		ro;		/* every mutating request gets EROFS */
};

/* A NIC given with -n/--network mode=...[,key=value...] (virtio/net.c). */
#define MAX_NETS	8

enum net_mode {
	NET_MODE_USER,		/* the user-mode stack in lkvm: the default */
	NET_MODE_TAP,		/* a host tap device, maybe through vhost-net */
	NET_MODE_NONE,		/* no NIC at all */
};

struct net_config {
	enum net_mode	mode;
	char		tapif[16];	/* tap to attach or create; set once opened */
	const char	*script;	/* run with the new tap's name */
	u8		guest_mac[6];
	u8		host_mac[6];
	u32		guest_ip;	/* network order */
	u32		host_ip;
	bool		vhost;
	int		mq;		/* tap queue pairs; 0: one per vCPU */
	int		tap_fd;		/* opened before the VM starts, or -1 */
};

/* Everything the user asked for; filled by the builtin, read by the VM. */
struct kvm_config {
	const char	*kernel_path;
	const char	*initrd_path;
	const void	*initrd_data;	/* an initrd lkvm built (guest/init/), instead */
	size_t		initrd_size;
	const char	*params;	/* what the user passed with -p */
	char		*cmdline;	/* the defaults plus params: what the guest gets */
	const char	*name;
	u64		ram_mib;
	int		nr_cpus;
	bool		nodefaults;
	bool		debug_boot_time;
	enum console_type console;
	enum boot_mode	boot;
	enum virtio_transport transport;
	struct disk_config disks[MAX_DISKS];
	int		nr_disks;
	struct p9_share_config shares[MAX_9P_SHARES];
	int		nr_shares;
	struct net_config nets[MAX_NETS];
	int		nr_nets;
	bool		no_net;		/* --network mode=none */
	bool		no_seccomp;	/* --no-seccomp: no syscall filters */
	bool		debug_seccomp;	/* --debug-seccomp: report, do not kill */
	bool		framed_stdio;	/* the console carries init-proto.h frames (sandbox) */
};

/* Why the VM stopped. */
enum kvm_exit_reason {
	KVM_STOP_NONE,
	KVM_STOP_POWEROFF,
	KVM_STOP_REBOOT,
	KVM_STOP_EXIT_PORT,
	KVM_STOP_ERROR,
	KVM_STOP_SIGNAL,
	KVM_STOP_FORCED,	/* lkvm stop --force, or the grace period ran out */
	KVM_STOP_PANIC,		/* the guest kernel said so through pvpanic */
};

/* lkvm run's exit status when the VM was stopped from outside by force. */
#define KVM_EXIT_STATUS_FORCED	3

/* The layout of guest physical memory: RAM below the PCI hole, then above 4 GiB. */
#define KVM_32BIT_GAP_START	0xc0000000ull	/* 3 GiB: MMIO window up to 4 GiB */
#define KVM_4G			0x100000000ull

/* A memory-mapped device the firmware tables describe (virtio-mmio). */
struct mmio_dev_desc {
	u64	base;
	u32	len;
	u32	irq;
};

struct kvm {
	struct kvm_config	*cfg;
	int			sys_fd;
	int			vm_fd;
	int			vcpu_mmap_size;

	u8			*ram;		/* host mapping of all guest RAM */
	u64			ram_size;
	u64			ram_low;	/* bytes at guest physical 0 */

	int			nr_cpus;
	struct kvm_cpu		**cpus;

	struct bus		pio;
	struct bus		mmio;
	struct term		*term;
	struct pci_bus		*pci;		/* the PCI host bridge; NULL without PCI */
	struct irq_routing	*irq_routing;	/* GSI routes (MSI), created on first use */
	unsigned int		nr_virtio_mmio;	/* virtio-mmio windows handed out */
	struct mmio_dev_desc	*virtio_mmio;	/* and where they are, for the firmware */
	struct mainloop		*loop;		/* the main thread's event loop */

	/* Where and how the boot CPU starts; set by the boot loader. */
	struct {
		bool	real_mode;
		u64	ip;
		u64	sp;
		u64	si;		/* zero page, 64-bit entry */
		u16	seg;		/* real-mode segment for ds/es/ss */
		u16	cs;
	} boot;

	/* Devices the control socket reports on or drives. */
#define KVM_MAX_VIRTIO_DEVS	32
	struct virtio_dev	*vdevs[KVM_MAX_VIRTIO_DEVS];
	int			nr_vdevs;
	/* Press the power button: <0 if the guest cannot get it. */
	int			(*power_button)(struct kvm *kvm);
	void			*control;	/* the control socket server */
	void			*acpi_pm;	/* ACPI fixed hardware (hw/acpi-pm.c) */

	u64			acpi_rsdp;	/* guest address of the RSDP, 0 if none */
	u8			*kernel_data;	/* the image, read before /dev/kvm */
	size_t			kernel_size;
	u64			start_ns;	/* lkvm start, for the boot-time marker */

	/* Pause: vCPU threads park on pause_cond while paused. */
	pthread_mutex_t		pause_lock;
	pthread_cond_t		pause_cond;
	bool			paused;
	int			nr_parked;

	pthread_mutex_t		stop_lock;
	bool			stopping;
	enum kvm_exit_reason	stop_reason;
	int			stop_status;
	int			stop_fd;	/* eventfd, readable once stopping */
	char			panic_reason[128];	/* from the serial console, if seen */
	char			init_error[160];	/* the embedded init's last "lkvm-init:" line there */
};

/* Guest memory: the one checked accessor. NULL unless [gpa, gpa+len) is RAM. */
void *guest_ptr(struct kvm *kvm, u64 gpa, u64 len);
int guest_read(struct kvm *kvm, u64 gpa, void *buf, u64 len);
int guest_write(struct kvm *kvm, u64 gpa, const void *buf, u64 len);

/* Stop request plumbing and buses: no /dev/kvm yet. */
int kvm__init_early(struct kvm *kvm, struct kvm_config *cfg);
/* Open /dev/kvm, create the VM, memory, devices; load the kernel. */
int kvm__init(struct kvm *kvm);
void kvm__exit(struct kvm *kvm);
int kvm__irq_line(struct kvm *kvm, int irq, int level);
/* Add parameters to the guest's command line (devices, before the kernel loads). */
int kvm__append_cmdline(struct kvm *kvm, const char *fmt, ...) __printf(2, 3);
bool kvm__cmdline_has(const struct kvm *kvm, const char *word);
/* Ask the VM to stop; the first request wins. Safe from any thread. */
void kvm__request_stop(struct kvm *kvm, enum kvm_exit_reason why, int status);
bool kvm__stopping(struct kvm *kvm);

/* Architecture hooks (x86/). */
int kvm__arch_init(struct kvm *kvm);
int kvm__arch_read_kernel(struct kvm *kvm);
int kvm__arch_load_kernel(struct kvm *kvm);

#endif
