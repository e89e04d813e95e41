"""A local stand-in for the SMS provider: a real HTTP server on loopback speaking its REST API
(Twilio's Messages resource: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form fields
`To`, `From`, `Body`, HTTP basic auth with the account and its token; 201 and the message as JSON).
It checks the credentials as the provider does, records every message it accepts, and can fail the
first ones on purpose (a 503, as the provider answers under load)."""
import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class SmsProvider:
    def __init__(self, account_sid="AC" + "0" * 32, auth_token="provider-test-token", fail_first=0):
        self.account_sid, self.auth_token, self.fail_first = account_sid, auth_token, fail_first
        self.messages, self.refused, self.attempts = [], 0, 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                expected = "Basic " + base64.b64encode(f"{provider.account_sid}:{provider.auth_token}".encode()).decode()
                if self.path != f"/2010-04-01/Accounts/{provider.account_sid}/Messages.json":
                    return self._answer(404, {"code": 20404, "message": "The requested resource was not found"})
                if self.headers.get("Authorization") != expected:
                    provider.refused += 1
                    return self._answer(401, {"code": 20003, "message": "Authenticate"})
                provider.attempts += 1
                if provider.attempts <= provider.fail_first:
                    return self._answer(503, {"code": 20503, "message": "Service unavailable"})
                form = {name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()}
                if not form.get("To") or not form.get("Body") or not form.get("From"):
                    return self._answer(400, {"code": 21604, "message": "A 'To', 'From' and 'Body' are required"})
                provider.messages.append(form)
                self._answer(201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued", "to": form["To"],
                                   "from": form["From"], "body": form["Body"]})

            def _answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def to(self, number):
        return [m["Body"] for m in self.messages if m["To"] == number]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
