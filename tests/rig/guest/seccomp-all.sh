# Guest side of 70-seccomp: disk, 9p, network and the virtio console in one
# boot, with lkvm's seccomp filters on. Each part prints PART=ok.
. /tests/net-lib.sh
# virtio-blk: a pattern written with a flush, read back, then discarded.
dd if=/dev/urandom of=/tmp/pat bs=4096 count=64 2>/dev/null
dd if=/tmp/pat of=/dev/vda bs=4096 conv=fsync 2>/dev/null
[ "$(dd if=/dev/vda bs=4096 count=64 2>/dev/null | md5sum)" = "$(md5sum </tmp/pat)" ] &&
	echo BLK=ok
blkdiscard /dev/vda 2>/dev/null
# virtio-9p: read the host's file, write, rename, link, remove.
mkdir -p /mnt
if mount -t 9p -o trans=virtio,version=9p2000.L share /mnt; then
	echo "P9-MARKER=$(cat /mnt/marker)"
	echo "from the guest" >/mnt/new && mv /mnt/new /mnt/moved && ln /mnt/moved /mnt/link &&
		ln -s moved /mnt/sym && mkdir /mnt/dir && rm /mnt/link && rmdir /mnt/dir &&
		[ "$(cat /mnt/sym)" = "from the guest" ] && echo P9=ok
	umount /mnt
fi
# virtio-net, user mode: DHCP, UDP and TCP through the host's sockets.
net_dhcp eth0 && echo "NET-ADDR=$(net_addr eth0)"
nettool udp-echo 10.0.2.2 7301 5
nettool tcp-many 10.0.2.2 7302 20 2>/dev/null
# virtio-rng
[ "$(head -c 64 /dev/hwrng | wc -c)" = 64 ] && echo RNG=ok
echo SECCOMP-ALL-DONE
