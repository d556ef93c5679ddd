# The tiny guests of guest/ and the bad-input checks (tests/kvm/run.sh) on the
# rig's real KVM: both boot paths, exit port, zero page, e820, SMP bring-up,
# malformed virtqueues fed to every virtio-mmio device (guest/virtq-hostile).
# rig-timeout: 300
need_file /files/kvm/run.sh
need_file /files/kvm/hello.bzImage
sh /files/kvm/run.sh "$LKVM" /files/kvm >"$CASE_DIR/kvm.out" 2>&1
rc=$?
cat "$CASE_DIR/kvm.out"
grep -q "^kvm: [0-9]* passed, 0 failed" "$CASE_DIR/kvm.out" || fail "tiny-guest tests failed"
grep -q "skip tiny guests" "$CASE_DIR/kvm.out" && fail "tiny guests were skipped inside the rig"
[ "$rc" = 0 ] || fail "tests/kvm/run.sh exited $rc"
