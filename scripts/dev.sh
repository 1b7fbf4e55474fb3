#!/usr/bin/env bash
# Builds gateless-node and the `gateless` client, and starts a single-validator dev chain (Alice)
# with a temporary database. Stop it with Ctrl-C.
# JSON-RPC on ws://127.0.0.1:9944, Prometheus on 127.0.0.1:9615. Extra arguments go to the node,
# e.g. `scripts/dev.sh --base-path /tmp/gateless` to keep the chain between runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=env.sh
source "$here/env.sh"
cd "$GATELESS_ROOT"
echo "[dev] building gateless-node and gateless (a cold first build takes about 30 minutes on 2 cores)"
cargo build --locked -p gateless-node -p gateless-client
echo "[dev] the client: $CARGO_TARGET_DIR/debug/gateless (see the README's 'Register a model and run a job with gateless')"
# A fresh chain each run unless the caller names a base path. A dev chain has no peers to
# discover, so no multicast DNS either.
if [ "$#" -eq 0 ]; then set -- --tmp; fi
echo "[dev] starting: gateless-node --dev --no-mdns $*"
exec "$CARGO_TARGET_DIR/debug/gateless-node" --dev --no-mdns "$@"
