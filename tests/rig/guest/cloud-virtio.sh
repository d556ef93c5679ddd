# Under the stock Debian kernel: load its virtio modules as a distro initramfs
# would, then use the disk, the console and the rng.
for m in $(cat /cloudmods/order); do
	insmod "/cloudmods/$m.ko" || echo "LKVM-INSMOD-FAILED=$m"
done
sleep 1
echo "LKVM-DISKS=$(ls /sys/block | grep vd | tr '\n' ' ')"
echo "LKVM-VDA-START=$(dd if=/dev/vda bs=8 count=1 2>/dev/null)"
echo "LKVM-RNG-CURRENT=$(cat /sys/class/misc/hw_random/rng_current)"
echo "LKVM-HVC=$(ls /sys/class/tty | grep -c hvc)"
