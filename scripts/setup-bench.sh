#!/usr/bin/env bash
# Installs what the benchmarks need besides Rust: a virtualenv (default ~/.cache/gateless-bench-venv,
# or $GATELESS_BENCH_VENV) with benchmarks/requirements.txt (onnxruntime, numpy, matplotlib).
# Prints the virtualenv's python. Cheap when already done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${GATELESS_BENCH_VENV:-$HOME/.cache/gateless-bench-venv}"
requirements="$root/benchmarks/requirements.txt"
if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
	apt-get update -qq && apt-get install -y -qq python3 python3-venv >&2
fi
stamp="$venv/.requirements-installed"
if [ ! -x "$venv/bin/python" ] || [ "$requirements" -nt "$stamp" ]; then
	echo "[setup-bench] installing $(tr '\n' ' ' < <(grep -v '^#' "$requirements")) into $venv" >&2
	[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
	"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
	touch "$stamp"
fi
echo "$venv/bin/python"
