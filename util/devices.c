/* Runs the self-registered device initialisers in order. */
#include "kvm/devices.h"
#include "kvm/kvm.h"

#include <stdlib.h>
#include <string.h>

extern const struct device_init __start_lkvm_devices[] __attribute__((weak));
extern const struct device_init __stop_lkvm_devices[] __attribute__((weak));

static int device_init__cmp(const void *a, const void *b)
{
	const struct device_init *x = *(const struct device_init * const *)a;
	const struct device_init *y = *(const struct device_init * const *)b;

	if (x->order != y->order)
		return x->order - y->order;
	return strcmp(x->name, y->name);
}

static size_t devices__sorted(const struct device_init ***out)
{
	size_t n = __stop_lkvm_devices - __start_lkvm_devices;
	const struct device_init **v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++)
		v[i] = &__start_lkvm_devices[i];
	qsort(v, n, sizeof(*v), device_init__cmp);
	*out = v;
	return n;
}

int kvm__init_devices(struct kvm *kvm)
{
	const struct device_init **v = NULL;
	size_t n = devices__sorted(&v);
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		ret = v[i]->init(kvm);
		if (ret)
			pr_err("device %s failed to initialise", v[i]->name);
	}
	free(v);
	return ret;
}

void kvm__exit_devices(struct kvm *kvm)
{
	const struct device_init **v = NULL;
	size_t n = devices__sorted(&v);

	for (size_t i = n; i-- > 0;)
		if (v[i]->exit)
			v[i]->exit(kvm);
	free(v);
}
