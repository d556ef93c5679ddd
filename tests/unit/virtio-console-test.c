/*
 * virtio-console and virtio-rng without KVM: the devices come from their
 * registered initialisers on a fake VM (virtio-mmio), a fake terminal stands
 * in for stdin/stdout, and the test plays the guest driver.
 */
#include <fcntl.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "kvm/irq.h"
#include "kvm/term.h"
#include "test.h"
#include "virtio-fake.h"
#include "virtq-driver.h"

#define RINGS_RX	0x10000
#define RINGS_TX	0x14000
#define BUF		0x20000

struct con_t {
	struct fake_vm		vm;
	struct term		term;
	int			out[2];		/* what the guest printed */
	struct virtio_dev	*vdev;
	struct drv_queue	rx, tx;
};

static bool con_t__init(struct con_t *t, enum console_type console)
{
	const struct device_init *init = drv__device("console__init");

	memset(t, 0, sizeof(*t));
	fake_vm__init(&t->vm, TRANSPORT_MMIO);
	t->vm.cfg.console = console;
	CHECK_EQ(pipe2(t->out, O_NONBLOCK), 0);
	t->term.out_fd = t->out[1];
	t->term.in_fd = -1;
	t->term.kick_fd = eventfd(0, EFD_NONBLOCK);
	pthread_mutex_init(&t->term.out_lock, NULL);
	t->vm.kvm.term = &t->term;
	if (!init || init->init(&t->vm.kvm))
		return false;
	t->vdev = drv__last_vdev(&t->vm.kvm);
	if (!t->vdev)
		return false;
	t->vdev->guest_features = t->vdev->host_features;
	drv_queue__init(&t->rx, t->vdev, 0, RINGS_RX);
	drv_queue__init(&t->tx, t->vdev, 1, RINGS_TX);
	return true;
}

static void con_t__exit(struct con_t *t)
{
	drv__device("console__init")->exit(&t->vm.kvm);
	irq__exit(&t->vm.kvm);
	fake_vm__exit(&t->vm);
	close(t->out[0]);
	close(t->out[1]);
	close(t->term.kick_fd);
}

