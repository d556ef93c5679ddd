/*
 * guest/virtq-hostile: a hostile virtio-mmio driver. For every device it
 * finds at VIRTIO_MMIO_BASE it sets the device up (reset, ACKNOWLEDGE and
 * DRIVER, VERSION_1 plus INDIRECT_DESC, FEATURES_OK, its queues, DRIVER_OK),
 * does one malformed thing to it, and sees what the device does: set
 * NEEDS_RESET, return the request as failed, refuse the setup, or something
 * harmless (the line says why). Then it resets the device and checks that a
 * valid request works again. One line per (target, case), then a summary.
 *
 * A target is one queue of one device: rng, blk (blk-ro for a ,ro disk),
 * net-tx, net-rx (frames come from ARP requests we send), 9p, console-tx,
 * console-rx (needs input on lkvm's stdin).
 *
 * Command line:
 *   vqh.devices=rng,blk,net,9p,console   test only these kinds; each must be
 *                                        there (default: whatever is found)
 *   vqh.case=NAME                        run only the cases called NAME
 * Everything printed is also kept in memory; with a virtio console it is sent
 * through the console at the end (lkvm drops serial output then).
 *
 * Exit status: 0 if every case was detected or harmless and every device
 * recovered; else the OR of 1 (an unexpected outcome), 2 (a device did not
 * recover) and 4 (a device is missing or RAM is too small).
 *
 * Nothing waits without a bound: the ACPI PM timer (3.58 MHz) gives the
 * deadlines and every loop also counts its iterations.
 */
#include "guest.h"

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#define MMIO_MAGIC	0x74726976	/* "virt" */
#define MAX_DEVS	16
#define MAX_VQS		2
#define QSIZE		16		/* the queue size we choose */

#define ST_BAD		1		/* exit status bits */
#define ST_NOT_RECOVERED 2
#define ST_SETUP	4

/* Guest memory this driver uses: above the image, below MIN_RAM_END. */
#define RING_BASE	0x01000000ull	/* queue i: desc, avail, used at + i * RING_STRIDE */
#define RING_STRIDE	0x4000ull
#define BUF_BASE	0x01100000ull	/* request buffers, handed out afresh each case */
#define BUF_END		0x01f00000ull
#define LOG_BASE	0x02000000ull	/* a copy of our output, for the virtio console */
#define LOG_SIZE	0x00100000u
#define BIG_BASE	0x04000000ull	/* big buffers that are still in RAM */
#define BIG_LEN		0x08000000u
#define MIN_RAM_END	(BIG_BASE + BIG_LEN)

#define PM_TMR_HZ	3579545u
#define WAIT_MS		2000		/* for the device to react to a request */
#define SETTLE_MS	10		/* after it reacted: anything else coming? */
#define MAX_SPINS	2000000u	/* poll iterations, whatever the timer says */

#define F(bit)		(1ull << (bit))
#define barrier()	asm volatile("" ::: "memory")

/* ---- time ---- */

static u32 pm_timer(void)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"((u16)ACPI_PM_TMR_PORT));
	return v;
}

struct deadline {
	u32	start, ticks, spins;
};

static void deadline_start(struct deadline *dl, u32 ms)
{
	dl->start = pm_timer();
	dl->ticks = ms * (PM_TMR_HZ / 1000);
	dl->spins = 0;
}

static bool deadline_passed(struct deadline *dl)
{
	return ++dl->spins > MAX_SPINS || pm_timer() - dl->start > dl->ticks;
}

static void sleep_ms(u32 ms)
{
	struct deadline dl;

	deadline_start(&dl, ms);
	while (!deadline_passed(&dl))
		cpu_relax();
}

/* ---- memory ---- */

static u64 ram_end;		/* end of the RAM that holds the guest image */
static u64 ram_top;		/* end of all RAM (above 4 GiB with -m over 3 GiB) */
static u64 buf_next;
static u32 log_len;

static bool find_ram(const struct boot_params *bp)
{
	for (int i = 0; i < bp->e820_entries && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		const struct boot_e820_entry *e = &bp->e820_table[i];

		if (e->type != 1)
			continue;
		if (e->addr <= KERNEL_LOAD_ADDR && e->addr + e->size > KERNEL_LOAD_ADDR)
			ram_end = e->addr + e->size;
		if (e->addr + e->size > ram_top)
			ram_top = e->addr + e->size;
	}
	return ram_end >= MIN_RAM_END && ram_end <= 0xc0000000ull;
}

/* Zeroed guest memory for one case's buffers (never runs out: cases are small). */
static u64 buf_alloc(u32 len)
{
	u64 p = buf_next;

	buf_next = (buf_next + len + 63) & ~63ull;
	if (buf_next > BUF_END) {
		puts("virtq-hostile: out of buffer space\n");
		guest_exit(ST_SETUP);
	}
	memset((void *)p, 0, len);
	return p;
}

static void log_putc(char c)
{
	if (log_len < LOG_SIZE)
		((char *)LOG_BASE)[log_len++] = c;
}

/* ---- virtio-mmio devices ---- */

struct vq {
	u16				index, size;
	volatile struct vring_desc	*desc;
	volatile struct vring_avail	*avail;
	volatile struct vring_used	*used;
	u16				avail_idx;	/* ours */
	u16				used_idx;	/* the used entries seen */
};

struct dev {
	u64		base;
	u32		id;
	const char	*kind;
	u64		offered;
	int		nr_vqs;
	struct vq	vq[MAX_VQS];
	u64		capacity;	/* blk: sectors */
	bool		ro;		/* blk: VIRTIO_BLK_F_RO */
	u8		mac[6];		/* net */
};

static struct dev devs[MAX_DEVS];
static int nr_devs;

static u32 rd(const struct dev *d, u32 off)
{
	return *(volatile u32 *)(d->base + off);
}

static void wr(const struct dev *d, u32 off, u32 v)
{
	*(volatile u32 *)(d->base + off) = v;
}

static void wr64(const struct dev *d, u32 off_low, u64 v)
{
	wr(d, off_low, (u32)v);
	wr(d, off_low + 4, v >> 32);
}

static u8 config8(const struct dev *d, u32 off)
{
	return *(volatile u8 *)(d->base + VIRTIO_MMIO_CONFIG + off);
}

static u32 status(const struct dev *d)
{
	return rd(d, VIRTIO_MMIO_STATUS);
}

static const char *kind_name(u32 id)
{
	switch (id) {
	case VIRTIO_ID_NET:	return "net";
	case VIRTIO_ID_BLOCK:	return "blk";
	case VIRTIO_ID_CONSOLE:	return "console";
	case VIRTIO_ID_RNG:	return "rng";
	case VIRTIO_ID_9P:	return "9p";
	default:		return NULL;
	}
}

static void dev_probe(struct dev *d)
{
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	d->offered = (u64)rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	d->offered |= rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	d->nr_vqs = d->id == VIRTIO_ID_NET || d->id == VIRTIO_ID_CONSOLE ? 2 : 1;
	if (d->id == VIRTIO_ID_BLOCK) {
		d->capacity = rd(d, VIRTIO_MMIO_CONFIG) |
			      (u64)rd(d, VIRTIO_MMIO_CONFIG + 4) << 32;
		d->ro = d->offered & F(VIRTIO_BLK_F_RO);
	}
	for (int i = 0; d->id == VIRTIO_ID_NET && i < 6; i++)
		d->mac[i] = config8(d, i);
}

static void find_devices(void)
{
	for (u64 off = 0; off < VIRTIO_MMIO_SIZE && nr_devs < MAX_DEVS;
	     off += VIRTIO_MMIO_DEV_SIZE) {
		struct dev *d = &devs[nr_devs];

		d->base = VIRTIO_MMIO_BASE + off;
		if (rd(d, VIRTIO_MMIO_MAGIC_VALUE) != MMIO_MAGIC)
			break;
		d->id = rd(d, VIRTIO_MMIO_DEVICE_ID);
		d->kind = kind_name(d->id);
		printf("virtq-hostile: %p: virtio-mmio version %u, device %u (%s)\n",
		       (void *)d->base, rd(d, VIRTIO_MMIO_VERSION), d->id,
		       d->kind ? d->kind : "not tested");
		if (!d->kind || rd(d, VIRTIO_MMIO_VERSION) != 2)
			continue;
		dev_probe(d);
		nr_devs++;
	}
}

/* ---- device setup ---- */

static bool dev_reset(struct dev *d)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	for (int i = 0; i < 1000; i++)
		if (status(d) == 0)
			return true;
	return false;
}

static u64 wanted_features(const struct dev *d)
{
	u64 f = F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_INDIRECT_DESC);

	if (d->id == VIRTIO_ID_BLOCK)
		f |= F(VIRTIO_BLK_F_DISCARD) | F(VIRTIO_BLK_F_WRITE_ZEROES);
	return f & d->offered;
}

/* Reset, ACKNOWLEDGE | DRIVER, @features, FEATURES_OK: did it stick? */
static bool dev_negotiate(struct dev *d, u64 features)
{
	u32 s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	if (!dev_reset(d))
		return false;
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(d, VIRTIO_MMIO_STATUS, s);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (u32)features);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, features >> 32);
	wr(d, VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_FEATURES_OK);
	return status(d) & VIRTIO_CONFIG_S_FEATURES_OK;
}

/* Where queue @i's rings go, and how big it is; the ring cases spoil these. */
struct qsetup {
	u32	size;
	u32	max;
	u64	desc, avail, used;
};

static void qsetup_default(const struct dev *d, int i, struct qsetup *s)
{
	u64 base = RING_BASE + i * RING_STRIDE;

	wr(d, VIRTIO_MMIO_QUEUE_SEL, i);
	s->max = rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	s->size = s->max < QSIZE ? s->max : QSIZE;
	s->desc = base;
	s->avail = base + 0x1000;
	s->used = base + 0x2000;
}

