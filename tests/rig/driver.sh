#!/bin/sh
# Rig test driver: runs as /rig-test.sh inside the rig. Runs every case in
# /files/tests/*.sh (sorted) in its own shell with case-lib.sh sourced and a
# per-case timeout (a '# rig-timeout: S' line in the case, default 60), prints
# PASS/FAIL/SKIP per case and ends with 'rig: N passed, N failed'.
# Exit status 0 only when nothing failed. RIG_VERBOSE=1 (on the rig kernel
# cmdline, which puts it in init's environment) shows details of passes too.
LIB=/files/case-lib.sh
pass=0 failed=0 skipped=0

now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# case_timeout FILE: the '# rig-timeout: S' value, default 60.
case_timeout() {
	local t
	t=$(sed -n 's/^# rig-timeout: *\([0-9]\+\).*/\1/p' "$1" | head -n 1)
	echo "${t:-60}"
}

# reap DIR: kill lkvm processes a case left behind (its pids, then any /lkvm).
reap() {
	local p
	for p in $(cat "$1/pids" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = /lkvm ] && kill -9 "${p#/proc/}" 2>/dev/null
	done
	return 0
}

# report_failure DIR DMESG_LINES: what a human needs to see about a case.
report_failure() {
	local d=$1 out
	echo "---- $name: commands"
	cat "$d/cmds" 2>/dev/null
	echo "---- $name: case output (last 30 lines)"
	tail -n 30 "$d/case.log" | tr -d '\r'
	out=$(cat "$d/last-out" 2>/dev/null)
	if [ -n "$out" ] && [ -f "$out" ]; then
		echo "---- $name: $(basename "$out") (last 30 lines)"
		tail -n 30 "$out" | tr -d '\r'
	fi
	echo "---- $name: new rig dmesg"
	dmesg | tail -n +"$(($2 + 1))" | tail -n 20
	echo "----"
}

# run_case FILE: run one case and count it.
run_case() {
	local f=$1 d t start rc dm reason
	name=$(basename "$f" .sh)
	d=/tmp/case/$name
	rm -rf "$d" && mkdir -p "$d"
	t=$(case_timeout "$f")
	dm=$(dmesg | wc -l)
	start=$(now)
	echo "==== $name (timeout ${t}s)"
	rc=0
	(cd "$d" && CASE_DIR=$d CASE_NAME=$name timeout -k 5 "$t" \
		sh -c '. "$1"; . "$2"' case "$LIB" "$f") >"$d/case.log" 2>&1 </dev/null || rc=$?
	reap "$d"
	reason=$(cat "$d/reason" 2>/dev/null)
	case $rc in
	0)
		pass=$((pass + 1))
		echo "PASS $name [$(elapsed "$start")]"
		[ "${RIG_VERBOSE:-}" != 1 ] || report_failure "$d" "$dm" ;;
	77)
		skipped=$((skipped + 1))
		echo "SKIP $name ($reason)" ;;
	*)
		case $rc in 124|137|143) [ -n "$reason" ] || reason="case timed out after ${t}s" ;; esac
		failed=$((failed + 1))
		echo "FAIL $name (${reason:-exit status $rc}) [$(elapsed "$start")]"
		report_failure "$d" "$dm" ;;
	esac
}

echo "rig: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus, /dev/kvm $([ -c /dev/kvm ] && echo present || echo MISSING)"
[ -x /lkvm ] && echo "rig: lkvm $(timeout 5 /lkvm version 2>&1 </dev/null | head -n 1)"
# A heartbeat on the console: rig.sh --stall tells a wedged rig kernel (seen
# under TCG's nested SVM: everything stops, case timeouts included) from a
# long, quiet case.
(while sleep 30; do echo "rig: heartbeat $(now)"; done) &
beat=$!
# RIG_REPEAT=N (kernel cmdline, like RIG_VERBOSE) runs the cases N times over.
round=0
while [ $round -lt "${RIG_REPEAT:-1}" ]; do
	round=$((round + 1))
	for f in /files/tests/*.sh; do
		[ -f "$f" ] || continue
		run_case "$f"
	done
done
kill $beat 2>/dev/null
if [ $skipped -gt 0 ]; then
	echo "rig: $pass passed, $failed failed, $skipped skipped"
else
	echo "rig: $pass passed, $failed failed"
fi
[ $failed -eq 0 ]
