# Proves the guest ran userspace: the value is computed, not echoed from a file.
echo "LKVM-TEST-MARKER=$((3 * 5))"
