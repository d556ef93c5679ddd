# The console is hvc0 (virtio-console).
echo "LKVM-CONSOLES=$(cut -d' ' -f1 /proc/consoles | tr '\n' ' ')"
echo "LKVM-HVC=$(readlink /sys/class/tty/hvc0 >/dev/null && echo present)"
