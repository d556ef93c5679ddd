# A guest kernel panic reaches lkvm through pvpanic: lkvm sandbox exits 125
# and lkvm run 1, each with a "guest kernel panicked" line naming the cause.
# On a terminal the sandboxed command gets hvc0 as its terminal.
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

need_file /files/tools/ptyrun
_new_out
RC=0
/files/tools/ptyrun -t 60 -- "$LKVM" sandbox -k "$K" -- \
	sh -c 'echo TTY=$(tty); [ -t 0 ] && [ -t 1 ] && echo ON-A-TTY; exit 3' >"$OUT" 2>&1 || RC=$?
expect_rc 3
expect_value TTY /dev/hvc0
expect_in "$OUT" ON-A-TTY
