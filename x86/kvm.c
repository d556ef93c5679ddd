/* x86 VM setup: in-kernel irqchip and PIT, and loading the kernel. */
#include "kvm/kvm.h"
#include "x86/bios.h"
#include "x86/boot.h"
#include "x86/layout.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define TSS_ADDR		0xfffbd000
#define IDENTITY_MAP_ADDR	0xfffbc000

static int kvm__check_cap(struct kvm *kvm, int cap, const char *what)
{
	if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, cap) > 0)
		return 0;
	pr_err("this KVM lacks %s", what);
	return -ENOSYS;
}

static int kvm__ioctl_err(const char *what)
{
	int err = errno;

	pr_err("%s: %s", what, strerror(err));
	return -err;
}

int kvm__arch_init(struct kvm *kvm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	u64 identity = IDENTITY_MAP_ADDR;

	if (kvm__check_cap(kvm, KVM_CAP_IRQCHIP, "an in-kernel irqchip") ||
	    kvm__check_cap(kvm, KVM_CAP_PIT2, "an in-kernel PIT") ||
	    kvm__check_cap(kvm, KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"))
		return -ENOSYS;
	if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, TSS_ADDR) < 0)
		return kvm__ioctl_err("KVM_SET_TSS_ADDR");
	if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
		return kvm__ioctl_err("KVM_SET_IDENTITY_MAP_ADDR");
	/* The irqchip must exist before any vCPU. */
	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP) < 0)
		return kvm__ioctl_err("KVM_CREATE_IRQCHIP");
	if (ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return kvm__ioctl_err("KVM_CREATE_PIT2");
	return 0;
}

/* Read a whole file; a one-line error names @what and @path. */
static int read_file(const char *what, const char *path, u8 **data, size_t *size)
{
	struct stat st;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("cannot open %s '%s': %s", what, path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		pr_err("%s '%s' is not a regular file", what, path);
		close(fd);
		return ret;
	}
	*data = malloc(st.st_size ? st.st_size : 1);
	if (!*data) {
		close(fd);
		return -ENOMEM;
	}
	n = read_in_full(fd, *data, st.st_size);
	close(fd);
	if (n != st.st_size) {
		pr_err("cannot read %s '%s'", what, path);
		free(*data);
		return -EIO;
	}
	*size = st.st_size;
	return 0;
}

/* Where an initrd of @size bytes goes: as high as the kernel allows. */
static int kvm__place_initrd(struct kvm *kvm, const struct bzimage *bz, u64 kernel_end,
			     u64 size, const char *what, struct boot_info *info)
{
	u64 ceiling = kvm->ram_low;

	if (bz->hdr.initrd_addr_max && bz->hdr.initrd_addr_max < ceiling - 1)
		ceiling = (u64)bz->hdr.initrd_addr_max + 1;
	if (x86_boot__place_initrd(kernel_end, ceiling, size, &info->initrd_addr)) {
		pr_err("%s (%llu MiB) does not fit in %llu MiB of guest memory; use a larger -m",
		       what, (unsigned long long)size >> 20,
		       (unsigned long long)kvm->cfg->ram_mib);
		return -ENOMEM;
	}
	info->initrd_size = size;
	return 0;
}

/* An initrd lkvm built (the embedded init's): copied from memory. */
static int kvm__load_initrd_data(struct kvm *kvm, const struct bzimage *bz, u64 kernel_end,
				 struct boot_info *info)
{
	const struct kvm_config *c = kvm->cfg;
	int ret;

	ret = kvm__place_initrd(kvm, bz, kernel_end, c->initrd_size, "the built-in initramfs", info);
	if (!ret)
		ret = guest_write(kvm, info->initrd_addr, c->initrd_data, c->initrd_size);
	return ret;
}

/* Copy the initrd into guest memory; returns its placement in @info. */
static int kvm__load_initrd(struct kvm *kvm, const struct bzimage *bz, u64 kernel_end,
			    struct boot_info *info)
{
	const char *path = kvm->cfg->initrd_path;
	struct stat st;
	char what[PATH_MAX + 16];
	int fd, ret;
	void *dst;

	if (kvm->cfg->initrd_data)
		return kvm__load_initrd_data(kvm, bz, kernel_end, info);
	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("cannot open initrd '%s': %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pr_err("initrd '%s' is not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "initrd '%s'", path);
	ret = kvm__place_initrd(kvm, bz, kernel_end, st.st_size, what, info);
	if (ret) {
		close(fd);
		return ret;
	}
	dst = guest_ptr(kvm, info->initrd_addr, st.st_size);
	ret = dst && read_in_full(fd, dst, st.st_size) == st.st_size ? 0 : -EIO;
	if (ret)
		pr_err("cannot read initrd '%s'", path);
	close(fd);
	return ret;
}

static int kvm__load_cmdline(struct kvm *kvm, const struct bzimage *bz, struct boot_info *info)
{
	const char *cmdline = kvm->cfg->cmdline ? kvm->cfg->cmdline : "";
	size_t len = strlen(cmdline);
	size_t max = min_t(size_t, bz->hdr.cmdline_size, BOOT_CMDLINE_MAX - 1);

	if (len > max) {
		pr_err("kernel command line is %zu bytes; this kernel takes at most %zu", len, max);
		return -E2BIG;
	}
	info->cmdline_addr = BOOT_CMDLINE_ADDR;
	info->cmdline_len = len;
	return guest_write(kvm, BOOT_CMDLINE_ADDR, cmdline, len + 1);
}

