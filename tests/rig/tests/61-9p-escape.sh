# virtio-9p confinement: from inside the guest, a share's symlinks to host
# files (absolute, relative, to a directory) resolve to guest paths, never
# to the host's; "..", renames and links out of the mount stay in the guest;
# the host's secret is never read and nothing appears outside the share.
# rig-timeout: 120
need_lkvm
box=$CASE_DIR/box
share=$box/share
secret=$box/secret
mkdir -p "$share/dir"
echo "HOST-SECRET-$$" >"$secret"
echo "movable" >"$share/movable"
echo "linkable" >"$share/linkable"
ln -s "$secret" "$share/abs"
ln -s ../secret "$share/rel"
ln -s "$box" "$share/outdir"
ln -s /etc/shadow "$share/shadow"
# The guest learns where the host's secret is, to try that path too.
echo "$secret" >"$share/secret-path"
before=$(ls -a "$box" | tr '\n' ' ')

boot_guest 90 9p-escape --9p "$share,hostshare"
expect_in "$OUT" LKVM-GUEST-INIT-OK
expect_value LKVM-GUEST-TEST-STATUS 0
expect_rc 0
expect_not_in "$OUT" "HOST-SECRET"
# The symlinks are symlinks to guest paths: the guest's own file is what it reads.
expect_value ABS-LINK "$secret"
expect_value VIA-ABS "guest copy"
expect_value VIA-REL "guest root copy"
expect_value VIA-OUTDIR "guest copy"
expect_value VIA-SHADOW "guest shadow"
for k in DOTDOT-SECRET DOTDOT-PATH; do
	expect_value "$k" failed
done
expect_value MOVED-OUT "in the guest"
expect_value LINK-OUT failed
expect_value SYMLINK-MADE ok
# Nothing left the share on the host; the secret is as it was.
[ "$(cat "$secret")" = "HOST-SECRET-$$" ] || fail "the host's secret changed"
after=$(ls -a "$box" | tr '\n' ' ')
[ "$before" = "$after" ] || fail "files appeared next to the share: '$before' -> '$after'"
[ ! -e /escaped ] && [ ! -e /tmp/escaped ] || fail "a file escaped to the host's /"
[ "$(readlink "$share/guest-link")" = /etc ] || fail "the guest's symlink is not on the host as made"
[ ! -e "$share/movable" ] || fail "mv out of the share left the source"
