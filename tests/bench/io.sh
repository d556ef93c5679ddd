#!/bin/bash
# I/O benchmarks in ONE rig boot (tests/rig/rig.sh) each, interleaved round
# by round: virtio-blk (blk) and virtio-net (net) throughput of lkvm against
# the rig host's own (the limit) and against kvmtool.
# Usage: tests/bench/io.sh blk|net [-n ROUNDS] [-t SECS] [--tests LIST]
#                          [--no-kvmtool] [--log FILE]
#        tests/bench/io.sh --report LOG
#   -n ROUNDS      measured rounds (default 5), after one warm-up round (1 s
#                  per transfer) that also validates every configuration
#   -t SECS        length of each transfer (default 2 for blk, 3 for net)
#   --tests LIST   blk: comma-separated blkbench tests (default
#                  seqread,seqwrite,randread,randwrite,randread:4,randwrite:4)
#   --no-kvmtool   leave kvmtool out (otherwise built once and cached)
#   --log FILE     the rig's serial log (default $CACHE/logs/bench-KIND-*.log)
#   --report LOG   only print the table of an earlier run's serial log
# Env: LKVM (default ./lkvm), KVMTOOL_TARBALL, LKVM_CACHE, BENCH_RIG_SMP
# (rig vCPUs, default 1), BENCH_STALL (default 240 s), RIG_* of rig.sh.
# Prints a table: metric, configuration, median, min, max, runs, % of the
# limit. See tests/bench/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/tests/rig/lib.sh"
. "$here/lib.sh"

# metric NAME: what a metric of the table measures, with its unit.
metric() {
	local jobs=1
	case $1 in *:*) jobs=${1#*:} ;; esac
	case $1 in
	seqread*) echo "seq read 1 MiB, QD$jobs (MiB/s)" ;;
	seqwrite*) echo "seq write 1 MiB, QD$jobs (MiB/s)" ;;
	randread*) echo "rand read 4 KiB, QD$jobs (IOPS)" ;;
	randwrite*) echo "rand write 4 KiB, QD$jobs (IOPS)" ;;
	tx) echo "TCP guest->host (MiB/s)" ;;
	rx) echo "TCP host->guest (MiB/s)" ;;
	*) echo "$1" ;;
	esac
}

# report LOG: the table, notes and commands from a rig serial log.
report() {
	local clean kind limit title ratios rows m l rest pct
	clean=$(tr -d '\r' <"$1")
	kind=$(printf '%s\n' "$clean" | sed -n 's/^BENCH-KIND //p' | head -n 1)
	case $kind in
	blk) limit=host title="lkvm virtio-blk benchmark" ;;
	net) limit=loopback title="lkvm virtio-net benchmark" ;;
	*) die "$1: no BENCH-KIND line, not an io.sh log" ;;
	esac
	bench_report_head "$clean" "$title" "$1"
	# Per round, every figure against the limit's in the same round; the
	# median of those ratios, so that a slow spell that hit one round's
	# configurations alike cancels out.
	ratios=$(printf '%s\n' "$clean" | sed -n 's/^BENCH-SAMPLE //p' | awk -v lim="$limit" '
		{
			v[$1, $2, $3] = $4
			if (!(($2, $3) in seen)) { seen[$2, $3] = 1; keys[++n] = $2 SUBSEP $3 }
			rounds[$1] = 1
		}
		END {
			for (k = 1; k <= n; k++) {
				split(keys[k], a, SUBSEP)
				c = 0
				for (r in rounds)
					if (((r, a[1], a[2]) in v) && v[r, lim, a[2]] > 0)
						x[++c] = v[r, a[1], a[2]] / v[r, lim, a[2]]
				for (i = 2; i <= c; i++) {
					t = x[i]
					for (j = i - 1; j >= 1 && x[j] > t; j--)
						x[j + 1] = x[j]
					x[j + 1] = t
				}
				if (c)
					printf "%s %s %.1f%%\n", a[1], a[2],
						100 * (c % 2 ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2)
			}
		}')
	printf '%-32s %-14s %9s %9s %9s %5s %8s\n' metric config median min max runs "% $limit"
	rows=$(printf '%s\n' "$clean" | sed -n 's/^BENCH-ROW //p')
	for m in $(printf '%s\n' "$rows" | sed -n 's/.* metric=\([^ ]*\).*/\1/p' | awk '!seen[$0]++'); do
		printf '%s\n' "$rows" | while read -r l rest; do
			declare -A f=()
			for kv in $rest; do f[${kv%%=*}]=${kv#*=}; done
			[ "${f[metric]:-}" = "$m" ] || continue
			if [ "${f[ok]:-0}" = 0 ]; then
				printf '%-32s %-14s %9s %9s %9s %5s %8s\n' "$(metric "$m")" "$l" - - - "0/${f[runs]}" -
				continue
			fi
			pct=$(printf '%s\n' "$ratios" | awk -v l="$l" -v m="$m" '$1 == l && $2 == m { print $3 }')
			printf '%-32s %-14s %9s %9s %9s %5s %8s\n' "$(metric "$m")" "$l" \
				"${f[med]}" "${f[min]}" "${f[max]}" "${f[ok]}/${f[runs]}" "${pct:--}"
		done
	done
	# Configurations whose warm-up failed have no metric at all.
	printf '%s\n' "$rows" | awk '$0 !~ / metric=/ { print "(" $1 ": not measured, warm-up failed)" }'
	case $kind in
	blk)
		echo "host: blkbench with O_DIRECT on the image file in the rig, i.e. the device"
		echo "(a brd RAM disk) through the rig kernel's ext4 driver, no VM. The others run"
		echo "the same blkbench with O_DIRECT on the guest's /dev/vda (1 vCPU, 1 queue,"
		echo "256 MiB); the VMMs do their own I/O on the image (lkvm, kvmtool: buffered;"
		echo "lkvm-direct: -d IMG,direct, O_DIRECT). QDn = n threads, one request each." ;;
	net)
		echo "One TCP stream per direction, figures from the receiving side. loopback:"
		echo "both ends in the rig (127.0.0.1), no VM. user: the VMM's user-mode stack"
		echo "(host end 127.0.0.1); tap: a tap device the VMM makes (host end"
		echo "192.168.33.1/24); vhost: the same with vhost-net. Guest: 1 vCPU, 256 MiB." ;;
	esac
	echo "% $limit: the median over the rounds of the row's figure divided by the"
	echo "$limit's in the same round. Nested under TCG: only the ratios between rows"
	echo "of one run mean anything."
	bench_report_tail "$clean"
}

