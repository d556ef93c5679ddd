# A guest kernel panic reaches lkvm through pvpanic: lkvm sandbox exits 125
# and lkvm run 1, each with a "guest kernel panicked" line naming the cause.
# With --transport mmio (no PCI, no pvpanic) the sandbox still fails clearly.
# rig-timeout: 200
need_lkvm
K=$GUEST_KERNEL

sandbox 60 /dev/null -k "$K" -- sh -c 'echo c >/proc/sysrq-trigger; echo after'
expect_rc 125
expect_in "$ERR" "guest kernel panicked: sysrq triggered crash"
expect_not_in "$OUT" after

start_guest 90 -k "$K" -m 256
wait_for "exit the shell to power off" 60
send "echo c >/proc/sysrq-trigger"
finish_guest
expect_rc 1
expect_in "$OUT" "lkvm: error: guest kernel panicked: sysrq triggered crash"

# Without PCI there is no pvpanic: the panicking guest reboots (panic=-1).
sandbox 60 /dev/null -k "$K" --transport mmio -- sh -c 'echo c >/proc/sysrq-trigger'
expect_rc 125
expect_in "$ERR" "rebooted before the command finished"
