# Guest `reboot -f` ends lkvm (no reboot loop) with status 0.
# rig-timeout: 60
boot_guest 45 reboot
expect_in "$OUT" LKVM-REBOOT-NOW
expect_not_in "$OUT" LKVM-REBOOT-RETURNED
expect_rc 0
[ "$(grep -c LKVM-GUEST-INIT-OK "$OUT")" = 1 ] || fail "guest booted more than once"
