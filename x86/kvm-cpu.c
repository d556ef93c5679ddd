/* x86 vCPU state: CPUID, MSRs, LAPIC wiring and the boot CPU's entry state. */
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"
#include "x86/layout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define MAX_CPUID_ENTRIES	256

#define CR0_PE		(1u << 0)
#define CR0_MP		(1u << 1)
#define CR0_ET		(1u << 4)
#define CR0_NE		(1u << 5)
#define CR0_WP		(1u << 16)
#define CR0_PG		(1u << 31)
#define CR4_PAE		(1u << 5)
#define EFER_LME	(1u << 8)
#define EFER_LMA	(1u << 10)

#define PTE_PRESENT	(1ull << 0)
#define PTE_RW		(1ull << 1)
#define PTE_PS		(1ull << 7)

#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_IA32_TSC		0x10

#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

static struct kvm_cpuid2 *kvm_cpu__supported_cpuid(struct kvm *kvm)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAX_CPUID_ENTRIES * sizeof(c->entries[0]));

	if (!c)
		return NULL;
	c->nent = MAX_CPUID_ENTRIES;
	if (ioctl(kvm->sys_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		pr_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(c);
		return NULL;
	}
	return c;
}

/* Bits needed to number @n things. */
static u32 order_base_2(u32 n)
{
	u32 b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

/* Make what the guest sees consistent with this vCPU and the VM's CPU count. */
static void kvm_cpu__filter_cpuid(struct kvm_cpu *vcpu, struct kvm_cpuid2 *c)
{
	u32 n = vcpu->kvm->nr_cpus;
	/*
	 * KVM's in-kernel LAPIC emulates the TSC-deadline timer but
	 * KVM_GET_SUPPORTED_CPUID leaves the bit to the VMM. With it the guest
	 * skips calibrating the LAPIC timer against the PIT (~100 ms of boot).
	 */
	bool tsc_deadline = ioctl(vcpu->kvm->sys_fd, KVM_CHECK_EXTENSION,
				  KVM_CAP_TSC_DEADLINE_TIMER) > 0;

	for (u32 i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx &= 0x0000ffff;
			e->ebx |= (u32)vcpu->id << 24 | (n & 0xff) << 16;
			if (n > 1)
				e->edx |= 1u << 28;	/* HTT: several logical CPUs */
			/* "Running under a hypervisor": guests then look for KVM's leaves. */
			e->ecx |= 1u << 31;
			if (tsc_deadline)
				e->ecx |= 1u << 24;
			break;
		case 4:
			/* Cores per package, in the cache leaves Intel guests read. */
			e->eax &= 0x03ffffff;
			e->eax |= (n - 1) << 26;
			break;
		case 6:
			/* No thermal or power management to expose. */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xb:
		case 0x1f:
			/* One thread per core, all cores in one package. */
			e->edx = vcpu->id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = 1u << 8;
			} else if (e->index == 1) {
				e->eax = order_base_2(n);
				e->ebx = n;
				e->ecx = 2u << 8 | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		default:
			break;
		}
	}
}

static int kvm_cpu__setup_cpuid(struct kvm_cpu *vcpu)
{
	struct kvm_cpuid2 *c = kvm_cpu__supported_cpuid(vcpu->kvm);
	int ret = 0;

	if (!c)
		return -EINVAL;
	kvm_cpu__filter_cpuid(vcpu, c);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0) {
		ret = -errno;
		pr_err("KVM_SET_CPUID2: %s", strerror(errno));
	}
	free(c);
	return ret;
}

static int kvm_cpu__setup_msrs(struct kvm_cpu *vcpu)
{
	struct {
		struct kvm_msrs		hdr;
		struct kvm_msr_entry	e[2];
	} m = {
		.hdr.nmsrs = 2,
		.e = {
			{ .index = MSR_IA32_MISC_ENABLE, .data = 1 },	/* fast strings */
			{ .index = MSR_IA32_TSC, .data = 0 },
		},
	};

	/* MSRs a particular host does not know are not worth failing for. */
	ioctl(vcpu->fd, KVM_SET_MSRS, &m);
	return 0;
}

/* Firmware's job on real hardware: LINT0 takes the PIC (ExtINT), LINT1 NMIs. */
static int kvm_cpu__setup_lapic(struct kvm_cpu *vcpu)
{
	struct kvm_lapic_state s;
	u32 *lvt0 = (u32 *)&s.regs[APIC_LVT0];
	u32 *lvt1 = (u32 *)&s.regs[APIC_LVT1];

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &s) < 0)
		return -errno;
	*lvt0 = (*lvt0 & ~0x700u & ~0x10000u) | APIC_MODE_EXTINT << 8;
	*lvt1 = (*lvt1 & ~0x700u & ~0x10000u) | APIC_MODE_NMI << 8;
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &s) < 0)
		return -errno;
	return 0;
}

