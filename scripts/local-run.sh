#!/usr/bin/env bash
# The whole pipeline locally, no AWS account, no Docker:
#   moto (DynamoDB, SQS, Secrets Manager) <- tables/queues/secret created from template.yaml
#   cargo lambda watch serving every function; a local Slack stand-in (scripts/local_slack.py)
#   1. sample alerts POSTed with curl in each format and auth mode, alerts pulled by the poller from a
#      JSON API stand-in, and what landed in DynamoDB/SQS;
#   2. the conversation: the DM, Alice's Yes with her TOTP code, a snoozed repeat, a No, the
#      escalation to the team and their acknowledgement, as Slack would show them;
#   3. a self-service setup the team must vouch for before a Yes counts; then the same functions with
#      Duo push as the second factor (a second cargo lambda watch, a Duo stand-in that checks every
#      signature: scripts/local_duo.py): a push approved, a push denied;
#   4. silence: a reminder, then the deadline escalation (the scheduler is told it is 11, then 31
#      minutes later: SECURITYBOT_TIME_TRAVEL=local, honoured in local runs only); the hourly rollup.
# Pass --keep to leave everything running for your own curls (Ctrl-C stops it).
# Your own Slack stand-in, channel, team or rules: set SLACK_API_URL, SECURITY_CHANNEL_ID, TEAM_USER_IDS or
# SECURITYBOT_CONFIG (a rules file) in the environment; they replace the local defaults.
# Time: the first run builds every function (5 to 20 minutes on 2 busy cores; cargo shows each crate
# as it compiles); later runs take about 4 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
keep=false; [ "${1:-}" = "--keep" ] && keep=true

scripts/setup.sh --lambda
source scripts/moto.sh
export PATH="$PWD/.venv/bin:$PATH"

KEY=local-webhook-key-change-me-32-bytes-min
SLACK_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SECRET=$(python3 -c 'import json; print(json.dumps({"webhook_keys": [{"id": "local", "secret": "'$KEY'"}],
  "slack_bot_token": "xoxb-local-bot-token", "slack_signing_secret": "local-slack-signing-secret",
  "seed_encryption_key": "bG9jYWwtb25seS1zZWVkLWtleS0zMi1ieXRlcy1sb24=", "poller_tokens": {"local_siem": "local-siem-token"},
  "duo_secret_key": "local-duo-secret-key-not-a-real-one-0000"}))')
echo "== creating the stack's tables, queues and secrets on moto (from template.yaml; builds a small tool first)"
cargo run -q -p securitybot-infra --bin local-stack -- up --secret "$SECRET" --env-file .local/functions.env
python3 - "$SLACK_PORT" <<'PY'
import os, sys
env = dict(l.split("=", 1) for l in open(".local/functions.env").read().splitlines() if "=" in l)
# Yours from the environment when set, the local stand-in's otherwise.
for name, local in [("SLACK_API_URL", f"http://127.0.0.1:{sys.argv[1]}/api/"), ("SECURITY_CHANNEL_ID", "CSECURITY"),
                    ("TEAM_USER_IDS", "UTEAM1")]:
    env[name] = os.environ.get(name) or local
# The bundled rules plus one pulled source: a JSON API served by the local stand-in.
config = open("config/securitybot.toml").read() + f'''
[pollers.local_siem]
kind = "http_json"
url = "http://127.0.0.1:{sys.argv[1]}/siem/alerts"
items = "data.alerts"
[pollers.local_siem.mapping]
id_field = "alert_id"
rule_field = "detection"
user_fields = ["actor.email"]
title_field = "summary"
time_field = "created"
context_fields = ["host"]
'''
open(".local/securitybot.toml", "w").write(config)
env.update(SECURITYBOT_CONFIG=os.environ.get("SECURITYBOT_CONFIG") or os.path.abspath(".local/securitybot.toml"))
open(".local/functions.env", "w").write("".join(f"{k}={v}\n" for k, v in env.items()))
PY
{ echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"; echo "AWS_ACCESS_KEY_ID=test"; echo "AWS_SECRET_ACCESS_KEY=test";
  echo "AWS_REGION=us-east-1"; echo "RUST_LOG=warn"; echo "SECURITYBOT_TIME_TRAVEL=local"; } >> .local/functions.env
