#!/usr/bin/env bash
# Installs what the local run and the tests need, into .venv (idempotent, ~40 s the first time).
#   scripts/setup.sh           moto (local AWS), cfn-lint and SAM's translator
#   scripts/setup.sh --lambda  also cargo-lambda (with zig), for cargo lambda watch/invoke/build
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO="moto[server]==5.2.5"
CFN_LINT="cfn-lint==1.58.0"
# SAM's own transform: cfn-lint uses it to lint what `sam deploy` really creates, and
# scripts/check_template.py checks the generated schedules and permissions.
SAM_TRANSLATOR="aws-sam-translator==1.115.0"
CARGO_LAMBDA="cargo-lambda==1.9.2"

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust with rustup (https://rustup.rs)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "setup: python3 not found; install Python 3.9+" >&2; exit 1; }

[ -x .venv/bin/python ] || python3 -m venv .venv
want=("$MOTO" "$CFN_LINT" "$SAM_TRANSLATOR")
[ "${1:-}" = "--lambda" ] && want+=("$CARGO_LAMBDA")
missing=()
for req in "${want[@]}"; do
  name=${req%%==*}; name=${name%%\[*}; version=${req##*==}
  have=$(.venv/bin/python -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p' || true)
  [ "$have" = "$version" ] || missing+=("$req")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "${missing[@]}"
fi
