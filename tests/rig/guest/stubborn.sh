# A guest that ignores the power button: lkvm stop must force it off.
i=0
while true; do
	i=$((i + 1))
	echo "COUNTER=$i"
	sleep 0.2
done
