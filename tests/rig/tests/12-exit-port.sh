# A byte written to port 0xf4 becomes lkvm's exit status.
# rig-timeout: 60
boot_guest 45 exit7
expect_in "$OUT" LKVM-EXIT-PORT-WRITE
expect_not_in "$OUT" LKVM-EXIT-PORT-STILL-RUNNING
expect_rc 7
