# The file written on the previous boot is still there.
echo "LKVM-PERSIST=$(cat /persist.txt 2>&1)"
