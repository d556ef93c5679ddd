#!/bin/bash
# The README's first command: build a guest kernel and initramfs (cached) and
# boot them with ./lkvm -- directly when this host's /dev/kvm boots Linux,
# otherwise inside the nested rig (qemu/TCG + kvm-amd), as on machines whose
# /dev/kvm is missing or cannot run an unmodified kernel.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
lkvm=${LKVM:-$top/lkvm}
[ -x "$lkvm" ] || { log "no $lkvm: run make first"; exit 1; }

gk=$(flock "$CACHE/guest-kernel.lock" "$here/guest-kernel.sh")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/extra/tests"
cp "$here"/guest/*.sh "$tmp/extra/tests/"
"$here/guest-initramfs.sh" "$tmp/initrd.gz" "$tmp/extra" >&2
args=(-k "$gk" -i "$tmp/initrd.gz" -c 2 -m 256 -p lkvm_test=demo)

# Try the host first: the marker proves Linux reached /init.
if [ -w /dev/kvm ]; then
	log "booting on this host's /dev/kvm: $lkvm run ${args[*]}"
	if timeout 60 "$lkvm" run "${args[@]}" </dev/null | tee "$tmp/out" &&
	   grep -q LKVM-GUEST-INIT-OK "$tmp/out"; then
		exit 0
	fi
	log "this /dev/kvm did not boot Linux; using the nested rig instead"
fi
cat >"$tmp/rig-demo.sh" <<EOS
#!/bin/sh
echo "+ lkvm run -k bzImage -i initrd.gz -c 2 -m 256 -p lkvm_test=demo"
/lkvm run -k /guest/bzImage -i /guest/initrd.gz -c 2 -m 256 -p lkvm_test=demo </dev/null
EOS
chmod +x "$tmp/rig-demo.sh"
log "booting inside the nested rig (qemu TCG + kvm-amd); this takes a few seconds"
"$here/rig.sh" --guest-kernel "$gk" --guest-initrd "$tmp/initrd.gz" "$tmp/rig-demo.sh"
