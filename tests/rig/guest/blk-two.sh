# Two disks, with their serial numbers (GET_ID).
echo "LKVM-DISKS=$(ls /sys/block | grep vd | tr '\n' ' ')"
echo "LKVM-SERIAL-A=$(cat /sys/block/vda/serial 2>/dev/null)"
echo "LKVM-SERIAL-B=$(cat /sys/block/vdb/serial 2>/dev/null)"
echo "LKVM-VDB-START=$(dd if=/dev/vdb bs=8 count=1 2>/dev/null)"
