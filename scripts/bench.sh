#!/usr/bin/env bash
# Benchmarks: ingest (alerts through the real handler) and the poller (alerts pulled from SIEM
# stand-ins), into moto (DynamoDB + SQS over loopback); the storm (tests/benches/storm.rs).
# Prints per-alert latency and throughput. Numbers, not pass/fail: these machines are shared.
set -euo pipefail
cd "$(dirname "$0")/.."
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
  cargo build --release "${args[@]}" -p hello-lambda --message-format=json-render-diagnostics \
    | .venv/bin/python -c '
import json, shutil, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        shutil.copy(m["executable"], "target/cold-start/" + m["target"]["name"])'
  for b in "${bins[@]}" hello-lambda; do [ -x "target/cold-start/$b" ] || { echo "no $b binary" >&2; exit 1; }; done
fi
if [ $# -gt 0 ]; then
  cargo bench -p securitybot-tests "$@"
else
  cargo bench -p securitybot-tests --bench ingest --bench poller
fi