/* Program queue @i from @s and ask for QueueReady: does it read back 1? */
static bool vq_setup(struct dev *d, int i, const struct qsetup *s)
{
	struct vq *vq = &d->vq[i];

	memset((void *)(RING_BASE + i * RING_STRIDE), 0, RING_STRIDE);
	vq->index = i;
	vq->size = s->size;
	vq->desc = (void *)s->desc;
	vq->avail = (void *)s->avail;
	vq->used = (void *)s->used;
	vq->avail_idx = vq->used_idx = 0;
	wr(d, VIRTIO_MMIO_QUEUE_SEL, i);
	if (rd(d, VIRTIO_MMIO_QUEUE_READY))
		return false;
	wr(d, VIRTIO_MMIO_QUEUE_NUM, s->size);
	wr64(d, VIRTIO_MMIO_QUEUE_DESC_LOW, s->desc);
	wr64(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, s->avail);
	wr64(d, VIRTIO_MMIO_QUEUE_USED_LOW, s->used);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return rd(d, VIRTIO_MMIO_QUEUE_READY) == 1;
}

static bool vq_setup_default(struct dev *d, int i)
{
	struct qsetup s;

	qsetup_default(d, i, &s);
	return s.size && vq_setup(d, i, &s);
}

static bool dev_driver_ok(struct dev *d)
{
	u32 want = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;

	wr(d, VIRTIO_MMIO_STATUS, want);
	return status(d) == want;
}

/* From reset to DRIVER_OK with @features and every queue ready. */
static bool dev_start(struct dev *d, u64 features)
{
	if (!dev_negotiate(d, features))
		return false;
	for (int i = 0; i < d->nr_vqs; i++)
		if (!vq_setup_default(d, i))
			return false;
	return dev_driver_ok(d);
}

/* ---- requests ---- */

static void desc_set(struct vq *vq, u16 i, u64 addr, u32 len, u16 flags, u16 next)
{
	vq->desc[i].addr = addr;
	vq->desc[i].len = len;
	vq->desc[i].flags = flags;
	vq->desc[i].next = next;
}

/* A chain built from descriptor 0 up, each linked to the one before. */
struct chain {
	struct vq	*vq;
	u16		n;
};

static void chain_add(struct chain *c, u64 addr, u32 len, u16 flags)
{
	if (c->n) {
		c->vq->desc[c->n - 1].flags |= VRING_DESC_F_NEXT;
		c->vq->desc[c->n - 1].next = c->n;
	}
	desc_set(c->vq, c->n++, addr, len, flags, 0);
}

static void avail_push(struct vq *vq, u16 head)
{
	vq->avail->ring[vq->avail_idx % vq->size] = head;
	barrier();
	vq->avail->idx = ++vq->avail_idx;
	barrier();
}

static void notify(struct dev *d, int i)
{
	barrier();
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, i);
}

/* An indirect table of @n entries in buffer memory. */
static struct vring_desc *table_alloc(u32 n)
{
	return (struct vring_desc *)buf_alloc(n * sizeof(struct vring_desc));
}

/* What the device did with a request. */
struct result {
	bool	used;		/* it returned something on the queue */
	bool	reset;		/* it set NEEDS_RESET */
	u32	nr;		/* used entries */
	u32	id, len;	/* the first one */
};

enum want { WANT_USED, WANT_RESET };

/* Wait (bounded) until the device returns a buffer on @vq or needs a reset. */
static void wait_for(struct dev *d, struct vq *vq, enum want want, struct result *r)
{
	struct deadline dl;
	u16 idx;

	memset(r, 0, sizeof(*r));
	deadline_start(&dl, WAIT_MS);
	for (;;) {
		r->used = vq->used->idx != vq->used_idx;
		r->reset = status(d) & VIRTIO_CONFIG_S_NEEDS_RESET;
		if ((want == WANT_USED ? r->used : r->reset) || deadline_passed(&dl))
			break;
		cpu_relax();
	}
	if (r->used || r->reset)
		sleep_ms(SETTLE_MS);
	idx = vq->used->idx;
	r->reset = status(d) & VIRTIO_CONFIG_S_NEEDS_RESET;
	r->nr = (u16)(idx - vq->used_idx);
	r->used = r->nr;
	if (r->used) {
		r->id = vq->used->ring[vq->used_idx % vq->size].id;
		r->len = vq->used->ring[vq->used_idx % vq->size].len;
		vq->used_idx = idx;
	}
}

/* ---- verdicts ---- */

enum kind { V_BAD, V_RESET, V_FAILED, V_REFUSED, V_HARMLESS };

struct verdict {
	enum kind	kind;
	const char	*why;
	const char	*why2;
	bool		has_result;
	struct result	r;
};

/*
 * The device set NEEDS_RESET: detected, whatever else it did. Otherwise it
 * must have returned the request and @ok (the case's own check) must hold:
 * then it is @kind (a failed request or harmless) for reason @why.
 */
static void judge(struct verdict *v, const struct result *r, enum kind kind, bool ok,
		  const char *why)
{
	v->has_result = true;
	v->r = *r;
	v->why = why;
	if (r->reset)
		v->kind = V_RESET;
	else if (r->used && ok)
		v->kind = kind;
	else
		v->kind = V_BAD;
}

static void judge_reset(struct verdict *v, const struct result *r)
{
	judge(v, r, V_BAD, false, "wanted NEEDS_RESET");
}

/* ---- targets ---- */

struct target;

typedef void case_fn(struct target *t, struct verdict *v);

struct xcase {
	const char	*name;
	case_fn		*fn;
};

struct target {
	const char		*name;
	struct dev		*d;
	int			q;
	u16			dir;	/* VRING_DESC_F_WRITE: the device writes the buffers */
	/* Make the device take from the queue (net-rx: send it a frame to answer). */
	void			(*trigger)(struct target *t);
	/* One valid request after a reset: did it work? */
	bool			(*valid)(struct target *t);
	const struct xcase	*extra;
	int			nr_extra;
	bool			device_cases;	/* run the device-level cases here */
};

static struct vq *tvq(struct target *t)
{
	return &t->d->vq[t->q];
}

static void kick(struct target *t)
{
	notify(t->d, t->q);
	if (t->trigger)
		t->trigger(t);
}

/* Post the chain at descriptor 0, kick, wait. */
static void submit(struct target *t, enum want want, struct result *r)
{
	avail_push(tvq(t), 0);
	kick(t);
	wait_for(t->d, tvq(t), want, r);
}

/*
 * One 64-byte buffer posted as @len bytes with @flags, which the device has
 * nothing to do with: harmless if it comes back with 0 bytes written.
 */
static void one_unused_buffer(struct target *t, struct verdict *v, u32 len, u16 flags,
			      const char *what)
{
	struct chain c = { tvq(t), 0 };
	struct result r;

	chain_add(&c, buf_alloc(64), len, flags);
	submit(t, WANT_USED, &r);
	judge(v, &r, V_HARMLESS, r.len == 0, what);
}

/* ---- generic chain cases: each must end in NEEDS_RESET ---- */

struct gcase {
	const char	*name;
	void		(*build)(struct target *t, struct chain *c);
	bool		(*check)(void);		/* after: was guest memory left alone? */
	u64		drop;			/* features not to accept */
};

/* Just past the RAM below 4 GiB: a hole, or nothing at all. */
static u64 above_ram(void)
{
	return ram_end + 0x10000;
}

static void g_addr_above_ram(struct target *t, struct chain *c)
{
	chain_add(c, above_ram(), 64, t->dir);
}

static void g_addr_past_top(struct target *t, struct chain *c)
{
	u64 top = ram_top > 0x100000000ull ? ram_top : 0x100000000ull;

	chain_add(c, top + 0x1000, 64, t->dir);
}

/* From 16 bytes below 4 GiB across it: never RAM on both sides. */
static void g_addr_spans_4g(struct target *t, struct chain *c)
{
	chain_add(c, 0xfffffff0ull, 32, t->dir);
}

static void g_addr_mmio(struct target *t, struct chain *c)
{
	chain_add(c, t->d->base, 64, t->dir);	/* the device's own registers */
}

static void g_addr_wraps(struct target *t, struct chain *c)
{
	chain_add(c, 0xfffffffffffff000ull, 0x2000, t->dir);
}

#define CANARY_LEN	32
#define CANARY		0x5a

static void g_crosses_ram_end(struct target *t, struct chain *c)
{
	memset((void *)(ram_end - CANARY_LEN), CANARY, CANARY_LEN);
	chain_add(c, ram_end - CANARY_LEN, 2 * CANARY_LEN, t->dir);
}

static bool canary_intact(void)
{
	const u8 *p = (const u8 *)(ram_end - CANARY_LEN);

	for (int i = 0; i < CANARY_LEN; i++)
		if (p[i] != CANARY)
			return false;
	return true;
}

static void g_len_max(struct target *t, struct chain *c)
{
	chain_add(c, buf_alloc(64), 0xffffffff, t->dir);
}

static void g_second_outside(struct target *t, struct chain *c)
{
	chain_add(c, buf_alloc(64), 64, t->dir);
	chain_add(c, above_ram(), 64, t->dir);
}

static void g_loop_self(struct target *t, struct chain *c)
{
	desc_set(c->vq, 0, buf_alloc(64), 64, t->dir | VRING_DESC_F_NEXT, 0);
}

static void g_loop_two(struct target *t, struct chain *c)
{
	desc_set(c->vq, 0, buf_alloc(64), 64, t->dir | VRING_DESC_F_NEXT, 1);
	desc_set(c->vq, 1, buf_alloc(64), 64, t->dir | VRING_DESC_F_NEXT, 0);
}

