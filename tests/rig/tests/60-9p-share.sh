# virtio-9p: mount a host directory in the guest, read a marker the host
# wrote, run a busybox program from the share, then create/rename/link/
# delete 1000 files in a shell loop; the guest's listing, the host's view of
# what the guest made, and the same script run on the host must all agree.
# Then 150 files with cache=loose and cache=mmap (the guest's other modes).
# rig-timeout: 420
need_lkvm
share=$CASE_DIR/share
mkdir -p "$share"
marker="marker-$$-$(date +%s)"
echo "$marker" >"$share/marker"
cp /bin/busybox "$share/busybox"
# workload DIR [N]: N (1000) files made, renamed, hard- and soft-linked,
# removed; then a listing (names; sizes, link counts and checksums of files;
# symlink targets) on stdout.
cat >"$share/workload.sh" <<'EOF'
mkdir -p "$1" && cd "$1" || exit 1
n=${2:-1000} i=0
while [ $i -lt $n ]; do
	echo "file $i" >f$i
	mv f$i g$i
	ln g$i h$i
	[ $((i % 3)) = 0 ] && rm g$i
	[ $((i % 7)) = 0 ] && ln -s h$i s$i
	[ $((i % 100)) = 0 ] && mkdir d$i && echo "in d$i" >d$i/x && mv h$i d$i/
	i=$((i + 1))
done
[ -d d500 ] && rm -r d500
mkdir -p sub/deeper && echo nested >sub/deeper/n && mv sub moved
find . | sort
find . -type f | sort | xargs stat -c '%n %s %h'
find . -type f | sort | xargs md5sum
find . -type l | sort | xargs stat -c '%N'
EOF

boot_guest 390 9p-share --9p "$share,hostshare"
expect_in "$OUT" LKVM-GUEST-INIT-OK
expect_value MARKER "$marker"
expect_value EXEC-FROM-SHARE ok
expect_value LKVM-GUEST-TEST-STATUS 0
expect_rc 0

# The same workload on the host, and the host's view of the guest's tree.
sh "$share/workload.sh" "$CASE_DIR/hostrun" >"$CASE_DIR/host-listing" ||
	fail "the workload failed on the host"
[ "$(wc -l <"$CASE_DIR/host-listing")" -gt 5000 ] || fail "the host listing is too short"
expect_value LISTING-none "$(md5sum <"$CASE_DIR/host-listing" | cut -d' ' -f1)"
sh "$share/workload.sh" "$CASE_DIR/hostrun-small" 150 >"$CASE_DIR/host-listing-small" ||
	fail "the small workload failed on the host"
small=$(md5sum <"$CASE_DIR/host-listing-small" | cut -d' ' -f1)
expect_value LISTING-loose "$small"
expect_value LISTING-mmap "$small"
(cd "$share/work-none" && find . | sort) >"$CASE_DIR/guest-tree"
(cd "$CASE_DIR/hostrun" && find . | sort) >"$CASE_DIR/host-tree"
cmp -s "$CASE_DIR/guest-tree" "$CASE_DIR/host-tree" || fail "the host sees a different tree than the guest made"
[ "$(cat "$share/from-guest")" = "written by the guest" ] || fail "the guest's file is not on the host"
for mode in none loose mmap; do
	[ "$(tail -n 1 "$share/big-$mode")" = "line 2000" ] || fail "the guest's big file ($mode) is not on the host"
done
