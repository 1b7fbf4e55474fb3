#!/usr/bin/env bash
# The data plane's benchmark: time from submission to verified result and bytes on chain per job,
# for an inline digits row, a 1 MiB and a 16 MiB input and a 1 MiB output, on four local
# validators (debug nodes, as the tests run them), one job at a time.
#
#   scripts/bench-data-plane.sh [runs per case, default 5]
#
# Writes benchmarks/data-plane.json; BENCHMARKS.md section 4 quotes it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=env.sh
source "$here/env.sh"
cd "$GATELESS_ROOT"
cargo build --locked -p gateless-node -p gateless-client -p gateless-inference-engine --bins
GATELESS_NODE_BIN="$CARGO_TARGET_DIR/debug/gateless-node" \
	GATELESS_BENCH_RUNS="${1:-5}" \
	GATELESS_BENCH_OUTPUT="$GATELESS_ROOT/benchmarks/data-plane.json" \
	cargo test --locked --workspace --test data_plane -- --ignored --nocapture \
	submission_to_verdict_by_input_size
