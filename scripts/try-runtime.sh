#!/usr/bin/env bash
# try-runtime's checks against a live Gateless node: on-runtime-upgrade on the finalized block's
# state (every migration with its pre- and post-checks, every pallet's try_state, all storage
# decoded, migrations idempotent and within a block), then execute-block on the last finalized
# blocks, then fast-forward (blocks built on the finalized state as a node builds them), each
# block with every pallet's try_state. The runtime is this tree's, built with `try-runtime`
# (tests/build.rs); the node's own runtime never has the feature.
#
#   scripts/try-runtime.sh [--uri ws://127.0.0.1:9944] [--blocks N] [--fast-forward M]
#                          [--runtime FILE.wasm]
#
# Start a node first (scripts/dev.sh, or scripts/local-network.sh). The local network test
# (tests/tests/local_network.rs) runs the same checks after each of its scenarios.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=env.sh
source "$here/env.sh"
cd "$GATELESS_ROOT"
echo "[try-runtime] building the try-runtime runner (and the runtime with try-runtime)"
cargo build --locked -p gateless-e2e --bin gateless-try-runtime
exec "$CARGO_TARGET_DIR/debug/gateless-try-runtime" "$@"
