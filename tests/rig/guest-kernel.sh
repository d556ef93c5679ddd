#!/bin/bash
# Build (once, cached) a minimal guest bzImage from Debian's linux-source-6.1
# with tinyconfig + kvm_guest.config + tests/rig/guest-kernel.config.
# Prints the path of the cached bzImage on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
frag="$here/guest-kernel.config"
need_pkgs linux-source-6.1 flex bison bc libelf-dev make gcc
src=/usr/src/linux-source-6.1.tar.xz
key=$( (sha256sum "$frag" | cut -c1-16; stat -c %s "$src") | sha256sum | cut -c1-16)
out="$CACHE/guest-kernel-$key"
if [ -s "$out/bzImage" ]; then echo "$out/bzImage"; exit 0; fi
work="$CACHE/guest-kernel-build"
rm -rf "$work" && mkdir -p "$work"
log "building guest kernel in $work (about 5 minutes on 2 cores)"
tar xf "$src" -C "$work"
cd "$work"/linux-source-6.1
make -s tinyconfig >&2
scripts/kconfig/merge_config.sh -m .config kernel/configs/kvm_guest.config "$frag" >&2
make -s olddefconfig >&2
make -s -j"$(nproc)" bzImage >&2
mkdir -p "$out"
cp arch/x86/boot/bzImage .config "$out/"
cd / && rm -rf "$work"
echo "$out/bzImage"
