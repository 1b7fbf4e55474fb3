#!/usr/bin/env bash
# Runs the whole test suite: unit tests of every crate, the runtime's tests, and the end-to-end
# tests in tests/ that start real gateless-node processes on loopback and talk JSON-RPC to them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# polkadot.js and py-substrate-interface, for the tests that drive the node through them.
"$here/setup-clients.sh"
# shellcheck source=env.sh
source "$here/env.sh"
cd "$GATELESS_ROOT"
# Old test and node executables of earlier builds pile up in the shared target directory.
"$here/prune-target.sh"
# The end-to-end tests run the node and the `gateless` client, and the runtime's tests the engine's
# inference worker: binaries that `cargo test` does not build for another package.
echo "[test] building gateless-node, gateless and gateless-inference-worker"
cargo build --locked -p gateless-node -p gateless-client -p gateless-inference-engine --bins
export GATELESS_NODE_BIN="$CARGO_TARGET_DIR/debug/gateless-node"
echo "[test] running the test suite"
if cargo nextest --version >/dev/null 2>&1; then
	# Two test processes at a time: the end-to-end tests spend most of their time waiting for
	# 6-second blocks, so two at once nearly halve the suite's wall time on two cores. nextest runs
	# no doctests: cargo test runs those after.
	cargo nextest run --locked --workspace --test-threads 2 --no-fail-fast "$@"
	cargo test --locked --workspace --doc
else
	cargo test --locked --workspace "$@"
fi
# The pallets again with their benchmarks, which also run each benchmark once against the pallet's
# mock runtime (a separate build: `runtime-benchmarks` changes frame-support and friends).
echo "[test] running the pallets' tests with their benchmarks"
cargo test --locked -p pallet-model-registry -p pallet-validator-staking \
	-p pallet-inference-jobs -p pallet-result-verification \
	--features pallet-model-registry/runtime-benchmarks,pallet-validator-staking/runtime-benchmarks,pallet-inference-jobs/runtime-benchmarks,pallet-result-verification/runtime-benchmarks
