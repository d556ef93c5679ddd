#!/bin/bash
# Copy the stock cloud kernel's virtio driver modules into DIR (they are
# modules there: the guest's initramfs loads them, as a distro's would).
# Usage: cloud-modules.sh DIR      (the .deb is fetched once and cached)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=$1
hk=$("$here/host-kernel.sh")
ver=$(cat "$hk/version")
cache="$CACHE/cloud-virtio-modules-$ver"
mods="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio virtio_blk virtio_console virtio-rng"
if [ ! -s "$cache/virtio_blk.ko" ]; then
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -q "linux-image-$ver" >&2 && dpkg-deb -x ./*.deb x)
	mkdir -p "$cache"
	for m in $mods; do
		f=$(find "$tmp/x" -name "$m.ko*" | head -n 1)
		[ -n "$f" ] || { log "no $m in linux-image-$ver"; exit 1; }
		case $f in
		*.xz) xz -dc "$f" >"$cache/$m.ko" ;;
		*.zst) zstd -qdc "$f" >"$cache/$m.ko" ;;
		*) cp "$f" "$cache/$m.ko" ;;
		esac
	done
	echo "$mods" >"$cache/order"
	rm -rf "$tmp"
fi
mkdir -p "$dir"
cp "$cache"/*.ko "$cache/order" "$dir/"
