# virtio-9p as the guest's root filesystem: --9p /,hostroot,ro shares the
# rig's own root read-only and the kernel mounts it with
#   root=hostroot rootfstype=9p rootflags=trans=virtio,version=9p2000.L
# (no initramfs). The init, a script in the rig's /tmp (another filesystem
# crossed inside the share), reads host files, finds writes refused even
# after a remount rw, and builds the writable tmpfs overlay an init would.
# Booted with cache=none and with cache=loose.
# rig-timeout: 150
need_lkvm
echo "root marker $$" >"$CASE_DIR/marker"
cat >"$CASE_DIR/init.sh" <<EOF
#!/bin/sh
export PATH=/bin
here=$CASE_DIR
EOF
cat >>"$CASE_DIR/init.sh" <<'EOF'
mount -t proc proc /proc
echo "ROOT-FS=$(awk '$2 == "/" { print $3 }' /proc/mounts)"
echo "MARKER=$(cat $here/marker)"
touch /x 2>&1 | grep -q "Read-only file system" && echo "RO-MOUNT=EROFS"
mount -o remount,rw / && { touch /x 2>&1 | grep -q "Read-only file system" && echo "RO-SERVER=EROFS"; }
mount -o remount,ro /
# What an init does with a read-only root: tmpfs for what it writes, an overlay on top.
mount -t tmpfs tmpfs /run && mkdir -p /run/upper /run/work /run/new &&
	mount -t overlay overlay -o lowerdir=/,upperdir=/run/upper,workdir=/run/work /run/new &&
	echo "written" >/run/new/overlay-file && [ "$(cat /run/new/overlay-file)" = written ] &&
	[ "$(/run/new/bin/busybox echo run)" = run ] && echo "OVERLAY=ok"
[ -e /overlay-file ] && echo "OVERLAY-LEAKED"
echo "ROOT-INIT-DONE"
poweroff -f
EOF
chmod 755 "$CASE_DIR/init.sh"

for cache in none loose; do
	run_guest 60 -k "$GUEST_KERNEL" -m "$GUEST_MEM" --9p /,hostroot,ro \
		-p "root=hostroot rootfstype=9p rootflags=trans=virtio,version=9p2000.L,cache=$cache init=$CASE_DIR/init.sh"
	expect_value ROOT-FS 9p
	expect_value MARKER "root marker $$"
	expect_value RO-MOUNT EROFS
	expect_value RO-SERVER EROFS
	expect_value OVERLAY ok
	expect_not_in "$OUT" OVERLAY-LEAKED
	expect_in "$OUT" ROOT-INIT-DONE
	expect_rc 0
done
[ ! -e /x ] && [ ! -e /overlay-file ] || fail "the guest wrote to the host's root"