: > target/slack.log
python3 scripts/local_slack.py serve "$SLACK_PORT" target/slack.log &
SLACK_PID=$!

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "== building every function (first run: 5 to 20 minutes on 2 cores, each crate shown as it compiles; then seconds)"
cargo lambda watch -q --ignore-changes -A 127.0.0.1 -P "$PORT" --env-file .local/functions.env >target/watch.log 2>&1 &
WATCH_PID=$!
trap 'kill -INT $WATCH_PID 2>/dev/null; wait $WATCH_PID 2>/dev/null || true; kill $SLACK_PID 2>/dev/null; stop_moto' EXIT
URL="http://127.0.0.1:$PORT/lambda-url/ingest"
FUNCTIONS=(-p ingest -p notifier -p interaction -p admin -p scheduler -p rollup -p poller)
if ! cargo build "${FUNCTIONS[@]}" 2>&1 | grep --line-buffered -E '^ *(Compiling|Finished)' | sed -u 's/^ */   /'; then
  echo "the build failed:" >&2; cargo build "${FUNCTIONS[@]}"; exit 1
fi
echo "== cargo lambda watch serves every function on port $PORT:"
echo "   webhook     $URL/alerts   (and /alerts/splunk, /alerts/grafana, /alerts/panther, /health)"
echo "   Slack       http://127.0.0.1:$PORT/lambda-url/interaction/"
echo "   the others  cargo lambda invoke <function> -A 127.0.0.1 -P $PORT --data-file events/<event>.json"
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

echo "== the poller pulls a SIEM that cannot push (a JSON API on the stand-in), into the same admission"
cargo lambda invoke poller -A 127.0.0.1 -P "$PORT" --data-file events/poller-tick.json; echo
echo "== and again: the checkpoint says everything up to a minute ago is stored, so nothing is read twice"
cargo lambda invoke poller -A 127.0.0.1 -P "$PORT" --data-file events/poller-tick.json; echo
grep '^\[siem\]' target/slack.log | sed 's/^/   /'

echo "== what is in DynamoDB and on the work queue now"
cargo run -q -p securitybot-infra --bin local-stack -- show --env-file .local/functions.env

# ---------------------------------------------------------------- the conversation
QUEUE=$(sed -n 's/^WORK_QUEUE_URL=//p' .local/functions.env)
ANSWER="http://127.0.0.1:$PORT/lambda-url/interaction/"
seen=0
slack_shows() { tail -c +$((seen + 1)) target/slack.log; seen=$(wc -c < target/slack.log); }
deliver() { python3 scripts/local_slack.py deliver "$QUEUE" "$PORT"; slack_shows; }
alert_on() { # alert_on <id> <host> [user]: the canonical sample, as another alert on another host
  python3 -c 'import json,sys; a=json.loads(json.load(open("events/ingest-canonical.json"))["body"]); a["id"]=sys.argv[1]; a["context"]["host"]=sys.argv[2]; a["user"]=sys.argv[3]; print(json.dumps(a))' "$1" "$2" "${3:-alice@example.com}" > target/alert.json
  curl -s -X POST "$URL/alerts" -H 'Content-Type: application/json' -H "Authorization: Bearer $KEY" --data-binary @target/alert.json
  echo
}
ALICE_ALERT=$(python3 -c 'import sys; sys.path.insert(0, "scripts"); from events import SAMPLE_ALERT_ID; print(SAMPLE_ALERT_ID)')

echo; echo "== the operator enrolls Alice in two-factor (admin function)"
URI=$(cargo lambda invoke admin -A 127.0.0.1 -P "$PORT" --data-file events/admin-enroll.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["otpauth_uri"])')
echo "   Alice adds it to her authenticator app (otpauth://totp/Securitybot:alice...; the seed is stored encrypted)"
echo; echo "== the notifier takes the queued work: a DM to each person asked"
deliver
echo; echo "== Alice clicks 'Yes, that was me'; the form opens"
python3 scripts/local_slack.py click answer_yes "$ALICE_ALERT" UALICE "$ANSWER"; slack_shows
echo "== she types a wrong code first, then the one her app shows"
python3 scripts/local_slack.py submit "$ALICE_ALERT" UALICE "Rebuilding the CI runner" 000000 "$ANSWER"
python3 scripts/local_slack.py submit "$ALICE_ALERT" UALICE "Rebuilding the CI runner" "$(python3 scripts/local_slack.py totp "$URI")" "$ANSWER"; slack_shows
echo; echo "== the same alert again on build-01: covered by her snooze, nobody is asked"
alert_on elastic-repeat-1 build-01
echo; echo "== the same rule on build-02 is asked; Alice says 'No, that wasn't me'"
answer=$(alert_on elastic-other-host build-02); echo "$answer"
SECOND=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["alerts"][0]["alert_id"])' "$answer")
deliver
python3 scripts/local_slack.py click answer_no "$SECOND" UALICE "$ANSWER"; slack_shows
echo "== the escalation goes to the security channel"
deliver
echo "== someone outside the team tries the team's button; then the team acknowledges"
python3 scripts/local_slack.py click team_acknowledge "$SECOND" UALICE "$ANSWER"
python3 scripts/local_slack.py click team_acknowledge "$SECOND" UTEAM1 "$ANSWER"; slack_shows
echo; echo "== the escalated alert's audit trail (admin show_alert)"
cargo lambda invoke admin -A 127.0.0.1 -P "$PORT" --data-ascii "{\"command\": \"show_alert\", \"alert_id\": \"$SECOND\"}" > target/history.json
python3 - <<'PY'
import json
a = json.load(open("target/history.json"))
print(f"   {a['alert_id']}: {a['status']} ({a['escalation_reason']})")
for h in a["history"]:
    print(f"   {h['at']}  {h['status']:<13} {h['actor']:<24} {h['note']}")
