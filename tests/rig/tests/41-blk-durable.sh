# Data the guest flushed is in the host file even when lkvm is SIGKILLed
# right after the guest reports.
# rig-timeout: 60
dd if=/dev/zero of="$CASE_DIR/data.img" bs=1M count=2 2>/dev/null
start_guest 50 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 128 -d "$CASE_DIR/data.img" -p lkvm_test=blk-durable
wait_for LKVM-DURABLE-SYNCED 40
kill -9 "$PID"
finish_guest
n=$(grep -c "LKVM-DURABLE-PATTERN-" "$CASE_DIR/data.img")
[ "$n" = 256 ] || fail "host file holds $n of 256 pattern lines after SIGKILL"
