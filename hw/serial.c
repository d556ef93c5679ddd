/*
 * An 8250/16550A UART at 0x3f8, IRQ 4 (COM1), wired to the host terminal
 * when the console is "serial". Interrupt-driven receive and transmit.
 */
#include "kvm/devices.h"
#include "kvm/init-proto.h"
#include "kvm/kvm.h"
#include "kvm/term.h"

#include <linux/serial_reg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERIAL_BASE	0x3f8
#define SERIAL_IRQ	4
#define SERIAL_FIFO	64
#define SERIAL_LINE	160
#define PANIC_PREFIX	"Kernel panic - not syncing: "

struct serial {
	struct bus_dev	dev;
	struct kvm	*kvm;
	struct term	*term;		/* NULL: output discarded, no input */
	pthread_mutex_t	lock;
	u8		fifo[SERIAL_FIFO];
	unsigned int	head, count;
	u8		ier, lcr, mcr, lsr_extra, scr, fcr, dll, dlm;
	bool		thri_pending;
	int		irq_level;
	char		line[SERIAL_LINE];	/* the line being written */
	unsigned int	line_len;
};

static u8 serial__msr(struct serial *s)
{
	u8 m = s->mcr;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	return ((m & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
	       ((m & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
	       ((m & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
	       ((m & UART_MCR_OUT2) ? UART_MSR_DCD : 0);
}

static u8 serial__iir(struct serial *s)
{
	u8 fifo = (s->fcr & UART_FCR_ENABLE_FIFO) ? 0xc0 : 0;

	if ((s->ier & UART_IER_RDI) && s->count)
		return fifo | UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thri_pending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

/* Called with the lock held after every state change. */
static void serial__update_irq(struct serial *s)
{
	int level = !(serial__iir(s) & UART_IIR_NO_INT);

	/* OUT2 gates the interrupt line on PC hardware. */
	if (!(s->mcr & UART_MCR_OUT2))
		level = 0;
	if (level != s->irq_level) {
		s->irq_level = level;
		kvm__irq_line(s->kvm, SERIAL_IRQ, level);
	}
}

static size_t serial__push(struct serial *s, const u8 *buf, size_t len)
{
	size_t n = 0;

	while (n < len && s->count < SERIAL_FIFO) {
		s->fifo[(s->head + s->count) % SERIAL_FIFO] = buf[n++];
		s->count++;
	}
	return n;
}

static size_t serial__receive(void *opaque, const u8 *buf, size_t len)
{
	struct serial *s = opaque;
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = serial__push(s, buf, len);
	serial__update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* A break condition, then the key: how Linux's 8250 console takes SysRq. */
static void serial__sysrq(void *opaque, u8 key)
{
	struct serial *s = opaque;
	u8 nul = 0;

	pthread_mutex_lock(&s->lock);
	if (serial__push(s, &nul, 1)) {
		s->lsr_extra |= UART_LSR_BI;
		serial__push(s, &key, 1);
	}
	serial__update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Watch the guest's lines: the reason of a kernel panic is kept for the
 * report (kvm->panic_reason), and with no terminal attached (lkvm sandbox
 * keeps the kernel's console off the command's output) --debug shows them,
 * and the embedded init's last message is kept (kvm->init_error): it tells
 * why a sandbox ended without its command's status.
 */
static void serial__log(struct serial *s, u8 c)
{
	const char *p;

	if (c != '\n' && c != '\r') {
		if (s->line_len < SERIAL_LINE - 1)
			s->line[s->line_len++] = c;
		return;
	}
	if (!s->line_len)
		return;
	s->line[s->line_len] = 0;
	s->line_len = 0;
	if (!s->term)
		pr_debug("guest console: %s", s->line);
	if (!s->term && !strncmp(s->line, INIT_MSG_PREFIX, strlen(INIT_MSG_PREFIX)))
		snprintf(s->kvm->init_error, sizeof(s->kvm->init_error), "%s",
			 s->line + strlen(INIT_MSG_PREFIX));
	p = strstr(s->line, PANIC_PREFIX);
	if (p && !s->kvm->panic_reason[0])
		snprintf(s->kvm->panic_reason, sizeof(s->kvm->panic_reason), "%s",
			 p + strlen(PANIC_PREFIX));
}

static void serial__transmit(struct serial *s, u8 c)
{
	if (s->mcr & UART_MCR_LOOP) {
		serial__push(s, &c, 1);
	} else {
		serial__log(s, c);
		if (s->term)
			term__write(s->term, &c, 1);
	}
	s->thri_pending = true;
}

static u8 serial__read_rbr(struct serial *s)
{
	u8 c;

	if (!s->count)
		return 0;
	c = s->fifo[s->head];
	s->head = (s->head + 1) % SERIAL_FIFO;
	s->count--;
	if (!s->count && s->term)
		term__kick(s->term);
	return c;
}

static u8 serial__read(struct serial *s, unsigned int off)
{
	bool dlab = s->lcr & UART_LCR_DLAB;
	u8 v;

	switch (off) {
	case UART_RX:
		return dlab ? s->dll : serial__read_rbr(s);
	case UART_IER:
		return dlab ? s->dlm : s->ier;
	case UART_IIR:
		v = serial__iir(s);
		if ((v & 0x0f) == UART_IIR_THRI)
			s->thri_pending = false;
		return v;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		v = UART_LSR_TEMT | UART_LSR_THRE | s->lsr_extra;
		if (s->count)
			v |= UART_LSR_DR;
		s->lsr_extra = 0;
		return v;
	case UART_MSR:
		return serial__msr(s);
	default:
		return s->scr;
	}
}

static void serial__write(struct serial *s, unsigned int off, u8 v)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_TX:
		if (dlab)
			s->dll = v;
		else
			serial__transmit(s, v);
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI with an empty holding register interrupts at once. */
		if (!(s->ier & UART_IER_THRI) && (v & UART_IER_THRI))
			s->thri_pending = true;
		s->ier = v & 0x0f;
		break;
	case UART_FCR:
		s->fcr = v & (UART_FCR_ENABLE_FIFO | 0xc0);
		if (v & UART_FCR_CLEAR_RCVR) {
			s->head = s->count = 0;
			if (s->term)
				term__kick(s->term);
		}
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default:
		break;
	}
}

static void serial__io(struct bus_dev *dev, struct kvm_cpu *vcpu, u64 addr,
		       void *data, u32 len, bool write)
{
	struct serial *s = container_of(dev, struct serial, dev);
	unsigned int off = addr - dev->base;

	pthread_mutex_lock(&s->lock);
	if (write)
		serial__write(s, off, *(u8 *)data);
	else
		bus__put(data, len, serial__read(s, off));
	serial__update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static int serial__init(struct kvm *kvm)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	s->kvm = kvm;
	pthread_mutex_init(&s->lock, NULL);
	s->dev = (struct bus_dev){
		.name = "serial8250", .base = SERIAL_BASE, .len = 8, .io = serial__io,
	};
	if (kvm->cfg->console == CONSOLE_SERIAL && kvm->term) {
		s->term = kvm->term;
		term__attach(kvm->term, serial__receive, s);
		term__attach_sysrq(kvm->term, serial__sysrq);
	}
	return bus__register(&kvm->pio, &s->dev);
}
device_init(serial__init, DEV_ORDER_LEGACY);