/* Every descriptor of the ring once, then back to the first: size + 1 long. */
static void g_chain_too_long(struct target *t, struct chain *c)
{
	u64 b = buf_alloc(16);

	for (u16 i = 0; i < c->vq->size; i++)
		desc_set(c->vq, i, b, 16, t->dir | VRING_DESC_F_NEXT, (i + 1) % c->vq->size);
}

static void g_next_out_of_range(struct target *t, struct chain *c)
{
	desc_set(c->vq, 0, buf_alloc(64), 64, t->dir | VRING_DESC_F_NEXT, c->vq->size);
}

static void g_readable_after_writable(struct target *t, struct chain *c)
{
	chain_add(c, buf_alloc(64), 64, VRING_DESC_F_WRITE);
	chain_add(c, buf_alloc(64), 64, 0);
}

/* Descriptor 0 as an indirect table of @n entries, each a small buffer. */
static struct vring_desc *indirect(struct target *t, struct chain *c, u32 n, u32 len, u16 flags)
{
	struct vring_desc *tab = table_alloc(n);
	u64 b = buf_alloc(64);

	for (u32 i = 0; i < n; i++) {
		tab[i].addr = b;
		tab[i].len = 64;
		tab[i].flags = t->dir | (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		tab[i].next = i + 1;
	}
	chain_add(c, (u64)tab, len, VRING_DESC_F_INDIRECT | flags);
	return tab;
}

static void g_ind_len_odd(struct target *t, struct chain *c)
{
	indirect(t, c, 2, 24, 0);
}

static void g_ind_outside(struct target *t, struct chain *c)
{
	chain_add(c, above_ram(), 32, VRING_DESC_F_INDIRECT);
}

static void g_ind_nested(struct target *t, struct chain *c)
{
	struct vring_desc *tab = indirect(t, c, 2, 32, 0);
	struct vring_desc *inner = table_alloc(1);

	inner[0] = (struct vring_desc){ .addr = buf_alloc(64), .len = 64, .flags = t->dir };
	tab[1] = (struct vring_desc){ .addr = (u64)inner, .len = 16,
				      .flags = VRING_DESC_F_INDIRECT };
}

static void g_ind_with_next(struct target *t, struct chain *c)
{
	indirect(t, c, 2, 32, 0);
	chain_add(c, buf_alloc(64), 64, t->dir);
}

static void g_ind_after_direct(struct target *t, struct chain *c)
{
	chain_add(c, buf_alloc(64), 64, t->dir);
	indirect(t, c, 2, 32, 0);
}

static void g_ind_empty(struct target *t, struct chain *c)
{
	indirect(t, c, 1, 0, 0);
}

static void g_ind_loop(struct target *t, struct chain *c)
{
	struct vring_desc *tab = indirect(t, c, 2, 32, 0);

	tab[1].flags |= VRING_DESC_F_NEXT;
	tab[1].next = 0;
}

static void g_ind_next_out_of_range(struct target *t, struct chain *c)
{
	struct vring_desc *tab = indirect(t, c, 2, 32, 0);

	tab[1].flags |= VRING_DESC_F_NEXT;
	tab[1].next = 2;
}

static void g_ind_too_big(struct target *t, struct chain *c)
{
	indirect(t, c, 2048, 2048 * 16, 0);
}

static void g_ind_entry_outside(struct target *t, struct chain *c)
{
	struct vring_desc *tab = indirect(t, c, 2, 32, 0);

	tab[1].addr = above_ram();
}

/* 33 buffers of 128 MiB, all in RAM: more than 4 GiB together. */
static void g_total_over_4g(struct target *t, struct chain *c)
{
	struct vring_desc *tab = indirect(t, c, 33, 33 * 16, 0);

	for (int i = 0; i < 33; i++) {
		tab[i].addr = BIG_BASE;
		tab[i].len = BIG_LEN;
	}
}

static void g_ind_not_negotiated(struct target *t, struct chain *c)
{
	indirect(t, c, 2, 32, 0);
}

static const struct gcase gcases[] = {
	{ "addr-above-ram", g_addr_above_ram, NULL, 0 },
	{ "addr-past-top-of-ram", g_addr_past_top, NULL, 0 },
	{ "addr-spans-4g", g_addr_spans_4g, NULL, 0 },
	{ "addr-in-mmio-window", g_addr_mmio, NULL, 0 },
	{ "addr-len-wraps", g_addr_wraps, NULL, 0 },
	{ "crosses-end-of-ram", g_crosses_ram_end, canary_intact, 0 },
	{ "len-0xffffffff", g_len_max, NULL, 0 },
	{ "second-desc-above-ram", g_second_outside, NULL, 0 },
	{ "loop-to-itself", g_loop_self, NULL, 0 },
	{ "loop-of-two", g_loop_two, NULL, 0 },
	{ "chain-longer-than-queue", g_chain_too_long, NULL, 0 },
	{ "next-beyond-queue", g_next_out_of_range, NULL, 0 },
	{ "readable-after-writable", g_readable_after_writable, NULL, 0 },
	{ "indirect-len-not-16x", g_ind_len_odd, NULL, 0 },
	{ "indirect-above-ram", g_ind_outside, NULL, 0 },
	{ "indirect-nested", g_ind_nested, NULL, 0 },
	{ "indirect-with-next", g_ind_with_next, NULL, 0 },
	{ "indirect-after-direct", g_ind_after_direct, NULL, 0 },
	{ "indirect-empty", g_ind_empty, NULL, 0 },
	{ "indirect-loop", g_ind_loop, NULL, 0 },
	{ "indirect-next-beyond-table", g_ind_next_out_of_range, NULL, 0 },
	{ "indirect-2048-entries", g_ind_too_big, NULL, 0 },
	{ "indirect-entry-above-ram", g_ind_entry_outside, NULL, 0 },
	{ "total-over-4g", g_total_over_4g, NULL, 0 },
	{ "indirect-not-negotiated", g_ind_not_negotiated, NULL,
	  F(VIRTIO_RING_F_INDIRECT_DESC) },
};

static void run_gcase(struct target *t, const struct gcase *g, struct verdict *v)
{
	struct chain c = { tvq(t), 0 };
	struct result r;

	if (g->drop && !dev_start(t->d, wanted_features(t->d) & ~g->drop)) {
		v->why = "the device would not start without the feature";
		return;
	}
	g->build(t, &c);
	submit(t, WANT_RESET, &r);
	judge_reset(v, &r);
	if (g->check && !g->check()) {
		v->kind = V_BAD;
		v->why = "guest memory next to the buffer changed";
	}
}

/* Avail ring cases: the descriptors are fine, the ring is not. */
static void a_head_out_of_range(struct target *t, struct verdict *v)
{
	struct vq *vq = tvq(t);
	struct chain c = { vq, 0 };
	struct result r;

	chain_add(&c, buf_alloc(64), 64, t->dir);
	avail_push(vq, vq->size);
	kick(t);
	wait_for(t->d, vq, WANT_RESET, &r);
	judge_reset(v, &r);
}

static void a_idx_jump(struct target *t, struct verdict *v)
{
	struct vq *vq = tvq(t);
	struct chain c = { vq, 0 };
	struct result r;

	chain_add(&c, buf_alloc(64), 64, t->dir);
	for (u16 i = 0; i < vq->size; i++)
		vq->avail->ring[i] = 0;
	vq->avail_idx = vq->size + 1;
	barrier();
	vq->avail->idx = vq->avail_idx;
	kick(t);
	wait_for(t->d, vq, WANT_RESET, &r);
	judge_reset(v, &r);
}

static const struct xcase acases[] = {
	{ "avail-head-beyond-queue", a_head_out_of_range },
	{ "avail-idx-jumps-past-size", a_idx_jump },
};

/* ---- queue setup cases: the queue must not become ready ---- */

struct rcase {
	const char	*name;
	void		(*spoil)(struct qsetup *s);
};

static void r_desc_above_ram(struct qsetup *s)	{ s->desc = above_ram(); }
static void r_avail_mmio(struct qsetup *s)	{ s->avail = VIRTIO_MMIO_BASE; }
static void r_used_crosses_end(struct qsetup *s) { s->used = ram_end - 64; }
static void r_desc_wraps(struct qsetup *s)	{ s->desc = 0xfffffffffffff000ull; }
static void r_desc_misaligned(struct qsetup *s)	{ s->desc += 8; }
static void r_avail_misaligned(struct qsetup *s) { s->avail += 1; }
static void r_used_misaligned(struct qsetup *s)	{ s->used += 2; }
static void r_size_not_pow2(struct qsetup *s)	{ s->size = 12; }
static void r_size_zero(struct qsetup *s)	{ s->size = 0; }
static void r_size_over_max(struct qsetup *s)	{ s->size = 2 * s->max; }
static void r_size_over_16_bits(struct qsetup *s) { s->size |= 0x10000; }

static const struct rcase rcases[] = {
	{ "ring-desc-above-ram", r_desc_above_ram },
	{ "ring-avail-in-mmio-window", r_avail_mmio },
	{ "ring-used-crosses-end-of-ram", r_used_crosses_end },
	{ "ring-desc-wraps", r_desc_wraps },
	{ "ring-desc-misaligned", r_desc_misaligned },
	{ "ring-avail-misaligned", r_avail_misaligned },
	{ "ring-used-misaligned", r_used_misaligned },
	{ "queue-size-12", r_size_not_pow2 },
	{ "queue-size-0", r_size_zero },
	{ "queue-size-over-max", r_size_over_max },
	{ "queue-size-over-16-bits", r_size_over_16_bits },
};

static void run_rcase(struct target *t, const struct rcase *rc, struct verdict *v)
{
	struct dev *d = t->d;
	struct qsetup s;
	bool ready;

	if (!dev_negotiate(d, wanted_features(d))) {
		v->why = "FEATURES_OK did not stick";
		return;
	}
	for (int i = 0; i < d->nr_vqs; i++)
		if (i != t->q)
			vq_setup_default(d, i);
	qsetup_default(d, t->q, &s);
	rc->spoil(&s);
	ready = vq_setup(d, t->q, &s);
	if (ready) {
		v->why = "the queue became ready";
		return;
	}
	v->kind = V_REFUSED;
	v->why = "queue not ready";
	if (status(d) & VIRTIO_CONFIG_S_NEEDS_RESET)
		v->why2 = "needs reset";
}

/* ---- device-level cases (once a device) ---- */

static void d_no_version_1(struct target *t, struct verdict *v)
{
	if (dev_negotiate(t->d, wanted_features(t->d) & ~F(VIRTIO_F_VERSION_1))) {
		v->why = "FEATURES_OK stuck without VERSION_1";
		return;
	}
	v->kind = V_REFUSED;
	v->why = "FEATURES_OK not set";
}

static void d_feature_not_offered(struct target *t, struct verdict *v)
{
	const unsigned int bit = 50;	/* reserved: no device offers it */

	if ((t->d->offered & F(bit)) ||
	    dev_negotiate(t->d, wanted_features(t->d) | F(bit))) {
		v->why = "FEATURES_OK stuck with feature bit 50";
		return;
	}
	v->kind = V_REFUSED;
	v->why = "FEATURES_OK not set";
}

static void d_driver_ok_early(struct target *t, struct verdict *v)
{
	struct dev *d = t->d;

	dev_reset(d);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_DRIVER_OK);
	if (status(d) & VIRTIO_CONFIG_S_DRIVER_OK) {
		v->why = "DRIVER_OK stuck without FEATURES_OK";
		return;
	}
	v->kind = V_REFUSED;
	v->why = "DRIVER_OK not set";
}

