# A distro kernel's virtio, 9p and overlay drivers are modules: lkvm finds
# them for the kernel's release ($LKVM_MODULES_DIR/RELEASE, by default
# /lib/modules/RELEASE), puts them in the embedded init's initramfs, and the
# init loads them before it opens the console (virtio_console) or mounts the
# host's / (9p). Debian's generic kernel then runs a sandboxed command, and
# lkvm run's shell. The
# rig has no /lib/modules: without a tree lkvm sandbox fails at once, and
# says why, rather than hanging. Debian's cloud kernel has no 9p at all: with
# its tree the console comes up (a module) and the init says what is missing.
# The trees are the real Debian ones, trimmed (cloud-modtree.sh).
# rig-timeout: 480
need_lkvm
M=/files/modtree
need_file $M/vmlinuz-generic
need_file /guest/vmlinuz-cloud
CLOUD=/guest/vmlinuz-cloud
GENERIC=$M/vmlinuz-generic
gver=$(ls $M/lib | grep -v cloud | head -n 1)
cver=$(ls $M/lib | grep cloud | head -n 1)
[ -s "$M/lib/$gver/modules.dep" ] && [ -s "$M/lib/$cver/modules.dep" ] ||
	fail "no module trees in $M/lib: $(ls $M/lib)"
[ ! -e /lib/modules ] || fail "the rig has /lib/modules: this case needs it without"

# The generic kernel with its tree: the command's output and status, nothing else.
export LKVM_MODULES_DIR=$M/lib
sandbox 150 /dev/null -k "$GENERIC" -m 512 --debug -- sh -c 'echo hi; exit 7'
[ "$RC" = 7 ] || tail -n 30 "$ERR"
expect_rc 7
printf 'hi\n' | cmp -s - "$OUT" || fail "stdout is not exactly 'hi': $(od -c "$OUT" | head -n 4)"
# --debug: lkvm's lines; the init's (a module that did not load) would come unprefixed.
! grep -v '^lkvm: ' "$ERR" | grep -q . || fail "unexpected stderr: $(grep -v '^lkvm: ' "$ERR" | head -n 3)"
grep -q "lkvm: debug: kernel $gver: 1[0-9] modules" "$ERR" ||
	fail "no '$gver: N modules' line: $(grep modules "$ERR" | head -n 3)"
note "$(grep "lkvm: debug: kernel $gver:" "$ERR")"

# lkvm run's default boot with it: a shell over 9p, the modules loaded.
start_guest 150 -k "$GENERIC" -m 512
wait_for "exit the shell to power off" 120
send "echo ROOT-FS=\$(awk '\$2 == \"/\" { print \$3 }' /proc/mounts)"
send "echo MODS=\$(grep -c -E '^(9p|9pnet_virtio|virtio_net|overlay) ' /proc/modules)"
send "exit"
wait_for "reboot: Power down" 60
finish_guest
expect_rc 0
expect_value ROOT-FS 9p
expect_value MODS 4

# The cloud kernel with its tree: virtio_console loads, so the init's reason
# reaches stderr over hvc0; there is no 9p to load.
sandbox 120 /dev/null -k "$CLOUD" -m 512 -- sh -c 'echo hi; exit 7'
expect_rc 125
expect_in "$ERR" "lkvm-init: the guest kernel has no 9p file system"
expect_not_in "$ERR" "cannot load module"
expect_not_in "$OUT" hi

# No module tree: the console driver is missing. lkvm says, in one line, that
# the guest stopped with no status and why (the init's last message on the
# kernel's console); --debug shows that console.
unset LKVM_MODULES_DIR
sandbox 120 /dev/null -k "$CLOUD" -m 512 -- sh -c 'echo hi; exit 7'
expect_rc 125
[ "$(wc -l <"$ERR")" = 1 ] || fail "expected one line, got: $(head -n 5 "$ERR")"
expect_in "$ERR" "powered off without the command's exit status: cannot open /dev/hvc0"
sandbox 120 /dev/null -k "$CLOUD" -m 512 --debug -- sh -c 'echo hi; exit 7'
grep -q "lkvm-init: cannot open /dev/hvc0" "$ERR" || tail -n 30 "$ERR"
expect_rc 125
expect_in "$ERR" "kernel $cver: no /lib/modules/$cver/modules.dep, no modules"
expect_in "$ERR" "lkvm-init: cannot open /dev/hvc0: no such file or directory (its driver a module? lkvm found no /lib/modules/$cver/modules.dep on the host)"
