# The RTC carries the host's date; the i8042 has a keyboard that answers;
# reboot=k resets through the i8042 and ends lkvm.
# rig-timeout: 90
boot_guest 40 rtc
expect_rc 0
expect_value LKVM-RTC-YEAR "$(date -u +%Y)"
expect_value LKVM-DATE-YEAR "$(date -u +%Y)"
expect_value LKVM-KBD 1
expect_not_in "$OUT" "atkbd"
boot_guest 40 reboot -p "reboot=k"
expect_rc 0
expect_in "$OUT" "rebooted; stopping"
