#!/bin/bash
# Fetch (once, cached) Debian's stock cloud kernel for the rig: the kernel that
# runs inside qemu/TCG with nested SVM and provides a real /dev/kvm.
# Prints a directory holding:
#   vmlinuz            the kernel image
#   modules/NAME.ko    uncompressed modules (busybox insmod cannot do xz/zst)
#   modules.load       modules to insmod, in dependency order (kvm-amd and deps)
#   modules.optional   same for vhost/tun/tap (failures are not fatal)
#   version            the kernel release
# Env: LKVM_HOST_KERNEL_PKG=linux-image-... picks a package;
#      LKVM_HOST_KERNEL_REFRESH=1 re-resolves the newest one via apt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

REQUIRED="kvm-amd"
OPTIONAL="vhost_net vhost_vsock tun tap"
current="$CACHE/host-kernel.current"

# Fast path: no apt calls at all when a complete unpacked kernel is cached.
if [ -z "${LKVM_HOST_KERNEL_REFRESH:-}" ] && [ -s "$current" ]; then
	dir=$(cat "$current")
	if [ -e "$dir/.complete" ]; then echo "$dir"; exit 0; fi
fi

# resolve_pkg: the versioned image package behind the cloud meta-package.
resolve_pkg() {
	local p
	if [ -n "${LKVM_HOST_KERNEL_PKG:-}" ]; then echo "$LKVM_HOST_KERNEL_PKG"; return; fi
	p=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n1)
	if [ -z "$p" ]; then
		rm -f "$CACHE/.apt-updated"
		apt_update_once
		p=$(apt-cache depends linux-image-cloud-amd64 |
			sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n1)
	fi
	[ -n "$p" ] || die "cannot resolve linux-image-cloud-amd64 with apt-cache"
	echo "$p"
}

# mod_file ROOT NAME: path of module NAME (dashes and underscores are equal).
mod_file() {
	local want=${2//-/_} f b
	while read -r f; do
		b=${f##*/}; b=${b%%.ko*}
		[ "${b//-/_}" = "$want" ] && { echo "$f"; return 0; }
	done <"$1/.index"
	return 1
}

# add_mod ROOT OUTDIR LIST NAME: copy NAME and its deps (deps first) and
# append their names to LIST; already-listed modules are skipped.
add_mod() {
	local root=$1 out=$2 list=$3 name=${4//-/_} f dep deps
	grep -qx "$name" "$out/.seen" 2>/dev/null && return 0
	f=$(mod_file "$root" "$name") || { log "module $name not found"; return 1; }
	echo "$name" >>"$out/.seen"
	case $f in
	*.ko.xz) xz -dc "$f" >"$out/modules/$name.ko" ;;
	*.ko.zst) zstd -qdc "$f" >"$out/modules/$name.ko" ;;
	*.ko.gz) gzip -dc "$f" >"$out/modules/$name.ko" ;;
	*) cp "$f" "$out/modules/$name.ko" ;;
	esac
	deps=$(modinfo -F depends "$out/modules/$name.ko" | tr , ' ')
	for dep in $deps; do add_mod "$root" "$out" "$list" "$dep"; done
	echo "$name" >>"$list"
}

need_pkgs kmod xz-utils zstd
pkg=$(resolve_pkg)
# Under /tmp: the _apt user must reach the download directory, or apt warns.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"; mkdir "$tmp/dl"; chmod 777 "$tmp/dl"
log "downloading $pkg"
(cd "$tmp/dl" && apt-get download -q "$pkg" >&2)
deb=$(ls "$tmp"/dl/*.deb)
key=$(basename "$deb" .deb)
dir="$CACHE/host-kernel-$key"
if [ ! -e "$dir/.complete" ]; then
	rm -rf "$dir" && mkdir -p "$dir/modules"
	dpkg-deb -x "$deb" "$tmp/x"
	cp "$tmp"/x/boot/vmlinuz-* "$dir/vmlinuz"
	ls "$tmp"/x/lib/modules >"$dir/version"
	find "$tmp"/x/lib/modules -name '*.ko*' >"$tmp/x/.index"
	: >"$dir/modules.load"
	for m in $REQUIRED; do add_mod "$tmp/x" "$dir" "$dir/modules.load" "$m"; done
	# Optional modules must not duplicate required ones, hence the shared .seen.
	: >"$dir/modules.optional"
	for m in $OPTIONAL; do add_mod "$tmp/x" "$dir" "$dir/modules.optional" "$m" || true; done
	rm -f "$dir/.seen"
	touch "$dir/.complete"
fi
echo "$dir" >"$current"
log "host kernel $(cat "$dir/version"): $(tr '\n' ' ' <"$dir/modules.load")"
echo "$dir"
