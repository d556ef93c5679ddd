# /dev/hwrng is virtio-rng and gives different bytes each time.
echo "LKVM-RNG-CURRENT=$(cat /sys/class/misc/hw_random/rng_current)"
a=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
b=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
echo "LKVM-RNG-LEN=${#a}"
[ -n "$a" ] && [ "$a" != "$b" ] && echo LKVM-RNG-DIFFERS
