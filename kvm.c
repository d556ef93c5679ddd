/* The VM: /dev/kvm, guest memory, interrupts and the stop request. */
#include "kvm/kvm.h"
#include "kvm/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

void *guest_ptr(struct kvm *kvm, u64 gpa, u64 len)
{
	u64 high = kvm->ram_size - kvm->ram_low;

	if (gpa + len < gpa)
		return NULL;
	if (gpa + len <= kvm->ram_low)
		return kvm->ram + gpa;
	if (gpa >= KVM_4G && gpa - KVM_4G <= high && len <= high - (gpa - KVM_4G))
		return kvm->ram + kvm->ram_low + (gpa - KVM_4G);
	return NULL;
}

int guest_read(struct kvm *kvm, u64 gpa, void *buf, u64 len)
{
	void *p = guest_ptr(kvm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int guest_write(struct kvm *kvm, u64 gpa, const void *buf, u64 len)
{
	void *p = guest_ptr(kvm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

static int kvm__set_region(struct kvm *kvm, u32 slot, u64 gpa, void *host, u64 size)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (u64)(unsigned long)host,
	};

	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	return 0;
}

static int kvm__init_ram(struct kvm *kvm)
{
	int ret;

	kvm->ram_size = kvm->cfg->ram_mib << 20;
	kvm->ram_low = min_t(u64, kvm->ram_size, KVM_32BIT_GAP_START);
	kvm->ram = mmap(NULL, kvm->ram_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (kvm->ram == MAP_FAILED) {
		kvm->ram = NULL;
		pr_err("cannot allocate %llu MiB of guest memory: %s",
		       (unsigned long long)kvm->cfg->ram_mib, strerror(errno));
		return -ENOMEM;
	}
	madvise(kvm->ram, kvm->ram_size, MADV_HUGEPAGE);
	ret = kvm__set_region(kvm, 0, 0, kvm->ram, kvm->ram_low);
	if (!ret && kvm->ram_size > kvm->ram_low)
		ret = kvm__set_region(kvm, 1, KVM_4G, kvm->ram + kvm->ram_low,
				      kvm->ram_size - kvm->ram_low);
	if (ret)
		pr_err("KVM_SET_USER_MEMORY_REGION: %s", strerror(-ret));
	return ret;
}

int kvm__init_early(struct kvm *kvm, struct kvm_config *cfg)
{
	/* The caller zeroes *kvm and may set kvm->term and kvm->loop first. */
	kvm->cfg = cfg;
	kvm->sys_fd = kvm->vm_fd = -1;
	kvm->start_ns = util__now_ns();
	pthread_mutex_init(&kvm->stop_lock, NULL);
	pthread_mutex_init(&kvm->pause_lock, NULL);
	pthread_cond_init(&kvm->pause_cond, NULL);
	bus__init(&kvm->pio, "ioport");
	bus__init(&kvm->mmio, "mmio");
	kvm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return kvm->stop_fd < 0 ? -errno : 0;
}

int kvm__init(struct kvm *kvm)
{
	int ret;

	ret = kvm__arch_read_kernel(kvm);
	if (ret)
		return ret;

	kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0) {
		ret = -errno;
		pr_err("cannot open /dev/kvm: %s%s", strerror(errno),
		       errno == ENOENT ? " (is the kvm module loaded?)" : "");
		return ret;
	}
	if (ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		pr_err("/dev/kvm speaks an unknown KVM API version");
		return -EINVAL;
	}
	kvm->vcpu_mmap_size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size <= 0) {
		pr_err("KVM_GET_VCPU_MMAP_SIZE failed");
		return -EINVAL;
	}
	kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_VM: %s", strerror(errno));
		return ret;
	}
	ret = kvm__arch_init(kvm);
	if (ret)
		return ret;
	ret = kvm__init_ram(kvm);
	if (ret)
		return ret;
	ret = kvm__init_devices(kvm);
	if (ret)
		return ret;
	return kvm__arch_load_kernel(kvm);
}

void kvm__exit(struct kvm *kvm)
{
	kvm__exit_devices(kvm);
	free(kvm->kernel_data);
	kvm->kernel_data = NULL;
	if (kvm->ram)
		munmap(kvm->ram, kvm->ram_size);
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	if (kvm->stop_fd >= 0)
		close(kvm->stop_fd);
	bus__free(&kvm->pio);
	bus__free(&kvm->mmio);
	free(kvm->virtio_mmio);
}

/* Does the guest's command line have the word @word (e.g. "acpi=off")? */
bool kvm__cmdline_has(const struct kvm *kvm, const char *word)
{
	const char *p = kvm->cfg->cmdline;
	size_t n = strlen(word);

	while (p && (p = strstr(p, word))) {
		bool start = p == kvm->cfg->cmdline || p[-1] == ' ';

		if (start && (p[n] == ' ' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

int kvm__append_cmdline(struct kvm *kvm, const char *fmt, ...)
{
	const char *old = kvm->cfg->cmdline ? kvm->cfg->cmdline : "";
	char *add, *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&add, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	n = asprintf(&s, "%s%s%s", old, *old ? " " : "", add);
	free(add);
	if (n < 0)
		return -ENOMEM;
	free(kvm->cfg->cmdline);
	kvm->cfg->cmdline = s;
	return 0;
}

int kvm__irq_line(struct kvm *kvm, int irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (ioctl(kvm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return -errno;
	return 0;
}

void kvm__request_stop(struct kvm *kvm, enum kvm_exit_reason why, int status)
{
	u64 one = 1;

	pthread_mutex_lock(&kvm->stop_lock);
	if (!kvm->stopping) {
		kvm->stopping = true;
		kvm->stop_reason = why;
		kvm->stop_status = status;
		if (write(kvm->stop_fd, &one, sizeof(one)) < 0)
			pr_warn("cannot signal stop: %s", strerror(errno));
	}
	pthread_mutex_unlock(&kvm->stop_lock);
	/* Paused vCPUs must wake up to see the stop. */
	pthread_mutex_lock(&kvm->pause_lock);
	pthread_cond_broadcast(&kvm->pause_cond);
	pthread_mutex_unlock(&kvm->pause_lock);
}

bool kvm__stopping(struct kvm *kvm)
{
	return __atomic_load_n(&kvm->stopping, __ATOMIC_ACQUIRE);
}
