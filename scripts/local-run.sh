#!/usr/bin/env bash
# The whole pipeline locally, no AWS account, no Docker:
#   moto (DynamoDB, SQS, Secrets Manager) <- tables/queues/secret created from template.yaml
#   cargo lambda watch serving the ingest function's Function URL
#   sample alerts POSTed with curl in each auth mode, then what landed in DynamoDB and SQS.
# Pass --keep to leave everything running for your own curls (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
keep=false; [ "${1:-}" = "--keep" ] && keep=true

scripts/setup.sh --lambda
source scripts/moto.sh
export PATH="$PWD/.venv/bin:$PATH"

KEY=local-webhook-key-change-me
echo "== creating the stack's tables, queues and secret on moto (from template.yaml)"
cargo run -q -p securitybot-infra --bin local-stack -- up \
  --secret "{\"webhook_keys\": [{\"id\": \"local\", \"secret\": \"$KEY\"}]}" --env-file .local/ingest.env
{ echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"; echo "AWS_ACCESS_KEY_ID=test"; echo "AWS_SECRET_ACCESS_KEY=test";
  echo "AWS_REGION=us-east-1"; echo "RUST_LOG=info"; } >> .local/ingest.env

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== starting the ingest function under cargo lambda watch on port $PORT (first build takes a minute)"
cargo lambda watch -q --ignore-changes -A 127.0.0.1 -P "$PORT" --env-file .local/ingest.env >target/watch.log 2>&1 &
WATCH_PID=$!
trap 'kill -INT $WATCH_PID 2>/dev/null; wait $WATCH_PID 2>/dev/null || true; stop_moto' EXIT
URL="http://127.0.0.1:$PORT/lambda-url/ingest"
cargo build -q -p ingest
for _ in $(seq 1 600); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
  kill -0 $WATCH_PID 2>/dev/null || { cat target/watch.log; exit 1; }
  sleep 0.5
done

post() { # post <path> <body-file> <curl args...>
  local path=$1 body=$2; shift 2
  echo "-- POST $path $*"
  curl -s -w '\n   -> HTTP %{http_code}\n' -X POST "$URL$path" -H 'Content-Type: application/json' --data-binary "@$body" "$@"
}
body() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["body"], end="")' "events/$1.json" > "target/$1.body"; echo "target/$1.body"; }

echo "== a canonical alert with a bearer token"
post /alerts "$(body ingest-canonical)" -H "Authorization: Bearer $KEY"
echo "== the same alert again: stored once, asked once"
post /alerts "$(body ingest-canonical)" -H "Authorization: Bearer $KEY"
echo "== an HMAC-signed alert (X-Securitybot-Timestamp + X-Securitybot-Signature)"
b=$(body ingest-canonical-hmac)
mapfile -t sig < <(python3 scripts/events.py curl-sign "$KEY" < "$b")
post /alerts "$b" -H "${sig[0]}" -H "${sig[1]}"
echo "== Splunk's webhook action, token in the URL"
post "/alerts/splunk?token=$KEY" "$(body ingest-splunk)"
echo "== Grafana and Panther"
post /alerts/grafana "$(body ingest-grafana)" -H "Authorization: Bearer $KEY"
post /alerts/panther "$(body ingest-panther)" -H "Authorization: Bearer $KEY"
echo "== refused: wrong key, malformed JSON, invalid alert"
post /alerts "$(body ingest-canonical)" -H "Authorization: Bearer wrong"
post /alerts "$(body ingest-malformed)" -H "Authorization: Bearer $KEY"
post /alerts "$(body ingest-invalid)" -H "Authorization: Bearer $KEY"

echo "== what is in DynamoDB and on the work queue now"
cargo run -q -p securitybot-infra --bin local-stack -- show --env-file .local/ingest.env

if $keep; then
  echo "== running: webhook at $URL/alerts (key $KEY); moto at $AWS_ENDPOINT_URL. Ctrl-C to stop."
  wait $WATCH_PID
fi
