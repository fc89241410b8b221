#!/usr/bin/env python3
"""Local Slack for the local run: a Web API stand-in, and a way to answer as a person.

  local_slack.py serve PORT LOG          Slack Web API stand-in (answers like Slack; logs each message readably)
  local_slack.py deliver QUEUE_URL PORT  hand the work queue to the notifier (cargo lambda invoke), as SQS would
  local_slack.py click ACTION ALERT USER URL           click a button (answer_yes, answer_no, team_acknowledge, team_resolve)
  local_slack.py submit ALERT USER EXPLANATION CODE URL  submit the Yes form
  local_slack.py totp OTPAUTH_URI [next]                 the code an authenticator app shows now (or its next one)
  local_slack.py enroll-start USER URL                   'Set up two-factor' on the Home tab (the seed goes to target/enroll-uri.txt)
  local_slack.py enroll-submit USER CODE URL             the setup form's first code
  local_slack.py vouch approve|reject EMAIL USER URL     Approve / Reject on an enrollment announcement

People: anyone@example.com is Slack user U<ANYONE> (alice -> UALICE); nobody else exists.
Requests are signed with the local signing secret (scripts/events.py LOCAL_SIGNING_SECRET).
"""
import base64, datetime, hashlib, hmac, json, struct, subprocess, sys, time, urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, __import__("os").path.dirname(__file__))
from events import LOCAL_SIGNING_SECRET, slack_signature  # noqa: E402

BOT_TOKEN = "xoxb-local-bot-token"


def render(blocks):
    lines = []
    for b in blocks or []:
        if b.get("type") == "section" and "text" in b:
            lines.append(b["text"]["text"])
        elif b.get("type") == "section":
            lines.append("  ".join(f["text"].replace("\n", ": ") for f in b.get("fields", [])))
        elif b.get("type") == "context":
            lines.append("(" + " ".join(e.get("text", "") for e in b["elements"]) + ")")
        elif b.get("type") == "actions":
            lines.append("  ".join(f"[{e['text']['text']}  -> {e['action_id']} {e['value']}]" for e in b["elements"]))
    return "\n    ".join(line.replace("\n", "\n    ") for line in lines)


class SlackApi(BaseHTTPRequestHandler):
    ts = 0

    def log_message(self, *args):
        pass

    def do_POST(self):
        method = self.path.rsplit("/", 1)[-1]
        raw = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        if self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            args = dict(urllib.parse.parse_qsl(raw))
        else:
            args = json.loads(raw or "{}")
        if self.headers.get("authorization") != f"Bearer {BOT_TOKEN}":
            return self.answer({"ok": False, "error": "invalid_auth"})
        if method == "users.lookupByEmail":
            email = args.get("email", "")
            if email.endswith("@example.com"):
                return self.answer({"ok": True, "user": {"id": "U" + email.split("@")[0].upper()}})
            return self.answer({"ok": False, "error": "users_not_found"})
        if method == "users.info":
            user = args.get("user", "")
            return self.answer({"ok": True, "user": {"id": user, "profile": {"email": user[1:].lower() + "@example.com"}}})
        if method == "views.publish":
            self.server.log.write(f"\n[slack] Home tab of {args['user_id']}:\n    {render(args['view']['blocks'])}\n")
            self.server.log.flush()
            return self.answer({"ok": True})
        if method == "conversations.open":
            return self.answer({"ok": True, "channel": {"id": "D" + args["users"]}})
        if method in ("chat.postMessage", "chat.update"):
            SlackApi.ts += 1
            ts = args.get("ts") or f"1800000000.{SlackApi.ts:06d}"
            verb = "posted to" if method == "chat.postMessage" else "updated in"
            self.server.log.write(f"\n[slack] {verb} {args['channel']} (ts {ts}):\n    {render(args.get('blocks'))}\n")
            self.server.log.flush()
            return self.answer({"ok": True, "channel": args["channel"], "ts": ts})
        if method == "views.open" and args["view"].get("callback_id") == "securitybot_enroll":
            # The setup form shows the seed once: keep its otpauth link where the local run finds it.
            text = json.dumps(args["view"]["blocks"])
            uri = "otpauth://" + text.split("otpauth://", 1)[1].split('"', 1)[0].split(">", 1)[0].split("|", 1)[0]
            with open("target/enroll-uri.txt", "w") as f:
                f.write(uri.replace("&amp;", "&"))
            self.server.log.write(f"\n[slack] opened the two-factor setup form for {args.get('trigger_id', '?')}: the seed, shown once\n")
            self.server.log.flush()
            return self.answer({"ok": True})
        if method == "views.open":
            view = args["view"]
            fields = [b.get("label", {}).get("text") for b in view["blocks"] if b.get("type") == "input"]
            self.server.log.write(f"\n[slack] opened the form '{view['title']['text']}' for alert {view['private_metadata']}: {fields}\n")
            self.server.log.flush()
            return self.answer({"ok": True})
        if method == "chat.postEphemeral":
            self.server.log.write(f"\n[slack] only {args['user']} sees: {args['text']}\n")
            self.server.log.flush()
            return self.answer({"ok": True})
        self.answer({"ok": False, "error": "unknown_method"})

    def do_GET(self):
        # A SIEM that cannot push, for the poller: GET /siem/alerts?since=&until= (a JSON API).
        url = urllib.parse.urlparse(self.path)
        if url.path != "/siem/alerts" or self.headers.get("authorization") != f"Bearer {SIEM_TOKEN}":
            return self.answer({"error": "unauthorized or unknown path"})
        q = dict(urllib.parse.parse_qsl(url.query))
        since, until = (datetime.datetime.fromisoformat(q[k].replace("Z", "+00:00")) for k in ("since", "until"))
        items = [a for a in SIEM_ALERTS if since <= datetime.datetime.fromisoformat(a["created"].replace("Z", "+00:00")) < until]
        self.server.log.write(f"\n[siem] the poller asked for {q['since']} .. {q['until']}: {len(items)} alert(s)\n")
        self.server.log.flush()
        self.answer({"data": {"alerts": items}, "next": None})

    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


