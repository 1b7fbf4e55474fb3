#!/usr/bin/env bash
# Installs what building Gateless needs and a fresh Debian machine with rustup lacks:
#   - the `wasm32v1-none` target and `rust-src`, to build the WASM runtime, and rustfmt and clippy;
#   - `protoc` (Debian's protobuf-compiler), needed by libp2p's build scripts;
#   - `mold`, a faster linker, which .cargo/config.toml uses for the node;
#   - `libssl-dev` and `pkg-config`, so that litep2p links the system OpenSSL instead of compiling one.
# Every step is skipped when its tool is already there, so running it again is cheap.
set -euo pipefail

say() { printf '[setup] %s\n' "$*"; }

# shellcheck source=apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

missing_debs=()
command -v protoc >/dev/null 2>&1 || missing_debs+=(protobuf-compiler)
command -v mold >/dev/null 2>&1 || missing_debs+=(mold)
command -v cc >/dev/null 2>&1 || missing_debs+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || missing_debs+=(pkg-config)
[ -f /usr/include/openssl/ssl.h ] || missing_debs+=(libssl-dev)
if [ "${#missing_debs[@]}" -gt 0 ]; then
	apt_install "${missing_debs[@]}"
fi

if ! command -v rustup >/dev/null 2>&1; then
	say "rustup is required (https://rustup.rs); it is not on PATH" >&2
	exit 1
fi
if ! rustup target list --installed | grep -qx wasm32v1-none; then
	say "adding the Rust target wasm32v1-none (for the WASM runtime)"
	rustup target add wasm32v1-none
fi
installed_components="$(rustup component list --installed)"
for component in rust-src rustfmt clippy; do
	if ! grep -q "^$component" <<<"$installed_components"; then
		say "adding the Rust component $component (rust-src builds the WASM runtime; CI runs the others)"
		rustup component add "$component"
	fi
done
say "toolchain ready: $(rustc --version), protoc $(protoc --version | cut -d' ' -f2), $(mold --version | cut -d' ' -f1-2)"
