#!/usr/bin/env bash
# Writes a model of MIB MiB of weights to OUT (see bulk_model.py), in the models' virtualenv.
#
#   models/bulk_model.sh OUT.onnx MIB
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${GATELESS_MODELS_VENV:-$HOME/.cache/gateless-models-venv}"
if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
	apt-get update -qq && apt-get install -y -qq python3 python3-venv
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
stamp="$venv/.requirements-installed"
if [ ! -f "$stamp" ] || [ "$here/requirements.txt" -nt "$stamp" ]; then
	"$venv/bin/pip" install -q -r "$here/requirements.txt"
	touch "$stamp"
fi
cd "$here"
"$venv/bin/python" bulk_model.py "$1" "$2"
