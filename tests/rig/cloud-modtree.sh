#!/bin/bash
# Distro module trees for rig case 69 (lkvm's embedded init loads a kernel's
# drivers from the host's /lib/modules/RELEASE): for the stock cloud kernel
# (the rig's own; it has no 9p at all) and for Debian's generic kernel of the
# same ABI (virtio, 9p and overlay as modules), with that kernel:
#   DIR/lib/RELEASE/     modules.dep (depmod over the package, as a Debian
#                        system has it), modules.builtin, and the .ko files
#                        lkvm takes (util/kmod.c's list and their
#                        dependencies), unchanged, where modules.dep says
#   DIR/vmlinuz-generic  the generic kernel
# Usage: cloud-modtree.sh DIR    (then LKVM_MODULES_DIR=DIR/lib)
# The packages are fetched once (apt-get download); the trees are cached.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=$1
hk=$("$here/host-kernel.sh")
cver=$(cat "$hk/version")
gver=${cver%-cloud-amd64}-amd64
cache="$CACHE/cloud-modtree-$cver"
# As util/kmod.c: what the embedded init loads when it is a module.
MODS="virtio_pci virtio_mmio virtio_console 9pnet_virtio 9p overlay virtio_net virtio_blk virtio_rng"

# closure DEP: the wanted modules' paths in modules.dep DEP and their dependencies.
closure() {
	awk -v want="$MODS" '
		BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) W[w[i]] = 1 }
		{
			p = $1; sub(/:$/, "", p); b = p; sub(/.*\//, "", b); sub(/\.ko.*/, "", b)
			gsub(/-/, "_", b)
			if (b in W)
				for (i = 1; i <= NF; i++) { f = $i; sub(/:$/, "", f); print f }
		}' "$1" | sort -u
}

# tree DEB VER OUT: unpack DEB and put the trimmed tree of release VER in OUT/lib/VER.
tree() {
	local deb=$1 ver=$2 out=$3 x base mods
	x=$(dirname "$deb")/x-$ver
	dpkg-deb -x "$deb" "$x"
	mods=$x/lib/modules/$ver
	[ -d "$mods" ] || mods=$x/usr/lib/modules/$ver
	[ -d "$mods" ] || die "no modules for $ver in $(basename "$deb")"
	base=${mods%/lib/modules/$ver}
	[ -s "$mods/modules.dep" ] || depmod -b "$base" "$ver"
	mkdir -p "$out/lib/$ver"
	cp "$mods/modules.dep" "$mods/modules.builtin" "$out/lib/$ver/"
	(cd "$mods" && closure modules.dep | xargs -r cp --parents -t "$out/lib/$ver/")
	log "$ver: $(closure "$mods/modules.dep" | wc -l) modules for the embedded init"
	[ "$ver" != "$gver" ] || cp "$x/boot/vmlinuz-$ver" "$out/vmlinuz-generic"
}

if [ ! -e "$cache/.complete" ]; then
	need_pkgs kmod
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	chmod 755 "$tmp"; mkdir "$tmp/dl"; chmod 777 "$tmp/dl"	# apt-get download as _apt
	(cd "$tmp/dl" && apt-get download -q "linux-image-$cver" "linux-image-$gver" >&2)
	rm -rf "$cache" && mkdir -p "$cache"
	tree "$(ls "$tmp"/dl/linux-image-"$cver"_*.deb)" "$cver" "$cache"
	tree "$(ls "$tmp"/dl/linux-image-"$gver"_*.deb)" "$gver" "$cache"
	touch "$cache/.complete"
fi
mkdir -p "$dir"
cp -r "$cache/lib" "$cache/vmlinuz-generic" "$dir/"
