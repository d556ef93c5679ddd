#include "kvm/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus__init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	pthread_rwlock_init(&bus->lock, NULL);
}

void bus__free(struct bus *bus)
{
	free(bus->devs);
	bus->devs = NULL;
	bus->nr = bus->cap = 0;
}

/* Index of the first device whose end is above @addr. */
static unsigned int bus__lower_bound(struct bus *bus, u64 addr)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		struct bus_dev *d = bus->devs[mid];

		if (d->base + d->len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus__register(struct bus *bus, struct bus_dev *dev)
{
	unsigned int i;
	int ret = 0;

	if (!dev->len || dev->base + dev->len < dev->base)
		return -EINVAL;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus__lower_bound(bus, dev->base);
	if (i < bus->nr && bus->devs[i]->base < dev->base + dev->len) {
		ret = -EBUSY;
		goto out;
	}
	if (bus->nr == bus->cap) {
		unsigned int cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_dev **n = realloc(bus->devs, cap * sizeof(*n));

		if (!n) {
			ret = -ENOMEM;
			goto out;
		}
		bus->devs = n;
		bus->cap = cap;
	}
	memmove(&bus->devs[i + 1], &bus->devs[i], (bus->nr - i) * sizeof(*bus->devs));
	bus->devs[i] = dev;
	bus->nr++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus__unregister(struct bus *bus, struct bus_dev *dev)
{
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	for (unsigned int i = 0; i < bus->nr; i++) {
		if (bus->devs[i] != dev)
			continue;
		memmove(&bus->devs[i], &bus->devs[i + 1],
			(bus->nr - i - 1) * sizeof(*bus->devs));
		bus->nr--;
		ret = 0;
		break;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

bool bus__access(struct bus *bus, struct kvm_cpu *vcpu, u64 addr, void *data,
		 u32 len, bool write)
{
	struct bus_dev *dev = NULL;
	unsigned int i;

	pthread_rwlock_rdlock(&bus->lock);
	i = bus__lower_bound(bus, addr);
	if (i < bus->nr && bus->devs[i]->base <= addr &&
	    addr + len <= bus->devs[i]->base + bus->devs[i]->len)
		dev = bus->devs[i];
	pthread_rwlock_unlock(&bus->lock);

	if (!dev) {
		if (!write)
			memset(data, 0xff, len);
		return false;
	}
	dev->io(dev, vcpu, addr, data, len, write);
	return true;
}