static u64 term_kicks(struct con_t *t)
{
	u64 n = 0;

	if (read(t->term.kick_fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static size_t type(struct con_t *t, const char *s)
{
	return t->term.rx(t->term.rx_opaque, (const u8 *)s, strlen(s));
}

static void *gp(struct con_t *t, u64 gpa)
{
	return guest_ptr(&t->vm.kvm, gpa, 1);
}

TEST(console_only_with_console_virtio)
{
	struct con_t t;

	CHECK(con_t__init(&t, CONSOLE_SERIAL) == false);
	CHECK_EQ(t.vm.kvm.nr_vdevs, 0);
	CHECK(!t.term.rx);
	fake_vm__exit(&t.vm);
	close(t.out[0]);
	close(t.out[1]);
	close(t.term.kick_fd);
}

TEST(console_input_waits_for_buffers)
{
	struct vring_used_elem e;
	struct con_t t;

	if (!con_t__init(&t, CONSOLE_VIRTIO))
		return;
	CHECK_EQ(t.vdev->ops->device_id, VIRTIO_ID_CONSOLE);
	CHECK(t.term.rx && t.term.sysrq);
	/* Before DRIVER_OK, and then without buffers, nothing is taken. */
	CHECK_EQ(type(&t, "hello"), 0);
	CHECK_EQ(term_kicks(&t), 0);
	t.vdev->ops->start(t.vdev);
	CHECK_EQ(term_kicks(&t), 1);	/* DRIVER_OK: offer it again */
	CHECK_EQ(type(&t, "hello"), 0);
	CHECK_EQ(term_kicks(&t), 0);
	/* A buffer arrives: the terminal is told to offer the input again. */
	drv_queue__add(&t.rx, &(struct drv_buf){ BUF, 4, true }, 1);
	drv_queue__kick(&t.rx);
	CHECK_EQ(term_kicks(&t), 1);
	CHECK_EQ(type(&t, "hello"), 4);
	CHECK_EQ(drv_queue__wait(&t.rx, 1), 1);
	e = drv_queue__used(&t.rx);
	CHECK_EQ(e.len, 4);
	CHECK(!memcmp(gp(&t, BUF), "hell", 4));
	/* Two buffers take the rest across both. */
	drv_queue__add(&t.rx, &(struct drv_buf){ BUF + 0x100, 2, true }, 1);
	drv_queue__add(&t.rx, &(struct drv_buf){ BUF + 0x200, 64, true }, 1);
	drv_queue__kick(&t.rx);
	CHECK_EQ(term_kicks(&t), 1);
	CHECK_EQ(type(&t, "o world"), 7);
	CHECK_EQ(drv_queue__wait(&t.rx, 2), 2);
	CHECK_EQ(drv_queue__used(&t.rx).len, 2);
	CHECK_EQ(drv_queue__used(&t.rx).len, 5);
	CHECK(!memcmp(gp(&t, BUF + 0x100), "o ", 2));
	CHECK(!memcmp(gp(&t, BUF + 0x200), "world", 5));
	/* Kicks with nothing waiting do not bother the terminal. */
	drv_queue__kick(&t.rx);
	CHECK_EQ(term_kicks(&t), 0);
	/* After a reset the old driver's buffers are never written. */
	drv_queue__add(&t.rx, &(struct drv_buf){ BUF + 0x400, 64, true }, 1);
	t.vdev->ops->reset(t.vdev);
	CHECK_EQ(type(&t, "x"), 0);
	CHECK_EQ(*(u8 *)gp(&t, BUF + 0x400), 0);
	con_t__exit(&t);
}

TEST(console_output_and_sysrq)
{
	char out[64] = { 0 };
	struct drv_buf bufs[2];
	struct con_t t;

	if (!con_t__init(&t, CONSOLE_VIRTIO))
		return;
	t.vdev->ops->start(t.vdev);
	memcpy(gp(&t, BUF), "guest ", 6);
	memcpy(gp(&t, BUF + 0x100), "says hi\n", 8);
	bufs[0] = (struct drv_buf){ BUF, 6, false };
	bufs[1] = (struct drv_buf){ BUF + 0x100, 8, false };
	drv_queue__add(&t.tx, bufs, 2);
	drv_queue__kick(&t.tx);
	CHECK_EQ(drv_queue__wait(&t.tx, 1), 1);
	CHECK_EQ(drv_queue__used(&t.tx).len, 0);
	CHECK_EQ(read(t.out[0], out, sizeof(out)), 14);
	CHECK(!strcmp(out, "guest says hi\n"));
	/* SysRq waits for a buffer, then goes ahead of typed input. */
	t.term.sysrq(t.term.rx_opaque, 'h');
	CHECK_EQ(type(&t, "ab"), 0);
	drv_queue__add(&t.rx, &(struct drv_buf){ BUF + 0x300, 16, true }, 1);
	drv_queue__kick(&t.rx);
	CHECK_EQ(drv_queue__wait(&t.rx, 1), 1);
	CHECK_EQ(drv_queue__used(&t.rx).len, 2);
	CHECK(!memcmp(gp(&t, BUF + 0x300), "\x0fh", 2));
	CHECK_EQ(term_kicks(&t), 1);
	con_t__exit(&t);
}

/* A pseudo-terminal of @rows x @cols as the console's stdin; the master's fd. */
static int con_t__pty(struct con_t *t, u16 rows, u16 cols)
{
	struct winsize ws = { .ws_row = rows, .ws_col = cols };
	int master = posix_openpt(O_RDWR | O_NOCTTY);

	CHECK(master >= 0);
	CHECK_EQ(grantpt(master), 0);
	CHECK_EQ(unlockpt(master), 0);
	CHECK_EQ(ioctl(master, TIOCSWINSZ, &ws), 0);
	t->term.in_fd = open(ptsname(master), O_RDWR | O_NOCTTY);
	CHECK(t->term.in_fd >= 0);
	t->term.is_tty = true;
	return master;
}

static void con_size(struct con_t *t, u16 *rows, u16 *cols)
{
	t->vdev->ops->config_read(t->vdev, offsetof(struct virtio_console_config, cols), cols, 2);
	t->vdev->ops->config_read(t->vdev, offsetof(struct virtio_console_config, rows), rows, 2);
}

TEST(console_size_follows_the_terminal)
{
	const u64 f_size = 1ull << VIRTIO_CONSOLE_F_SIZE;
	struct winsize ws = { .ws_row = 50, .ws_col = 132 };
	struct con_t t;
	u16 rows, cols;
	u32 gen;
	int master;

	/* Pipes and files have no size: the feature is not offered. */
	if (!con_t__init(&t, CONSOLE_VIRTIO))
		return;
	CHECK(!(t.vdev->host_features & f_size));
	CHECK(!t.term.resize);
	con_t__exit(&t);

	memset(&t, 0, sizeof(t));
	fake_vm__init(&t.vm, TRANSPORT_MMIO);
	t.vm.cfg.console = CONSOLE_VIRTIO;
	t.term.kick_fd = eventfd(0, EFD_NONBLOCK);
	CHECK_EQ(pipe2(t.out, O_NONBLOCK), 0);
	t.term.out_fd = t.out[1];
	pthread_mutex_init(&t.term.out_lock, NULL);
	master = con_t__pty(&t, 30, 100);
	t.vm.kvm.term = &t.term;
	CHECK_EQ(drv__device("console__init")->init(&t.vm.kvm), 0);
	t.vdev = drv__last_vdev(&t.vm.kvm);
	CHECK(t.vdev && (t.vdev->host_features & f_size) && t.term.resize);
	con_size(&t, &rows, &cols);
	CHECK_EQ(rows, 30);
	CHECK_EQ(cols, 100);

	/* A resize before DRIVER_OK: new size and generation, no interrupt. */
	gen = t.vdev->config_generation;
	CHECK_EQ(ioctl(master, TIOCSWINSZ, &ws), 0);
	CHECK(term__size(&t.term, &rows, &cols));
	t.term.resize(t.term.rx_opaque, rows, cols);
	con_size(&t, &rows, &cols);
	CHECK_EQ(rows, 50);
	CHECK_EQ(cols, 132);
	CHECK(t.vdev->config_generation != gen);
	CHECK(!(t.vdev->isr & VIRTIO_MMIO_INT_CONFIG));

	/* With the driver running, a config-change interrupt. */
	t.vdev->status = VIRTIO_CONFIG_S_DRIVER_OK;
	gen = t.vdev->config_generation;
	t.term.resize(t.term.rx_opaque, 24, 80);
	con_size(&t, &rows, &cols);
	CHECK_EQ(rows, 24);
	CHECK_EQ(cols, 80);
	CHECK(t.vdev->config_generation != gen);
	CHECK(t.vdev->isr & VIRTIO_MMIO_INT_CONFIG);
	t.vdev->status = 0;
	con_t__exit(&t);
	CHECK(!t.term.resize);
	close(t.term.in_fd);
	close(master);
}

/* A guest that breaks the device after every reset cannot flood the log. */
TEST(device_warnings_are_bounded)
{
	struct capture cap;
	const char *err;
	struct con_t t;

	if (!con_t__init(&t, CONSOLE_VIRTIO))
		return;
	t.vdev->status = VIRTIO_CONFIG_S_DRIVER_OK;
	capture__begin(&cap);
	for (int i = 0; i < VIRTIO_MAX_WARNINGS + 50; i++) {
		virtio_dev__fail(t.vdev, "a test error");
		virtio_dev__fail(t.vdev, "the same error again");	/* once per reset */
		t.vdev->status = VIRTIO_CONFIG_S_DRIVER_OK;		/* the driver's reset */
	}
	err = capture__end(&cap);
	CHECK_EQ(cap.lines, VIRTIO_MAX_WARNINGS + 1);
	CHECK(strstr(err, "virtio-console: a test error; device needs reset"));
	CHECK(!strstr(err, "the same error again"));
	CHECK(strstr(cap.tail, "virtio-console: more than 1000 errors; no more are logged\n"));
	CHECK_EQ(t.vdev->stats.bad_chains, 2 * (VIRTIO_MAX_WARNINGS + 50));
	CHECK(t.vdev->isr & VIRTIO_MMIO_INT_CONFIG);	/* still signalled */
	t.vdev->status = 0;
	con_t__exit(&t);
}

TEST(rng_fills_buffers_bounded)
{
	const struct device_init *init = drv__device("rng__init");
	struct drv_buf bufs[3];
	struct virtio_dev *vdev;
	struct drv_queue q;
	struct fake_vm vm;
	u8 *p;
	int nonzero = 0;

	fake_vm__init(&vm, TRANSPORT_MMIO);
	CHECK(init);
	if (!init || init->init(&vm.kvm))
		return;
	vdev = drv__last_vdev(&vm.kvm);
	CHECK_EQ(vdev->ops->device_id, VIRTIO_ID_RNG);
	vdev->guest_features = vdev->host_features;
	drv_queue__init(&q, vdev, 0, 0x10000);
	drv_queue__add(&q, &(struct drv_buf){ 0x20000, 64, true }, 1);
	/* 96 KiB asked for: 64 KiB given, the rest untouched. */
	bufs[0] = (struct drv_buf){ 0x30000, 16, false };
	bufs[1] = (struct drv_buf){ 0x40000, 0x10000, true };
	bufs[2] = (struct drv_buf){ 0x50000, 0x8000, true };
	drv_queue__add(&q, bufs, 3);
	drv_queue__kick(&q);
	CHECK_EQ(drv_queue__wait(&q, 2), 2);
	CHECK_EQ(drv_queue__used(&q).len, 64);
	CHECK_EQ(drv_queue__used(&q).len, 0x10000);
	p = guest_ptr(&vm.kvm, 0x20000, 64);
	for (int i = 0; i < 64; i++)
		nonzero += p[i] != 0;
	CHECK(nonzero > 32);
	p = guest_ptr(&vm.kvm, 0x50000, 0x8000);
	for (int i = 0; i < 0x8000; i++)
		if (p[i])
			nonzero = -1;
	CHECK(nonzero != -1);
	CHECK_EQ(vdev->stats.bytes, 64 + 0x10000);
	init->exit(&vm.kvm);
	irq__exit(&vm.kvm);
	fake_vm__exit(&vm);
}
