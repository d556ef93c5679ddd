/*
 * ACPI fixed hardware, at the ports the FADT lists:
 *  - PM1a event block: status (write 1 to clear) and enable words; only the
 *    power button raises events, as a level-triggered SCI;
 *  - PM1a control: SCI_EN always reads as set (there is no SMM to hand
 *    over from); SLP_EN with SLP_TYP == S5 powers the VM off;
 *  - PM timer: 32 bits (FADT TMR_VAL_EXT) at 3.579545 MHz;
 *  - reset register: ACPI_RESET_VALUE reboots.
 * The blocks are separate bus devices over one register file, indexed by
 * the offset from ACPI_PM1A_EVT_PORT. vCPU threads serialise on a mutex.
 */
#include "kvm/devices.h"
#include "kvm/kvm.h"
#include "x86/acpi.h"
#include "x86/layout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PM_STS		0
#define PM_EN		2
#define PM_CNT		(ACPI_PM1A_CNT_PORT - ACPI_PM1A_EVT_PORT)
#define PM_TMR		(ACPI_PM_TMR_PORT - ACPI_PM1A_EVT_PORT)
#define PM_RESET	(ACPI_RESET_PORT - ACPI_PM1A_EVT_PORT)
#define PM_SPAN		(PM_RESET + 1)

#define PM1_EN_MASK	(ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_RTC)
#define NSEC_PER_SEC	1000000000ull

enum { PM_DEV_EVT, PM_DEV_CNT, PM_DEV_TMR, PM_DEV_RESET, PM_NR_DEVS };

static const struct {
	const char	*name;
	u16		port;
	u8		len;
} acpi_pm__blocks[PM_NR_DEVS] = {
	[PM_DEV_EVT]	= { "acpi-pm1a-evt", ACPI_PM1A_EVT_PORT, 4 },
	[PM_DEV_CNT]	= { "acpi-pm1a-cnt", ACPI_PM1A_CNT_PORT, 2 },
	[PM_DEV_TMR]	= { "acpi-pm-tmr", ACPI_PM_TMR_PORT, 4 },
	[PM_DEV_RESET]	= { "acpi-reset", ACPI_RESET_PORT, 1 },
};

struct acpi_pm {
	struct bus_dev	devs[PM_NR_DEVS];
	struct kvm	*kvm;
	pthread_mutex_t	lock;
	u16		sts;
	u16		en;
	u16		cnt;
	bool		sci;		/* level we last drove on ACPI_SCI_IRQ */
	u64		start_ns;
};

/* 3.579545 MHz since the device was created; wraps at 32 bits. */
static u32 acpi_pm__timer(struct acpi_pm *pm)
{
	u64 ns = util__now_ns() - pm->start_ns;

	return ns / NSEC_PER_SEC * ACPI_PM_TIMER_HZ +
	       ns % NSEC_PER_SEC * ACPI_PM_TIMER_HZ / NSEC_PER_SEC;
}

/* The SCI is level-triggered: high while an enabled status bit is set. */
static void acpi_pm__update_sci(struct acpi_pm *pm)
{
	bool level = pm->sts & pm->en;

	if (level == pm->sci)
		return;
	pm->sci = level;
	kvm__irq_line(pm->kvm, ACPI_SCI_IRQ, level);
}

/*
 * The bytes of a @len-byte write at @off that fall in the register at
 * [@reg, @reg + @width): its value and byte mask, in register order.
 */
static bool acpi_pm__slice(u32 off, u32 len, u64 v, u32 reg, u32 width,
			   u32 *val, u32 *mask)
{
	*val = *mask = 0;
	for (u32 i = 0; i < len; i++) {
		u32 at = off + i;

		if (at < reg || at >= reg + width)
			continue;
		*val |= (u32)((v >> (8 * i)) & 0xff) << (8 * (at - reg));
		*mask |= 0xffu << (8 * (at - reg));
	}
	return *mask;
}

