#!/bin/bash
# Copy modules of the stock cloud kernel (the rig's kernel) into DIR, with
# DIR/order listing them in the order given: by default its virtio drivers
# (modules there: the guest's initramfs loads them, as a distro's would).
# Usage: cloud-modules.sh DIR [MODULE...]
# The .deb is fetched once; every module taken from it is cached.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=$1
shift
hk=$("$here/host-kernel.sh")
ver=$(cat "$hk/version")
cache="$CACHE/cloud-modules-$ver"
mods=${*:-virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio virtio_blk virtio_console virtio-rng}
missing=
for m in $mods; do [ -s "$cache/$m.ko" ] || missing="$missing $m"; done
if [ -n "$missing" ]; then
	tmp=$(mktemp -d)
	chmod 777 "$tmp"	# apt-get download as _apt
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -q "linux-image-$ver" >&2 && dpkg-deb -x ./*.deb x)
	mkdir -p "$cache"
	for m in $missing; do
		f=$(find "$tmp/x" -name "$m.ko*" | head -n 1)
		[ -n "$f" ] || { log "no $m in linux-image-$ver"; exit 1; }
		case $f in
		*.xz) xz -dc "$f" >"$cache/$m.ko.tmp" ;;
		*.zst) zstd -qdc "$f" >"$cache/$m.ko.tmp" ;;
		*) cp "$f" "$cache/$m.ko.tmp" ;;
		esac
		mv "$cache/$m.ko.tmp" "$cache/$m.ko"
	done
fi
mkdir -p "$dir"
for m in $mods; do cp "$cache/$m.ko" "$dir/"; done
echo $mods >"$dir/order"