static void d_notify_no_queue(struct target *t, struct verdict *v)
{
	wr(t->d, VIRTIO_MMIO_QUEUE_NOTIFY, 0x1234);
	wr(t->d, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	sleep_ms(SETTLE_MS);
	if (status(t->d) & VIRTIO_CONFIG_S_NEEDS_RESET) {
		v->kind = V_RESET;
		return;
	}
	v->kind = V_HARMLESS;
	v->why = "notify of a queue that does not exist: ignored";
}

static void d_select_no_queue(struct target *t, struct verdict *v)
{
	struct dev *d = t->d;

	wr(d, VIRTIO_MMIO_QUEUE_SEL, 0x1234);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr64(d, VIRTIO_MMIO_QUEUE_DESC_LOW, above_ram());
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	if (rd(d, VIRTIO_MMIO_QUEUE_READY) || rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX)) {
		v->why = "a queue that does not exist reads as there";
		return;
	}
	v->kind = V_HARMLESS;
	v->why = "setup of a queue that does not exist: ignored";
}

/* Config space is read-only for every lkvm device: writes must change nothing. */
static void d_config_write(struct target *t, struct verdict *v)
{
	struct dev *d = t->d;
	u32 before[16];

	for (int i = 0; i < 16; i++)
		before[i] = rd(d, VIRTIO_MMIO_CONFIG + 4 * i);
	for (int i = 0; i < 16; i++)
		wr(d, VIRTIO_MMIO_CONFIG + 4 * i, 0xffffffff);
	for (int i = 0; i < 16; i++) {
		if (rd(d, VIRTIO_MMIO_CONFIG + 4 * i) != before[i]) {
			v->why = "the config space changed";
			return;
		}
	}
	v->kind = V_HARMLESS;
	v->why = "read-only config space: writes ignored";
}

static void d_requeue_live(struct target *t, struct verdict *v)
{
	struct dev *d = t->d;
	struct qsetup s;

	qsetup_default(d, t->q, &s);
	wr(d, VIRTIO_MMIO_QUEUE_READY, 0);
	s.desc = above_ram();
	if (vq_setup(d, t->q, &s)) {
		v->why = "the queue became ready with its ring above RAM";
		return;
	}
	v->kind = V_REFUSED;
	v->why = "queue not ready";
	if (status(d) & VIRTIO_CONFIG_S_NEEDS_RESET)
		v->why2 = "needs reset";
}

/* Registers take aligned 32-bit accesses; a byte 0 to Status must not reset. */
static void d_odd_width(struct target *t, struct verdict *v)
{
	struct dev *d = t->d;
	u32 before = status(d);

	wr(d, VIRTIO_MMIO_QUEUE_SEL, t->q);
	*(volatile u8 *)(d->base + VIRTIO_MMIO_STATUS) = 0;
	*(volatile u16 *)(d->base + VIRTIO_MMIO_QUEUE_READY) = 0;
	*(volatile u64 *)(d->base + VIRTIO_MMIO_QUEUE_READY) = 0;
	*(volatile u32 *)(d->base + VIRTIO_MMIO_QUEUE_READY + 2) = 0;
	if (status(d) != before || rd(d, VIRTIO_MMIO_QUEUE_READY) != 1) {
		v->why = "a byte, halfword, quadword or unaligned write took effect";
		return;
	}
	v->kind = V_HARMLESS;
	v->why = "8-, 16-, 64-bit and unaligned register writes: ignored";
}

static const struct xcase dcases[] = {
	{ "features-without-version-1", d_no_version_1 },
	{ "feature-not-offered", d_feature_not_offered },
	{ "driver-ok-before-features-ok", d_driver_ok_early },
	{ "notify-queue-0x1234", d_notify_no_queue },
	{ "setup-queue-0x1234", d_select_no_queue },
	{ "config-space-write", d_config_write },
	{ "live-queue-moved-above-ram", d_requeue_live },
	{ "register-odd-widths", d_odd_width },
};

/* ---- rng ---- */

static bool rng_valid(struct target *t)
{
	struct chain c = { tvq(t), 0 };
	u64 b = buf_alloc(64);
	struct result r;
	u32 nonzero = 0;

	chain_add(&c, b, 64, VRING_DESC_F_WRITE);
	submit(t, WANT_USED, &r);
	for (int i = 0; i < 64; i++)
		nonzero += ((u8 *)b)[i] != 0;
	return r.used && !r.reset && r.id == 0 && r.len == 64 && nonzero;
}

static void rng_zero_len(struct target *t, struct verdict *v)
{
	one_unused_buffer(t, v, 0, VRING_DESC_F_WRITE, "nothing to fill: returned with 0 bytes");
}

static void rng_readable(struct target *t, struct verdict *v)
{
	one_unused_buffer(t, v, 64, 0, "no writable buffer: returned with 0 bytes");
}

static void rng_huge(struct target *t, struct verdict *v)
{
	struct chain c = { tvq(t), 0 };
	struct result r;

	chain_add(&c, BIG_BASE, BIG_LEN, VRING_DESC_F_WRITE);
	submit(t, WANT_USED, &r);
	judge(v, &r, V_HARMLESS, r.len <= 64 * 1024,
	      "128 MiB buffer: filled at most 64 KiB (lkvm's cap per request)");
}

static const struct xcase rng_cases[] = {
	{ "zero-length", rng_zero_len },
	{ "readable-buffer", rng_readable },
	{ "128mib-buffer", rng_huge },
};

/* ---- blk ---- */

#define BLK_MAGIC	"lkvm-hostile-disk"

struct blkreq {
	struct virtio_blk_outhdr	*hdr;
	u8				*data;
	u8				*status;
};

/* Header for @type at @sector, @dlen data bytes, a status byte (0xff: not set). */
static void blk_alloc(struct blkreq *b, u32 type, u64 sector, u32 dlen)
{
	b->hdr = (void *)buf_alloc(sizeof(*b->hdr));
	b->hdr->type = type;
	b->hdr->sector = sector;
	b->data = (void *)buf_alloc(dlen ? dlen : 1);
	b->status = (void *)buf_alloc(1);
	*b->status = 0xff;
}

/* [header][data, @dflags][status]: submit and judge by the status byte. */
static void blk_expect_error(struct target *t, struct verdict *v, u32 type, u64 sector,
			     u32 dlen, u16 dflags)
{
	struct chain c = { tvq(t), 0 };
	struct blkreq b;
	struct result r;
	u8 st;

	blk_alloc(&b, type, sector, dlen);
	chain_add(&c, (u64)b.hdr, sizeof(*b.hdr), 0);
	if (dlen)
		chain_add(&c, (u64)b.data, dlen, dflags);
	chain_add(&c, (u64)b.status, 1, VRING_DESC_F_WRITE);
	submit(t, WANT_USED, &r);
	st = *(volatile u8 *)b.status;
	judge(v, &r, V_FAILED, st == VIRTIO_BLK_S_IOERR || st == VIRTIO_BLK_S_UNSUPP,
	      st == VIRTIO_BLK_S_UNSUPP ? "status UNSUPP" : "status IOERR");
	if (v->kind == V_BAD && r.used)
		v->why = st == VIRTIO_BLK_S_OK ? "status OK: the request was done" :
			 "no status written";
}

static bool blk_valid(struct target *t)
{
	struct chain c = { tvq(t), 0 };
	struct blkreq b;
	struct result r;

	blk_alloc(&b, VIRTIO_BLK_T_IN, 0, 512);
	chain_add(&c, (u64)b.hdr, sizeof(*b.hdr), 0);
	chain_add(&c, (u64)b.data, 512, VRING_DESC_F_WRITE);
	chain_add(&c, (u64)b.status, 1, VRING_DESC_F_WRITE);
	submit(t, WANT_USED, &r);
	return r.used && !r.reset && r.len == 513 && *b.status == VIRTIO_BLK_S_OK &&
	       !memcmp(b.data, BLK_MAGIC, sizeof(BLK_MAGIC) - 1);
}

