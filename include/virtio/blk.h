#ifndef VIRTIO__BLK_H
#define VIRTIO__BLK_H

/*
 * virtio-blk: one device per -d PATH[,ro][,direct]. Reads, writes and
 * flushes go through io_uring (completed on a per-disk thread), or through
 * preadv/pwritev/fdatasync on the device's I/O thread when io_uring is
 * unavailable or LKVM_NO_IO_URING=1 is set.
 */
#include "kvm/util.h"

struct kvm;
struct kvm_config;
struct disk_config;
struct blk_dev;

/* Parse "PATH[,ro][,direct]" into @d: 0, or -1 with a one-line message. */
int blk__parse_disk(struct disk_config *d, const char *arg);
/* Parse and append to @cfg->disks (the -d option). */
int blk__add_disk(struct kvm_config *cfg, const char *arg);
/*
 * Can the image be used as asked? 0, or a negative errno with a one-line
 * message saying what is wrong (missing, a directory, no permission, too
 * small, not a multiple of 512 bytes, locked by another process).
 */
int blk__check_disk(const struct disk_config *d);
int blk__check_disks(const struct kvm_config *cfg);

/* Create disk @index's device without attaching it to a transport (tests). */
struct blk_dev *blk__create(struct kvm *kvm, const struct disk_config *d, int index);
void blk__destroy(struct blk_dev *b);
struct virtio_dev *blk__vdev(struct blk_dev *b);
bool blk__uses_uring(const struct blk_dev *b);

#endif
