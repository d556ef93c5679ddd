# virtio-9p ,ro: the guest mounts the share read-write, yet every change
# (create, write, truncate, append, mkdir, rm, rmdir, mv, ln, ln -s, chmod,
# touch) fails with EROFS from the server, reads work, and the host
# directory is unchanged to the byte.
# rig-timeout: 90
need_lkvm
share=$CASE_DIR/share
mkdir -p "$share/dir"
echo "read me" >"$share/file"
echo "inner" >"$share/dir/inner"
ln -s file "$share/link"
snapshot() {
	(cd "$share" && find . | sort && find . -type f | sort | xargs md5sum &&
		find . | sort | xargs stat -c '%n %a %s %Y')
}
snapshot >"$CASE_DIR/before"

boot_guest 60 9p-ro --9p "$share,rotag,ro"
expect_in "$OUT" LKVM-GUEST-INIT-OK
expect_value LKVM-GUEST-TEST-STATUS 0
expect_rc 0
expect_value READ "read me"
expect_value READ-LINK "read me"
expect_value LIST "dir file link"
for op in create truncate append write mkdir rm rmdir mv ln symlink chmod touch; do
	expect_value "RO-$op" EROFS
done
snapshot >"$CASE_DIR/after"
cmp -s "$CASE_DIR/before" "$CASE_DIR/after" || fail "the read-only share changed on the host"
