#!/usr/bin/env bash
# Regenerates the committed ONNX models, their manifest and their reference outputs:
# installs the pinned Python packages in a virtualenv (under ~/.cache) and runs make_models.py.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${GATELESS_MODELS_VENV:-$HOME/.cache/gateless-models-venv}"
if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
	apt-get update -qq && apt-get install -y -qq python3 python3-venv
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r "$here/requirements.txt"
"$venv/bin/python" "$here/make_models.py"
