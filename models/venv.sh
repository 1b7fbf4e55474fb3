#!/usr/bin/env bash
# Prints the python of the models' virtualenv (default ~/.cache/gateless-models-venv, or
# $GATELESS_MODELS_VENV), creating it with the pinned requirements.txt when it is missing or older
# than them. Cheap when already done.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${GATELESS_MODELS_VENV:-$HOME/.cache/gateless-models-venv}"
if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
	apt-get update -qq >&2 && apt-get install -y -qq python3 python3-venv >&2
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
stamp="$venv/.requirements-installed"
if [ ! -f "$stamp" ] || [ "$here/requirements.txt" -nt "$stamp" ]; then
	"$venv/bin/pip" install -q -r "$here/requirements.txt" >&2
	touch "$stamp"
fi
echo "$venv/bin/python"
