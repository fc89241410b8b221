#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer, nightly): the canonical, Splunk, Grafana and Panther
# parsers, Slack's payload parser, the authentication headers and redaction (fuzz/fuzz_targets).
#   scripts/fuzz.sh [SECONDS_EACH] [TARGET...]     default: 600 s each, every target
# Seeds come from the sample events; what libFuzzer learns stays in fuzz/corpus (not in git).
# A crash stops the script and leaves its input in fuzz/artifacts/<target>/: turn it into a
# regression test before fixing it. Installs what it needs (nightly, cargo-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
SECONDS_EACH=${1:-600}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || mapfile -t TARGETS < <(cd fuzz && cargo +nightly fuzz list)

# Seeds: the sample events' bodies, by format.
python3 - <<'PY'
import json, pathlib
events = pathlib.Path("events")
seeds = {"canonical": ["ingest-canonical.json", "ingest-canonical-batch.json", "ingest-invalid.json"],
         "splunk": ["ingest-splunk.json"], "grafana": ["ingest-grafana.json"], "panther": ["ingest-panther.json"],
         "slack_payload": [p.name for p in events.glob("interaction-*.json")]}
for target, names in seeds.items():
    out = pathlib.Path("fuzz/corpus") / target
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        body = json.loads((events / name).read_text()).get("body")
        if body:
            (out / f"seed-{name}").write_text(body)
PY

mkdir -p target
echo "== building the fuzz targets (nightly, sanitizer coverage)"
(cd fuzz && cargo +nightly fuzz build -O >../target/fuzz-build.log 2>&1) || { tail -40 target/fuzz-build.log >&2; exit 1; }
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  echo "== fuzz $t for ${SECONDS_EACH}s"
  (cd fuzz && cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$SECONDS_EACH" -print_final_stats=1 -max_len=65536) \
    >"target/fuzz-$t.log" 2>&1 || { echo "fuzz $t FAILED (see target/fuzz-$t.log and fuzz/artifacts/$t/)" >&2; tail -40 "target/fuzz-$t.log" >&2; exit 1; }
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "target/fuzz-$t.log" | tail -1)
  per_s=$(sed -n 's/^stat::average_exec_per_sec: *//p' "target/fuzz-$t.log" | tail -1)
  echo "   $t: ${runs:-?} runs, ${per_s:-?} per second, no crash"
done