/* Identity-map the low 4 GiB with 2 MiB pages, and a flat GDT. */
static int kvm_cpu__setup_page_tables(struct kvm *kvm)
{
	u64 *pml4 = guest_ptr(kvm, BOOT_PML4_ADDR, 4096);
	u64 *pdpt = guest_ptr(kvm, BOOT_PDPT_ADDR, 4096);
	u64 *pd = guest_ptr(kvm, BOOT_PD_ADDR, 4 * 4096);
	u64 *gdt = guest_ptr(kvm, BOOT_GDT_ADDR, 4 * sizeof(u64));

	if (!pml4 || !pdpt || !pd || !gdt)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT_ADDR | PTE_PRESENT | PTE_RW;
	for (int i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * 4096) | PTE_PRESENT | PTE_RW;
	for (u64 i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_PRESENT | PTE_RW | PTE_PS;

	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = 0x00af9b000000ffffull;	/* 0x10: __BOOT_CS, 64-bit code */
	gdt[3] = 0x00cf93000000ffffull;	/* 0x18: __BOOT_DS, flat data */
	return 0;
}

static void seg_flat(struct kvm_segment *s, u16 sel, u8 type, bool code64)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = !code64, .s = 1, .l = code64, .g = 1,
	};
}

static int kvm_cpu__setup_long_mode(struct kvm_cpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = kvm->boot.ip, .rsi = kvm->boot.si, .rsp = kvm->boot.sp,
		.rflags = 2,
	};
	int ret = kvm_cpu__setup_page_tables(kvm);

	if (ret)
		return ret;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	seg_flat(&sregs.cs, 0x10, 0xb, true);
	seg_flat(&sregs.ds, 0x18, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = BOOT_PML4_ADDR;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static void seg_real(struct kvm_segment *s, u16 sel)
{
	s->selector = sel;
	s->base = (u64)sel << 4;
	s->limit = 0xffff;
}

static int kvm_cpu__setup_real_mode(struct kvm_cpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = kvm->boot.ip, .rsp = kvm->boot.sp, .rflags = 2,
	};

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	seg_real(&sregs.cs, kvm->boot.cs);
	seg_real(&sregs.ds, kvm->boot.seg);
	seg_real(&sregs.es, kvm->boot.seg);
	seg_real(&sregs.fs, kvm->boot.seg);
	seg_real(&sregs.gs, kvm->boot.seg);
	seg_real(&sregs.ss, kvm->boot.seg);
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int kvm_cpu__arch_setup(struct kvm_cpu *vcpu)
{
	int ret;

	ret = kvm_cpu__setup_cpuid(vcpu);
	if (!ret)
		ret = kvm_cpu__setup_msrs(vcpu);
	if (!ret)
		ret = kvm_cpu__setup_lapic(vcpu);
	if (ret) {
		pr_err("cannot set up vCPU %d: %s", vcpu->id, strerror(-ret));
		return ret;
	}
	/* Application processors wait for INIT/SIPI from the guest, in reset state. */
	if (vcpu->id != 0)
		return 0;
	ret = vcpu->kvm->boot.real_mode ? kvm_cpu__setup_real_mode(vcpu)
					: kvm_cpu__setup_long_mode(vcpu);
	if (ret)
		pr_err("cannot set up the boot vCPU: %s", strerror(-ret));
	return ret;
}

/* Walk the guest's 4-level page tables (no PCID/LA57): virtual to physical. */
static int x86__translate(struct kvm *kvm, const struct kvm_sregs *s, u64 va, u64 *pa)
{
	u64 table = s->cr3 & 0x000ffffffffff000ull;

	if (!(s->cr0 & CR0_PG)) {
		*pa = va;
		return 0;
	}
	if (!(s->efer & EFER_LMA))
		return -ENOTSUP;
	for (int level = 3; level >= 0; level--) {
		u64 *e = guest_ptr(kvm, table + ((va >> (12 + 9 * level)) & 511) * 8, 8);
		u64 v;

		if (!e)
			return -EFAULT;
		v = *e;
		if (!(v & PTE_PRESENT))
			return -ENOENT;
		if (level && level < 3 && (v & PTE_PS)) {
			u64 size = 1ull << (12 + 9 * level);

			*pa = (v & 0x000fffffffffe000ull & ~(size - 1)) | (va & (size - 1));
			return 0;
		}
		table = v & 0x000ffffffffff000ull;
	}
	*pa = table | (va & 0xfff);
	return 0;
}

/* A few words from the top of the guest's stack. */
static void kvm_cpu__dump_stack(struct kvm_cpu *vcpu, const struct kvm_regs *r,
				const struct kvm_sregs *s, int fd)
{
	u64 pa, *w;

	for (int i = 0; i < 8; i++) {
		u64 va = r->rsp + i * 8;

		if (x86__translate(vcpu->kvm, s, va, &pa) || !(w = guest_ptr(vcpu->kvm, pa, 8))) {
			dprintf(fd, "  stack %016llx: (unmapped)\n", (unsigned long long)va);
			return;
		}
		dprintf(fd, "  stack %016llx: %016llx\n", (unsigned long long)va,
			(unsigned long long)*w);
	}
}

void kvm_cpu__arch_dump(struct kvm_cpu *vcpu, int fd)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		dprintf(fd, "  (registers unavailable: %s)\n", strerror(errno));
		return;
	}
	dprintf(fd, "  rip %016llx rsp %016llx rflags %08llx\n"
		"  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		"  rsi %016llx rdi %016llx rbp %016llx\n"
		"  cs %04x (base %llx) ss %04x cr0 %llx cr3 %llx cr4 %llx efer %llx\n",
		r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp,
		s.cs.selector, s.cs.base, s.ss.selector, s.cr0, s.cr3, s.cr4, s.efer);
	kvm_cpu__dump_stack(vcpu, &r, &s, fd);
}
