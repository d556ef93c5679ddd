# Seccomp: lkvm's threads run under allow-lists, so a forbidden syscall
# (execve, through the LKVM_SECCOMP_SELFTEST hook) from the main, a vCPU or
# an I/O thread kills lkvm with SIGSYS (status 159) after one line naming
# it, and on a terminal the terminal is restored first; with --no-seccomp
# the same hook just fails with ENOENT. Then one guest uses a disk, a 9p share,
# user-mode networking, the rng and the virtio console with the filters on.
# rig-timeout: 300
need_lkvm
for role in main vcpu io; do
	export LKVM_SECCOMP_SELFTEST=$role
	boot_guest 60 marker
	expect_in "$OUT" "seccomp selftest: execve from the first $role thread"
	expect_not_in "$OUT" "execve returned"
	expect_in "$OUT" "lkvm: error: seccomp: a $role thread made system call 59, not in its list; stopping"
	expect_rc 159
done
# On a terminal, raw by then: it comes back cooked (ptyrun exits 125 if not).
need_file /files/tools/ptyrun
_new_out
RC=0
LKVM_SECCOMP_SELFTEST=vcpu /files/tools/ptyrun -t 60 -- \
	"$LKVM" run -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 128 >"$OUT" 2>&1 || RC=$?
[ "$RC" = 125 ] && fail "a seccomp violation left the terminal raw"
expect_rc 159
expect_in "$OUT" "seccomp: a vcpu thread made system call 59"
# Unconfined: the hook's execve fails harmlessly and the guest runs on.
for role in main io; do
	export LKVM_SECCOMP_SELFTEST=$role
	boot_guest 60 marker --no-seccomp
	expect_in "$OUT" "seccomp selftest: execve from the first $role thread"
	expect_in "$OUT" "execve returned"
	expect_value LKVM-TEST-MARKER 15
	expect_rc 0
done
unset LKVM_SECCOMP_SELFTEST

# --debug prints the counts of the README.
boot_guest 60 marker --debug
expect_in "$OUT" "seccomp: on; syscalls allowed: vCPU "
expect_rc 0

T=/files/tools/nettool
[ -x "$T" ] || fail "no $T in the rig"
ip link set lo up
"$T" udp-echo-server 7301 &
SERVERS=$!
"$T" tcp-echo-server 7302 &
SERVERS="$SERVERS $!"
trap 'kill $SERVERS 2>/dev/null' EXIT
mkdir -p "$CASE_DIR/share"
echo "host-$$" >"$CASE_DIR/share/marker"
dd if=/dev/zero of="$CASE_DIR/disk.img" bs=1M count=4 2>/dev/null
boot_guest 200 seccomp-all -c 2 --console virtio -d "$CASE_DIR/disk.img" \
	--9p "$CASE_DIR/share,share"
expect_value BLK ok
expect_value P9-MARKER "host-$$"
expect_value P9 ok
expect_value NET-ADDR 10.0.2.15
expect_value UDP-ECHO-OK 5/5
expect_value TCP-MANY-OK 20/20
expect_value RNG ok
expect_in "$OUT" SECCOMP-ALL-DONE
expect_value LKVM-GUEST-TEST-STATUS 0
expect_rc 0
[ "$(cat "$CASE_DIR/share/moved")" = "from the guest" ] || fail "the guest's 9p write is not on the host"
expect_not_in "$OUT" "seccomp:"
