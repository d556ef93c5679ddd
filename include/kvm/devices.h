#ifndef KVM__DEVICES_H
#define KVM__DEVICES_H

#include "kvm/util.h"

struct kvm;

/*
 * Devices register themselves: each file declares an init function with
 * device_init(), which puts a descriptor in the "lkvm_devices" section.
 * kvm__init_devices() runs them all in @order, lowest first.
 */
struct device_init {
	const char	*name;
	int		order;
	int		(*init)(struct kvm *kvm);
	void		(*exit)(struct kvm *kvm);
};

enum {
	DEV_ORDER_CORE = 10,	/* buses, host bridge */
	DEV_ORDER_LEGACY = 20,	/* UART, RTC, i8042, ports */
	DEV_ORDER_VIRTIO = 30,	/* virtio devices */
	DEV_ORDER_FIRMWARE = 90,	/* tables that describe all of the above */
};

#define device_init_order(fn, exitfn, ord)					\
	static const struct device_init __dev_##fn				\
	__attribute__((used, section("lkvm_devices"), aligned(8))) = {		\
		.name = #fn, .order = (ord), .init = (fn), .exit = (exitfn),	\
	}

#define device_init(fn, ord)	device_init_order(fn, NULL, ord)

int kvm__init_devices(struct kvm *kvm);
void kvm__exit_devices(struct kvm *kvm);

#endif
