# Write a pattern to the raw disk, sync, report, then wait to be killed.
i=0
while [ $i -lt 256 ]; do printf 'LKVM-DURABLE-PATTERN-%04d\n' $i; i=$((i + 1)); done >/tmp/pat
dd if=/tmp/pat of=/dev/vda bs=4096 seek=16 2>/dev/null
sync
echo LKVM-DURABLE-SYNCED
sleep 1000
