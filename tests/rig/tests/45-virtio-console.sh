# --console virtio: the kernel console and /init's terminal are hvc0, and an
# interactive shell on it answers.
# rig-timeout: 60
boot_guest 40 hvc --console virtio
expect_rc 0
expect_in "$OUT" LKVM-GUEST-INIT-OK
expect_in "$OUT" "LKVM-CONSOLES=hvc0"
start_guest 50 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 128 --console virtio
wait_for LKVM-GUEST-SHELL 40
send 'echo hvc-$((6 * 7))'
wait_for hvc-42 10
send 'poweroff -f'
finish_guest
expect_rc 0
