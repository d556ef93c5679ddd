# --debug-boot-time: a guest write to port 0xf5 is logged with the time since
# lkvm started; without the option nothing is logged.
# rig-timeout: 90
boot_guest 40 bootmark --debug-boot-time
expect_rc 0
expect_in "$OUT" LKVM-BOOT-MARKER-WRITTEN
expect_in "$OUT" "boot marker 1:"
expect_in "$OUT" "ms since lkvm started"
boot_guest 40 bootmark
expect_rc 0
expect_not_in "$OUT" "boot marker"
