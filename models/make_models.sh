#!/usr/bin/env bash
# Regenerates the committed ONNX models, their manifest and their reference outputs:
# installs the pinned Python packages in a virtualenv (under ~/.cache) and runs make_models.py.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="$("$here/venv.sh")"
"$python" "$here/make_models.py"
