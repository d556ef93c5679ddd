# On a terminal: raw mode (Ctrl-C reaches the guest instead of killing lkvm),
# an interactive shell, Ctrl-A x quits with status 0, and the terminal's
# settings are restored afterwards (ptyrun exits 125 if they are not).
# rig-timeout: 90
need_lkvm
need_file /files/tools/ptyrun
_new_out
# Type only at the prompt: a Ctrl-C that reaches the shell before it is
# interactive (its SIGINT handling set up) kills it, and the guest powers off.
# Ctrl-C only once the command runs: while ash edits the line, the guest's
# tty is raw and ^C would be a plain byte left for nobody ("SLEEP""ING" is
# printed only by the command; the echoed line does not match it).
/files/tools/ptyrun -t 70 \
	-w LKVM-GUEST-SHELL -s '' -w '# ' -s 'echo SLEEP""ING; sleep 100\r' \
	-w 'SLEEPING' -s '\003' \
	-w '#' -s 'echo tty-$((6*7))\r' \
	-w 'tty-42' -s '\001x' \
	-- "$LKVM" run -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 128 >"$OUT" 2>&1
RC=$?
cat "$OUT" | tail -n 15
[ "$RC" = 125 ] && fail "lkvm left the terminal in raw mode"
expect_rc 0
expect_in "$OUT" tty-42
