# Guest side of 61-9p-escape: every way out of the share ends in the guest.
mkdir -p /mnt
mount -t 9p -o trans=virtio,version=9p2000.L hostshare /mnt || { echo MOUNT-FAILED; exit 1; }
secret=$(cat /mnt/secret-path)
# try KEY CMD...: KEY=output of CMD, or KEY=failed.
try() {
	local k=$1 out
	shift
	if out=$("$@" 2>/dev/null); then echo "$k=$out"; else echo "$k=failed"; fi
}
try DOTDOT-SECRET cat /mnt/../secret
try DOTDOT-PATH cat "/mnt/../../..$secret"
echo "ABS-LINK=$(readlink /mnt/abs)"
# The guest's own files at the paths the links name.
mkdir -p "$(dirname "$secret")" /etc
echo "guest copy" >"$secret"
echo "guest root copy" >/secret
echo "guest shadow" >/etc/shadow
try VIA-ABS cat /mnt/abs
try VIA-REL cat /mnt/rel
try VIA-OUTDIR cat /mnt/outdir/secret
try VIA-SHADOW cat /mnt/shadow
# mv out of the mount copies into the guest; ln across mounts fails.
mv /mnt/movable /mnt/../escaped && [ -f /escaped ] && echo "MOVED-OUT=in the guest"
try LINK-OUT ln /mnt/linkable /mnt/../linked
ln -s /etc /mnt/guest-link && echo SYMLINK-MADE=ok
umount /mnt
