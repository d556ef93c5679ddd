# The disks the guest sees and the first 8 bytes of /dev/vda.
echo "LKVM-DISKS=$(ls /sys/block | grep vd | tr '\n' ' ')"
echo "LKVM-VDA-START=$(dd if=/dev/vda bs=8 count=1 2>/dev/null)"
