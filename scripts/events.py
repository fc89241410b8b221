#!/usr/bin/env python3
"""Sample Function URL events for the ingest function, and HMAC signing for local use.

  scripts/events.py generate          rewrite events/ingest-*.json from the bodies below
  scripts/events.py sign FILE [KEY]   print FILE re-signed with the current time (HMAC mode)
  scripts/events.py curl-sign KEY     read a body on stdin, print the two signature headers
  scripts/events.py slack-sign FILE [SECRET]  print a Slack interaction event re-signed now

The signature is hex HMAC-SHA256(key, "v1:" + timestamp + ":" + body), sent as
X-Securitybot-Signature: v1=<hex> with X-Securitybot-Timestamp: <unix seconds>.
"""
import hashlib, hmac, json, sys, time
from pathlib import Path

LOCAL_KEY = "local-webhook-key-change-me-32-bytes-min"  # the local stack's key (scripts/local-run.sh)
LOCAL_SIGNING_SECRET = "local-slack-signing-secret"  # the local stack's Slack signing secret
SAMPLE_ALERT_ID = "al_da20d58b54be3bd13ed6da41aa0b5fda"  # the id of events/ingest-canonical.json's alert
EVENTS = Path(__file__).resolve().parent.parent / "events"
FIXED_TS = 1795860000  # 2026-11-28T08:00:00Z: signed samples are stale on purpose; `sign` refreshes them


def signature(key: str, ts: str, body: str) -> str:
    return "v1=" + hmac.new(key.encode(), f"v1:{ts}:{body}".encode(), hashlib.sha256).hexdigest()


def event(path, body, headers=None, query=""):
    headers = {"content-type": "application/json", "host": "abcdefghij.lambda-url.us-east-1.on.aws",
               "user-agent": "Splunk/9.3", "x-forwarded-proto": "https", **(headers or {})}
    params = dict(p.split("=", 1) for p in query.split("&") if p)
    ev = {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous", "apiId": "abcdefghij", "domainName": headers["host"], "domainPrefix": "abcdefghij",
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.10", "userAgent": headers["user-agent"]},
            "requestId": "8d9a2f3c-1b7e-4c55-9a61-2f0a5a3e7c11", "routeKey": "$default", "stage": "$default",
            "time": "28/Nov/2026:08:00:00 +0000", "timeEpoch": FIXED_TS * 1000,
        },
        "body": body, "isBase64Encoded": False,
    }
    if params:
        ev["queryStringParameters"] = params
    return ev


def bearer(key=LOCAL_KEY):
    return {"authorization": f"Bearer {key}"}


def signed(body, key=LOCAL_KEY, ts=FIXED_TS):
    return {"x-securitybot-timestamp": str(ts), "x-securitybot-signature": signature(key, str(ts), body)}


SUDO = {
    "id": "elastic-7f3a9c", "source": "elastic", "rule": "sudo_root_shell", "user": "alice@example.com",
    "title": "Interactive root shell with sudo -i", "description": "alice ran sudo -i on build-01",
    "severity": "high", "occurred_at": "2026-11-28T07:58:12Z",
    "context": {"host": "build-01", "command": "sudo -i", "ip": "10.1.2.3"},
    "link": "https://siem.example.com/app/security/alerts/7f3a9c",
}


