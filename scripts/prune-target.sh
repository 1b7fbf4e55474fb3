#!/usr/bin/env bash
# Keeps the shared target directory (scripts/env.sh) from filling the disk. Every change to a
# workspace crate leaves another copy of each test and node executable (300-700 MB apiece) and of
# the incremental caches beside the new ones; over a few days of builds that was tens of GB, and a
# full disk fails the end-to-end tests (a 100 MiB model's chunks have nowhere to go).
#
# When less than GATELESS_MIN_FREE_GB (default 30) is free on the target's file system, it removes
# the incremental caches and every executable in deps/ but the two newest of each name (a test
# binary and its crate's other target). Builds after it are as correct, just less incremental.
set -euo pipefail
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

min_free_gb="${GATELESS_MIN_FREE_GB:-30}"
free_gb() { df --output=avail -BG "$CARGO_TARGET_DIR" | tail -1 | tr -dc '0-9'; }

before="$(free_gb)"
if [ "$before" -ge "$min_free_gb" ]; then
	exit 0
fi
for profile in debug release; do
	dir="$CARGO_TARGET_DIR/$profile"
	[ -d "$dir" ] || continue
	rm -rf "$dir/incremental"
	[ -d "$dir/deps" ] || continue
	# Newest first; an executable's name is `<crate>-<hash>` with no extension.
	find "$dir/deps" -maxdepth 1 -type f -executable ! -name '*.*' -printf '%T@ %p\n' |
		sort -rn | cut -d' ' -f2- |
		awk '{ name = $0; sub(/-[0-9a-f]+$/, "", name); if (++seen[name] > 2) print }' |
		xargs -r rm -f
done
echo "[prune] $before GB were free under $CARGO_TARGET_DIR (less than $min_free_gb GB); now $(free_gb) GB"
