# Shared by the benchmarks' host sides (boot.sh, io.sh); bash, sourced after
# tests/rig/lib.sh with $repo set.

# bench_kvmtool DIR: put kvmtool's lkvm-static into DIR. It is built once
# from the peer tarball (KVMTOOL_TARBALL, default
# ../shared/peers/kvmtool-b48735e.tar.gz) in a temporary directory, outside
# the tree, and cached in $CACHE/kvmtool-b48735e (build log next to it).
# Status 1, with a message, when there is no kvmtool to measure.
bench_kvmtool() {
	local dir=$1 cache=$CACHE/kvmtool-b48735e src top
	local tarball=${KVMTOOL_TARBALL:-$repo/../shared/peers/kvmtool-b48735e.tar.gz}
	if [ ! -x "$cache/lkvm-static" ] && [ -f "$tarball" ]; then
		log "building kvmtool from $tarball (once; cached in $cache)"
		mkdir -p "$cache"
		src=$(mktemp -d /tmp/kvmtool-build.XXXXXX)
		tar xzf "$tarball" -C "$src"
		top=$(dirname "$(find "$src" -maxdepth 2 -name Makefile | head -n 1)")
		if flock "$cache/.build.lock" make -C "$top" -j2 lkvm-static >"$cache/build.log" 2>&1; then
			cp "$top/lkvm-static" "$cache/lkvm-static.tmp"
			mv "$cache/lkvm-static.tmp" "$cache/lkvm-static"
		else
			log "kvmtool did not build (see $cache/build.log); measuring without it"
		fi
		rm -rf "$src"
	fi
	if [ -x "$cache/lkvm-static" ]; then
		cp "$cache/lkvm-static" "$dir/lkvm-static"
		return 0
	fi
	[ -f "$tarball" ] || log "no $tarball: measuring without kvmtool"
	return 1
}

# bench_guest_kernel FILE: the minimal guest kernel (built once, cached) as FILE.
bench_guest_kernel() {
	local gk
	gk=$(flock "$CACHE/guest-kernel.lock" "$repo/tests/rig/guest-kernel.sh")
	cp "$gk" "$1"
}

# bench_rig LOG TIMEOUT INNER DIR: one rig boot running INNER with DIR, a
# directory named bench (inner-lib.sh is added), at /files/bench; the rig's
# status. While it runs it shows the rig's progress lines. One rig vCPU
# (BENCH_RIG_SMP, default 1): with two, the nested rig wedged for good in 2
# of 2 full runs (see README); the -smp given last wins. The inner scripts
# print a line before every run, seconds apart: a rig silent for
# BENCH_STALL seconds (default 240) has wedged (seen under MTTCG: both TCG
# threads spinning, nothing on the serial console, the rig's own timeouts
# never firing) and rig.sh --stall stops it (status 126) rather than let it
# hold the rig lock until TIMEOUT.
bench_rig() {
	local logf=$1 timeout=$2 inner=$3 dir=$4 rigpid rc=0
	cp "$repo/tests/bench/inner-lib.sh" "$dir/"
	: >"$logf"
	RIG_QEMU_ARGS="${RIG_QEMU_ARGS:-} -smp ${BENCH_RIG_SMP:-1}" \
		"$repo/tests/rig/rig.sh" --quiet --timeout "$timeout" --stall "${BENCH_STALL:-240}" \
		--log "$logf" "$inner" "$dir" &
	rigpid=$!
	# Progress: the rig's round and warm-up lines, failures and hang reports.
	tail -s 1 -F --pid="$rigpid" "$logf" 2>/dev/null |
		grep --line-buffered -E '^(BENCH-INFO|BENCH-NOTE|BENCH-HANG|runtime:|RIG-)' |
		sed -u 's/\r$//' >&2 &
	wait "$rigpid" || rc=$?
	wait || true	# the progress pipeline ends within a second of the rig
	return "$rc"
}

# bench_log NAME: a new serial log path for benchmark NAME.
bench_log() {
	mkdir -p "$CACHE/logs"
	echo "$CACHE/logs/bench-$1-$(date +%Y%m%d-%H%M%S)-$$.log"
}

# bench_report_head CLEAN TITLE LOG: the report's title and the rig's info lines.
bench_report_head() {
	echo
	echo "== $2, $(date -r "$3" '+%Y-%m-%d %H:%M'), tree $(git -C "$repo" describe --always --dirty 2>/dev/null || echo '?')"
	printf '%s\n' "$1" | sed -n 's/^BENCH-INFO //p' | grep -v '^round ' | sed 's/^/# /'
}

# bench_report_tail CLEAN: notes, commands, the rig kernel's messages, hangs.
bench_report_tail() {
	local notes dm hang
	notes=$(printf '%s\n' "$1" | sed -n 's/^BENCH-NOTE //p')
	[ -z "$notes" ] || printf '%s\n' "$notes" | sed 's/^/note: /'
	echo "Commands (inside the rig, /files/bench = the staged files):"
	printf '%s\n' "$1" | sed -n 's/^BENCH-CMD /  /p'
	dm=$(printf '%s\n' "$1" | sed -n 's/^BENCH-DMESG *//p')
	[ -z "$dm" ] || { echo "Rig kernel messages during the runs (count, message):"; printf '%s\n' "$dm" | sed 's/^/  /'; }
	hang=$(printf '%s\n' "$1" | grep '^BENCH-HANG' || true)
	[ -z "$hang" ] || { echo "Hung runs:"; printf '%s\n' "$hang" | sed 's/^BENCH-HANG/ /'; }
}
