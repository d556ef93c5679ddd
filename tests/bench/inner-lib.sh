# Shared by the benchmarks' rig sides (boot-inner.sh, blk-inner.sh,
# net-inner.sh), sourced INSIDE the rig (busybox sh) from /files/bench/.
# The sourcing script defines:
#   measure LABEL SAMPLES [warm]  one run of LABEL, its samples appended to
#                                 SAMPLES; status 0 when the run counted
#                                 (warm: the warm-up run)
#   cmd LABEL                     the configuration's command line, for
#                                 the report (and for vm_run)
# and then calls bench_start, bench_rounds LABELS, (bench_stats METRICS,)
# bench_end. vm_run and fail_run help a measure that boots a guest.
# Output lines: BENCH-INFO (progress), BENCH-NOTE, BENCH-CMD LABEL COMMAND,
# BENCH-RUN ROUND LABEL, BENCH-SAMPLE ROUND SAMPLE-LINE (every measured run),
# BENCH-ROW (the figures), BENCH-HANG, BENCH-DMESG.
B=/files/bench
RUNS=5 HAVE_KVMTOOL=0 VERBOSE=0
. $B/config
LKVM=/lkvm
KT=$B/lkvm-static
S=/tmp/bench.samples
# kvmtool makes ~/.lkvm (mode 0755) at every start, even for `version`, and
# lkvm refuses a runtime directory that is not 0700: give kvmtool its own HOME.
KHOME=/tmp/kvmtool-home
mkdir -p $KHOME
cd /tmp || exit 1

now() { cut -d' ' -f1 /proc/uptime; }
# elapsed: whole seconds since bench_start.
elapsed() { awk -v a="$_t0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }

# bench_start: the clock, the dmesg mark and what runs.
bench_start() {
	_t0=$(now)
	_dm0=$(dmesg | wc -l)
	echo "BENCH-INFO rig kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus, /dev/kvm $([ -c /dev/kvm ] && echo present || echo MISSING)"
	echo "BENCH-INFO lkvm: $($LKVM version 2>&1 | head -n 1)"
	[ "$HAVE_KVMTOOL" != 1 ] ||
		HOME=$KHOME "$KT" version 2>&1 | sed 's/^/BENCH-INFO kvmtool: /' | head -n 1
}

# show_procs: the VMM processes that are left and what their threads wait on.
show_procs() {
	local p t exe
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case $exe in /lkvm|$B/*) ;; *) continue ;; esac
		echo "BENCH-HANG pid ${p#/proc/} $exe $(grep -E '^State' "$p/status" | tr -s '\t ' ' ')"
		for t in "$p"/task/*; do
			echo "BENCH-HANG  tid ${t##*/} $(cat "$t/comm" 2>/dev/null) wchan=$(cat "$t/wchan" 2>/dev/null)"
			sed 's/^/BENCH-HANG    /' "$t/stack" 2>/dev/null | head -n 12
		done
	done
}

