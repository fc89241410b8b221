#!/usr/bin/env bash
# Benchmarks: ingest (alerts through the real handler) and the poller (alerts pulled from SIEM
# stand-ins), into moto (DynamoDB + SQS over loopback); the storm (tests/benches/storm.rs).
# Prints per-alert latency and throughput. Numbers, not pass/fail: these machines are shared.
#
# scripts/bench.sh --summary: every figure of #13 side by side in one run - each function's cold init
# against hello (its own binary and the shared bootstrap), the zipped arm64 packages and their build
# times (scripts/ship-build.sh, shared and --each; SKIP_SHIP_BUILD=1 reuses the last figures), the write
# units of each step, and a batch of 100 admitted one at a time and concurrently. About 30 minutes on
# 2 cores from cold (the arm64 builds are most of it; an incremental run is far shorter).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--summary" ]; then
  mkdir -p target/bench-results
  find target/bench-results -name '*.json' ! -name 'ship-*.json' -delete
  if [ "${SKIP_SHIP_BUILD:-0}" != 1 ] || [ ! -f target/bench-results/ship-each.json ]; then
    scripts/ship-build.sh
    scripts/ship-build.sh --each
  fi
  "$0" --bench cold_start
  "$0" --bench write_units
  "$0" --bench ingest
  exec .venv/bin/python scripts/bench_summary.py
fi
scripts/setup.sh
source scripts/moto.sh
# The storm (10,000 alerts against Slack's real rate) takes minutes: run it on its own with
# `scripts/bench.sh --bench storm` (STORM_ALERTS=2000 for a shorter one).
# The cold-start bench times release binaries: build them (and the hello-world yardstick) first,
# and copy them aside (building the benches reuses target/release and can remove them there).
if [[ " $* " == *" cold_start "* ]]; then
  bins=(ingest poller notifier interaction admin scheduler rollup writeback)
  args=(); for b in "${bins[@]}"; do args+=(-p "$b"); done
  mkdir -p target/cold-start
  # Cargo names each executable in its messages, fresh or not: copy from there. A bench build
  # can remove them from target/release while cargo still counts them fresh: relink then.
  for b in "${bins[@]}"; do [ -x "target/release/$b" ] || touch "functions/$b/src/main.rs"; done
  [ -x target/release/hello-lambda ] || touch tests/hello-lambda/src/main.rs
  [ -x target/release/securitybot ] || touch functions/bootstrap/src/main.rs
  cargo build --release "${args[@]}" -p bootstrap -p hello-lambda --message-format=json-render-diagnostics \
    | .venv/bin/python -c '
import json, shutil, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        shutil.copy(m["executable"], "target/cold-start/" + m["target"]["name"])'
  for b in "${bins[@]}" securitybot hello-lambda; do [ -x "target/cold-start/$b" ] || { echo "no $b binary" >&2; exit 1; }; done
fi
if [ $# -gt 0 ]; then
  cargo bench -p securitybot-tests "$@"
else
  cargo bench -p securitybot-tests --bench ingest --bench poller
fi
