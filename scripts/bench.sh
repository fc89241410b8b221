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
  cargo build --release "${args[@]}" -p securitybot-tests --bin hello_lambda
  mkdir -p target/cold-start
  for b in "${bins[@]}" hello_lambda; do cp "target/release/$b" target/cold-start/; done
fi
if [ $# -gt 0 ]; then
  cargo bench -p securitybot-tests "$@"
else
  cargo bench -p securitybot-tests --bench ingest --bench poller
fi
