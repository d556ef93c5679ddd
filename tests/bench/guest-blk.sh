# virtio-blk benchmark, guest side (/tests/bench-blk.sh): blkbench with
# O_DIRECT on /dev/vda, the tests and their length from the kernel command
# line (bench_tests=a,b:4,.. bench_secs=S), then reboot -f: kvmtool ends on
# a reset, not on poweroff (it has no ACPI).
. /tests/net-lib.sh
blkbench -t "$(karg bench_secs)" /dev/vda $(karg bench_tests | tr , ' ')
echo "BENCH-GUEST-DONE status $?"
reboot -f
