# The README's demo: show that a real Linux userspace runs under lkvm.
echo "== inside the lkvm guest =="
uname -a
echo "cpus: $(grep -c ^processor /proc/cpuinfo)"
grep -E "MemTotal" /proc/meminfo
cat /proc/cmdline
echo "== powering off =="
