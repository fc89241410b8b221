#!/usr/bin/env bash
# Benchmarks: ingest (alerts through the real handler) and the poller (alerts pulled from SIEM
# stand-ins), into moto (DynamoDB + SQS over loopback).
# Prints per-alert latency and throughput. Numbers, not pass/fail: these machines are shared.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/moto.sh
cargo bench -p securitybot-tests --bench ingest --bench poller "$@"