def bodies():
    j = lambda v: json.dumps(v, separators=(",", ":"))
    nmap = {**SUDO, "id": "elastic-81b2", "rule": "nmap_scan", "user": "bob", "title": "nmap scan from db-1",
            "description": "nmap -sS 10.0.0.0/24 mysql --password=hunter2", "severity": "medium",
            "context": {"host": "db-1", "target": "10.0.0.0/24", "command": "nmap -sS 10.0.0.0/24"}}
    splunk = {"sid": "scheduler__admin__search__RMD5a1b2c3_at_1795859940_42", "search_name": "sudo_root_shell",
              "app": "search", "owner": "admin", "results_link": "https://splunk.example.com:8000/app/search/@go?sid=scheduler__admin__search__RMD5a1b2c3_at_1795859940_42",
              "result": {"_time": "1795859940", "user": "carol", "host": "web-3", "command": "sudo -i", "count": "1"}}
    grafana = {"receiver": "securitybot", "status": "firing", "orgId": 1, "groupKey": "{}:{alertname=\"login_new_country\"}",
               "externalURL": "https://grafana.example.com/", "version": "1",
               "alerts": [
                   {"status": "firing", "labels": {"alertname": "login_new_country", "user": "dave@example.com", "country": "PT", "severity": "high"},
                    "annotations": {"summary": "Login from a new country (Portugal)", "description": "First login from PT for dave"},
                    "startsAt": "2026-11-28T07:55:00Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "5c1e7d0f9a3b2c11",
                    "generatorURL": "https://grafana.example.com/alerting/grafana/abc/view"},
                   {"status": "resolved", "labels": {"alertname": "login_new_country", "user": "erin@example.com", "country": "BR"},
                    "annotations": {"summary": "Login from a new country (Brazil)"}, "startsAt": "2026-11-28T06:00:00Z",
                    "endsAt": "2026-11-28T07:00:00Z", "fingerprint": "77aa00bb11cc22dd", "generatorURL": "https://grafana.example.com/alerting/grafana/def/view"}]}
    panther = {"id": "AWS.Console.LoginWithoutMFA", "name": "Console login without MFA", "alertId": "b2c4e6f8a0b2c4e6f8a0b2c4e6f8a0b2",
               "title": "Console login without MFA by frank", "severity": "HIGH", "type": "RULE",
               "createdAt": "2026-11-28 07:59:00.000", "link": "https://acme.runpanther.net/alerts/b2c4e6f8a0b2c4e6f8a0b2c4e6f8a0b2",
               "description": "A console login happened without MFA.", "runbook": "Ask the user.", "tags": ["AWS"], "version": "2",
               "alertContext": {"user": "frank@example.com", "ip": "198.51.100.7", "host": "console"}}
    return {
        "ingest-canonical": (event("/alerts", j(SUDO), bearer())),
        "ingest-canonical-batch": event("/alerts", j({"alerts": [SUDO, nmap]}), bearer()),
        "ingest-canonical-hmac": event("/alerts", j(nmap), signed(j(nmap))),
        "ingest-splunk": event("/alerts/splunk", j(splunk), query=f"token={LOCAL_KEY}"),
        "ingest-grafana": event("/alerts/grafana", j(grafana), bearer()),
        "ingest-panther": event("/alerts/panther", j(panther), bearer()),
        "ingest-bad-signature": event("/alerts", j(SUDO), signed(j(SUDO), key="not-the-key", ts=FIXED_TS)),
        "ingest-malformed": event("/alerts", '{"rule": "sudo_root_shell", "user": ', bearer()),
        "ingest-health": {**event("/health", ""), "requestContext": {**event("/health", "")["requestContext"],
                          "http": {**event("/health", "")["requestContext"]["http"], "method": "GET", "path": "/health"}}},
        "ingest-invalid": event("/alerts", j({"alerts": [SUDO, {"rule": "nmap_scan", "title": "", "severity": "urgent"}]}), bearer()),
    }


def slack_signature(secret: str, ts: str, body: str) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()