static void blk_short_header(struct target *t, struct verdict *v)
{
	struct chain c = { tvq(t), 0 };
	struct blkreq b;
	struct result r;

	blk_alloc(&b, VIRTIO_BLK_T_IN, 0, 0);
	chain_add(&c, (u64)b.hdr, 8, 0);
	chain_add(&c, (u64)b.status, 1, VRING_DESC_F_WRITE);
	submit(t, WANT_USED, &r);
	judge(v, &r, V_FAILED, *b.status == VIRTIO_BLK_S_IOERR, "status IOERR");
}

static void blk_unknown_type(struct target *t, struct verdict *v)
{
	blk_expect_error(t, v, 0x1234, 0, 512, VRING_DESC_F_WRITE);
}

static void blk_read_past_end(struct target *t, struct verdict *v)
{
	blk_expect_error(t, v, VIRTIO_BLK_T_IN, t->d->capacity, 512, VRING_DESC_F_WRITE);
}

static void blk_read_crossing_end(struct target *t, struct verdict *v)
{
	blk_expect_error(t, v, VIRTIO_BLK_T_IN, t->d->capacity - 1, 1024, VRING_DESC_F_WRITE);
}

static void blk_read_sector_huge(struct target *t, struct verdict *v)
{
	blk_expect_error(t, v, VIRTIO_BLK_T_IN, ~0ull, 512, VRING_DESC_F_WRITE);
}

static void blk_read_odd_len(struct target *t, struct verdict *v)
{
	blk_expect_error(t, v, VIRTIO_BLK_T_IN, 0, 100, VRING_DESC_F_WRITE);
}

static void blk_read_into_readable(struct target *t, struct verdict *v)
{
	blk_expect_error(t, v, VIRTIO_BLK_T_IN, 0, 512, 0);
}

static void blk_flush_with_data(struct target *t, struct verdict *v)
{
	blk_expect_error(t, v, VIRTIO_BLK_T_FLUSH, 0, 512, 0);
}

static void blk_no_status(struct target *t, struct verdict *v)
{
	struct chain c = { tvq(t), 0 };
	struct blkreq b;
	struct result r;

	blk_alloc(&b, VIRTIO_BLK_T_IN, 0, 0);
	chain_add(&c, (u64)b.hdr, sizeof(*b.hdr), 0);
	submit(t, WANT_RESET, &r);
	judge_reset(v, &r);
}

static void blk_zero_len_status(struct target *t, struct verdict *v)
{
	struct chain c = { tvq(t), 0 };
	struct blkreq b;
	struct result r;

	blk_alloc(&b, VIRTIO_BLK_T_IN, 0, 0);
	chain_add(&c, (u64)b.hdr, sizeof(*b.hdr), 0);
	chain_add(&c, (u64)b.status, 0, VRING_DESC_F_WRITE);
	submit(t, WANT_RESET, &r);
	judge_reset(v, &r);
}

static void blk_get_id_no_room(struct target *t, struct verdict *v)
{
	struct chain c = { tvq(t), 0 };
	struct blkreq b;
	struct result r;

	blk_alloc(&b, VIRTIO_BLK_T_GET_ID, 0, 0);
	chain_add(&c, (u64)b.hdr, sizeof(*b.hdr), 0);
	chain_add(&c, (u64)b.status, 1, VRING_DESC_F_WRITE);
	submit(t, WANT_USED, &r);
	judge(v, &r, V_HARMLESS, *b.status == VIRTIO_BLK_S_OK && r.len == 1,
	      "GET_ID with room for the status only: OK, no serial");
}

static void blk_write_past_end(struct target *t, struct verdict *v)
{
	blk_expect_error(t, v, VIRTIO_BLK_T_OUT, t->d->capacity, 512, 0);
}

static void blk_write_crossing_end(struct target *t, struct verdict *v)
{
	blk_expect_error(t, v, VIRTIO_BLK_T_OUT, t->d->capacity - 1, 1024, 0);
}

static void blk_write_from_writable(struct target *t, struct verdict *v)
{
	blk_expect_error(t, v, VIRTIO_BLK_T_OUT, 0, 512, VRING_DESC_F_WRITE);
}

static void blk_write_sector_0(struct target *t, struct verdict *v)
{
	blk_expect_error(t, v, VIRTIO_BLK_T_OUT, 0, 512, 0);
}

/* DISCARD / WRITE_ZEROES with one range (or @bytes of ranges). */
static void blk_range(struct target *t, struct verdict *v, u32 type, u64 sector, u32 num,
		      u32 flags, u32 bytes)
{
	struct chain c = { tvq(t), 0 };
	struct virtio_blk_discard_write_zeroes *seg;
	struct blkreq b;
	struct result r;
	u8 st;

	blk_alloc(&b, type, 0, 0);
	seg = (void *)buf_alloc(sizeof(*seg));
	seg->sector = sector;
	seg->num_sectors = num;
	seg->flags = flags;
	chain_add(&c, (u64)b.hdr, sizeof(*b.hdr), 0);
	chain_add(&c, (u64)seg, bytes, 0);
	chain_add(&c, (u64)b.status, 1, VRING_DESC_F_WRITE);
	submit(t, WANT_USED, &r);
	st = *(volatile u8 *)b.status;
	judge(v, &r, V_FAILED, st == VIRTIO_BLK_S_IOERR || st == VIRTIO_BLK_S_UNSUPP,
	      st == VIRTIO_BLK_S_UNSUPP ? "status UNSUPP" : "status IOERR");
}

static void blk_discard_past_end(struct target *t, struct verdict *v)
{
	blk_range(t, v, VIRTIO_BLK_T_DISCARD, t->d->capacity - 1, 8, 0, 16);
}

static void blk_discard_bad_flags(struct target *t, struct verdict *v)
{
	blk_range(t, v, VIRTIO_BLK_T_DISCARD, 0, 8, 0x80, 16);
}

static void blk_discard_partial(struct target *t, struct verdict *v)
{
	blk_range(t, v, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 10);
}

static void blk_zeroes_huge(struct target *t, struct verdict *v)
{
	blk_range(t, v, VIRTIO_BLK_T_WRITE_ZEROES, 0, 0xffffffff, 0, 16);
}

static void blk_zeroes_sector_0(struct target *t, struct verdict *v)
{
	blk_range(t, v, VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 0, 16);
}

static void blk_discard_sector_0(struct target *t, struct verdict *v)
{
	blk_range(t, v, VIRTIO_BLK_T_DISCARD, 0, 1, 0, 16);
}

#define BLK_COMMON_CASES \
	{ "header-too-short", blk_short_header }, \
	{ "unknown-type", blk_unknown_type }, \
	{ "read-past-end", blk_read_past_end }, \
	{ "read-crossing-end", blk_read_crossing_end }, \
	{ "read-sector-2^64-1", blk_read_sector_huge }, \
	{ "read-100-bytes", blk_read_odd_len }, \
	{ "read-into-readable-buffer", blk_read_into_readable }, \
	{ "flush-with-data", blk_flush_with_data }, \
	{ "no-status-byte", blk_no_status }, \
	{ "zero-length-status", blk_zero_len_status }, \
	{ "get-id-no-room", blk_get_id_no_room }, \
	{ "write-past-end", blk_write_past_end }, \
	{ "write-crossing-end", blk_write_crossing_end }, \
	{ "write-from-writable-buffer", blk_write_from_writable }

static const struct xcase blk_cases[] = {
	BLK_COMMON_CASES,
	{ "discard-past-end", blk_discard_past_end },
	{ "discard-bad-flags", blk_discard_bad_flags },
	{ "discard-10-bytes", blk_discard_partial },
	{ "write-zeroes-2^32-1-sectors", blk_zeroes_huge },
};

static const struct xcase blk_ro_cases[] = {
	BLK_COMMON_CASES,
	{ "write-to-ro-disk", blk_write_sector_0 },
	{ "write-zeroes-to-ro-disk", blk_zeroes_sector_0 },
	{ "discard-on-ro-disk", blk_discard_sector_0 },
};

/* ---- 9p ---- */

#define P9_RLERROR	7
#define P9_TVERSION	100
#define P9_RVERSION	101
#define P9_TWALK	110
#define P9_TAG		0x4242

struct p9buf {
	u8	*p;
	u32	len;
};

static void p9_put(struct p9buf *m, u64 v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		m->p[m->len++] = v >> (8 * i);
}

static void p9_str(struct p9buf *m, const char *s, u16 claimed)
{
	p9_put(m, claimed, 2);
	for (; *s; s++)
		m->p[m->len++] = *s;
}

/* size[4] type[1] tag[2]; the size is patched by p9_end. */
static void p9_begin(struct p9buf *m, u8 type)
{
	m->p = (u8 *)buf_alloc(256);
	m->len = 0;
	p9_put(m, 0, 4);
	p9_put(m, type, 1);
	p9_put(m, P9_TAG, 2);
}

static void p9_end(struct p9buf *m, u32 size)
{
	for (int i = 0; i < 4; i++)
		m->p[i] = size >> (8 * i);
}

static void p9_version(struct p9buf *m, u8 type, u16 claimed)
{
	p9_begin(m, type);
	p9_put(m, 8192, 4);
	p9_str(m, "9P2000.L", claimed);
	p9_end(m, m->len);
}

/* Send @m with a reply buffer of @cap bytes (0: none); the reply in *@reply. */
static void p9_send(struct target *t, const struct p9buf *m, u32 cap, enum want want,
		    struct result *r, u8 **reply)
{
	struct chain c = { tvq(t), 0 };