PY

# ---------------------------------------------------------------- a Yes only with a factor someone vouched for
echo; echo "== Bob sets up two-factor himself, from the bot's Home tab (a stolen Slack session could do this too)"
python3 scripts/local_slack.py enroll-start UBOB "$ANSWER"; slack_shows
python3 scripts/local_slack.py enroll-submit UBOB "$(python3 scripts/local_slack.py totp "$(cat target/enroll-uri.txt)")" "$ANSWER"
echo "== the team is asked to vouch for it (announced through the work queue)"
deliver
echo; echo "== before anyone vouches for it, Bob's Yes is not enough: an unverified yes for the team"
answer=$(alert_on elastic-bob build-04 bob@example.com); echo "$answer"
BOB=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["alerts"][0]["alert_id"])' "$answer")
deliver
python3 scripts/local_slack.py click answer_yes "$BOB" UBOB "$ANSWER"; slack_shows
deliver
echo "== Bob cannot approve his own setup; a team member approves it"
python3 scripts/local_slack.py vouch approve bob@example.com UBOB "$ANSWER"; slack_shows
python3 scripts/local_slack.py vouch approve bob@example.com UTEAM1 "$ANSWER"; slack_shows
deliver
echo "== approved now, it counts for alerts that come in after: Bob's Yes with his code confirms"
answer=$(alert_on elastic-bob-2 build-06 bob@example.com); echo "$answer"
BOB2=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["alerts"][0]["alert_id"])' "$answer")
deliver
python3 scripts/local_slack.py click answer_yes "$BOB2" UBOB "$ANSWER"; slack_shows
python3 scripts/local_slack.py submit "$BOB2" UBOB "Patching build-06" "$(python3 scripts/local_slack.py totp "$(cat target/enroll-uri.txt)" next)" "$ANSWER"; slack_shows
status_is() { # status_is <alert> <status>: the local run fails loudly if the alert is elsewhere
  cargo lambda invoke admin -A 127.0.0.1 -P "$PORT" --data-ascii "{\"command\": \"show_alert\", \"alert_id\": \"$1\"}" \
    | python3 -c 'import json,sys; a=json.load(sys.stdin); s=a["status"]+("/"+a["escalation_reason"] if a.get("escalation_reason") else ""); print("   status:", s); sys.exit(0 if s==sys.argv[1] else "expected "+sys.argv[1])' "$2"
}
status_is "$BOB2" confirmed

