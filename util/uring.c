/* A minimal io_uring: setup, one submitter, one reaper, over raw syscalls. */
#include "kvm/uring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_io_uring_setup(u32 entries, struct io_uring_params *p)
{
	return syscall(__NR_io_uring_setup, entries, p);
}

static int sys_io_uring_enter(int fd, u32 to_submit, u32 min_complete, u32 flags)
{
	return syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
}

static int sys_io_uring_register(int fd, u32 op, void *arg, u32 nr)
{
	return syscall(__NR_io_uring_register, fd, op, arg, nr);
}

static void *uring__map(int fd, size_t len, u64 off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off);

	return p == MAP_FAILED ? NULL : p;
}

static int uring__map_rings(struct uring *u, const struct io_uring_params *p)
{
	u->sq_ring_size = p->sq_off.array + p->sq_entries * sizeof(u32);
	u->cq_ring_size = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
	if (p->features & IORING_FEAT_SINGLE_MMAP) {
		u->sq_ring_size = u->cq_ring_size = max_t(size_t, u->sq_ring_size,
							  u->cq_ring_size);
	}
	u->sq_ring = uring__map(u->fd, u->sq_ring_size, IORING_OFF_SQ_RING);
	if (!u->sq_ring)
		return -errno;
	if (p->features & IORING_FEAT_SINGLE_MMAP)
		u->cq_ring = u->sq_ring;
	else
		u->cq_ring = uring__map(u->fd, u->cq_ring_size, IORING_OFF_CQ_RING);
	if (!u->cq_ring)
		return -errno;
	u->sqes_size = p->sq_entries * sizeof(struct io_uring_sqe);
	u->sqes = uring__map(u->fd, u->sqes_size, IORING_OFF_SQES);
	if (!u->sqes)
		return -errno;
	return 0;
}

static void uring__set_pointers(struct uring *u, const struct io_uring_params *p)
{
	u8 *sq = u->sq_ring, *cq = u->cq_ring;

	u->sq_entries = p->sq_entries;
	u->sq_head = (u32 *)(sq + p->sq_off.head);
	u->sq_tail = (u32 *)(sq + p->sq_off.tail);
	u->sq_mask = (u32 *)(sq + p->sq_off.ring_mask);
	u->sq_array = (u32 *)(sq + p->sq_off.array);
	u->sq_local = *u->sq_tail;
	u->cq_entries = p->cq_entries;
	u->cq_head = (u32 *)(cq + p->cq_off.head);
	u->cq_tail = (u32 *)(cq + p->cq_off.tail);
	u->cq_mask = (u32 *)(cq + p->cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p->cq_off.cqes);
	/* SQE i always sits in slot i: the indirection array is the identity. */
	for (u32 i = 0; i < u->sq_entries; i++)
		u->sq_array[i] = i;
}

static int uring__setup(struct uring *u, u32 entries, u32 flags)
{
	struct io_uring_params p;
	int ret;

	memset(u, 0, sizeof(*u));
	memset(&p, 0, sizeof(p));
	p.flags = flags;
	u->fd = sys_io_uring_setup(entries, &p);
	if (u->fd < 0)
		return -errno;
	u->features = p.features;
	ret = uring__map_rings(u, &p);
	if (ret) {
		uring__exit(u);
		return ret;
	}
	uring__set_pointers(u, &p);
	return 0;
}

int uring__init(struct uring *u, u32 entries)
{
	return uring__setup(u, entries, 0);
}

int uring__init_restricted(struct uring *u, u32 entries, const u8 *ops, unsigned int nr)
{
	struct io_uring_restriction r[16];
	int ret;

	if (nr > ARRAY_SIZE(r))
		return -EINVAL;
	ret = uring__setup(u, entries, IORING_SETUP_R_DISABLED);
	if (ret == -EINVAL)
		return uring__init(u, entries);		/* before 5.10: no restrictions */
	if (ret)
		return ret;
	memset(r, 0, sizeof(r));
	for (unsigned int i = 0; i < nr; i++) {
		r[i].opcode = IORING_RESTRICTION_SQE_OP;
		r[i].sqe_op = ops[i];
	}
	if (sys_io_uring_register(u->fd, IORING_REGISTER_RESTRICTIONS, r, nr) < 0 ||
	    sys_io_uring_register(u->fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0) {
		ret = -errno;
		uring__exit(u);
		return ret;
	}
	return 0;
}

void uring__exit(struct uring *u)
{
	if (u->sqes)
		munmap(u->sqes, u->sqes_size);
	if (u->cq_ring && u->cq_ring != u->sq_ring)
		munmap(u->cq_ring, u->cq_ring_size);
	if (u->sq_ring)
		munmap(u->sq_ring, u->sq_ring_size);
	if (u->fd >= 0)
		close(u->fd);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}

bool uring__supports(struct uring *u, u8 op)
{
	const unsigned int nr = 256;
	struct io_uring_probe *p;
	bool ok;

	p = calloc(1, sizeof(*p) + nr * sizeof(p->ops[0]));
	if (!p)
		return false;
	/* Before 5.6 there is no probe; only the first four ops existed. */
	if (sys_io_uring_register(u->fd, IORING_REGISTER_PROBE, p, nr) < 0)
		ok = op <= IORING_OP_FSYNC;
	else
		ok = op <= p->last_op && op < p->ops_len &&
		     (p->ops[op].flags & IO_URING_OP_SUPPORTED);
	free(p);
	return ok;
}

struct io_uring_sqe *uring__get_sqe(struct uring *u)
{
	u32 head = __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
	struct io_uring_sqe *sqe;

	if (u->sq_local - head >= u->sq_entries)
		return NULL;
	sqe = &u->sqes[u->sq_local & *u->sq_mask];
	memset(sqe, 0, sizeof(*sqe));
	u->sq_local++;
	return sqe;
}

int uring__submit(struct uring *u)
{
	u32 pending;
	int ret;

	__atomic_store_n(u->sq_tail, u->sq_local, __ATOMIC_RELEASE);
	pending = u->sq_local - __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
	if (!pending)
		return 0;
	do {
		ret = sys_io_uring_enter(u->fd, pending, 0, 0);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

int uring__wait(struct uring *u)
{
	if (sys_io_uring_enter(u->fd, 0, 1, IORING_ENTER_GETEVENTS) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

bool uring__reap(struct uring *u, struct io_uring_cqe *cqe)
{
	u32 head = *u->cq_head;

	if (head == __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE))
		return false;
	*cqe = u->cqes[head & *u->cq_mask];
	__atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
	return true;
}
