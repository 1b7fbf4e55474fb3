#!/usr/bin/env bash
# Regenerates the committed chain specs in chain-spec/ from the runtime's genesis presets.
# The test tests/tests/chain_spec.rs fails when they are out of date.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=env.sh
source "$here/env.sh"
cd "$GATELESS_ROOT"
cargo build --locked -p gateless-node
node="$CARGO_TARGET_DIR/debug/gateless-node"
for chain in dev local; do
	"$node" build-spec --chain "$chain" --disable-default-bootnode > "chain-spec/$chain.json"
	echo "[chain-specs] wrote chain-spec/$chain.json"
done