/* 64-bit boot: zero page at BOOT_ZERO_PAGE_ADDR, enter startup_64 in long mode. */
static int kvm__boot_64(struct kvm *kvm, const struct bzimage *bz, struct boot_info *info)
{
	struct boot_params *bp = guest_ptr(kvm, BOOT_ZERO_PAGE_ADDR, sizeof(*bp));

	if (!bp)
		return -EFAULT;
	x86_boot__fill_zero_page(bp, bz, info);
	kvm->boot.real_mode = false;
	kvm->boot.ip = KERNEL_LOAD_ADDR + 0x200;
	kvm->boot.si = BOOT_ZERO_PAGE_ADDR;
	kvm->boot.sp = BOOT_STACK_TOP;
	return 0;
}

/* Legacy boot: real-mode setup code at 0x10000, entered at 0x1020:0 with the BIOS. */
static int kvm__boot_legacy(struct kvm *kvm, const struct bzimage *bz,
			    struct boot_info *info)
{
	u8 *setup = guest_ptr(kvm, BOOT_REALMODE_ADDR, bz->setup_size);
	int ret;

	if (!setup)
		return -EFAULT;
	memcpy(setup, bz->data, bz->setup_size);
	x86_boot__fill_setup_header((struct setup_header *)(setup + BZIMAGE_HDR_OFFSET), info);
	ret = bios__setup(kvm, info->e820);
	if (ret)
		return ret;
	kvm->boot.real_mode = true;
	kvm->boot.seg = BOOT_REALMODE_ADDR >> 4;
	kvm->boot.cs = kvm->boot.seg + 0x20;
	kvm->boot.ip = 0;
	kvm->boot.sp = BOOT_REALMODE_HEAP_END;
	return 0;
}

static int kvm__load_bzimage(struct kvm *kvm, const struct bzimage *bz)
{
	struct e820_table e820;
	struct boot_info info = { .e820 = &e820, .acpi_rsdp = kvm->acpi_rsdp };
	u64 kernel_end = KERNEL_LOAD_ADDR + bzimage__footprint(bz);
	enum boot_mode mode = kvm->cfg->boot;
	void *dst;
	int ret;

	if (kernel_end > kvm->ram_low) {
		pr_err("kernel '%s' needs %llu MiB to boot; guest memory is %llu MiB",
		       kvm->cfg->kernel_path, (unsigned long long)(kernel_end >> 20) + 1,
		       (unsigned long long)kvm->cfg->ram_mib);
		return -ENOMEM;
	}
	if (mode == BOOT_64 && !bz->has_64bit_entry) {
		pr_err("kernel '%s' has no 64-bit entry point (boot protocol %u.%02u); use --boot=legacy",
		       kvm->cfg->kernel_path, bz->hdr.version >> 8, bz->hdr.version & 0xff);
		return -ENOEXEC;
	}
	if (mode == BOOT_AUTO)
		mode = bz->has_64bit_entry ? BOOT_64 : BOOT_LEGACY;

	dst = guest_ptr(kvm, KERNEL_LOAD_ADDR, bz->pm_size);
	if (!dst)
		return -EFAULT;
	memcpy(dst, bz->pm, bz->pm_size);
	ret = e820__build(&e820, kvm->ram_size, kvm->ram_low);
	if (!ret)
		ret = kvm__load_initrd(kvm, bz, kernel_end, &info);
	if (!ret)
		ret = kvm__load_cmdline(kvm, bz, &info);
	if (ret)
		return ret;
	return mode == BOOT_64 ? kvm__boot_64(kvm, bz, &info) : kvm__boot_legacy(kvm, bz, &info);
}

/*
 * Read and check the kernel (and that the initrd is a readable file) before
 * /dev/kvm is touched, so bad input is reported as such on any machine.
 */
int kvm__arch_read_kernel(struct kvm *kvm)
{
	const char *initrd = kvm->cfg->initrd_path;
	struct bzimage bz;
	struct stat st;
	int ret;

	ret = read_file("kernel", kvm->cfg->kernel_path, &kvm->kernel_data, &kvm->kernel_size);
	if (ret)
		return ret;
	ret = bzimage__parse(&bz, kvm->kernel_data, kvm->kernel_size, kvm->cfg->kernel_path);
	if (ret)
		return ret;
	if (!initrd)
		return 0;
	if (stat(initrd, &st) < 0) {
		pr_err("cannot open initrd '%s': %s", initrd, strerror(errno));
		return -ENOENT;
	}
	if (!S_ISREG(st.st_mode) || access(initrd, R_OK)) {
		pr_err("initrd '%s' is not a readable regular file", initrd);
		return -EINVAL;
	}
	if ((u64)st.st_size >= kvm->cfg->ram_mib << 20) {
		pr_err("initrd '%s' (%llu MiB) is larger than guest memory (%llu MiB); use a larger -m",
		       initrd, (unsigned long long)st.st_size >> 20,
		       (unsigned long long)kvm->cfg->ram_mib);
		return -EFBIG;
	}
	return 0;
}

int kvm__arch_load_kernel(struct kvm *kvm)
{
	struct bzimage bz;
	int ret;

	ret = bzimage__parse(&bz, kvm->kernel_data, kvm->kernel_size, kvm->cfg->kernel_path);
	if (!ret)
		ret = kvm__load_bzimage(kvm, &bz);
	free(kvm->kernel_data);
	kvm->kernel_data = NULL;
	return ret;
}
