#!/usr/bin/env bash
# Builds what ships, the way `sam build` (BuildMethod: rust-cargolambda) does: a release arm64
# `bootstrap` per function from cargo-lambda, zipped. Prints each package's size and fails when
# one is over the budget. Not part of the test suite: a cold build of all eight takes 10 to 25
# minutes on 2 cores (17 min measured), more than CI can spend.
#   scripts/ship-build.sh            every function
#   scripts/ship-build.sh scheduler  one
# cargo-lambda adds its own release settings (strip, thin LTO, one codegen unit, panic = abort);
# the workspace profile sets the same on purpose, so a local `cargo build --release` is what ships.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --lambda
export PATH="$PWD/.venv/bin:$PATH"
rustup target add aarch64-unknown-linux-gnu >/dev/null
# Zipped bytes per function: measured 3.1 to 4.0 MB (2026-11-28, all eight built cold in 10 to 17 min
# on 2 shared cores); a jump past the budget means a heavy dependency slipped in.
BUDGET=${SHIP_BUDGET_BYTES:-6000000}
functions=("$@")
[ ${#functions[@]} -gt 0 ] || functions=(ingest poller notifier interaction admin scheduler rollup writeback)
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
# Kept for scripts/bench.sh --summary.
mkdir -p target/bench-results
echo "{\"build_seconds\": $took, \"zipped_bytes\": {${sizes%, }}}" > target/bench-results/ship.json
exit $over
