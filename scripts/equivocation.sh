#!/usr/bin/env bash
# Runs the local-network equivocation test (tests/tests/equivocation.rs), which the default suite
# leaves out (see its comment): four validators of the `local` chain and a fifth node with Alice's
# keys; passes when an equivocation of hers is reported and slashed within 60 blocks.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=env.sh
source "$here/env.sh"
cd "$GATELESS_ROOT"
cargo build --locked -p gateless-node
GATELESS_NODE_BIN="$CARGO_TARGET_DIR/debug/gateless-node" \
	cargo test --locked -p gateless-e2e --test equivocation -- --ignored --nocapture
