/*
 * guest/smp: starts the other CPUs with INIT-SIPI-SIPI through the local
 * APIC. Each AP runs a real-mode trampoline at SMP_TRAMPOLINE_ADDR that
 * adds one to a counter and halts. The BSP waits (bounded) for as many as
 * CPUID says there are, prints the count and exits with CPUs that answered
 * plus one (itself).
 */
#include "guest.h"

#define SMP_TRAMPOLINE_ADDR	0x3000	/* free below the zero page (layout.h) */

#define APIC_ID			0x020
#define APIC_SVR		0x0f0
#define APIC_SVR_ENABLE		0x100
#define APIC_ICR_LO		0x300
#define APIC_ICR_HI		0x310
#define ICR_BUSY		(1u << 12)
#define ICR_INIT		(5u << 8)
#define ICR_STARTUP		(6u << 8)
#define ICR_ASSERT		(1u << 14)
#define ICR_ALL_BUT_SELF	(3u << 18)

/* Time budgets in TSC cycles, with loop-count caps in case the TSC is odd. */
#define INIT_DELAY		10000000ull
#define SIPI_DELAY		1000000ull
#define WAIT_CYCLES		4000000000ull
#define WAIT_SPINS		20000000ull

extern const u8 smp_tramp[], smp_tramp_end[], smp_tramp_count[];

static volatile u32 *apic_reg(u32 reg)
{
	return (volatile u32 *)(u64)(LAPIC_ADDR + reg);
}

static void delay(u64 cycles)
{
	u64 start = rdtsc();

	for (u64 i = 0; i < cycles / 16 && rdtsc() - start < cycles; i++)
		cpu_relax();
}

static void apic_send(u32 icr)
{
	*apic_reg(APIC_ICR_HI) = 0;
	*apic_reg(APIC_ICR_LO) = icr;
	for (int i = 0; i < 100000 && (*apic_reg(APIC_ICR_LO) & ICR_BUSY); i++)
		cpu_relax();
}

/* CPUs in the VM, as CPUID leaf 1 reports them (1 without HTT). */
static u32 cpuid_nr_cpus(void)
{
	u32 eax = 1, ebx, ecx = 0, edx;

	asm volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
	if (!(edx & (1u << 28)))
		return 1;
	return (ebx >> 16) & 0xff ? (ebx >> 16) & 0xff : 1;
}

int guest_main(struct boot_params *bp)
{
	u32 want = cpuid_nr_cpus();
	volatile u32 *count;
	u64 start, i;

	memcpy((void *)SMP_TRAMPOLINE_ADDR, smp_tramp, smp_tramp_end - smp_tramp);
	count = (volatile u32 *)(SMP_TRAMPOLINE_ADDR + (smp_tramp_count - smp_tramp));
	*count = 0;
	printf("smp: bsp apic id %u, cpuid says %u cpus\n",
	       *apic_reg(APIC_ID) >> 24, want);

	*apic_reg(APIC_SVR) |= APIC_SVR_ENABLE | 0xff;
	apic_send(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_INIT);
	delay(INIT_DELAY);
	for (int sipi = 0; sipi < 2; sipi++) {
		apic_send(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP |
			  SMP_TRAMPOLINE_ADDR >> 12);
		delay(SIPI_DELAY);
	}

	start = rdtsc();
	for (i = 0; i < WAIT_SPINS && *count + 1 < want; i++) {
		if (rdtsc() - start > WAIT_CYCLES)
			break;
		cpu_relax();
	}
	printf("smp: %u of %u cpus up\n", *count + 1, want);
	return *count + 1;
}