	*reply = (u8 *)buf_alloc(cap ? cap : 1);
	chain_add(&c, (u64)m->p, m->len, 0);
	if (cap)
		chain_add(&c, (u64)*reply, cap, VRING_DESC_F_WRITE);
	submit(t, want, r);
}

static bool p9_valid(struct target *t)
{
	struct p9buf m;
	struct result r;
	u8 *rep;

	p9_version(&m, P9_TVERSION, 8);
	p9_send(t, &m, 256, WANT_USED, &r, &rep);
	return r.used && !r.reset && r.len >= 7 + 4 + 2 + 8 && rep[4] == P9_RVERSION &&
	       rep[5] == (P9_TAG & 0xff) && !memcmp(rep + 13, "9P2000.L", 8);
}

/* @m must be answered with Rlerror (or dropped, with @dropped_ok). */
static void p9_expect_error(struct target *t, struct verdict *v, const struct p9buf *m,
			    bool dropped_ok)
{
	struct result r;
	u8 *rep;

	p9_send(t, m, 256, WANT_USED, &r, &rep);
	if (dropped_ok && r.len == 0)
		judge(v, &r, V_FAILED, true, "dropped: no header to answer");
	else
		judge(v, &r, V_FAILED, r.len >= 11 && rep[4] == P9_RLERROR, "Rlerror");
}

static void p9_short(struct target *t, struct verdict *v)
{
	struct p9buf m;

	p9_version(&m, P9_TVERSION, 8);
	m.len = 4;
	p9_expect_error(t, v, &m, true);
}

static void p9_size_past_buffer(struct target *t, struct verdict *v)
{
	struct p9buf m;

	p9_version(&m, P9_TVERSION, 8);
	p9_end(&m, m.len + 100);
	p9_expect_error(t, v, &m, false);
}

static void p9_size_below_header(struct target *t, struct verdict *v)
{
	struct p9buf m;

	p9_version(&m, P9_TVERSION, 8);
	p9_end(&m, 4);
	p9_expect_error(t, v, &m, false);
}

static void p9_unknown_type(struct target *t, struct verdict *v)
{
	struct p9buf m;

	p9_begin(&m, 0xf0);
	p9_put(&m, 0xdeadbeef, 4);
	p9_end(&m, m.len);
	p9_expect_error(t, v, &m, false);
}

static void p9_reply_as_request(struct target *t, struct verdict *v)
{
	struct p9buf m;

	p9_version(&m, P9_RVERSION, 8);
	p9_expect_error(t, v, &m, false);
}

static void p9_string_overruns(struct target *t, struct verdict *v)
{
	struct p9buf m;

	p9_version(&m, P9_TVERSION, 0x7fff);
	p9_expect_error(t, v, &m, false);
}

static void p9_walk_unknown_fid(struct target *t, struct verdict *v)
{
	struct p9buf m;

	p9_begin(&m, P9_TWALK);
	p9_put(&m, 0xdead, 4);		/* fid */
	p9_put(&m, 1, 4);		/* newfid */
	p9_put(&m, 0xffff, 2);		/* nwname, with no names */
	p9_end(&m, m.len);
	p9_expect_error(t, v, &m, false);
}

static void p9_reply_tiny(struct target *t, struct verdict *v)
{
	struct p9buf m;
	struct result r;
	u8 *rep;

	p9_version(&m, P9_TVERSION, 8);
	p9_send(t, &m, 8, WANT_USED, &r, &rep);
	judge(v, &r, V_HARMLESS, r.len == 0, "8-byte reply buffer: no reply, 0 bytes");
}

static void p9_no_reply_buffer(struct target *t, struct verdict *v)
{
	struct p9buf m;
	struct result r;
	u8 *rep;

	p9_version(&m, P9_TVERSION, 8);
	p9_send(t, &m, 0, WANT_USED, &r, &rep);
	judge(v, &r, V_HARMLESS, r.len == 0, "no reply buffer: returned with 0 bytes");
}

static void p9_zero_len(struct target *t, struct verdict *v)
{
	one_unused_buffer(t, v, 0, VRING_DESC_F_WRITE, "empty request: returned with 0 bytes");
}

static const struct xcase p9_cases[] = {
	{ "message-4-bytes", p9_short },
	{ "size-past-buffer", p9_size_past_buffer },
	{ "size-below-header", p9_size_below_header },
	{ "unknown-type", p9_unknown_type },
	{ "rversion-as-request", p9_reply_as_request },
	{ "string-overruns-message", p9_string_overruns },
	{ "walk-unknown-fid-65535-names", p9_walk_unknown_fid },
	{ "reply-buffer-8-bytes", p9_reply_tiny },
	{ "no-reply-buffer", p9_no_reply_buffer },
	{ "zero-length", p9_zero_len },
};

/* ---- console ---- */

static bool console_tx_valid(struct target *t)
{
	struct chain c = { tvq(t), 0 };
	u64 b = buf_alloc(1);
	struct result r;

	*(char *)b = '.';
	chain_add(&c, b, 1, 0);
	submit(t, WANT_USED, &r);
	return r.used && !r.reset && r.id == 0;
}

/* Needs input waiting on lkvm's stdin. */
static bool console_rx_valid(struct target *t)
{
	struct chain c = { tvq(t), 0 };
	struct result r;

	chain_add(&c, buf_alloc(8), 8, VRING_DESC_F_WRITE);
	submit(t, WANT_USED, &r);
	return r.used && !r.reset && r.len > 0 && r.len <= 8;
}

/* 256 KiB through 64 indirect buffers of 4 KiB: one line of dots. */
static void console_huge(struct target *t, struct verdict *v)
{
	struct chain c = { tvq(t), 0 };
	struct vring_desc *tab = table_alloc(64);
	u8 *b = (u8 *)buf_alloc(4096);
	u8 *nl = (u8 *)buf_alloc(1);
	struct result r;

	memset(b, '.', 4096);
	*nl = '\n';
	for (int i = 0; i < 64; i++)
		tab[i] = (struct vring_desc){ .addr = (u64)b, .len = 4096,
					      .flags = VRING_DESC_F_NEXT, .next = i + 1 };
	tab[63].addr = (u64)nl;
	tab[63].len = 1;
	tab[63].flags = 0;
	chain_add(&c, (u64)tab, 64 * 16, VRING_DESC_F_INDIRECT);
	submit(t, WANT_USED, &r);
	judge(v, &r, V_HARMLESS, true, "252 KiB written to the terminal");
}

static void console_tx_writable(struct target *t, struct verdict *v)
{
	one_unused_buffer(t, v, 64, VRING_DESC_F_WRITE, "writable buffer to transmit: ignored");
}

static void console_rx_readable(struct target *t, struct verdict *v)
{
	one_unused_buffer(t, v, 64, 0, "readable receive buffer: 0 bytes written");
}

static void zero_len(struct target *t, struct verdict *v)
{
	one_unused_buffer(t, v, 0, t->dir, "empty buffer: returned with 0 bytes");
}

static const struct xcase console_tx_cases[] = {
	{ "252kib-write", console_huge },
	{ "writable-buffer", console_tx_writable },
	{ "zero-length", zero_len },
};

static const struct xcase console_rx_cases[] = {
	{ "readable-buffer", console_rx_readable },
	{ "zero-length", zero_len },
};

/* ---- net ---- */

#define NET_HDR		sizeof(struct virtio_net_hdr_v1)
#define NET_RX_ROOM	(NET_HDR + 1514)

static const u8 host_ip[4] = { 10, 0, 2, 2 };
static const u8 guest_ip[4] = { 10, 0, 2, 15 };

/* A virtio-net header and an ARP request for the user-mode gateway. */
static u32 net_arp(const struct dev *d, u8 *p)
{
	u8 *f = p + NET_HDR;
	static const u8 arp_head[] = { 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1 };

	memset(p, 0, NET_HDR + 42);
	memset(f, 0xff, 6);
	memcpy(f + 6, d->mac, 6);
	memcpy(f + 12, arp_head, sizeof(arp_head));
	memcpy(f + 22, d->mac, 6);
	memcpy(f + 28, guest_ip, 4);
	memcpy(f + 38, host_ip, 4);
	return NET_HDR + 42;
}

/* Transmit one frame of @len bytes from @p on the tx queue (1), not waiting. */
static void net_send(struct dev *d, u64 p, u32 len)
{
	struct chain c = { &d->vq[1], 0 };

	chain_add(&c, p, len, 0);
	avail_push(&d->vq[1], 0);
	notify(d, 1);
}

/* net-rx's trigger: an ARP request, whose answer lands on the receive queue. */
static void net_trigger(struct target *t)
{
	u64 p = buf_alloc(NET_HDR + 42);

	net_send(t->d, p, net_arp(t->d, (u8 *)p));
}

/* A receive buffer, an ARP request, and the reply in the buffer. */
static bool net_valid(struct target *t)
{
	struct dev *d = t->d;
	struct chain c = { &d->vq[0], 0 };
	u8 *rx = (u8 *)buf_alloc(NET_RX_ROOM), *f = rx + NET_HDR;
	u64 tx = buf_alloc(NET_HDR + 42);
	struct result r, rt;

	chain_add(&c, (u64)rx, NET_RX_ROOM, VRING_DESC_F_WRITE);
	avail_push(&d->vq[0], 0);
	notify(d, 0);
	net_send(d, tx, net_arp(d, (u8 *)tx));
	wait_for(d, &d->vq[0], WANT_USED, &r);
	wait_for(d, &d->vq[1], WANT_USED, &rt);
	return r.used && rt.used && !r.reset && r.len >= NET_HDR + 42 &&
	       f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 && !memcmp(f + 28, host_ip, 4);
}

