# Shared helpers for the rig scripts: cache location, logging, package installs.
CACHE=${LKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lkvm-tests}
mkdir -p "$CACHE"
log() { echo "rig: $*" >&2; }
# need_pkgs PKG...: install missing Debian packages (apt-get update once per cache).
need_pkgs() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	if [ ! -e "$CACHE/.apt-updated" ] || [ -n "$(find "$CACHE/.apt-updated" -mmin +720)" ]; then
		apt-get update -q >&2 && touch "$CACHE/.apt-updated"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
}
