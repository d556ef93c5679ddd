# Helpers for rig test cases (tests/rig/tests/*.sh). Runs INSIDE the rig under
# busybox sh, sourced by driver.sh before each case. A case is a plain sh
# script: it calls run_guest/boot_guest/start_guest and asserts with expect_*;
# fail/skip end it. $CASE_DIR is a fresh scratch directory for the case.
# After run_guest/boot_guest/finish_guest: $OUT is the captured lkvm output
# (stdout+stderr, the guest console) and $RC is lkvm's exit status; 143 or
# 124 means the timeout killed it.

LKVM=${LKVM:-/lkvm}
GUEST_KERNEL=${GUEST_KERNEL:-/guest/bzImage}
GUEST_INITRD=${GUEST_INITRD:-/guest/initrd.gz}
GUEST_MEM=${GUEST_MEM:-256}
_nout=0

# fail REASON: end the case as failed; the driver prints REASON.
fail() { echo "$*" >"$CASE_DIR/reason"; echo "fail: $*"; exit 1; }
# skip REASON: end the case as skipped (exit 77, as automake does).
skip() { echo "$*" >"$CASE_DIR/reason"; echo "skip: $*"; exit 77; }
note() { echo "note: $*"; }

# need_lkvm: fail early with a clear reason when the binary is missing.
need_lkvm() { [ -x "$LKVM" ] || fail "no $LKVM in the rig (was ./lkvm built?)"; }
# need_file F: skip the case when the rig was built without F.
need_file() { [ -e "$1" ] || skip "$1 not in this rig"; }

# _new_out: next output file; the driver shows the last one on failure.
_new_out() {
	_nout=$((_nout + 1))
	OUT="$CASE_DIR/lkvm-$_nout.out"
	: >"$OUT"
	echo "$OUT" >"$CASE_DIR/last-out"
}

# run_guest TIMEOUT ARGS...: `lkvm run ARGS` with no stdin, output in $OUT.
run_guest() {
	local t=$1
	shift
	need_lkvm
	_new_out
	echo "+ lkvm run $*" >>"$CASE_DIR/cmds"
	RC=0
	timeout -k 5 "$t" "$LKVM" run "$@" </dev/null >"$OUT" 2>&1 || RC=$?
	echo "lkvm exit status $RC"
}

# boot_guest TIMEOUT TEST [ARGS...]: boot the minimal guest running guest
# script /tests/TEST.sh (tests/rig/guest/TEST.sh); TEST "" gives a shell.
boot_guest() {
	local t=$1 test=$2
	shift 2
	run_guest "$t" -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m "$GUEST_MEM" \
		${test:+-p "lkvm_test=$test"} "$@"
}

# start_guest TIMEOUT ARGS...: `lkvm run ARGS` in the background with stdin
# from a fifo held open on fd 3 (send writes to it); sets $PID and $OUT.
start_guest() {
	local t=$1
	shift
	need_lkvm
	_new_out
	echo "+ lkvm run $* (background)" >>"$CASE_DIR/cmds"
	rm -f "$CASE_DIR/stdin" && mkfifo "$CASE_DIR/stdin"
	timeout -k 5 "$t" "$LKVM" run "$@" <"$CASE_DIR/stdin" >"$OUT" 2>&1 &
	PID=$!
	echo "$PID" >>"$CASE_DIR/pids"
	# Opening the write end unblocks lkvm's open of the read end.
	exec 3>"$CASE_DIR/stdin"
}

# send LINE: type LINE (plus newline) on the guest console.
send() { printf '%s\n' "$*" >&3; }

# wait_for TEXT SECS: wait until TEXT shows up in $OUT; fail after SECS.
wait_for() {
	local text=$1 n=$(($2 * 5))
	while [ $n -gt 0 ]; do
		grep -qF -- "$text" "$OUT" && return 0
		kill -0 "$PID" 2>/dev/null || { grep -qF -- "$text" "$OUT" && return 0
			fail "lkvm exited before '$text' appeared"; }
		sleep 0.2
		n=$((n - 1))
	done
	fail "'$text' did not appear within $2s"
}

# finish_guest: wait for the background lkvm to exit; sets $RC.
finish_guest() {
	RC=0
	wait "$PID" || RC=$?
	exec 3>&-
	echo "lkvm exit status $RC"
}

# expect_in FILE TEXT / expect_not_in FILE TEXT: fixed-string search.
expect_in() { grep -qF -- "$2" "$1" || fail "expected '$2' in $(basename "$1")"; }
expect_not_in() { ! grep -qF -- "$2" "$1" || fail "unexpected '$2' in $(basename "$1")"; }
# expect_rc N: lkvm's exit status must be N (timeouts are named as such).
expect_rc() {
	[ "$RC" = "$1" ] && return 0
	case $RC in 124|143|137) fail "lkvm timed out (status $RC), expected status $1" ;; esac
	fail "lkvm exit status $RC, expected $1"
}
# guest_value KEY: VALUE from the last 'KEY=VALUE' line in $OUT (\r stripped).
guest_value() { tr -d '\r' <"$OUT" | sed -n "s/^$1=//p" | tail -n 1; }
# expect_value KEY VALUE: the guest printed KEY=VALUE.
expect_value() {
	local v
	v=$(guest_value "$1")
	[ "$v" = "$2" ] || fail "expected $1=$2 from the guest, got '${v:-nothing}'"
}

# sandbox TIMEOUT STDIN ARGS...: `lkvm sandbox ARGS` with stdin from the file
# STDIN; its stdout in $OUT, its stderr in $ERR (also shown in the case log),
# its exit status in $RC.
sandbox() {
	local t=$1 in=$2
	shift 2
	need_lkvm
	_new_out
	ERR=${OUT%.out}.err
	echo "+ lkvm sandbox $* <$in" >>"$CASE_DIR/cmds"
	RC=0
	timeout -k 5 "$t" "$LKVM" sandbox "$@" <"$in" >"$OUT" 2>"$ERR" || RC=$?
	echo "lkvm sandbox exit status $RC"
	sed 's/^/stderr: /' "$ERR" | head -n 20
}

# net_case FILE MIB [CLEANUP]: how the network cases start: nettool in $T, lo
# up, MIB MiB of random bytes in $CASE_DIR/FILE and their md5 in $want; the
# servers `serve` starts (and the CLEANUP command) end with the case.
net_case() {
	T=/files/tools/nettool
	[ -x "$T" ] || fail "no $T in the rig"
	ip link set lo up
	SERVERS= NET_CLEANUP=${3:-:}
	trap 'kill $SERVERS 2>/dev/null; eval "$NET_CLEANUP"' EXIT
	head -c $(($2 * 1048576)) /dev/urandom >"$CASE_DIR/$1"
	want=$(md5sum <"$CASE_DIR/$1" | cut -d' ' -f1)
}

# serve NETTOOL-ARGS...: a nettool server in the background until the case ends.
serve() {
	"$T" "$@" &
	SERVERS="$SERVERS $!"
}