# diag_hang LABEL: what the VMM processes left behind are doing, then kill them.
diag_hang() {
	local p exe
	echo "BENCH-HANG $1: the run did not come back; processes left:"
	show_procs
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case $exe in /lkvm|$B/*) kill -9 "${p#/proc/}" 2>/dev/null ;; esac
	done
	dmesg | tail -n 20 | sed 's/^/BENCH-HANG dmesg: /'
}

# bench_rounds LABELS: a warm-up run of every configuration (one that fails
# is reported and left out; the rest are in $BENCH_OK), then $RUNS rounds in
# which each runs once, in turn, so that slow spells hit them all alike.
bench_rounds() {
	local l i n
	BENCH_OK=
	for l in $1; do
		: >/tmp/warm.samples
		if measure "$l" /tmp/warm.samples warm; then
			BENCH_OK="$BENCH_OK $l"
		else
			echo "BENCH-NOTE $l: warm-up run failed, not measured"
			echo "BENCH-ROW $l runs=0 ok=0"
		fi
	done
	for l in $BENCH_OK; do echo "BENCH-CMD $l $(cmd "$l")"; done
	echo "BENCH-INFO warm-up done after $(elapsed) s"
	: >$S
	i=1
	while [ $i -le "$RUNS" ]; do
		n=$(wc -l <$S)
		for l in $BENCH_OK; do
			echo "BENCH-RUN $i $l"
			measure "$l" $S
		done
		tail -n +$((n + 1)) $S | sed "s/^/BENCH-SAMPLE $i /"
		echo "BENCH-INFO round $i/$RUNS done ($(elapsed) s)"
		i=$((i + 1))
	done
}

# bench_stats METRICS: for every measured label and metric, the figures of
# the samples file ("LABEL METRIC VALUE" lines) as
#   BENCH-ROW LABEL runs=N ok=K metric=M med=.. min=.. max=..
bench_stats() {
	local l m
	for m in $1; do
		for l in $BENCH_OK; do
			awk -v l="$l" -v m="$m" '$1 == l && $2 == m { print $3 }' $S | sort -n |
				awk -v l="$l" -v m="$m" -v runs="$RUNS" '
				{ v[NR] = $1 }
				END {
					if (!NR) { printf "BENCH-ROW %s runs=%d ok=0 metric=%s\n", l, runs, m; exit }
					med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
					printf "BENCH-ROW %s runs=%d ok=%d metric=%s med=%.1f min=%.1f max=%.1f\n",
						l, runs, NR, m, med, v[1], v[NR]
				}'
		done
	done
}

# bench_end: what the rig kernel said meanwhile (KVM warnings and the like),
# counted, and the total time.
bench_end() {
	[ ! -f /tmp/slow-exit ] || sort /tmp/slow-exit | uniq -c | while read -r n l; do
		echo "BENCH-NOTE $l: the VMM was still running 10 s after its guest's reboot -f in $n runs (warm-up included): killed there, the runs count"
	done
	dmesg | tail -n +$((_dm0 + 1)) | sed 's/^\[[^]]*\] //; s/\[[0-9]*\]/[PID]/' |
		sort | uniq -c | sort -rn | head -n 15 | sed 's/^/BENCH-DMESG /'
	echo "BENCH-INFO inner time $(elapsed) s"
}

# vm_run LABEL TIMEOUT OUT CMDLINE: run CMDLINE, a string as `cmd` prints
# it (split at blanks, except that all after " -p " is one argument: the
# kernel command line), with no stdin and its output in OUT; kvmtool gets
# its own HOME. After TIMEOUT seconds its threads are shown (BENCH-HANG),
# it is killed and the status is 1. A VMM that is still running 10 s after
# its guest printed BENCH-GUEST-DONE (and rebooted) is killed too, but the
# run counts: what it had to measure is done; bench_end says how often, and
# the first time its threads are shown.
vm_run() {
	local l=$1 t=$2 out=$3 c=$4 pid n=0 ticks=0
	case $l in kvmtool*) export HOME=$KHOME ;; esac
	case $c in
	*" -p "*) ${c%% -p *} -p "${c#* -p }" </dev/null >"$out" 2>&1 & ;;
	*) $c </dev/null >"$out" 2>&1 & ;;
	esac
	pid=$!
	export HOME=/root
	while kill -0 $pid 2>/dev/null; do
		sleep 1
		ticks=$((ticks + 1))
		if [ $ticks -gt "$t" ]; then
			diag_hang "$l"
			wait $pid
			return 1
		fi
		[ $n -gt 0 ] || grep -q BENCH-GUEST-DONE "$out" || continue
		n=$((n + 1))
		[ $n -gt 10 ] || continue
		grep -qx "$l" /tmp/slow-exit 2>/dev/null || {
			echo "BENCH-HANG $l: still running 10 s after the guest's reboot:"
			show_procs
		}
		echo "$l" >>/tmp/slow-exit
		kill -9 $pid
		break
	done
	wait $pid
	return 0
}

# fail_run LABEL OUT WHY: a run that did not count, with the tail of its output.
fail_run() {
	echo "BENCH-NOTE $1: run did not count: $3; last lines of its output:"
	tr -d '\r' <"$2" | tail -n 15 | sed 's/^/BENCH-NOTE   | /'
	return 1
}
