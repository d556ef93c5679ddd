/*
 * Just enough of an i8042 keyboard controller: the self tests Linux's driver
 * runs, the command byte, the CPU reset line (command 0xfe, or output port
 * bit 0 cleared) that reboot=k uses, and a PS/2 keyboard on which no key is
 * ever pressed. The keyboard answers its commands at once (ACK, its ID, the
 * reset result) on IRQ 1: a keyboard that never answers costs Linux a
 * timeout for every command atkbd sends, at probe and again at shutdown.
 * No mouse: the aux port loops back, but never interrupts, so Linux's
 * IRQ 12 test finds no aux device.
 */
#include "kvm/devices.h"
#include "kvm/kvm.h"

#include <stdlib.h>
#include <string.h>

#define I8042_DATA	0x60
#define I8042_CMD	0x64
#define STS_OBF		0x01
#define STS_SYS		0x04
#define STS_CMD		0x08
#define STS_UNLOCKED	0x10	/* keyboard not inhibited */
#define STS_AUXDATA	0x20
#define CTR_KBDINT	0x01
#define KBD_IRQ		1
#define KBD_ACK		0xfa
#define KBD_BAT_OK	0xaa
#define KBD_QUEUE	4

struct i8042 {
	struct bus_dev	data_dev;
	struct bus_dev	cmd_dev;
	struct kvm	*kvm;
	pthread_mutex_t	lock;
	u8		ctr;		/* the command byte */
	u8		pending_cmd;	/* a command waiting for its data byte */
	u8		out;
	bool		has_out;
	bool		out_aux;
	u8		kbd_queue[KBD_QUEUE];	/* keyboard bytes behind @out */
	u8		kbd_queued;
	u8		kbd_param_cmd;	/* a keyboard command waiting for its parameter */
};

static void i8042__reply(struct i8042 *k, u8 v)
{
	k->out = v;
	k->has_out = true;
	k->out_aux = false;
}

/* Hand the guest the keyboard's next byte, with IRQ 1 if it enabled that. */
static void i8042__kbd_next(struct i8042 *k)
{
	if (k->has_out || !k->kbd_queued)
		return;
	i8042__reply(k, k->kbd_queue[0]);
	memmove(k->kbd_queue, k->kbd_queue + 1, --k->kbd_queued);
	if (k->ctr & CTR_KBDINT) {
		kvm__irq_line(k->kvm, KBD_IRQ, 1);
		kvm__irq_line(k->kvm, KBD_IRQ, 0);
	}
}

static void i8042__kbd_reply(struct i8042 *k, const u8 *bytes, u8 n)
{
	k->kbd_queued = 0;		/* a new command ends the previous answer */
	memcpy(k->kbd_queue, bytes, n);
	k->kbd_queued = n;
	i8042__kbd_next(k);
}

/* A byte for the keyboard: a command, or the parameter of the previous one. */
static void i8042__kbd_write(struct i8042 *k, u8 v)
{
	static const u8 ack[] = { KBD_ACK }, id[] = { KBD_ACK, 0xab, 0x83 },
			bat[] = { KBD_ACK, KBD_BAT_OK }, set2[] = { KBD_ACK, 0x02 },
			echo[] = { 0xee };
	u8 param_cmd = k->kbd_param_cmd;

	k->kbd_param_cmd = 0;
	if (param_cmd == 0xf0 && v == 0)		/* which scancode set? */
		i8042__kbd_reply(k, set2, sizeof(set2));
	else if (param_cmd)
		i8042__kbd_reply(k, ack, sizeof(ack));
	else if (v == 0xf2)				/* get ID: MF2 keyboard */
		i8042__kbd_reply(k, id, sizeof(id));
	else if (v == 0xff)				/* reset and self test */
		i8042__kbd_reply(k, bat, sizeof(bat));
	else if (v == 0xee)
		i8042__kbd_reply(k, echo, sizeof(echo));
	else {
		/* LEDs, scancode set, typematic rate: a parameter follows. */
		if (v == 0xed || v == 0xf0 || v == 0xf3)
			k->kbd_param_cmd = v;
		i8042__kbd_reply(k, ack, sizeof(ack));
	}
}

static void i8042__command(struct i8042 *k, u8 cmd)
{
	switch (cmd) {
	case 0x20:			/* read command byte */
		i8042__reply(k, k->ctr);
		break;
	case 0x60:			/* write command byte */
	case 0xd1:			/* write output port */
	case 0xd2: case 0xd3: case 0xd4:	/* write to kbd/aux buffers */
		k->pending_cmd = cmd;
		break;
	case 0xaa:			/* controller self test */
		i8042__reply(k, 0x55);
		break;
	case 0xa9: case 0xab:		/* aux / keyboard interface tests */
		i8042__reply(k, 0x00);
		break;
	case 0xfe:			/* pulse the reset line */
		kvm__request_stop(k->kvm, KVM_STOP_REBOOT, 0);
		break;
	default:
		break;
	}
}

static void i8042__data(struct i8042 *k, u8 v)
{
	u8 cmd = k->pending_cmd;

	k->pending_cmd = 0;
	if (cmd == 0x60)
		k->ctr = v;
	else if (cmd == 0xd1 && !(v & 1))
		kvm__request_stop(k->kvm, KVM_STOP_REBOOT, 0);
	/* Loopback commands echo at once, so Linux's probe need not time out. */
	else if (cmd == 0xd2 || cmd == 0xd3) {
		i8042__reply(k, v);
		k->out_aux = cmd == 0xd3;
	}
	else if (!cmd)
		i8042__kbd_write(k, v);
	/* Bytes for the absent mouse (0xd4): nobody answers. */
}

static void i8042__io_data(struct bus_dev *dev, struct kvm_cpu *vcpu, u64 addr,
			   void *data, u32 len, bool write)
{
	struct i8042 *k = container_of(dev, struct i8042, data_dev);

	pthread_mutex_lock(&k->lock);
	if (write) {
		i8042__data(k, bus__get(data, 1));
	} else {
		bus__put(data, len, k->out);
		k->has_out = false;
		i8042__kbd_next(k);
	}
	pthread_mutex_unlock(&k->lock);
}

static void i8042__io_cmd(struct bus_dev *dev, struct kvm_cpu *vcpu, u64 addr,
			  void *data, u32 len, bool write)
{
	struct i8042 *k = container_of(dev, struct i8042, cmd_dev);

	pthread_mutex_lock(&k->lock);
	if (write)
		i8042__command(k, bus__get(data, 1));
	else
		bus__put(data, len, STS_SYS | STS_UNLOCKED | (k->has_out ? STS_OBF : 0) |
				    (k->has_out && k->out_aux ? STS_AUXDATA : 0) |
				    (k->pending_cmd ? STS_CMD : 0));
	pthread_mutex_unlock(&k->lock);
}

static int i8042__init(struct kvm *kvm)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -1;
	k->kvm = kvm;
	k->ctr = 0x30;		/* both ports disabled, no interrupts */
	pthread_mutex_init(&k->lock, NULL);
	k->data_dev = (struct bus_dev){ .name = "i8042-data", .base = I8042_DATA, .len = 1,
					.io = i8042__io_data };
	k->cmd_dev = (struct bus_dev){ .name = "i8042-cmd", .base = I8042_CMD, .len = 1,
				       .io = i8042__io_cmd };
	ret = bus__register(&kvm->pio, &k->data_dev);
	return ret ? ret : bus__register(&kvm->pio, &k->cmd_dev);
}
device_init(i8042__init, DEV_ORDER_LEGACY);
