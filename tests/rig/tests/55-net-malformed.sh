# The guest sends 25000 malformed frames (raw packet socket) at the user-mode
# stack: lkvm keeps running, the device stays usable, the network still works.
# rig-timeout: 300
need_lkvm
net_case file 1
serve tcp-serve-file 7501 "$CASE_DIR/file" 1 2>/dev/null
serve tcp-echo-server 7502
serve udp-echo-server 7503
boot_guest 280 net-garbage
expect_rc 0
expect_in "$OUT" "GARBAGE-SENT=20000"
expect_in "$OUT" "GARBAGE-SENT=5000"
expect_value NET-DOWN-MD5 "$(md5sum <"$CASE_DIR/file" | cut -d' ' -f1)"
expect_value TCP-MANY-OK 20/20
expect_value UDP-ECHO-OK 5/5
expect_in "$OUT" NET-GARBAGE-DONE
expect_not_in "$OUT" "needs reset"
