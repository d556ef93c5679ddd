# lkvm run with no disk and no initrd boots the embedded init: the rig's own
# / over 9p, read-only (a marker the case put there is visible; writes
# fail), scratch /tmp and an overlay on /var (the host's files, writes stay
# in the guest), a shell whose controlling terminal is the console, lo and
# eth0 up for user-mode networking; the shell's exit powers off (status 0).
# With --9p /,TAG (writable) the guest's writes reach the host.
# rig-timeout: 200
need_lkvm
marker=/lkvm-marker-$$
echo "rig root marker $$" >"$marker"
mkdir -p /var/lkvm-case && echo "var file $$" >/var/lkvm-case/f

start_guest 90 -k "$GUEST_KERNEL" -m 256
wait_for "exit the shell to power off" 60
send "echo MARKER=\$(cat $marker)"
send "touch /lkvm-guest-write 2>/dev/null; echo ROOT-WRITE=\$?"
send "echo scratch >/tmp/s && echo TMP=\$(cat /tmp/s)"
send "echo VAR=\$(cat /var/lkvm-case/f); echo new >/var/lkvm-case/g && echo VAR-WRITE=\$(cat /var/lkvm-case/g)"
send "echo ROOT-FS=\$(awk '\$2 == \"/\" { print \$3 }' /proc/mounts)"
send "echo TTY-NR=\$(cut -d' ' -f7 /proc/self/stat)"
send "echo ROUTE=\$(awk '\$2 == \"00000000\" { print \$1 \":\" \$3 }' /proc/net/route)"
send "echo FLAGS=\$(cat /sys/class/net/lo/flags):\$(cat /sys/class/net/eth0/flags)"
send "echo HOST=\$(hostname)"
send "exit"
wait_for "reboot: Power down" 60
finish_guest
expect_rc 0
expect_value MARKER "rig root marker $$"
expect_value ROOT-WRITE 1
expect_value TMP scratch
expect_value VAR "var file $$"
expect_value VAR-WRITE new
expect_value ROOT-FS 9p
expect_value TTY-NR 1088		# ttyS0: major 4, minor 64
expect_value ROUTE "eth0:0202000A"	# default via 10.0.2.2
expect_value FLAGS "0x9:0x1003"		# lo and eth0 up
expect_value HOST lkvm
expect_not_in "$OUT" "job control"
[ ! -e /lkvm-guest-write ] || fail "the guest wrote to the rig's root"
[ ! -e /var/lkvm-case/g ] || fail "the guest's /var write reached the rig"

# The user's own share of / (writable) becomes the root.
start_guest 90 -k "$GUEST_KERNEL" -m 256 --9p /,myroot
wait_for "shared writable" 60
send "echo written-by-guest >/lkvm-guest-rw-$$ && echo RW=ok"
send "exit"
finish_guest
expect_rc 0
expect_value RW ok
[ "$(cat /lkvm-guest-rw-$$ 2>/dev/null)" = written-by-guest ] || fail "the guest's write is not on the rig"
rm -rf "$marker" /lkvm-guest-rw-$$ /var/lkvm-case
