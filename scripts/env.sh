# Sourced by the other scripts: the build environment shared by the node, the tests and CI.
#
# The target directory lives outside the clone by default, so that a fresh clone (CI's, or a second
# checkout) reuses what an earlier build on this machine compiled; nothing depends on it being
# there. Override with CARGO_TARGET_DIR.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gateless-target}"
# substrate-wasm-builder looks for Cargo.lock upwards from its out dir, which is outside the
# workspace when the target dir is: tell it where the workspace is.
GATELESS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GATELESS_ROOT
export WASM_BUILD_WORKSPACE_HINT="$GATELESS_ROOT"
mkdir -p "$CARGO_TARGET_DIR"
# frame-benchmarking-cli (in `--features runtime-benchmarks` node builds) pulls a test runtime whose
# WASM build cannot find itself in our workspace's metadata; it only serves `benchmark storage`'s
# synthetic mode, which Gateless does not use.
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
