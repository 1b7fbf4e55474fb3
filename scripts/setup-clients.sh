#!/usr/bin/env bash
# Installs the clients that the tests drive a Gateless node with:
#   - polkadot.js (tests/clients/js), with `npm ci` from its package-lock.json;
#   - py-substrate-interface (tests/clients/py), in a virtualenv tests/clients/py/.venv;
#   - the Python SDK (clients/python, editable: the tests run its sources) with its test extras,
#     in a virtualenv clients/python/.venv,
#     every package pinned by clients/python/constraints.txt;
#   - the marketplace page's packages (web, `npm ci`) and Debian's chromium, which its browser
#     test drives headless (nothing downloads a browser).
# Node.js and npm, Python's venv and chromium come from Debian's packages where they are missing.
# Each is skipped while its install is newer than its lockfile or requirements, so running it again is cheap.
set -euo pipefail

say() { printf '[setup] %s\n' "$*"; }
die() { say "$*" >&2; exit 1; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
js="$root/tests/clients/js"
py="$root/tests/clients/py"
sdk="$root/clients/python"
web="$root/web"

# shellcheck source=apt.sh
source "$root/scripts/apt.sh"

# Debian 12's Node.js is 18, what @polkadot/api 16 needs at least.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	apt_install nodejs npm
fi
node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 18 ? 1 : 0)' ||
	die "tests/clients/js needs Node.js 18 or newer; this is $(node --version)"
# `-nt` is also true when node_modules is missing.
if [ "$js/package-lock.json" -nt "$js/node_modules" ]; then
	say "installing polkadot.js into tests/clients/js/node_modules (npm ci)"
	(cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
fi

python=""
for candidate in python3.11 python3; do
	if command -v "$candidate" >/dev/null 2>&1 &&
		"$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
		python="$candidate"
		break
	fi
done
if [ -z "$python" ]; then
	apt_install python3 python3-venv
	python=python3
fi
# Debian's python3 makes virtualenvs only with python3-venv (ensurepip) installed.
"$python" -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
stamp="$py/.venv/.requirements-installed"
if [ ! -x "$py/.venv/bin/python" ] || [ "$py/requirements.txt" -nt "$stamp" ]; then
	say "installing py-substrate-interface into tests/clients/py/.venv ($("$python" --version))"
	[ -x "$py/.venv/bin/python" ] || "$python" -m venv "$py/.venv"
	"$py/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$py/requirements.txt"
	touch "$stamp"
fi
sdk_stamp="$sdk/.venv/.installed"
if [ ! -x "$sdk/.venv/bin/python" ] || [ "$sdk/pyproject.toml" -nt "$sdk_stamp" ] ||
	[ "$sdk/constraints.txt" -nt "$sdk_stamp" ]; then
	say "installing the Python SDK into clients/python/.venv"
	[ -x "$sdk/.venv/bin/python" ] || "$python" -m venv "$sdk/.venv"
	"$sdk/.venv/bin/pip" install --quiet --disable-pip-version-check \
		-c "$sdk/constraints.txt" -e "$sdk[test]"
	touch "$sdk_stamp"
fi

if [ "$web/package-lock.json" -nt "$web/node_modules" ]; then
	say "installing the marketplace page's packages into web/node_modules (npm ci)"
	# playwright-core drives Debian's chromium: it must not download a browser of its own.
	(cd "$web" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
command -v chromium >/dev/null 2>&1 || apt_install chromium

say "clients ready: node $(node --version), @polkadot/api $(node -p "require('$js/node_modules/@polkadot/api/package.json').version"), $("$py/.venv/bin/python" --version), substrate-interface $("$py/.venv/bin/python" -c "from importlib.metadata import version; print(version('substrate-interface'))")"
say "web ready: $(chromium --version 2>/dev/null | head -1), the Python SDK $("$sdk/.venv/bin/python" -c "from importlib.metadata import version; print(version('gateless'))")"
