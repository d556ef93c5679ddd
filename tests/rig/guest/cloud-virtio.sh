# Under the stock Debian kernel: load its virtio modules as a distro initramfs
# would, then use the disk, the console and the rng. Like modprobe (and unlike
# busybox insmod), hand each module its MODULE.PARAM=VALUE words from the
# kernel command line: virtio_mmio finds its devices in virtio_mmio.device=.
for m in $(cat /cloudmods/order); do
	args=
	for w in $(cat /proc/cmdline); do
		case $w in
		"$(echo "$m" | tr - _)".*=*) args="$args ${w#*.}" ;;
		esac
	done
	insmod "/cloudmods/$m.ko" $args || echo "LKVM-INSMOD-FAILED=$m"
done
sleep 1
echo "LKVM-DISKS=$(ls /sys/block | grep vd | tr '\n' ' ')"
echo "LKVM-VDA-START=$(dd if=/dev/vda bs=8 count=1 2>/dev/null)"
echo "LKVM-RNG-CURRENT=$(cat /sys/class/misc/hw_random/rng_current)"
echo "LKVM-HVC=$(ls /sys/class/tty | grep -c hvc)"
