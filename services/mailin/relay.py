"""The platform's inbound email (DESIGN, "Reach when the web is blocked or cut"): an SMTP server
(aiosmtpd) that takes mail for the intake address and its answering addresses
(`act@domain`, `act+<token>@domain`) and posts each message to the gateway's email intake
(`POST /api/intake/email`, signed with MAIL_INTAKE_TOKEN), as an inbound-mail provider would.

It keeps nothing and logs no address, subject or word. What the gateway answers decides what the
sending server is told: accepted (250), refused for good (550: not signed, malformed), or "try
again later" (451: the platform is busy or unreachable), so the sending server keeps the message
and retries, as SMTP servers do: an email is not lost while the platform restarts.

    python -m services.mailin.relay        (settings from the environment, as config.yaml names them)
"""
import asyncio
import hashlib
import hmac
import json
import logging
import os
import signal
import threading
import urllib.error
import urllib.request
from email import policy
from email.parser import BytesParser
from email.utils import parseaddr

from aiosmtpd.controller import Controller

log = logging.getLogger("mailin")
MAX_MESSAGE = 256 * 1024  # a few pages of text; attachments are not read
SIGNATURE_HEADER = "X-Allies-Intake-Signature"


def signed_post(url, token, payload, timeout=20):
    """POST `payload` as JSON signed under `token`: the gateway's HTTP status (0: unreachable)."""
    body = json.dumps(payload).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        SIGNATURE_HEADER: "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return 0


def read_message(content):
    """(sender, subject, text, message id) of a raw message: the text/plain part, or none."""
    message = BytesParser(policy=policy.default).parsebytes(content)
    sender = parseaddr(str(message.get("From", "")))[1]
    part = message.get_body(preferencelist=("plain",))
    text = part.get_content().replace("\r\n", "\n") if part is not None else ""
    message_id = str(message.get("Message-ID", "")).strip() or hashlib.sha256(content).hexdigest()
    return sender, str(message.get("Subject", "")), text, message_id


class Intake:
    """The aiosmtpd handler: one recipient per message, the intake's own addresses only."""

    def __init__(self, address, url, token):
        self.local, _, self.domain = address.lower().partition("@")
        self.url, self.token = url, token

    def ours(self, address):
        local, _, domain = address.lower().partition("@")
        return domain == self.domain and (local == self.local or local.startswith(self.local + "+"))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not self.ours(address):
            return "550 5.1.1 No such mailbox here"
        if envelope.rcpt_tos:
            return "452 4.5.3 One recipient per message"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        try:
            sender, subject, text, message_id = read_message(content)
        except Exception:  # noqa: BLE001 - a message this cannot read is refused, never logged
            return "550 5.6.0 Unreadable message"
        if not sender:
            return "550 5.1.7 No sender"
        payload = {"from": sender, "to": envelope.rcpt_tos[0], "subject": subject[:1000], "text": text[:6400],
                   "message_id": message_id[:500]}
        status = await asyncio.get_running_loop().run_in_executor(None, signed_post, self.url, self.token, payload)
        if status == 200:
            return "250 2.0.0 Accepted"
        if status in (400, 403, 413):
            log.warning("the gateway refused a message (HTTP %s)", status)
            return "550 5.7.1 Refused"
        log.warning("the gateway did not take a message (HTTP %s): the sender will retry", status or "unreachable")
        return "451 4.3.0 Try again later"


def main():
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's own log names addresses
    host, port = os.environ.get("MAIL_INTAKE_HOST", "127.0.0.1"), int(os.environ.get("MAIL_INTAKE_PORT", "2525"))
    token = os.environ.get("MAIL_INTAKE_TOKEN", "")
    if not token:
        raise SystemExit("MAIL_INTAKE_TOKEN is not set: the gateway would refuse every message")
    handler = Intake(os.environ.get("MAIL_INTAKE_ADDRESS", "act@allies.example"),
                     os.environ.get("MAIL_INTAKE_URL", "http://127.0.0.1:8080/api/intake/email"), token)
    controller = Controller(handler, hostname=host, port=port, data_size_limit=MAX_MESSAGE)
    controller.start()
    print(f"ready {host}:{port}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
