# Is there a NIC? (-n mode=none and --nodefaults: no; by default: yes)
if [ -e /sys/class/net/eth0 ]; then echo NET-ETH0=present; else echo NET-ETH0=absent; fi
