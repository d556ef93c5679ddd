# The rig itself: kvm-amd loaded and /dev/kvm usable.
# rig-timeout: 10
[ -c /dev/kvm ] || fail "/dev/kvm missing (kvm-amd not loaded?)"
grep -q '^kvm_amd ' /proc/modules || fail "kvm_amd not loaded"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || fail "/dev/kvm not read-write"
