#!/bin/sh
# Boot benchmark, the part that runs INSIDE the rig (busybox sh) as
# /rig-test.sh; tests/bench/boot.sh puts everything under /files/bench/:
#   config          sourced: RUNS, HAVE_KVMTOOL, HAVE_QEMU, VERBOSE
#   inner-lib.sh    the round loop (shared with blk-inner.sh, net-inner.sh)
#   runtime         the timing helper (runtime.c)
#   hello.bzImage   guest/hello.bzImage, zero-padded to 4 KiB (kvmtool
#                   reads a whole 4 KiB boot_params before it checks "HdrS")
#   bzImage         the minimal guest kernel (tests/rig/guest-kernel.sh)
#   initrd.gz       /init = init.c (prints BENCH-INIT-REACHED, then exits the
#                   VM as bench_exit=port|reboot|poweroff says)
#   lkvm-static     kvmtool, when it built
#   qemu/           qemu-system-x86_64 with its shared libraries and firmware
# Output: BENCH-ROW LABEL runs=N ok=K ms_min=.. ms_med=.. ms_max=.. rss_...
# lines (see runtime.c), BENCH-CMD LABEL COMMAND and BENCH-NOTE lines; the
# host side turns them into the table.
RUNS=20 HAVE_QEMU=0
. /files/bench/inner-lib.sh
RT=$B/runtime
HELLO=$B/hello.bzImage
K=$B/bzImage
I=$B/initrd.gz

# Same shape for every VMM: 1 vCPU; 64 MiB for the tiny guest, 128 MiB for Linux.
HMEM=64 LMEM=128
# lkvm's default command line is "console=ttyS0 panic=-1". kvmtool's is
# KCMD below plus " console=ttyS0 root=/dev/vda rw"; with lkvm's (through
# --nodefaults) the 6.1 guest oopses early under kvmtool (it needs noapic),
# so kvmtool keeps its own and lkvm boots once more with kvmtool's too.
LCMD="console=ttyS0 panic=-1 quiet"
KCMD="noapic noacpi pci=conf1 reboot=k panic=1 i8042.direct=1 i8042.dumbkbd=1 i8042.nopnp=1 earlyprintk=serial i8042.noaux=1"
QEMU="$B/qemu/ld-linux-x86-64.so.2 --library-path $B/qemu/lib $B/qemu/qemu-system-x86_64"
# rtc=on: microvm's default (rtc=auto) has no CMOS RTC under KVM, and the
# guest's rtc_cmos probe then spins for ~6 s (in the rig) before giving up.
QEMU="$QEMU -L $B/qemu/share -nodefaults -no-user-config -display none -M microvm,rtc=on"
QEMU="$QEMU -accel kvm -cpu host -smp 1 -serial stdio -no-reboot"
QEMU="$QEMU -device isa-debug-exit,iobase=0xf4,iosize=1"

# spec LABEL: prints "STATUS|MARKER|TIMEOUT|COMMAND" for the configuration.
spec() {
	case $1 in
	baseline:exec-true) echo "0||10|/bin/true" ;;
	lkvm:hello) echo "0|hello from lkvm guest|30|$LKVM run -k $HELLO -m $HMEM -c 1" ;;
	lkvm:hello-legacy) echo "66|real mode entry|30|$LKVM run -k $HELLO -m $HMEM -c 1 --boot=legacy" ;;
	kvmtool:hello-legacy) echo "any|port=f4|30|$KT run -k $HELLO -m $HMEM -c 1 --nodefaults --debug-ioport" ;;
	qemu:hello-legacy) echo "133|real mode entry|60|$QEMU -m $HMEM -kernel $HELLO" ;;
	lkvm:linux-port) echo "0|BENCH-INIT-REACHED|90|$LKVM run -k $K -i $I -m $LMEM -c 1 -p quiet bench_exit=port" ;;
	lkvm:linux-reboot) echo "0|BENCH-INIT-REACHED|90|$LKVM run -k $K -i $I -m $LMEM -c 1 -p quiet bench_exit=reboot" ;;
	lkvm:linux-poweroff) echo "0|BENCH-INIT-REACHED|90|$LKVM run -k $K -i $I -m $LMEM -c 1 -p quiet bench_exit=poweroff" ;;
	lkvm:linux-reboot-kvmtoolcmdline) echo "0|BENCH-INIT-REACHED|90|$LKVM run -k $K -i $I -m $LMEM -c 1 -p $KCMD root=/dev/vda rw quiet bench_exit=reboot" ;;
	kvmtool:linux-reboot-kvmtoolcmdline) echo "any|BENCH-INIT-REACHED|90|$KT run -k $K -i $I -m $LMEM -c 1 -p quiet bench_exit=reboot" ;;
	lkvm:sandbox-true) echo "0||90|$LKVM sandbox -k $K -m $LMEM -c 1 -- true" ;;
	qemu:linux-port) echo "1|BENCH-INIT-REACHED|120|$QEMU -m $LMEM -kernel $K -initrd $I -append $LCMD bench_exit=port" ;;
	esac
}

