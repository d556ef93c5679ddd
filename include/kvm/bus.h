#ifndef KVM__BUS_H
#define KVM__BUS_H

#include <pthread.h>

#include "kvm/util.h"

struct kvm_cpu;
struct bus_dev;

/*
 * An access handler. @addr is the absolute bus address, @data holds @len
 * bytes (1, 2, 4 or 8) in guest byte order. Reads fill @data.
 */
typedef void (*bus_io_fn)(struct bus_dev *dev, struct kvm_cpu *vcpu, u64 addr,
			  void *data, u32 len, bool write);

struct bus_dev {
	const char	*name;
	u64		base;
	u64		len;
	bus_io_fn	io;
	void		*priv;
};

/* An address space (port I/O or MMIO): a sorted array of non-overlapping devices. */
struct bus {
	const char		*name;
	pthread_rwlock_t	lock;
	struct bus_dev		**devs;
	unsigned int		nr;
	unsigned int		cap;
};

void bus__init(struct bus *bus, const char *name);
void bus__free(struct bus *bus);
int bus__register(struct bus *bus, struct bus_dev *dev);
int bus__unregister(struct bus *bus, struct bus_dev *dev);
/* Dispatch an access; returns false (and fills reads with 0xff) if no device claims it. */
bool bus__access(struct bus *bus, struct kvm_cpu *vcpu, u64 addr, void *data,
		 u32 len, bool write);

/* Little-endian helpers for handlers that see 1/2/4/8 byte accesses. */
static inline u64 bus__get(const void *data, u32 len)
{
	const u8 *p = data;
	u64 v = 0;

	for (u32 i = 0; i < len && i < 8; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

static inline void bus__put(void *data, u32 len, u64 v)
{
	u8 *p = data;

	for (u32 i = 0; i < len && i < 8; i++)
		p[i] = v >> (8 * i);
}

#endif
