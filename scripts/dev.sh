#!/usr/bin/env bash
# Builds gateless-node and the `gateless` client, and starts a single-validator dev chain (Alice)
# with a temporary database. Stop it with Ctrl-C.
# JSON-RPC on ws://127.0.0.1:9944, Prometheus on 127.0.0.1:9615. Extra arguments go to the node,
# e.g. `scripts/dev.sh --base-path /tmp/gateless` to keep the chain between runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=env.sh
source "$here/env.sh"
cd "$GATELESS_ROOT"
echo "[dev] building gateless-node and gateless (a cold first build takes about 30 minutes on 2 cores)"
cargo build --locked -p gateless-node -p gateless-client
echo "[dev] the client: $CARGO_TARGET_DIR/debug/gateless (see the README's 'Register a model and run a job with gateless')"
# A fresh chain each run unless the caller names a base path. A dev chain has no peers to
# discover, so no multicast DNS either. On a fresh chain with the default ports, the digits
# classifier is registered (by Bob) once the node answers, so that `gateless web` has a model to
# try at once; GATELESS_DEV_MODELS=0 leaves the chain empty.
if [ "$#" -eq 0 ]; then
	set -- --tmp
	if [ "${GATELESS_DEV_MODELS:-1}" != 0 ]; then
		(
			client="$CARGO_TARGET_DIR/debug/gateless"
			for _ in $(seq 60); do
				"$client" model list >/dev/null 2>&1 && break
				sleep 1
			done
			if "$client" model register "$GATELESS_ROOT/models/digits-mlp.onnx" --name digits-mlp \
				--price 0.1 --inline --suri //Bob \
				--description "8x8 handwritten digits (a scikit-learn MLP): try it with a PNG" >/dev/null 2>&1; then
				echo "[dev] registered models/digits-mlp.onnx as digits-mlp (Bob's); \`gateless web\` serves the page"
			else
				echo "[dev] could not register the digits model: try \`gateless model register\` by hand" >&2
			fi
		) &
	fi
fi
echo "[dev] starting: gateless-node --dev --no-mdns $*"
exec "$CARGO_TARGET_DIR/debug/gateless-node" --dev --no-mdns "$@"
