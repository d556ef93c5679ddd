# Guest side of 62-9p-ro: a read-only share mounted read-write by the guest.
mkdir -p /mnt
mount -t 9p -o trans=virtio,version=9p2000.L,rw rotag /mnt || { echo MOUNT-FAILED; exit 1; }
echo "READ=$(cat /mnt/file)"
echo "READ-LINK=$(cat /mnt/link)"
echo "LIST=$(ls /mnt | tr '\n' ' ' | sed 's/ $//')"
# ro OP CMD: RO-OP=EROFS when CMD fails saying so.
ro() {
	local op=$1 err
	shift
	if err=$(sh -c "$*" 2>&1); then
		echo "RO-$op=succeeded"
	else
		case $err in
		*"Read-only file system"*) echo "RO-$op=EROFS" ;;
		*) echo "RO-$op=other: $err" ;;
		esac
	fi
}
ro create 'echo x >/mnt/new'
ro truncate 'echo x >/mnt/file'
ro append 'echo x >>/mnt/file'
ro write 'dd if=/dev/zero of=/mnt/file bs=1 count=1 conv=notrunc'
ro mkdir 'mkdir /mnt/newdir'
ro rm 'rm /mnt/file'
ro rmdir 'rm -r /mnt/dir'
ro mv 'mv /mnt/file /mnt/moved'
ro ln 'ln /mnt/file /mnt/hard'
ro symlink 'ln -s file /mnt/soft'
ro chmod 'chmod 777 /mnt/file'
ro touch 'touch /mnt/file'
umount /mnt