kind='' runs=5 secs='' tests=seqread,seqwrite,randread,randwrite,randread:4,randwrite:4
use_kvmtool=1 logf=''
usage() { sed -n '5,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	blk|net) kind=$1; shift ;;
	-n) runs=$2; shift 2 ;;
	-t) secs=$2; shift 2 ;;
	--tests) tests=$2; shift 2 ;;
	--no-kvmtool) use_kvmtool=0; shift ;;
	--log) logf=$2; shift 2 ;;
	--report) report "$2"; exit 0 ;;
	-h|--help) usage ;;
	*) log "unknown argument $1"; usage ;;
	esac
done
[ -n "$kind" ] || usage
case $runs in '' | *[!0-9]* | 0) die "-n needs a positive number" ;; esac
[ -n "$secs" ] || { [ "$kind" = blk ] && secs=2 || secs=3; }
case $secs in '' | *[!0-9]* | 0) die "-t needs a positive number of seconds" ;; esac
bench_start=$(date +%s)
lkvm=${LKVM:-$repo/lkvm}
[ -x "$lkvm" ] || die "$lkvm missing: run make first"
need_pkgs gcc libc6-dev cpio

work=$(mktemp -d /tmp/lkvm-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
b=$work/bench
g=$work/guest-extra
mkdir -p "$b" "$g/bin" "$g/tests"

# The tools, static, for the rig and the guest alike; the guest initramfs
# (tests/rig/guest-initramfs.sh, cached by content) runs the bench scripts.
gcc -static -O2 -Wall -pthread -o "$g/bin/blkbench" "$repo/tests/tools/blkbench.c"
gcc -static -O2 -Wall -o "$g/bin/nettool" "$repo/tests/tools/nettool.c"
strip "$g/bin/blkbench" "$g/bin/nettool"
cp "$g/bin/blkbench" "$g/bin/nettool" "$b/"
cp "$here/guest-blk.sh" "$g/tests/bench-blk.sh"
cp "$here/guest-net.sh" "$g/tests/bench-net.sh"
cp "$repo/tests/rig/guest/net-lib.sh" "$g/tests/"
"$repo/tests/rig/guest-initramfs.sh" "$b/initrd.gz" "$g"
bench_guest_kernel "$b/bzImage"
# blk: the image lives on a RAM disk (brd) of the rig kernel; a module there.
if [ "$kind" = blk ]; then
	"$repo/tests/rig/cloud-modules.sh" "$work/mods" brd >/dev/null
	cp "$work/mods/brd.ko" "$b/"
fi

have_kvmtool=0
if [ "$use_kvmtool" = 1 ] && bench_kvmtool "$b"; then have_kvmtool=1; fi

cat >"$b/config" <<EOF
RUNS=$runs
SECS=$secs
TESTS=$tests
IMG_MIB=256
HAVE_KVMTOOL=$have_kvmtool
EOF

[ -n "$logf" ] || logf=$(bench_log "$kind")
# A round takes about 100 s in the rig (5 to 7 configurations, most of them
# a Linux boot plus the transfers); the cap leaves room for a slow host.
timeout=$((300 + (runs + 1) * 200))
log "rig: $kind, $runs rounds of $secs s per transfer (kvmtool: $have_kvmtool), log $logf"
rc=0
bench_rig "$logf" "$timeout" "$here/$kind-inner.sh" "$b" || rc=$?
report "$logf"
echo "bench took $(($(date +%s) - bench_start)) s (rig status $rc), serial log $logf"
exit "$rc"
