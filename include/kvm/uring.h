#ifndef KVM__URING_H
#define KVM__URING_H

/*
 * A tiny io_uring over the raw syscalls (no liburing). One thread fills and
 * submits SQEs, one thread reaps CQEs; the two sides may be different
 * threads. uring__init() fails with a negative errno where io_uring is
 * missing or forbidden (old kernel, seccomp, io_uring_disabled), and the
 * caller falls back to synchronous I/O.
 */
#include <linux/io_uring.h>
#include <sys/uio.h>

#include "kvm/util.h"

struct uring {
	int			fd;
	u32			features;	/* IORING_FEAT_* */
	/* Submission side. */
	u32			sq_entries;
	u32			*sq_head, *sq_tail, *sq_mask, *sq_array;
	u32			sq_local;	/* our tail: SQEs filled, maybe unsubmitted */
	struct io_uring_sqe	*sqes;
	/* Completion side. */
	u32			cq_entries;
	u32			*cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe	*cqes;
	/* The mappings. */
	void			*sq_ring, *cq_ring;
	size_t			sq_ring_size, cq_ring_size, sqes_size;
};

/* Set up a ring with (at least) @entries SQEs; 0 or a negative errno. */
int uring__init(struct uring *u, u32 entries);
/*
 * The same, but the ring takes only the @nr opcodes @ops and no register
 * calls: io_uring does its work outside seccomp, so a ring that could open
 * files or connect sockets would be a way around the filters. Before Linux
 * 5.10 (no restrictions) the ring is unrestricted.
 */
int uring__init_restricted(struct uring *u, u32 entries, const u8 *ops, unsigned int nr);
void uring__exit(struct uring *u);
/* Does the kernel implement @op (IORING_OP_*)? */
bool uring__supports(struct uring *u, u8 op);

/* A zeroed SQE to fill, or NULL if the ring is full (submit and retry). */
struct io_uring_sqe *uring__get_sqe(struct uring *u);
/* Tell the kernel about the SQEs filled so far: how many, or a negative errno. */
int uring__submit(struct uring *u);
/* Block until at least one CQE is ready (or a signal): 0 or a negative errno. */
int uring__wait(struct uring *u);
/* Take the next CQE if there is one. */
bool uring__reap(struct uring *u, struct io_uring_cqe *cqe);

static inline void uring__prep_rw(struct io_uring_sqe *sqe, u8 op, int fd,
				  const struct iovec *iov, u32 nr, u64 off, u64 data)
{
	sqe->opcode = op;
	sqe->fd = fd;
	sqe->addr = (u64)(unsigned long)iov;
	sqe->len = nr;
	sqe->off = off;
	sqe->user_data = data;
}

static inline void uring__prep_fsync(struct io_uring_sqe *sqe, int fd, bool datasync, u64 data)
{
	sqe->opcode = IORING_OP_FSYNC;
	sqe->fd = fd;
	sqe->fsync_flags = datasync ? IORING_FSYNC_DATASYNC : 0;
	sqe->user_data = data;
}

static inline void uring__prep_nop(struct io_uring_sqe *sqe, u64 data)
{
	sqe->opcode = IORING_OP_NOP;
	sqe->fd = -1;
	sqe->user_data = data;
}

#endif