/* Transmit @len bytes of the frame in @p: the device must return it. */
static void net_tx_expect_drop(struct target *t, struct verdict *v, u64 p, u32 len,
			       const char *why)
{
	struct chain c = { tvq(t), 0 };
	struct result r;

	chain_add(&c, p, len, 0);
	submit(t, WANT_USED, &r);
	judge(v, &r, V_HARMLESS, r.len == 0, why);
}

static void net_tx_short_header(struct target *t, struct verdict *v)
{
	net_tx_expect_drop(t, v, buf_alloc(64), 8, "shorter than the virtio-net header: dropped");
}

static void net_tx_garbage(struct target *t, struct verdict *v)
{
	u8 *p = (u8 *)buf_alloc(NET_HDR + 60);

	for (u32 i = 0; i < NET_HDR + 60; i++)
		p[i] = i * 37 + 11;
	net_tx_expect_drop(t, v, (u64)p, NET_HDR + 60, "garbage header and frame: dropped");
}

static void net_tx_runt_arp(struct target *t, struct verdict *v)
{
	u8 *p = (u8 *)buf_alloc(NET_HDR + 42);

	net_arp(t->d, p);
	net_tx_expect_drop(t, v, (u64)p, NET_HDR + 20, "ARP cut short: dropped");
}

static void net_tx_bad_ip(struct target *t, struct verdict *v)
{
	u8 *p = (u8 *)buf_alloc(NET_HDR + 60), *f = p + NET_HDR;
	struct virtio_net_hdr_v1 *h = (void *)p;

	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->csum_start = 0xfff0;
	h->csum_offset = 0xfff0;
	h->gso_size = 1;
	memcpy(f + 6, t->d->mac, 6);
	f[12] = 0x08;
	f[14] = 0x4f;			/* IPv4, 60-byte header */
	f[16] = 0xff;			/* tot_len 0xffff */
	f[17] = 0xff;
	net_tx_expect_drop(t, v, (u64)p, NET_HDR + 60,
			   "nonsense offload header and IP header: dropped");
}

/* 70,000 bytes through 18 indirect buffers: more than any frame. */
static void net_tx_oversize(struct target *t, struct verdict *v)
{
	struct chain c = { tvq(t), 0 };
	struct vring_desc *tab = table_alloc(18);
	u8 *p = (u8 *)buf_alloc(4096);
	struct result r;

	net_arp(t->d, p);
	for (int i = 0; i < 18; i++)
		tab[i] = (struct vring_desc){ .addr = (u64)p, .len = 4096,
					      .flags = i < 17 ? VRING_DESC_F_NEXT : 0,
					      .next = i + 1 };
	tab[17].len = 70000 - 17 * 4096;
	chain_add(&c, (u64)tab, 18 * 16, VRING_DESC_F_INDIRECT);
	submit(t, WANT_USED, &r);
	judge(v, &r, V_HARMLESS, r.len == 0, "70,000-byte frame: cut to the maximum, dropped");
}

/* A receive chain of @len bytes (@flags); the frame that comes for it must be cut to fit. */
static void net_rx_short(struct target *t, struct verdict *v)
{
	struct chain c = { tvq(t), 0 };
	struct result r;

	chain_add(&c, buf_alloc(64), 20, VRING_DESC_F_WRITE);
	submit(t, WANT_USED, &r);
	judge(v, &r, V_HARMLESS, r.len <= 20, "20-byte receive buffer: frame cut to fit");
}

/* A receive chain with no room for the virtio-net header: NEEDS_RESET. */
static void net_rx_no_room(struct target *t, struct verdict *v, u32 len, u16 flags)
{
	struct chain c = { tvq(t), 0 };
	struct result r;

	chain_add(&c, buf_alloc(64), len, flags);
	submit(t, WANT_RESET, &r);
	judge_reset(v, &r);
}

static void net_rx_below_header(struct target *t, struct verdict *v)
{
	net_rx_no_room(t, v, 8, VRING_DESC_F_WRITE);
}

static void net_rx_zero_len(struct target *t, struct verdict *v)
{
	net_rx_no_room(t, v, 0, VRING_DESC_F_WRITE);
}

static void net_rx_readable(struct target *t, struct verdict *v)
{
	net_rx_no_room(t, v, 64, 0);
}

static const struct xcase net_tx_cases[] = {
	{ "shorter-than-header", net_tx_short_header },
	{ "garbage-frame", net_tx_garbage },
	{ "arp-cut-short", net_tx_runt_arp },
	{ "bad-offload-and-ip-header", net_tx_bad_ip },
	{ "70000-byte-frame", net_tx_oversize },
	{ "zero-length", zero_len },
};

static const struct xcase net_rx_cases[] = {
	{ "rx-buffer-20-bytes", net_rx_short },
	{ "rx-buffer-below-header", net_rx_below_header },
	{ "rx-buffer-zero-length", net_rx_zero_len },
	{ "rx-buffer-readable", net_rx_readable },
};

/* ---- a full queue in flight, then reset or disable ---- */

#define BUSY_STRIDE	0x10000u	/* writable buffer i: BIG_BASE + i * BUSY_STRIDE */
#define BUSY_QUIET_MS	50		/* nothing may arrive in this long after */

static void busy_post(struct target *t, u16 i, u64 addr, u32 len, u16 flags)
{
	desc_set(tvq(t), i, addr, len, flags, 0);
	avail_push(tvq(t), i);
}

/* Request @i as an indirect table of the @n entries @e, linked in order. */
static void busy_post_table(struct target *t, u16 i, const struct vring_desc *e, u32 n)
{
	struct vring_desc *tab = table_alloc(n);

	for (u32 k = 0; k < n; k++) {
		tab[k] = e[k];
		if (k + 1 < n) {
			tab[k].flags |= VRING_DESC_F_NEXT;
			tab[k].next = k + 1;
		}
	}
	busy_post(t, i, (u64)tab, n * sizeof(*tab), VRING_DESC_F_INDIRECT);
}

/* A 64 KiB read of sector 128 * @i into @w. */
static void blk_busy(struct target *t, u16 i, u64 w)
{
	struct blkreq b;

	blk_alloc(&b, VIRTIO_BLK_T_IN, 128ull * i, 0);
	busy_post_table(t, i, (const struct vring_desc[]){
		{ (u64)b.hdr, sizeof(*b.hdr), 0, 0 },
		{ w, BUSY_STRIDE, VRING_DESC_F_WRITE, 0 },
		{ (u64)b.status, 1, VRING_DESC_F_WRITE, 0 } }, 3);
}

static void p9_busy(struct target *t, u16 i, u64 w)
{
	struct p9buf m;

	p9_version(&m, P9_TVERSION, 8);
	busy_post_table(t, i, (const struct vring_desc[]){
		{ (u64)m.p, m.len, 0, 0 },
		{ w, 256, VRING_DESC_F_WRITE, 0 } }, 2);
}

/* Fill the queue with requests; what the device writes goes to BIG_BASE up. */
static void post_busy(struct target *t)
{
	struct dev *d = t->d;
	u64 tx = buf_alloc(NET_HDR + 42);

	if (d->id == VIRTIO_ID_NET)
		net_arp(d, (u8 *)tx);
	else
		*(char *)tx = '.';
	for (u16 i = 0; i < tvq(t)->size; i++) {
		u64 w = BIG_BASE + i * BUSY_STRIDE;

		if (d->id == VIRTIO_ID_RNG)
			busy_post(t, i, w, BUSY_STRIDE, VRING_DESC_F_WRITE);
		else if (d->id == VIRTIO_ID_BLOCK)
			blk_busy(t, i, w);
		else if (d->id == VIRTIO_ID_9P)
			p9_busy(t, i, w);
		else if (t->dir)
			busy_post(t, i, w, d->id == VIRTIO_ID_NET ? NET_RX_ROOM : 8,
				  VRING_DESC_F_WRITE);
		else
			busy_post(t, i, tx, d->id == VIRTIO_ID_NET ? NET_HDR + 42 : 1, 0);
	}
}

