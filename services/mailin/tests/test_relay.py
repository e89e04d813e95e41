"""The inbound mail relay against a real SMTP client and a local HTTP server standing in for the
gateway: what it posts (signed, the fields the intake reads) and what the sending server is told
for each answer (accepted, refused for good, try again later: nothing lost while the gateway is away)."""
import hashlib
import hmac
import json
import os
import signal
import smtplib
import subprocess
import sys
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from services.mailin.relay import read_message
from services.notify.tests.sink import free_port
from tests.support import start_process

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "relay-test-token"


class Gateway:
    """Answers each POST with the next status of `statuses`, keeping what it was sent."""

    def __init__(self):
        self.statuses, self.posted = [200], []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.posted.append((body, self.headers.get("X-Allies-Intake-Signature")))
                self.send_response(gateway.statuses.pop(0) if len(gateway.statuses) > 1 else gateway.statuses[0])
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/intake/email"


@pytest.fixture(scope="module")
def gateway():
    running = Gateway()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture(scope="module")
def relay(gateway):
    port = free_port()
    process = start_process([sys.executable, "-m", "services.mailin.relay"], stdout=subprocess.PIPE,
                            cwd=str(ROOT), env=dict(os.environ, PYTHONPATH=str(ROOT), MAIL_INTAKE_PORT=str(port),
                                                    MAIL_INTAKE_TOKEN=TOKEN, MAIL_INTAKE_ADDRESS="act@allies.example",
                                                    MAIL_INTAKE_URL=gateway.url))
    assert process.stdout.readline().decode().startswith("ready")
    yield port
    os.kill(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    process.stdout.close()


def message(to="act@allies.example", subject="NEED 2 IR", body="a lawyer for an appeal"):
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"], mail["Message-ID"] = "Someone <someone@example.org>", to, subject, "<m1@x>"
    mail.set_content(body)
    return mail


def send(port, mail, to=None):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        return client.send_message(mail, to_addrs=to)


def test_a_message_for_the_intake_is_posted_signed_and_accepted(relay, gateway):
    gateway.statuses = [200]
    send(relay, message(to="act+abcdefghijklmnop@allies.example"))
    body, signature = gateway.posted[-1]
    assert signature == "sha256=" + hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest()
    assert json.loads(body) == {"from": "someone@example.org", "to": "act+abcdefghijklmnop@allies.example",
                                "subject": "NEED 2 IR", "text": "a lawyer for an appeal\n", "message_id": "<m1@x>"}


def test_other_recipients_are_refused_and_the_gateways_answer_decides_the_senders(relay, gateway):
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(relay, message(to="someone@elsewhere.example"))
    gateway.statuses = [403]
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(relay, message())
    assert refused.value.smtp_code == 550  # for good: the sending server gives up
    gateway.statuses = [503]
    with pytest.raises(smtplib.SMTPDataError) as later:
        send(relay, message())
    assert later.value.smtp_code == 451  # the sending server keeps it and tries again


def test_only_the_plain_text_is_read():
    mail = EmailMessage()
    mail["From"], mail["Subject"] = "a@example.org", "READ 4821"
    mail.set_content("the words")
    mail.add_alternative("<p>the words, <b>in HTML</b></p>", subtype="html")
    sender, subject, text, message_id = read_message(bytes(mail))
    assert (sender, subject, text) == ("a@example.org", "READ 4821", "the words\n")
    assert len(message_id) == 64  # none given: the content's digest, the same for a retried copy
