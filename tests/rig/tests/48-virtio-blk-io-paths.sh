# virtio-blk: what the guest writes is in the host image, through io_uring
# (virtio-pci) and through the synchronous fallback (virtio-mmio); a ,ro disk
# stays untouched; serial, size, queues, discard; virtio-rng is there too.
# Bad images fail before the guest starts, with one line.
# rig-timeout: 180
img=$CASE_DIR/disk.img ro=$CASE_DIR/ro.img
run_guest 10 -k "$GUEST_KERNEL" -d "$CASE_DIR/nope.img"
expect_rc 1
expect_in "$OUT" "disk image $CASE_DIR/nope.img does not exist"
[ "$(wc -l <"$OUT")" = 1 ] || fail "more than one line for a missing image"
dd if=/dev/zero of="$img" bs=1000 count=1 2>/dev/null
run_guest 10 -k "$GUEST_KERNEL" -d "$img"
expect_rc 1
expect_in "$OUT" "not a multiple of 512"
dd if=/dev/zero of="$img" bs=1M count=8 2>/dev/null
dd if=/dev/urandom of="$ro" bs=1M count=2 2>/dev/null
ro_md5=$(md5sum <"$ro" | cut -d' ' -f1)
for mode in uring-pci sync-mmio; do
	case $mode in
	uring-pci) export LKVM_NO_IO_URING=0 transport=pci ;;
	sync-mmio) export LKVM_NO_IO_URING=1 transport=mmio ;;
	esac
	boot_guest 90 virtio-blk -c 2 --transport $transport -d "$img" -d "$ro,ro"
	expect_rc 0
	expect_value SERIAL lkvm-disk-0
	expect_value VDB_SERIAL lkvm-disk-1
	expect_value SIZE 16384
	expect_value VDB_RO 1
	expect_value NR_MQ 2
	expect_value CACHE "write back"
	expect_value WRITE ok
	expect_value READBACK ok
	expect_value RO_WRITE refused
	expect_value VDB_MD5 "$ro_md5"
	expect_value DISCARD ok
	expect_value PARALLEL ok
	expect_value RNG virtio_rng.0
	expect_value RNG_BYTES 16
	expect_in "$OUT" "root=/dev/vda rw"
	md5=$(dd if="$img" bs=4096 skip=256 count=64 2>/dev/null | md5sum | cut -d' ' -f1)
	expect_value MD5 "$md5"
	[ "$(md5sum <"$ro" | cut -d' ' -f1)" = "$ro_md5" ] || fail "$mode: the ,ro image changed"
done
unset LKVM_NO_IO_URING
