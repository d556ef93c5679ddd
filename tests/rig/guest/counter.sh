# A guest that counts, and powers off when the ACPI power button is pressed
# (the button reaches userspace as an evdev event from the ACPI button driver).
if [ -e /dev/input/event0 ]; then
	(dd if=/dev/input/event0 bs=24 count=1 >/dev/null 2>&1
	 echo LKVM-POWER-BUTTON; poweroff -f) &
fi
i=0
while true; do
	i=$((i + 1))
	echo "COUNTER=$i"
	sleep 0.2
done