static void acpi_pm__write_cnt(struct acpi_pm *pm, u32 val, u32 mask)
{
	u16 cnt = (pm->cnt & ~mask) | (val & mask);
	u16 typ = (cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT;

	/* SLP_EN is write-only; only S5 (soft off) is implemented. */
	if (cnt & ACPI_PM1_CNT_SLP_EN) {
		if (typ == ACPI_S5_TYP)
			kvm__request_stop(pm->kvm, KVM_STOP_POWEROFF, 0);
		else
			pr_debug("acpi: ignoring sleep type %u", typ);
	}
	pm->cnt = (cnt & ACPI_PM1_CNT_SLP_TYP_MASK) | ACPI_PM1_CNT_SCI_EN;
}

static void acpi_pm__write(struct acpi_pm *pm, u32 off, u32 len, u64 v)
{
	u32 val, mask;

	if (acpi_pm__slice(off, len, v, PM_STS, 2, &val, &mask))
		pm->sts &= ~(val & mask);
	if (acpi_pm__slice(off, len, v, PM_EN, 2, &val, &mask))
		pm->en = ((pm->en & ~mask) | (val & mask)) & PM1_EN_MASK;
	if (acpi_pm__slice(off, len, v, PM_CNT, 2, &val, &mask))
		acpi_pm__write_cnt(pm, val, mask);
	if (acpi_pm__slice(off, len, v, PM_RESET, 1, &val, &mask) &&
	    val == ACPI_RESET_VALUE)
		kvm__request_stop(pm->kvm, KVM_STOP_REBOOT, 0);
	acpi_pm__update_sci(pm);
}

static void acpi_pm__read(struct acpi_pm *pm, u32 off, u32 len, void *data)
{
	u8 regs[PM_SPAN] = { 0 };

	bus__put(regs + PM_STS, 2, pm->sts);
	bus__put(regs + PM_EN, 2, pm->en);
	bus__put(regs + PM_CNT, 2, pm->cnt);
	if (off < PM_TMR + 4 && off + len > PM_TMR)
		bus__put(regs + PM_TMR, 4, acpi_pm__timer(pm));
	memcpy(data, regs + off, len);
}

static void acpi_pm__io(struct bus_dev *dev, struct kvm_cpu *vcpu, u64 addr,
			void *data, u32 len, bool write)
{
	struct acpi_pm *pm = dev->priv;
	u32 off = addr - ACPI_PM1A_EVT_PORT;

	if (off >= PM_SPAN || len > PM_SPAN - off) {
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&pm->lock);
	if (write)
		acpi_pm__write(pm, off, len, bus__get(data, len));
	else
		acpi_pm__read(pm, off, len, data);
	pthread_mutex_unlock(&pm->lock);
}

static struct acpi_pm *acpi_pm__find(struct kvm *kvm)
{
	return kvm->acpi_pm;
}

/*
 * Press the power button. Returns 1 if the guest has the event enabled (the
 * SCI is raised), 0 if the press is only latched in PM1 status, -ENODEV if
 * there is no ACPI PM device.
 */
int acpi_pm__power_button(struct kvm *kvm)
{
	struct acpi_pm *pm = acpi_pm__find(kvm);
	int ret;

	if (!pm)
		return -ENODEV;
	pthread_mutex_lock(&pm->lock);
	pm->sts |= ACPI_PM1_PWRBTN;
	acpi_pm__update_sci(pm);
	ret = !!(pm->en & ACPI_PM1_PWRBTN);
	pthread_mutex_unlock(&pm->lock);
	return ret;
}

static int acpi_pm__init(struct kvm *kvm)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	int ret = 0, i;

	if (!pm)
		return -ENOMEM;
	pm->kvm = kvm;
	pm->cnt = ACPI_PM1_CNT_SCI_EN;
	pm->start_ns = util__now_ns();
	pthread_mutex_init(&pm->lock, NULL);
	for (i = 0; i < PM_NR_DEVS && !ret; i++) {
		pm->devs[i] = (struct bus_dev){
			.name = acpi_pm__blocks[i].name, .base = acpi_pm__blocks[i].port,
			.len = acpi_pm__blocks[i].len, .io = acpi_pm__io, .priv = pm,
		};
		ret = bus__register(&kvm->pio, &pm->devs[i]);
	}
	if (!ret) {
		kvm->acpi_pm = pm;
		kvm->power_button = acpi_pm__power_button;
		return 0;
	}
	for (i -= 2; i >= 0; i--)
		bus__unregister(&kvm->pio, &pm->devs[i]);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
	return ret;
}
device_init(acpi_pm__init, DEV_ORDER_LEGACY);
