# Root on /dev/vda: write a file, sync, and say so.
grep -E "^/dev/(root|vda) / ext4 rw" /proc/mounts && echo LKVM-ROOT-IS-VDA
echo "persisted-$((6 * 7))" >/persist.txt
sync
echo LKVM-BLK-WRITTEN
