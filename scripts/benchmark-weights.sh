#!/usr/bin/env bash
# Regenerates the `weights.rs` of Gateless pallets from their benchmarks, on this machine.
#
#   scripts/benchmark-weights.sh [pallet_name ...]    (default: every Gateless pallet)
#
# Builds gateless-node with `--features runtime-benchmarks` and a release-profile WASM runtime
# (weights of a debug WASM would be several times too high), then runs `benchmark pallet` on the
# dev chain with the project's template (scripts/pallet-weight-template.hbs), which writes the
# pallet's `WeightInfo` trait, `SubstrateWeight<T>` and the `()` impl used by mock runtimes.
# Steps and repeats can be lowered for a quick look: STEPS=10 REPEAT=5 scripts/benchmark-weights.sh
# PROFILE=release (or production: lto, one codegen unit) builds the benchmarking node with that
# Cargo profile instead of the tests' debug one, so that host functions (signature checks,
# hashing) run optimised as on an operator's node; its build goes to its own directory and does
# not disturb the tests' debug node.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=env.sh
source "$here/env.sh"
cd "$GATELESS_ROOT"

pallets=("$@")
if [ ${#pallets[@]} -eq 0 ]; then
	pallets=(pallet_model_registry pallet_validator_staking pallet_inference_jobs pallet_result_verification)
fi

profile="${PROFILE:-dev}"
case "$profile" in
	dev) profile_dir=debug ;;
	release | production) profile_dir="$profile" ;;
	*) echo "PROFILE must be dev, release or production" >&2; exit 1 ;;
esac
echo "[weights] building gateless-node with runtime-benchmarks (profile $profile)"
WASM_BUILD_TYPE=release cargo build --locked --profile "$profile" -p gateless-node \
	--features runtime-benchmarks
node="$CARGO_TARGET_DIR/$profile_dir/gateless-node"

for pallet in "${pallets[@]}"; do
	case "$pallet" in
		pallet_model_registry) crate_dir=pallets/model-registry ;;
		pallet_validator_staking) crate_dir=pallets/staking ;;
		pallet_inference_jobs) crate_dir=pallets/inference-jobs ;;
		pallet_result_verification) crate_dir=pallets/verification ;;
		*) echo "unknown Gateless pallet $pallet" >&2; exit 1 ;;
	esac
	echo "[weights] $pallet -> $crate_dir/src/weights.rs"
	"$node" benchmark pallet \
		--chain dev \
		--pallet "$pallet" \
		--extrinsic '*' \
		--wasm-execution compiled \
		--steps "${STEPS:-50}" \
		--repeat "${REPEAT:-20}" \
		--template scripts/pallet-weight-template.hbs \
		--output "$crate_dir/src/weights.rs"
done
# The plain debug node again, so that the tests do not run the benchmarking build.
if [ "$profile" = dev ]; then
	echo "[weights] rebuilding the plain gateless-node"
	cargo build --locked -p gateless-node
fi
