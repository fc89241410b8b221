#!/usr/bin/env python3
"""Local Duo for the local run: Duo's Auth API v2 (preauth, auth with an async push, auth_status),
checking every request's signature as Duo does (v2: HMAC-SHA512 over date, method, host, path
and the sorted, percent-encoded parameters; HTTP Basic ikey:hex). A bad signature gets 401.

  local_duo.py serve PORT LOG

People: alice@example.com approves her pushes (after one "waiting"), dave@example.com denies his,
everyone else is unknown to Duo. Each push and its fate is logged readably to LOG.
"""
import base64, hashlib, hmac, json, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "api-local0.duosecurity.com"
IKEY = "DILOCAL0000000000000"
SKEY = "local-duo-secret-key-not-a-real-one-0000"
PEOPLE = {"alice@example.com": ["waiting", "allow"], "dave@example.com": ["waiting", "deny"]}


def canon(params):
    quote = lambda s: urllib.parse.quote(s, "~")
    return "&".join(f"{k}={v}" for k, v in sorted((quote(k), quote(v)) for k, v in params))


def signed_right(method, path, params, headers):
    date, auth = headers.get("Date"), headers.get("Authorization", "")
    if not date or not auth.startswith("Basic "):
        return False
    canonical = "\n".join([date, method.upper(), HOST.lower(), path, canon(params)])
    sig = hmac.new(SKEY.encode(), canonical.encode(), hashlib.sha512).hexdigest()
    return hmac.compare_digest(base64.b64decode(auth[6:]), f"{IKEY}:{sig}".encode())


def serve(port, log_path):
    pushes, answers = {}, {who: list(a) for who, a in PEOPLE.items()}
    log = open(log_path, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def handle_any(self, method):
            url = urllib.parse.urlsplit(self.path)
            raw = url.query if method == "GET" else self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            params = urllib.parse.parse_qsl(raw, keep_blank_values=True)
            if not signed_right(method, url.path, params, self.headers):
                log.write(f"[duo] refused {url.path}: the signature does not match\n")
                return self.answer(401, {"stat": "FAIL", "code": 40103, "message": "Invalid signature in request credentials"})
            p = dict(params)
            ok = lambda r: self.answer(200, {"stat": "OK", "response": r})
            who = p.get("username", "")
            if url.path == "/auth/v2/preauth":
                if who in PEOPLE:
                    log.write(f"[duo] preauth {who}: has a phone that takes pushes (signature checked)\n")
                    return ok({"result": "auth", "devices": [{"device": "DPLOCAL", "capabilities": ["push"]}]})
                log.write(f"[duo] preauth {who}: not enrolled in Duo\n")
                return ok({"result": "enroll", "status_msg": "Enroll an authentication device to proceed"})
            if url.path == "/auth/v2/auth":
                txid = f"tx-{len(pushes) + 1}-{int(time.time())}"
                pushes[txid] = who
                info = dict(urllib.parse.parse_qsl(p.get("pushinfo", "")))
                log.write(f"[duo] push to {who}'s phone: \"{p.get('type')}\", alert: {info.get('alert')}\n")
                return ok({"txid": txid})
            if url.path == "/auth/v2/auth_status":
                who = pushes.get(p.get("txid"))
                queue = answers.get(who) or ["waiting"]
                now = queue.pop(0) if len(queue) > 1 else queue[0]
                if now != "waiting":
                    log.write(f"[duo] {who} pressed {'Approve' if now == 'allow' else 'Deny'} on their phone\n")
                result = {"waiting": "waiting", "allow": "allow"}.get(now, "deny")
                return ok({"result": result, "status": "pushed" if now == "waiting" else now, "status_msg": now})
            return self.answer(404, {"stat": "FAIL", "code": 40401, "message": "Resource not found"})

        def do_GET(self):
            self.handle_any("GET")

        def do_POST(self):
            self.handle_any("POST")

    ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "serve":
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    serve(sys.argv[2], sys.argv[3])
