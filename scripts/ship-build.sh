#!/usr/bin/env bash
# Builds what ships, the way `sam build` (BuildMethod: rust-cargolambda) does, with cargo-lambda:
# release arm64, zipped. Prints the sizes and fails when a package is over the budget. Not part of
# the test suite: cold, the shared bootstrap takes about 6 minutes on 2 cores and the eight
# per-function binaries about 11 (README, Cost and scale), more than CI can spend.
#   scripts/ship-build.sh              the shared bootstrap template.yaml deploys (binary securitybot)
#   scripts/ship-build.sh --each       each function's own bootstrap (cargo lambda deploy <function>)
#   scripts/ship-build.sh scheduler    one function's own
# cargo-lambda adds its own release settings (strip, thin LTO, one codegen unit, panic = abort);
# the workspace profile sets the same on purpose, so a local `cargo build --release` is what ships.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --lambda
export PATH="$PWD/.venv/bin:$PATH"
rustup target add aarch64-unknown-linux-gnu >/dev/null
# Zipped bytes per package: 3.1 to 4.0 MB per function, the shared bootstrap a little more than the
# largest (2026-11-28); a jump past the budget means a heavy dependency slipped in.
BUDGET=${SHIP_BUDGET_BYTES:-6000000}
mkdir -p target/bench-results
if [ $# -eq 0 ]; then
  start=$(date +%s)
  cargo lambda build --release --arm64 --output-format zip -p bootstrap
  took=$(( $(date +%s) - start ))
  size=$(stat -c %s target/lambda/securitybot/bootstrap.zip)
  echo "built in $took s; the shared bootstrap: $size bytes zipped"
  # Kept for scripts/bench.sh --summary.
  echo "{\"build_seconds\": $took, \"zipped_bytes\": $size}" > target/bench-results/ship-shared.json
  [ "$size" -le "$BUDGET" ] || { echo "  over the budget of $BUDGET bytes" >&2; exit 1; }
  exit 0
fi
functions=("$@")
[ "${functions[0]}" != "--each" ] || functions=(ingest poller notifier interaction admin scheduler rollup writeback)
args=(); for f in "${functions[@]}"; do args+=(-p "$f"); done
start=$(date +%s)
cargo lambda build --release --arm64 --output-format zip "${args[@]}"
took=$(( $(date +%s) - start ))
echo "built in $took s"
over=0
sizes=""
for f in "${functions[@]}"; do
  zip="target/lambda/$f/bootstrap.zip"
  size=$(stat -c %s "$zip")
  printf '%-12s %9d bytes zipped\n' "$f" "$size"
  sizes="$sizes\"$f\": $size, "
  [ "$size" -le "$BUDGET" ] || { echo "  over the budget of $BUDGET bytes" >&2; over=1; }
done
echo "{\"build_seconds\": $took, \"zipped_bytes\": {${sizes%, }}}" > target/bench-results/ship-each.json
exit $over
