# The CMOS RTC gives the guest the host's date (read back through rtc0).
echo "LKVM-RTC-YEAR=$(cat /sys/class/rtc/rtc0/date 2>/dev/null | cut -c1-4)"
echo "LKVM-DATE-YEAR=$(date -u +%Y)"
