#!/usr/bin/env bash
# The whole test suite: installs the tools, starts moto, runs every test, stops moto.
# Extra arguments go to cargo test (e.g. scripts/test.sh -p securitybot-tests snooze).
# Builds exactly what Cargo.lock says (--locked). On a failure, moto's log is shown too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/moto.sh
if ! cargo test --workspace --locked "$@"; then
  echo "== tests failed; the end of moto's log (target/moto.log):" >&2
  tail -n 40 target/moto.log >&2 || true
  exit 1
fi
