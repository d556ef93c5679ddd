# A stock distro kernel (Debian cloud, modular, ~14 MB) boots to /init too.
# rig-timeout: 150
need_file /guest/vmlinuz-cloud
run_guest 120 -k /guest/vmlinuz-cloud -i "$GUEST_INITRD" -m 512 -p lkvm_test=marker
expect_in "$OUT" LKVM-GUEST-INIT-OK
expect_value LKVM-TEST-MARKER 15
expect_rc 0
