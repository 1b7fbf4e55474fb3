# Sourced by the set-up scripts: installs Debian packages, as root or through sudo.
# shellcheck shell=bash

apt_install() {
	if ! command -v apt-get >/dev/null 2>&1; then
		printf '[setup] %s missing, and this is not a Debian-like system: install them by hand\n' "$*" >&2
		exit 1
	fi
	printf '[setup] installing Debian packages: %s\n' "$*"
	local as_root=()
	[ "$(id -u)" -eq 0 ] || as_root=(sudo)
	"${as_root[@]}" apt-get update -qq
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
