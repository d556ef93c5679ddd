# A read-only disk: the kernel knows, and writes fail.
echo "LKVM-RO-FLAG=$(cat /sys/block/vda/ro)"
if dd if=/dev/zero of=/dev/vda bs=4096 count=4 conv=fsync 2>/dev/null; then
	echo LKVM-RO-WRITE=succeeded
else
	echo LKVM-RO-WRITE=failed
fi
echo "LKVM-RO-READ=$(dd if=/dev/vda bs=16 count=1 2>/dev/null | od -An -c | tr -d ' \n' | head -c 16)"