def slack_event(payload, secret=LOCAL_SIGNING_SECRET, ts=FIXED_TS):
    from urllib.parse import urlencode
    body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
    ev = event("/", body, {"content-type": "application/x-www-form-urlencoded", "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                           "x-slack-request-timestamp": str(ts), "x-slack-signature": slack_signature(secret, str(ts), body)})
    return ev


def slack_json_event(payload, secret=LOCAL_SIGNING_SECRET, ts=FIXED_TS):
    body = json.dumps(payload, separators=(",", ":"))
    return event("/", body, {"content-type": "application/json", "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                             "x-slack-request-timestamp": str(ts), "x-slack-signature": slack_signature(secret, str(ts), body)})


def click(action, user, channel):
    return {"type": "block_actions", "user": {"id": user, "username": "alice", "team_id": "T0001"}, "api_app_id": "A0001",
            "team": {"id": "T0001", "domain": "example"}, "trigger_id": "1234567890.0001.abcdef", "channel": {"id": channel},
            "container": {"type": "message", "channel_id": channel, "message_ts": "1800000000.000001"},
            "actions": [{"action_id": action, "block_id": "b1", "value": SAMPLE_ALERT_ID, "type": "button", "action_ts": "1800000001.000001"}]}


def sqs_batch():
    def record(n, action):
        return {"messageId": f"0c8f9d7e-1b2a-4c3d-8e9f-00000000000{n}", "receiptHandle": f"AQEB{n}sample-receipt-handle",
                "body": json.dumps({"v": 1, "action": action, "alert_id": SAMPLE_ALERT_ID}, separators=(",", ":")),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(FIXED_TS * 1000),
                               "SenderId": "AROAEXAMPLE:securitybot-IngestFunction", "ApproximateFirstReceiveTimestamp": str(FIXED_TS * 1000)},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:securitybot-WorkQueue", "awsRegion": "us-east-1"}
    return {"Records": [record(1, "ask"), record(2, "escalate")]}


def writeback_stream():
    def image(status, history):
        item = {"alert_id": {"S": SAMPLE_ALERT_ID}, "status": {"S": status}, "source": {"S": "elastic"},
                "source_id": {"S": "elastic-7f3a9c"}, "rule": {"S": "sudo_root_shell"}, "user": {"S": "alice@example.com"},
                "title": {"S": "Interactive root shell with sudo -i"}, "severity": {"S": "high"},
                "history": {"L": [{"M": {"at": {"S": at}, "actor": {"S": actor}, "status": {"S": st}, "note": {"S": note}}}
                                  for at, actor, st, note in history]}}
        if status == "escalated":
            item["escalation_reason"] = {"S": "denied"}
        return item
    h_asked = [("2026-11-28T08:00:00.000Z", "webhook:local", "received", "received; will ask the person"),
               ("2026-11-28T08:00:01.000Z", "securitybot:notifier", "asked", "asked UALICE in chat")]
    h_escalated = h_asked + [("2026-11-28T08:03:00.000Z", "chat:UALICE", "escalated", "escalated: denied")]
    record = {"eventID": "c81e728d9d4c2f636f067f89cc14862c", "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
              "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/securitybot-AlertsTable/stream/2026-11-28T00:00:00.000",
              "dynamodb": {"ApproximateCreationDateTime": FIXED_TS + 180, "Keys": {"alert_id": {"S": SAMPLE_ALERT_ID}},
                           "OldImage": image("asked", h_asked), "NewImage": image("escalated", h_escalated),
                           "SequenceNumber": "4421584500000000017450439091", "SizeBytes": 1024, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
    return {"Records": [record]}


def conversation_events():
    submit = {"type": "view_submission", "user": {"id": "UALICE", "username": "alice", "team_id": "T0001"}, "api_app_id": "A0001",
              "team": {"id": "T0001", "domain": "example"}, "trigger_id": "1234567890.0002.abcdef",
              "view": {"id": "V0001", "type": "modal", "callback_id": "securitybot_answer", "private_metadata": SAMPLE_ALERT_ID,
                       "state": {"values": {"explanation": {"value": {"type": "plain_text_input", "value": "Rebuilding the CI runner"}},
                                            "code": {"value": {"type": "plain_text_input", "value": "123456"}},
                                            "snooze": {"value": {"type": "static_select", "selected_option": {"value": "240"}}}}}}}
    admin = {
        "admin-enroll": {"command": "enroll", "user": "alice@example.com", "operator": "security-oncall"},
        "admin-reset-second-factor": {"command": "reset_second_factor", "user": "alice@example.com", "operator": "security-oncall"},
        "admin-never-contact-add": {"command": "never_contact_add", "user": "ceo@example.com", "operator": "security-oncall"},
        "admin-never-contact-remove": {"command": "never_contact_remove", "user": "ceo@example.com", "operator": "security-oncall"},
        "admin-never-contact-list": {"command": "never_contact_list"},
        "admin-snooze-list": {"command": "snooze_list", "user": "alice@example.com"},
        "admin-snooze-remove": {"command": "snooze_remove", "snooze_key": "sz_00000000000000000000000000000000", "operator": "security-oncall"},
        "admin-show-alert": {"command": "show_alert", "alert_id": SAMPLE_ALERT_ID},
        "admin-open-escalations": {"command": "open_escalations"},
        "admin-check-slack": {"command": "check_slack"},
        "admin-send-test-alert": {"command": "send_test_alert", "user": "alice@example.com", "operator": "security-oncall"},
        "admin-alerts-for": {"command": "alerts_for", "user": "alice@example.com", "limit": 20},
        "admin-resend-team-post": {"command": "resend_team_post", "alert_id": SAMPLE_ALERT_ID, "operator": "security-oncall"},
        "admin-check-rules": {"command": "check_rules", "rules": "[rules.sudo_root_shell]\nseverity = \"high\"\ndeadline_minutes = 45\nreminder_minutes = 10\n"},
    }
    return {
        "notifier-sqs-batch": sqs_batch(),
        "interaction-yes": slack_event(click("answer_yes", "UALICE", "DUALICE")),
        "interaction-no": slack_event(click("answer_no", "UALICE", "DUALICE")),
        "interaction-team-acknowledge": slack_event(click("team_acknowledge", "UTEAM1", "CSECURITY")),
        "interaction-submit": slack_event(submit),
        "writeback-stream": writeback_stream(),
        "writeback-redrive": {"command": "redrive", "operator": "security-oncall"},
        "scheduler-tick": {"source": "aws.scheduler", "detail-type": "Scheduled Event", "time": "2026-11-28T08:00:00Z",
                           "resources": ["arn:aws:scheduler:us-east-1:123456789012:schedule/default/securitybot-EveryMinute"], "detail": {}},
        "interaction-home-opened": slack_json_event({"token": "unused", "team_id": "T0001", "api_app_id": "A0001", "type": "event_callback",
                                                     "event": {"type": "app_home_opened", "user": "UALICE", "channel": "DUALICE", "tab": "home",
                                                               "event_ts": "1800000000.000100"}, "event_id": "Ev0001", "event_time": FIXED_TS}),
        **admin,
    }


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "generate":
        EVENTS.mkdir(exist_ok=True)
        every = {**bodies(), **conversation_events()}
        for name, ev in every.items():
            (EVENTS / f"{name}.json").write_text(json.dumps(ev, indent=2) + "\n")
        print(f"wrote {len(every)} events to {EVENTS}")
    elif cmd == "sign" and len(sys.argv) >= 3:
        ev = json.loads(Path(sys.argv[2]).read_text())
        key = sys.argv[3] if len(sys.argv) > 3 else LOCAL_KEY
        ts = str(int(time.time()))
        ev["headers"]["x-securitybot-timestamp"] = ts
        ev["headers"]["x-securitybot-signature"] = signature(key, ts, ev["body"])
        print(json.dumps(ev))
    elif cmd == "slack-sign" and len(sys.argv) >= 3:
        ev = json.loads(Path(sys.argv[2]).read_text())
        secret = sys.argv[3] if len(sys.argv) > 3 else LOCAL_SIGNING_SECRET
        ts = str(int(time.time()))
        ev["headers"]["x-slack-request-timestamp"] = ts
        ev["headers"]["x-slack-signature"] = slack_signature(secret, ts, ev["body"])
        print(json.dumps(ev))
    elif cmd == "curl-sign" and len(sys.argv) == 3:
        body = sys.stdin.read()
        ts = str(int(time.time()))
        print(f"X-Securitybot-Timestamp: {ts}")
        print(f"X-Securitybot-Signature: {signature(sys.argv[2], ts, body)}")
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
