#!/usr/bin/env bash
# Writes a model of MIB MiB of weights to OUT (see bulk_model.py), in the models' virtualenv.
#
#   models/bulk_model.sh OUT.onnx MIB
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="$("$here/venv.sh")"
"$python" "$here/bulk_model.py" "$1" "$2"
