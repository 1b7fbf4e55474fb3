#!/usr/bin/env bash
# Rewrites client/metadata/gateless.scale, the runtime metadata (v16) that the `gateless` client's
# code is generated from, from the runtime as it is now. Run it after changing the runtime; the
# runtime test `the_clients_metadata_is_this_runtimes` fails until then.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$here/env.sh"
cd "$GATELESS_ROOT"
GATELESS_UPDATE_METADATA=1 cargo test --locked -p gateless-runtime --lib the_clients_metadata_is_this_runtimes
ls -l client/metadata/gateless.scale
