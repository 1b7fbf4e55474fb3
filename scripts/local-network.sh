#!/usr/bin/env bash
# Builds gateless-node and the launcher, and starts a local network of the `local` chain on
# loopback: by default its four genesis validators (Alice, Bob, Charlie, Dave), each with its own
# temporary base path, Alice as the bootnode. Prints each validator's JSON-RPC address; Ctrl-C
# stops them all. Arguments go to the launcher:
#   --validators 3|4           how many of the genesis validators run
#   --fault NAME=FAULT         e.g. dave=perturb-output: that validator lies (test networks only)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=env.sh
source "$here/env.sh"
cd "$GATELESS_ROOT"
echo "[local-network] building gateless-node, gateless and the launcher"
cargo build --locked -p gateless-node -p gateless-client -p gateless-e2e --bin local-network
export GATELESS_NODE_BIN="$CARGO_TARGET_DIR/debug/gateless-node"
exec "$CARGO_TARGET_DIR/debug/local-network" "$@"
