# lkvm sandbox runs a command in a throwaway VM over the rig's own root
# (the embedded init): exactly the command's stdout (no kernel noise), its
# stderr apart, its exit status; arguments with spaces and quotes intact;
# the shared root is read-only; --env sets the command's environment; not
# found is 127, a signal 128+N; bad input is status 125 with one line on
# stderr and no VM.
# rig-timeout: 240
need_lkvm
K=$GUEST_KERNEL

sandbox 60 /dev/null -k "$K" -- sh -c 'echo hi; exit 7'
expect_rc 7
printf 'hi\n' | cmp -s - "$OUT" || fail "stdout is not exactly 'hi': $(od -c "$OUT" | head -n 4)"
[ ! -s "$ERR" ] || fail "unexpected stderr: $(head -n 3 "$ERR")"

sandbox 60 /dev/null -k "$K" -- sh -c 'echo to-out; echo to-err >&2; [ -t 0 ] || echo not-a-tty; touch /x 2>/dev/null || echo ro-root'
expect_rc 0
[ "$(cat "$OUT")" = "to-out
not-a-tty
ro-root" ] || fail "stdout: $(head -n 5 "$OUT")"
[ "$(cat "$ERR")" = to-err ] || fail "stderr: $(head -n 3 "$ERR")"
[ ! -e /x ] || fail "the sandbox wrote to the rig's root"

# Arguments reach the command as they were, byte for byte.
set -- 'a b' '"double"' "it's" '' '$HOME $(id)' 'back\slash' '*' "new
line" ' lead' '--' '-k'
printf '[%s]\n' "$@" >"$CASE_DIR/args-expected"
sandbox 60 /dev/null -k "$K" -- printf '[%s]\n' "$@"
expect_rc 0
cmp -s "$CASE_DIR/args-expected" "$OUT" || fail "arguments changed: $(head -n 12 "$OUT")"

# --env: NAME=VALUE (the last one wins, spaces kept), NAME from here, and a
# PATH of the user's instead of lkvm's.
export LKVM_RIG_FROM_HOST="host value $$"
sandbox 60 /dev/null -k "$K" -e 'GREETING=hello there' -e GREETING='hi  there' \
	--env LKVM_RIG_FROM_HOST -e PATH=/bin:/sbin -- \
	sh -c 'echo "[$GREETING]"; echo "[$LKVM_RIG_FROM_HOST]"; echo "[$PATH]"'
expect_rc 0
[ "$(cat "$OUT")" = "[hi  there]
[host value $$]
[/bin:/sbin]" ] || fail "environment: $(head -n 5 "$OUT")"

sandbox 60 /dev/null -k "$K" -- no-such-command-lkvm
expect_rc 127
expect_in "$ERR" "no-such-command-lkvm: command not found"

sandbox 60 /dev/null -k "$K" -- sh -c 'kill -9 $$'
expect_rc 137

# Bad input: status 125, one line, nothing on stdout.
bad() {
	sandbox 20 /dev/null "$@"
	expect_rc 125
	[ "$(wc -l <"$ERR")" = 1 ] || fail "expected one line for '$*', got: $(head -n 5 "$ERR")"
	[ ! -s "$OUT" ] || fail "stdout for '$*': $(head -n 3 "$OUT")"
}
bad -k "$K"
bad -k "$K" --
bad -k "$K" true
bad -k "$K" -i "$GUEST_INITRD" -- true
bad -k "$K" --bogus -- true
bad -k /nonexistent -- true
bad -k "$K" --workdir /nonexistent -- true
expect_in "$ERR" /nonexistent
bad -k "$K" -e 'NO SPACES=x' -- true
unset LKVM_RIG_UNSET
bad -k "$K" --env LKVM_RIG_UNSET -- true
expect_in "$ERR" "LKVM_RIG_UNSET is not set here"
