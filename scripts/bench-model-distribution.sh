#!/usr/bin/env bash
# The benchmark of models that nodes provide: the time a model registered through a builder's node
# takes to reach three and four validators and to become active, for 100 MiB and 1 GiB (or the
# sizes given, in MiB), on four local validators (debug nodes, as the tests run them).
#
#   scripts/bench-model-distribution.sh [100,1024]
#
# Writes benchmarks/model-distribution.json; BENCHMARKS.md quotes it. The models are written by
# models/bulk_model.sh into ~/.cache/gateless-models the first time (1 GiB: a few seconds, and
# the disk space).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=env.sh
source "$here/env.sh"
cd "$GATELESS_ROOT"
cargo build --locked -p gateless-node -p gateless-client -p gateless-inference-engine --bins
GATELESS_NODE_BIN="$CARGO_TARGET_DIR/debug/gateless-node" \
	GATELESS_BENCH_MODEL_MIB="${1:-100,1024}" \
	GATELESS_BENCH_OUTPUT="$GATELESS_ROOT/benchmarks/model-distribution.json" \
	cargo test --locked --workspace --test models_p2p -- --ignored --nocapture \
	distribution_time_by_model_size