# cmd LABEL: the configuration's command line.
cmd() {
	local c
	c=$(spec "$1")
	echo "${c#*|*|*|}"
}

# measure LABEL SAMPLES [warm]: one run of LABEL appended to SAMPLES (the
# warm-up keeps its output, shown with VERBOSE=1). The -p/-append argument is
# the rest of the command line after the flag, so it is split off here to
# stay one argument. kvmtool runs with its own HOME (see KHOME). runtime
# kills a VMM that outlives its timeout; the outer timeout is for a VMM that
# cannot be killed (stuck in the kernel).
measure() {
	local l=$1 out=$2 sp st mk to c pre arg rc=0 wd keep=
	sp=$(spec "$l")
	st=${sp%%|*}; sp=${sp#*|}
	mk=${sp%%|*}; sp=${sp#*|}
	to=${sp%%|*}; c=${sp#*|}
	wd="timeout -s KILL $((to + 30)) $RT -o $out -l $l -e $st -t $to"
	case $l in *:linux*) wd="$wd -v uptime_ms" ;; esac
	[ "${3:-}" = warm ] && keep="-O /tmp/warm.out"
	case $l in kvmtool:*) export HOME=$KHOME ;; esac
	case $c in
	*" -p "*) pre=${c%% -p *}; arg=${c#* -p }
		$wd ${mk:+-g "$mk"} $keep $pre -p "$arg" || rc=$? ;;
	*" -append "*) pre=${c%% -append *}; arg=${c#* -append }
		$wd ${mk:+-g "$mk"} $keep $pre -append "$arg" || rc=$? ;;
	*) $wd ${mk:+-g "$mk"} $keep $c || rc=$? ;;
	esac
	export HOME=/root
	if [ $rc = 137 ] || [ $rc = 143 ]; then
		diag_hang "$l"
		echo "$l 0 0 -2 0 -1" >>"$out"
	fi
	if [ $rc = 0 ] && [ -n "$keep" ] && [ "$VERBOSE" = 1 ]; then
		echo "---- warm-up output of $l ($(cut -d' ' -f2 "$out") ms):"
		tail -n 40 /tmp/warm.out | tr -d '\r'
		echo "----"
	fi
	return $rc
}

bench_start

labels="baseline:exec-true lkvm:hello lkvm:hello-legacy"
[ "$HAVE_KVMTOOL" = 1 ] && labels="$labels kvmtool:hello-legacy"
[ "$HAVE_QEMU" = 1 ] && labels="$labels qemu:hello-legacy"
labels="$labels lkvm:linux-port lkvm:linux-reboot lkvm:linux-poweroff lkvm:linux-reboot-kvmtoolcmdline"
labels="$labels lkvm:sandbox-true"
[ "$HAVE_KVMTOOL" = 1 ] && labels="$labels kvmtool:linux-reboot-kvmtoolcmdline"
[ "$HAVE_QEMU" = 1 ] && labels="$labels qemu:linux-port"

# kvmtool has no isa-debug-exit: check that a plain run ignores the 0xf4
# write (then the guest sits in hlt), which is why it runs with --debug-ioport.
if [ "$HAVE_KVMTOOL" = 1 ]; then
	: >/tmp/kt-plain.samples
	HOME=$KHOME $RT -q -o /tmp/kt-plain.samples -l kt -e any -t 10 \
		"$KT" run -k "$HELLO" -m $HMEM -c 1 --nodefaults
	case $(cut -d' ' -f4 /tmp/kt-plain.samples) in
	-1) echo "BENCH-NOTE kvmtool without --debug-ioport ignores the guest's write to port 0xf4 (still running after 10 s, killed)" ;;
	*) echo "BENCH-NOTE kvmtool without --debug-ioport exited by itself (status $(cut -d' ' -f4 /tmp/kt-plain.samples))" ;;
	esac
fi

bench_rounds "$labels"
$RT -s $S | sed 's/^/BENCH-ROW /'
bench_end
exit 0
