# Shared helpers for the rig scripts: cache location, logging, package installs.
CACHE=${LKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lkvm-tests}
mkdir -p "$CACHE"
log() { echo "rig: $*" >&2; }
die() { log "error: $*"; exit 1; }
# apt_update_once: refresh the package lists at most every 12 hours.
apt_update_once() {
	if [ ! -e "$CACHE/.apt-updated" ] || [ -n "$(find "$CACHE/.apt-updated" -mmin +720)" ]; then
		apt-get update -q >&2 && touch "$CACHE/.apt-updated"
	fi
}
# need_pkgs PKG...: install missing Debian packages (apt-get update once per cache).
need_pkgs() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	apt_update_once
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
}
# hash_paths PATH...: short content hash of files/directories (names, modes, contents).
hash_paths() {
	local p
	for p in "$@"; do
		if [ -d "$p" ]; then
			(cd "$p" && find . -print0 | LC_ALL=C sort -z |
				xargs -0 stat -c '%N %a %F' && find . -type f -print0 |
				LC_ALL=C sort -z | xargs -0 -r sha256sum)
		else
			echo "${p##*/}"; stat -c %a "$p"; sha256sum <"$p"
		fi
	done | sha256sum | cut -c1-16
}
# busybox_root DIR: static busybox with every applet linked in DIR/bin.
busybox_root() {
	local d=$1 a
	need_pkgs busybox-static
	mkdir -p "$d"/bin "$d"/usr "$d"/proc "$d"/sys "$d"/dev "$d"/tmp "$d"/run "$d"/root "$d"/etc
	cp /bin/busybox "$d"/bin/busybox
	for a in $("$d"/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"
	done
	ln -sfn bin "$d"/sbin
	ln -sfn ../bin "$d"/usr/bin
	ln -sfn ../bin "$d"/usr/sbin
}
# mk_cpio DIR OUT: newc archive of DIR owned by root; gzip when OUT ends in .gz.
mk_cpio() {
	local d=$1 out=$2
	need_pkgs cpio
	case $out in
	*.gz) (cd "$d" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -6n >"$out.tmp" ;;
	*) (cd "$d" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp" ;;
	esac
	mv "$out.tmp" "$out"
}
