/*
 * Ports for tests and measurements:
 *  - PORT_EXIT (isa-debug-exit style): a write of N stops the VM and lkvm
 *    exits with status N (the low 8 bits);
 *  - PORT_BOOT_MARKER: a write logs the time since lkvm started, once per
 *    value written, when --debug-boot-time is on (Firecracker has the same).
 */
#include "kvm/devices.h"
#include "kvm/kvm.h"
#include "x86/layout.h"

#include <stdlib.h>

struct debug_ports {
	struct bus_dev	exit_dev;
	struct bus_dev	marker_dev;
	struct kvm	*kvm;
};

static void debug_exit__io(struct bus_dev *dev, struct kvm_cpu *vcpu, u64 addr,
			   void *data, u32 len, bool write)
{
	struct debug_ports *d = container_of(dev, struct debug_ports, exit_dev);

	if (!write) {
		bus__put(data, len, 0);
		return;
	}
	kvm__request_stop(d->kvm, KVM_STOP_EXIT_PORT, bus__get(data, len) & 0xff);
}

static void boot_marker__io(struct bus_dev *dev, struct kvm_cpu *vcpu, u64 addr,
			    void *data, u32 len, bool write)
{
	struct debug_ports *d = container_of(dev, struct debug_ports, marker_dev);
	u64 ns;

	if (!write) {
		bus__put(data, len, 0);
		return;
	}
	if (!d->kvm->cfg->debug_boot_time)
		return;
	ns = util__now_ns() - d->kvm->start_ns;
	pr_info("boot marker %llu: %llu.%03llu ms since lkvm started",
		(unsigned long long)bus__get(data, len),
		(unsigned long long)(ns / 1000000), (unsigned long long)(ns / 1000 % 1000));
}

static int debug_ports__init(struct kvm *kvm)
{
	struct debug_ports *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -1;
	d->kvm = kvm;
	d->exit_dev = (struct bus_dev){
		.name = "debug-exit", .base = PORT_EXIT, .len = 1, .io = debug_exit__io,
	};
	d->marker_dev = (struct bus_dev){
		.name = "boot-marker", .base = PORT_BOOT_MARKER, .len = 1, .io = boot_marker__io,
	};
	ret = bus__register(&kvm->pio, &d->exit_dev);
	return ret ? ret : bus__register(&kvm->pio, &d->marker_dev);
}
device_init(debug_ports__init, DEV_ORDER_LEGACY);