# ---------------------------------------------------------------- Duo push instead of codes
DUO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DUO_WATCH_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 scripts/local_duo.py serve "$DUO_PORT" target/slack.log &
DUO_PID=$!
trap 'kill -INT $WATCH_PID ${DUO_WATCH_PID:-} 2>/dev/null; wait $WATCH_PID ${DUO_WATCH_PID:-} 2>/dev/null || true; kill $SLACK_PID $DUO_PID 2>/dev/null; stop_moto' EXIT
python3 - "$DUO_PORT" <<'PY'
import os, sys
import re
config = re.sub(r'(?m)^method = "totp".*\n', "", open(".local/securitybot.toml").read())
config = config.replace("[second_factor]\n", '[second_factor]\nmethod = "duo"\n', 1)
config += '\n[second_factor.duo]\nhost = "api-local0.duosecurity.com"\nintegration_key = "DILOCAL0000000000000"\n'
open(".local/securitybot-duo.toml", "w").write(config)
env = open(".local/functions.env").read().replace(".local/securitybot.toml", ".local/securitybot-duo.toml")
open(".local/functions-duo.env", "w").write(env + f"DUO_API_URL=http://127.0.0.1:{sys.argv[1]}\n")
PY
echo; echo "== Duo push instead of codes: the same functions with [second_factor] method = \"duo\" (a second"
echo "   cargo lambda watch on port $DUO_WATCH_PORT; a Duo stand-in on $DUO_PORT that checks every request's signature)"
cargo lambda watch -q --ignore-changes -A 127.0.0.1 -P "$DUO_WATCH_PORT" --env-file .local/functions-duo.env >target/watch-duo.log 2>&1 &
DUO_WATCH_PID=$!
for _ in $(seq 1 120); do curl -s -o /dev/null "http://127.0.0.1:$DUO_WATCH_PORT/" && break; sleep 0.5; done
DUO_ANSWER="http://127.0.0.1:$DUO_WATCH_PORT/lambda-url/interaction/"
duo_deliver() { python3 scripts/local_slack.py deliver "$QUEUE" "$DUO_WATCH_PORT"; slack_shows; }
answer=$(alert_on elastic-duo-alice build-07); echo "$answer"
ALICE_DUO=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["alerts"][0]["alert_id"])' "$answer")
answer=$(alert_on elastic-duo-dave build-08 dave@example.com); echo "$answer"
DAVE_DUO=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["alerts"][0]["alert_id"])' "$answer")
duo_deliver
echo "== Alice and Dave each press Yes: the form asks only what they were doing, then a push follows"
python3 scripts/local_slack.py click answer_yes "$ALICE_DUO" UALICE "$DUO_ANSWER"
python3 scripts/local_slack.py submit "$ALICE_DUO" UALICE "Rotating the deploy keys" "" "$DUO_ANSWER"
python3 scripts/local_slack.py click answer_yes "$DAVE_DUO" UDAVE "$DUO_ANSWER"
python3 scripts/local_slack.py submit "$DAVE_DUO" UDAVE "Restarting the VPN" "" "$DUO_ANSWER"; slack_shows
echo "== the work queue sends the pushes and looks at them every few seconds (Slack's 3 s are long gone)"
for _ in 1 2 3; do duo_deliver; sleep 4; done
duo_deliver
echo "== Alice approved on her phone; Dave denied his push: straight to the team as second_factor_denied"
status_is "$ALICE_DUO" confirmed
status_is "$DAVE_DUO" escalated/second_factor_denied

# ---------------------------------------------------------------- silence, and the rollup
later() { python3 -c 'import datetime as d,sys; t=d.datetime.now(d.timezone.utc)+d.timedelta(minutes=int(sys.argv[1])); print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))' "$1"; }
echo; echo "== silence: another alert for Alice, on build-03, and she does not answer"
answer=$(alert_on elastic-silence build-03); echo "$answer"
deliver
echo "== the scheduler (every minute in AWS), told it is 11 minutes later: one polite reminder, in the thread"
cargo lambda invoke scheduler -A 127.0.0.1 -P "$PORT" --data-ascii "{\"now\": \"$(later 11)\"}"; echo
deliver
echo "== 31 minutes later, past the rule's 30-minute deadline: escalated to the team, and Alice is told"
cargo lambda invoke scheduler -A 127.0.0.1 -P "$PORT" --data-ascii "{\"now\": \"$(later 31)\"}"; echo
deliver
echo; echo "== the hourly rollup for this hour, as the schedule would post it at the top of the next hour"
TICK=$(python3 -c 'import datetime as d; t=d.datetime.now(d.timezone.utc).replace(minute=0, second=0, microsecond=0)+d.timedelta(hours=1); print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))')
cargo lambda invoke rollup -A 127.0.0.1 -P "$PORT" --data-ascii "{\"period\": \"hourly\", \"scheduled_time\": \"$TICK\", \"now\": \"$TICK\"}"; echo
slack_shows

if $keep; then
  echo "== running: webhook at $URL/alerts (key $KEY); interactions at $ANSWER; Slack stand-in log in target/slack.log;"
  echo "   moto at $AWS_ENDPOINT_URL; deliver queued work with: python3 scripts/local_slack.py deliver $QUEUE $PORT. Ctrl-C to stop."
  wait $WATCH_PID
fi
