# DISCARD and WRITE_ZEROES reach the host file.
echo "LKVM-DISCARD-MAX=$(cat /sys/block/vda/queue/discard_max_bytes)"
blkdiscard /dev/vda && echo LKVM-DISCARD=ok
sync
