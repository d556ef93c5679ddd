/*
 * Just enough of an i8042 keyboard controller: the self tests Linux's driver
 * runs, the command byte, and the CPU reset line (command 0xfe, or output
 * port bit 0 cleared) that reboot=k uses. No keyboard or mouse is attached.
 */
#include "kvm/devices.h"
#include "kvm/kvm.h"

#include <stdlib.h>

#define I8042_DATA	0x60
#define I8042_CMD	0x64
#define STS_OBF		0x01
#define STS_SYS		0x04
#define STS_CMD		0x08
#define STS_UNLOCKED	0x10	/* keyboard not inhibited */
#define STS_AUXDATA	0x20

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
};

static void i8042__reply(struct i8042 *k, u8 v)
{
	k->out = v;
	k->has_out = true;
	k->out_aux = false;
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
	/* Bytes for an absent keyboard or mouse: nobody answers. */
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
