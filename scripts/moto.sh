#!/usr/bin/env bash
# Sourced by the other scripts: starts moto on a free local port, exports the AWS variables
# that point every SDK client at it, and stops it when the calling script exits.
MOTO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target
.venv/bin/python scripts/moto_server.py -H 127.0.0.1 -p "$MOTO_PORT" >target/moto.log 2>&1 &
MOTO_PID=$!
stop_moto() { kill "$MOTO_PID" 2>/dev/null; wait "$MOTO_PID" 2>/dev/null || true; }
trap stop_moto EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$MOTO_PORT/moto-api/" >/dev/null && break
  kill -0 "$MOTO_PID" 2>/dev/null || { echo "moto failed to start:" >&2; cat target/moto.log >&2; exit 1; }
  sleep 0.1
done
curl -sf "http://127.0.0.1:$MOTO_PORT/moto-api/" >/dev/null || { echo "moto did not answer on port $MOTO_PORT" >&2; exit 1; }
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
echo "moto running at $AWS_ENDPOINT_URL (pid $MOTO_PID)"
