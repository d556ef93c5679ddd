# Console input: lines piped to lkvm's stdin reach a shell on the guest's
# ttyS0, and its output comes back (hello-42 only exists if the shell ran it).
# rig-timeout: 60
start_guest 45 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m "$GUEST_MEM"
wait_for LKVM-GUEST-SHELL 30
sleep 1
send 'echo hello-$((6*7))'
wait_for hello-42 15
send 'poweroff -f'
finish_guest
expect_rc 0