SIEM_TOKEN = "local-siem-token"
_started = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
SIEM_ALERTS = [
    {"alert_id": f"siem-{i}", "detection": "nmap_scan", "actor": {"email": "erin@example.com"},
     "summary": f"nmap scan of 10.0.{i}.0/24 from erin's laptop", "host": "laptop-erin",
     "created": (_started - datetime.timedelta(minutes=m)).isoformat().replace("+00:00", "Z")}
    for i, m in ((1, 10), (2, 8))
]


def serve(port, log):
    server = ThreadingHTTPServer(("127.0.0.1", int(port)), SlackApi)
    server.log = open(log, "a")
    server.serve_forever()


def deliver(queue_url, port):
    import boto3
    sqs = boto3.client("sqs")
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
    if not got:
        print("(the work queue is empty)")
        return
    event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                          "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:local"} for m in got]}
    out = subprocess.run(["cargo", "lambda", "invoke", "notifier", "-A", "127.0.0.1", "-P", port, "--data-ascii", json.dumps(event)],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    failed = {f["itemIdentifier"] for f in json.loads(out).get("batchItemFailures", [])}
    for m in got:
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    print(f"notifier handled {len(got)} work item(s), {len(failed)} to retry")
    if failed:
        # Nothing in the local run should fail: say so loudly rather than show a quiet Slack.
        sys.exit("a work item failed and went back to the queue: nothing in the local run should fail")


def post(url, payload):
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    ts = str(int(time.time()))
    req = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": ts,
        "x-slack-signature": slack_signature(LOCAL_SIGNING_SECRET, ts, body)})
    with urllib.request.urlopen(req) as r:
        text = r.read().decode()
        print(f"interaction -> HTTP {r.status} {text}")


def click(action, alert, user, url):
    channel = "CSECURITY" if action.startswith("team_") else "D" + user
    post(url, {"type": "block_actions", "user": {"id": user}, "trigger_id": f"local-trigger-{int(time.time())}",
               "channel": {"id": channel}, "actions": [{"action_id": action, "value": alert, "type": "button"}]})


def submit(alert, user, explanation, code, url):
    post(url, {"type": "view_submission", "user": {"id": user}, "view": {
        "callback_id": "securitybot_answer", "private_metadata": alert, "state": {"values": {
            "explanation": {"value": {"value": explanation}}, "code": {"value": {"value": code}},
            "snooze": {"value": {"selected_option": {"value": "240"}}}}}}})


def enroll_start(user, url):
    post(url, {"type": "block_actions", "user": {"id": user}, "trigger_id": f"local-trigger-{int(time.time())}",
               "actions": [{"action_id": "enroll_start", "type": "button"}]})


def enroll_submit(user, code, url):
    post(url, {"type": "view_submission", "user": {"id": user}, "view": {
        "callback_id": "securitybot_enroll", "state": {"values": {"code": {"value": {"value": code}}}}}})


def vouch(decision, email, user, url):
    action = "enrollment_approve" if decision == "approve" else "enrollment_reject"
    post(url, {"type": "block_actions", "user": {"id": user}, "trigger_id": f"local-trigger-{int(time.time())}",
               "channel": {"id": "CSECURITY"}, "container": {"message_ts": "1800000000.000001"},
               "actions": [{"action_id": action, "value": email, "type": "button"}]})


def totp(uri, wait=None):
    if wait == "next":  # a code is accepted once: wait, as a person would, for the app's next one
        print("(waiting for the app's next code)", file=sys.stderr)
        time.sleep(30 - time.time() % 30 + 0.5)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(uri).query))
    secret = query["secret"] + "=" * (-len(query["secret"]) % 8)
    key = base64.b32decode(secret.upper())
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    print(f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000:06d}")


if __name__ == "__main__":
    commands = {"serve": serve, "deliver": deliver, "click": click, "submit": submit, "totp": totp,
                "enroll-start": enroll_start, "enroll-submit": enroll_submit, "vouch": vouch}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    commands[sys.argv[1]](*sys.argv[2:])
