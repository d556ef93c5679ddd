# Guest side of 60-9p-share: mount tag hostshare with each cache mode, run
# the workload from the share, write files for the host to check.
mkdir -p /mnt
for mode in none loose mmap; do
	opts=trans=virtio,version=9p2000.L,cache=$mode n=150
	[ $mode = loose ] && opts=$opts,msize=524288
	[ $mode = none ] && n=1000
	mount -t 9p -o $opts hostshare /mnt || { echo "MOUNT-FAILED $mode"; exit 1; }
	if [ $mode = none ]; then
		echo "MARKER=$(cat /mnt/marker)"
		[ "$(/mnt/busybox echo from the share)" = "from the share" ] && echo EXEC-FROM-SHARE=ok
		echo "written by the guest" >/mnt/from-guest
	fi
	start=$(cut -d' ' -f1 /proc/uptime)
	sh /mnt/workload.sh /mnt/work-$mode $n >/tmp/listing-$mode || { echo "WORKLOAD-FAILED $mode"; exit 1; }
	echo "TIME-$mode=$(awk -v a="$start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { print b - a }')s"
	echo "LISTING-$mode=$(md5sum </tmp/listing-$mode | cut -d' ' -f1)"
	i=0
	while [ $i -lt 2000 ]; do i=$((i + 1)); echo "line $i"; done >/mnt/big-$mode
	[ "$(tail -n 1 /mnt/big-$mode)" = "line 2000" ] || echo "BIG-FILE-BAD $mode"
	umount /mnt || { echo "UMOUNT-FAILED $mode"; exit 1; }
done
