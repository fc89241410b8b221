#!/usr/bin/env bash
# The whole test suite: installs the tools, starts moto, runs every test, stops moto.
# Extra arguments go to cargo test (e.g. scripts/test.sh -p securitybot-tests snooze).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/moto.sh
cargo test --workspace "$@"
