# User mode over virtio-mmio with two vCPUs: ip=dhcp configures eth0 at boot;
# a second NIC on its own network gets DHCP from udhcpc.
# rig-timeout: 200
need_lkvm
net_case file 1
serve tcp-serve-file 7201 "$CASE_DIR/file" 1 2>/dev/null
serve tcp-echo-server 7202
run_guest 180 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" -m 256 -c 2 --transport mmio \
	-n mode=user -n mode=user,guest_ip=10.0.3.15,host_ip=10.0.3.2 \
	-p "lkvm_test=net-boot ip=::::lkvm:eth0:dhcp"
expect_rc 0
expect_value NET-ADDR 10.0.2.15
expect_value NET-NICS 2
expect_value NET-ADDR1 10.0.3.15
expect_value NET-DOWN-MD5 "$(md5sum <"$CASE_DIR/file" | cut -d' ' -f1)"
expect_value TCP-MANY-OK 20/20
