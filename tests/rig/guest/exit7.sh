# lkvm's debug exit port 0xf4 (244): the byte written is lkvm's exit status.
echo LKVM-EXIT-PORT-WRITE
printf '\007' | dd of=/dev/port bs=1 seek=244 2>/dev/null
echo LKVM-EXIT-PORT-STILL-RUNNING
