/* A CMOS RTC at 0x70/0x71 reporting the host's time (UTC, BCD, 24 hour). */
#include "kvm/devices.h"
#include "kvm/kvm.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RTC_BASE	0x70
#define RTC_SECONDS	0x00
#define RTC_MINUTES	0x02
#define RTC_HOURS	0x04
#define RTC_DAY_OF_WEEK	0x06
#define RTC_DAY		0x07
#define RTC_MONTH	0x08
#define RTC_YEAR	0x09
#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c
#define RTC_REG_D	0x0d
#define RTC_CENTURY	0x32
#define RTC_B_24H	0x02
#define RTC_B_BINARY	0x04
#define RTC_D_VRT	0x80

struct rtc {
	struct bus_dev	dev;
	pthread_mutex_t	lock;
	u8		index;
	u8		cmos[128];
};

static u8 bcd(struct rtc *r, int v)
{
	if (r->cmos[RTC_REG_B] & RTC_B_BINARY)
		return v;
	return ((v / 10) << 4) | (v % 10);
}

static u8 rtc__read(struct rtc *r, u8 idx)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (idx) {
	case RTC_SECONDS:	return bcd(r, tm.tm_sec);
	case RTC_MINUTES:	return bcd(r, tm.tm_min);
	case RTC_HOURS:		return bcd(r, tm.tm_hour);
	case RTC_DAY_OF_WEEK:	return bcd(r, tm.tm_wday + 1);
	case RTC_DAY:		return bcd(r, tm.tm_mday);
	case RTC_MONTH:		return bcd(r, tm.tm_mon + 1);
	case RTC_YEAR:		return bcd(r, tm.tm_year % 100);
	case RTC_CENTURY:	return bcd(r, (tm.tm_year + 1900) / 100);
	case RTC_REG_A:		return 0x26;	/* 32.768 kHz, 1024 Hz, no update in progress */
	case RTC_REG_C:		return 0;
	case RTC_REG_D:		return RTC_D_VRT;
	default:		return r->cmos[idx];
	}
}

static void rtc__io(struct bus_dev *dev, struct kvm_cpu *vcpu, u64 addr,
		    void *data, u32 len, bool write)
{
	struct rtc *r = container_of(dev, struct rtc, dev);
	u8 v = bus__get(data, 1);

	pthread_mutex_lock(&r->lock);
	if (addr == RTC_BASE) {
		if (write)
			r->index = v & 0x7f;	/* bit 7 is the NMI mask */
		else
			bus__put(data, len, 0xff);
	} else if (write) {
		/* Time is the host's: keep control bits, ignore time writes. */
		if (r->index >= RTC_REG_A && r->index != RTC_REG_C && r->index != RTC_REG_D)
			r->cmos[r->index] = v;
	} else {
		bus__put(data, len, rtc__read(r, r->index));
	}
	pthread_mutex_unlock(&r->lock);
}

static int rtc__init(struct kvm *kvm)
{
	struct rtc *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	pthread_mutex_init(&r->lock, NULL);
	r->cmos[RTC_REG_B] = RTC_B_24H;
	r->dev = (struct bus_dev){ .name = "cmos-rtc", .base = RTC_BASE, .len = 2, .io = rtc__io };
	return bus__register(&kvm->pio, &r->dev);
}
device_init(rtc__init, DEV_ORDER_LEGACY);
