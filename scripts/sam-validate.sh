#!/usr/bin/env bash
# `sam validate --lint` with the SAM CLI this template was checked with, installed into its own
# .venv-sam (its pinned cfn-lint and translator must not move ours). No AWS account needed.
#   scripts/sam-validate.sh            install if missing, then validate
#   scripts/sam-validate.sh --install  install only (CI starts it early, in the background)
set -euo pipefail
cd "$(dirname "$0")/.."
SAM_CLI="aws-sam-cli==1.170.0"
export SAM_CLI_TELEMETRY=0
[ -x .venv-sam/bin/python ] || python3 -m venv .venv-sam
have=$(.venv-sam/bin/python -m pip show aws-sam-cli 2>/dev/null | sed -n 's/^Version: //p' || true)
if [ "$have" != "${SAM_CLI##*==}" ]; then
  echo "sam-validate: installing $SAM_CLI into .venv-sam (about a minute)"
  .venv-sam/bin/python -m pip install --quiet --disable-pip-version-check "$SAM_CLI"
fi
[ "${1:-}" = "--install" ] && exit 0
.venv-sam/bin/sam validate --lint --template template.yaml --region us-east-1