/* Clear what the device may write, wait, and see that it stays clear. */
static bool busy_untouched(struct target *t)
{
	volatile u8 *p = (volatile u8 *)BIG_BASE;
	u32 n = tvq(t)->size * BUSY_STRIDE;

	if (!t->dir)
		return true;
	memset((void *)p, 0, n);
	sleep_ms(BUSY_QUIET_MS);
	for (u32 i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void b_reset_busy(struct target *t, struct verdict *v)
{
	post_busy(t);
	kick(t);
	if (!dev_reset(t->d)) {
		v->why = "the reset did not complete";
		return;
	}
	if (!busy_untouched(t)) {
		v->why = "buffers were written after the reset";
		return;
	}
	v->kind = V_HARMLESS;
	v->why = "reset with a full queue in flight: nothing written after it";
}

/* QueueReady = 0 under load (no RING_RESET: a driver may not do this). */
static void b_disable_busy(struct target *t, struct verdict *v)
{
	struct vq *vq = tvq(t);
	u16 idx;

	post_busy(t);
	kick(t);
	wr(t->d, VIRTIO_MMIO_QUEUE_SEL, t->q);
	wr(t->d, VIRTIO_MMIO_QUEUE_READY, 0);
	if (rd(t->d, VIRTIO_MMIO_QUEUE_READY)) {
		v->why = "the queue stayed ready";
		return;
	}
	idx = vq->used->idx;
	sleep_ms(BUSY_QUIET_MS);
	if (vq->used->idx != idx) {
		v->why = "buffers were returned after the queue was disabled";
		return;
	}
	v->kind = V_HARMLESS;
	v->why = "queue disabled with a full queue in flight: nothing returned after";
}

/* A looping chain kicked before DRIVER_OK: found when the device starts. */
static void b_kick_early(struct target *t, struct verdict *v)
{
	struct dev *d = t->d;
	struct chain c = { tvq(t), 0 };
	struct result r;

	if (!dev_negotiate(d, wanted_features(d))) {
		v->why = "FEATURES_OK did not stick";
		return;
	}
	for (int i = 0; i < d->nr_vqs; i++)
		vq_setup_default(d, i);
	g_loop_self(t, &c);
	avail_push(tvq(t), 0);
	notify(d, t->q);
	dev_driver_ok(d);
	if (t->trigger)
		t->trigger(t);
	wait_for(d, tvq(t), WANT_RESET, &r);
	judge_reset(v, &r);
}

static const struct xcase bcases[] = {
	{ "loop-kicked-before-driver-ok", b_kick_early },
	{ "reset-while-busy", b_reset_busy },
	{ "queue-disabled-while-busy", b_disable_busy },
};

/* ---- running the cases ---- */

static const char *only_case;	/* vqh.case */
static int nr_cases, nr_detected, nr_harmless, nr_bad, nr_unrecovered;
static int exit_bits;

static void print_result(const struct result *r)
{
	if (r->used)
		printf("used len %u%s", r->len, r->reset ? " + needs reset" : "");
	else
		printf("%s", r->reset ? "needs reset" : "nothing");
}

static void report(struct target *t, const char *name, const struct verdict *v, bool ok)
{
	static const char *const kinds[] = {
		[V_BAD] = "UNEXPECTED", [V_RESET] = "detected: needs reset",
		[V_FAILED] = "detected: failed request", [V_REFUSED] = "detected: refused",
		[V_HARMLESS] = "harmless",
	};

	printf("virtq-hostile: %s %s: %s", t->name, name, kinds[v->kind]);
	if (v->why && v->kind != V_RESET)
		printf(" (%s%s%s)", v->why, v->why2 ? ", " : "", v->why2 ? v->why2 : "");
	if (v->has_result && v->kind != V_RESET) {
		printf(" [");
		print_result(&v->r);
		printf("]");
	}
	printf("; %s\n", ok ? "recovered" : "NOT RECOVERED");
}

/* Start a case: false if it is not selected. */
static bool case_begin(const char *name)
{
	u32 n = strlen(name);

	if (only_case && (memcmp(only_case, name, n) || (only_case[n] && only_case[n] != ' ')))
		return false;
	buf_next = BUF_BASE;
	return true;
}

/* After a case: reset, set up again, one valid request; then the report line. */
static void case_end(struct target *t, const char *name, struct verdict *v)
{
	bool ok;

	buf_next = BUF_BASE;
	ok = dev_start(t->d, wanted_features(t->d)) && t->valid(t);
	nr_cases++;
	if (v->kind == V_BAD) {
		nr_bad++;
		exit_bits |= ST_BAD;
	} else if (v->kind == V_HARMLESS) {
		nr_harmless++;
	} else {
		nr_detected++;
	}
	if (!ok) {
		nr_unrecovered++;
		exit_bits |= ST_NOT_RECOVERED;
	}
	report(t, name, v, ok);
}

/* A case that runs on a started device. */
static void run_xcase(struct target *t, const struct xcase *x)
{
	struct verdict v = { .kind = V_BAD, .why = "the device would not start" };

	if (!case_begin(x->name))
		return;
	if (dev_start(t->d, wanted_features(t->d))) {
		v.why = NULL;
		x->fn(t, &v);
	}
	case_end(t, x->name, &v);
}

static void run_target(struct target *t)
{
	printf("virtq-hostile: --- %s (%s at %p, queue %d) ---\n", t->name, t->d->kind,
	       (void *)t->d->base, t->q);
	for (u32 i = 0; i < ARRAY_SIZE(gcases); i++) {
		struct verdict v = { .kind = V_BAD, .why = "the device would not start" };

		if (!case_begin(gcases[i].name))
			continue;
		if (dev_start(t->d, wanted_features(t->d))) {
			v.why = NULL;
			run_gcase(t, &gcases[i], &v);
		}
		case_end(t, gcases[i].name, &v);
	}
	for (u32 i = 0; i < ARRAY_SIZE(acases); i++)
		run_xcase(t, &acases[i]);
	for (u32 i = 0; i < ARRAY_SIZE(bcases); i++)
		run_xcase(t, &bcases[i]);
	for (u32 i = 0; i < ARRAY_SIZE(rcases); i++) {
		struct verdict v = { .kind = V_BAD };

		if (!case_begin(rcases[i].name))
			continue;
		run_rcase(t, &rcases[i], &v);
		case_end(t, rcases[i].name, &v);
	}
	for (u32 i = 0; t->device_cases && i < ARRAY_SIZE(dcases); i++)
		run_xcase(t, &dcases[i]);
	for (int i = 0; i < t->nr_extra; i++)
		run_xcase(t, &t->extra[i]);
}

/* The targets of device @d; returns how many were filled in. */
static int make_targets(struct dev *d, struct target *t)
{
	switch (d->id) {
	case VIRTIO_ID_RNG:
		t[0] = (struct target){ "rng", d, 0, VRING_DESC_F_WRITE, NULL, rng_valid,
					rng_cases, ARRAY_SIZE(rng_cases), true };
		return 1;
	case VIRTIO_ID_BLOCK:
		t[0] = (struct target){ d->ro ? "blk-ro" : "blk", d, 0, VRING_DESC_F_WRITE, NULL,
					blk_valid, d->ro ? blk_ro_cases : blk_cases,
					d->ro ? ARRAY_SIZE(blk_ro_cases) : ARRAY_SIZE(blk_cases),
					true };
		return 1;
	case VIRTIO_ID_9P:
		t[0] = (struct target){ "9p", d, 0, VRING_DESC_F_WRITE, NULL, p9_valid,
					p9_cases, ARRAY_SIZE(p9_cases), true };
		return 1;
	case VIRTIO_ID_NET:
		t[0] = (struct target){ "net-tx", d, 1, 0, NULL, net_valid,
					net_tx_cases, ARRAY_SIZE(net_tx_cases), true };
		t[1] = (struct target){ "net-rx", d, 0, VRING_DESC_F_WRITE, net_trigger,
					net_valid, net_rx_cases, ARRAY_SIZE(net_rx_cases), false };
		return 2;
	case VIRTIO_ID_CONSOLE:
		t[0] = (struct target){ "console-tx", d, 1, 0, NULL, console_tx_valid,
					console_tx_cases, ARRAY_SIZE(console_tx_cases), true };
		t[1] = (struct target){ "console-rx", d, 0, VRING_DESC_F_WRITE, NULL,
					console_rx_valid, console_rx_cases,
					ARRAY_SIZE(console_rx_cases), false };
		return 2;
	}
	return 0;
}

/* Is @kind in the comma-separated list @list (which ends at a space or NUL)? */
static bool in_list(const char *list, const char *kind)
{
	u32 n = strlen(kind);

	while (list && *list && *list != ' ') {
		if (!memcmp(list, kind, n) && (!list[n] || list[n] == ',' || list[n] == ' '))
			return true;
		while (*list && *list != ',' && *list != ' ')
			list++;
		if (*list == ',')
			list++;
	}
	return false;
}

/* Every kind in vqh.devices must be there. */
static bool check_expected(const char *list)
{
	static const char *const kinds[] = { "rng", "blk", "net", "9p", "console" };
	bool ok = true;

	for (u32 k = 0; list && k < ARRAY_SIZE(kinds); k++) {
		bool found = false;

		if (!in_list(list, kinds[k]))
			continue;
		for (int i = 0; i < nr_devs; i++)
			found |= !memcmp(devs[i].kind, kinds[k], strlen(kinds[k]) + 1);
		if (!found) {
			printf("virtq-hostile: FAIL: no %s device\n", kinds[k]);
			ok = false;
		}
	}
	return ok;
}

static struct dev *find_kind(u32 id)
{
	for (int i = 0; i < nr_devs; i++)
		if (devs[i].id == id)
			return &devs[i];
	return NULL;
}

/* lkvm drops serial output with --console virtio: send ours through the console. */
static void flush_log(struct dev *con)
{
	struct chain c = { &con->vq[1], 0 };
	struct result r;

	putc_hook = NULL;
	if (!dev_start(con, wanted_features(con)))
		return;
	chain_add(&c, LOG_BASE, log_len, 0);
	avail_push(&con->vq[1], 0);
	notify(con, 1);
	wait_for(con, &con->vq[1], WANT_USED, &r);
}

int guest_main(struct boot_params *bp)
{
	const char *line = cmdline(bp);
	const char *list = cmdline_get(line, "vqh.devices");
	struct dev *con;

	only_case = cmdline_get(line, "vqh.case");
	if (!find_ram(bp)) {
		printf("virtq-hostile: FAIL: need RAM from 1 MiB to at least %p (-m 256)\n",
		       (void *)MIN_RAM_END);
		return ST_SETUP;
	}
	log_putc('\n');	/* after the dots of the console's own checks */
	putc_hook = log_putc;
	find_devices();
	con = find_kind(VIRTIO_ID_CONSOLE);
	if (!check_expected(list))
		exit_bits |= ST_SETUP;
	for (int i = 0; i < nr_devs; i++) {
		struct target t[2];
		int n;

		if (list && !in_list(list, devs[i].kind))
			continue;
		n = make_targets(&devs[i], t);
		for (int k = 0; k < n; k++)
			run_target(&t[k]);
		dev_reset(&devs[i]);
	}
	printf("virtq-hostile: %d cases: %d detected, %d harmless, %d unexpected; %d not recovered\n",
	       nr_cases, nr_detected, nr_harmless, nr_bad, nr_unrecovered);
	printf("virtq-hostile: %s (status %d)\n", exit_bits ? "FAIL" : "PASS", exit_bits);
	if (con)
		flush_log(con);
	return exit_bits;
}
