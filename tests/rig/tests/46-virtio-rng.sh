# /dev/hwrng is served by virtio-rng.
# rig-timeout: 60
boot_guest 40 hwrng
expect_rc 0
expect_value LKVM-RNG-CURRENT virtio_rng.0
expect_value LKVM-RNG-LEN 64
expect_in "$OUT" LKVM-RNG-DIFFERS
