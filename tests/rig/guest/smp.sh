# CPU count as seen by the scheduler and by sysfs.
echo "LKVM-NPROC=$(nproc)"
echo "LKVM-SYSFS-CPUS=$(ls -d /sys/devices/system/cpu/cpu[0-9]* | wc -l)"
# lkvm sets the TSC-deadline CPUID bit when KVM emulates that timer.
echo "LKVM-TSC-DEADLINE=$(grep -c '^flags.* tsc_deadline_timer' /proc/cpuinfo)"
