# virtio-blk and virtio-rng from inside: identity, limits, a write read back
# past the cache, the read-only disk, discard, parallel I/O on every queue.
echo "SERIAL=$(cat /sys/block/vda/serial)"
echo "VDB_SERIAL=$(cat /sys/block/vdb/serial)"
echo "SIZE=$(cat /sys/block/vda/size)"
echo "VDB_RO=$(cat /sys/block/vdb/ro)"
echo "NR_MQ=$(ls /sys/block/vda/mq | wc -l)"
echo "CACHE=$(cat /sys/block/vda/queue/write_cache)"
dd if=/dev/urandom of=/tmp/pat bs=4096 count=64 2>/dev/null
dd if=/tmp/pat of=/dev/vda bs=4096 seek=256 oflag=direct conv=fsync 2>/dev/null && echo WRITE=ok
echo 3 >/proc/sys/vm/drop_caches
dd if=/dev/vda of=/tmp/back bs=4096 skip=256 count=64 2>/dev/null
cmp -s /tmp/pat /tmp/back && echo READBACK=ok
echo "MD5=$(md5sum </tmp/pat | cut -d' ' -f1)"
if dd if=/tmp/pat of=/dev/vdb bs=4096 count=1 oflag=direct 2>/dev/null; then
	echo RO_WRITE=allowed
else
	echo RO_WRITE=refused
fi
echo "VDB_MD5=$(md5sum </dev/vdb | cut -d' ' -f1)"
blkdiscard -o 4194304 -l 1048576 /dev/vda && echo DISCARD=ok
for i in 1 2 3 4; do dd if=/dev/vda of=/dev/null bs=64k iflag=direct 2>/dev/null & done
wait && echo PARALLEL=ok
echo "RNG=$(cat /sys/class/misc/hw_random/rng_current)"
echo "RNG_BYTES=$(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | wc -c)"
