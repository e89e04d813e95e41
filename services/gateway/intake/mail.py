"""`POST /api/intake/email`: what someone wrote to the platform's email address, as the project's
own inbound relay (services/mailin) posts it: JSON `{from, to, subject, text, message_id}`, signed
in `X-Allies-Intake-Signature: sha256=<hex>` (HMAC-SHA256 of the body under `MAIL_INTAKE_TOKEN`).
A relay's contract, not the programs' API: left out of the OpenAPI document.

An email's `From` is whatever its sender typed: anyone can write "from" someone else's address. So
nothing is done for a message unless it was written to that address's own answering address
(`act+<token>@domain`, the token a keyed hash of the sender's address that only this gateway can
make), which only reaches someone through an email the platform sent to that very address. A
first message, to the plain address, gets the help and an answer from the answering address;
what is written back to it is acted on like a text (acting.py). The same rules for the address as
for a number: sealed, keyed-hashed for lookup, in no log, index or event in clear.
"""
import base64
import hashlib
import hmac
import json
import logging
import re

from marshmallow import fields, validate
from werkzeug.wrappers import Response

from services.common.errors import DomainError, Forbidden, ValidationFailed
from services.common.schemas import StrictSchema, load_or_fail

from ..http import MAX_BODY_BYTES, Sealed, call, http, json_response
from ..web import i18n
from . import commands, replies
from .acting import TextActs

log = logging.getLogger(__name__)
PATH = "/api/intake/email"
SIGNATURE_HEADER = "X-Allies-Intake-Signature"
SUBJECT = "Re: your message"
_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|sv)\s*:\s*)+", re.IGNORECASE)
# Where a reply's quoted part begins: "On <date>, <someone> wrote:", or quoted lines.
_QUOTE = re.compile(r"^(>|on .{0,200} wrote:\s*$|-----\s*original message)", re.IGNORECASE)


class InboundMail(StrictSchema):
    sender = fields.Email(required=True, data_key="from")
    to = fields.Email(required=True)
    subject = fields.String(load_default="", validate=validate.Length(max=1000))
    text = fields.String(load_default="", validate=validate.Length(max=commands.MAX_TEXT * 4))
    message_id = fields.String(required=True, validate=validate.Length(min=1, max=500))


def signature(token, body):
    return "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def is_signed(token, body, given):
    return bool(token) and bool(given) and hmac.compare_digest(signature(token, body), given)


def answering_address(key, intake_address, sender):
    """`act+<token>@domain` for `sender`: the token a keyed hash of their address (16 base32
    characters), so only this gateway makes it and only an email to `sender` shows it."""
    local, _, domain = intake_address.partition("@")
    digest = hmac.new(key, b"mail answer\n" + sender.lower().encode(), hashlib.sha256).digest()
    token = base64.b32encode(digest[:10]).decode().lower()
    return f"{local}+{token}@{domain}"


def written(subject, text):
    """The command an email carries: in the subject if it starts with a command word (its body then
    the rest: `SAY 4821` with the words below), else in the body; quoted replies below it ignored."""
    lines = []
    for line in (text or "").splitlines():
        if _QUOTE.match(line.strip()):
            break
        lines.append(line)
    body = "\n".join(lines).strip()
    subject = _REPLY_PREFIX.sub("", subject or "").strip()
    if subject and commands.starts_with_command(subject):
        return f"{subject}\n{body}".strip()
    return body


class MailIntake(TextActs):
    @http("POST", PATH)
    def mail_intake(self, request):
        """An email to the platform: checked as the relay's, read as a command, answered by email."""
        try:
            if request.content_length and request.content_length > MAX_BODY_BYTES:
                raise ValidationFailed("The body is too large.", {"text": "Too large."})
            raw = request.get_data()
            if not is_signed(self.config.get("MAIL_INTAKE_TOKEN"), raw, request.headers.get(SIGNATURE_HEADER)):
                raise Forbidden("Not signed by the mail relay.")
            try:
                mail = load_or_fail(InboundMail(), json.loads(raw))
            except ValueError:
                raise ValidationFailed("The body is not JSON.", {"body": "Not JSON."}) from None
            sender = mail["sender"].strip().lower()
            self.rate_limit("mail_address", request, key=sender)
            answer_at = answering_address(self._answer_key(), self.config.get("MAIL_INTAKE_ADDRESS") or "", sender)
            command = commands.parse(written(mail["subject"], mail["text"]))
            if mail["to"].strip().lower() != answer_at:
                # The plain address (or someone else's answering one): the help, from the answering
                # address, and nothing done: the From may not be the writer's.
                gettext = i18n.translations(command.lang).gettext
                said = [replies.help_text(gettext) + "\n\n" + gettext(replies.WRITE_BACK)]
            else:
                said = self.act(command, "email", sender, mail["message_id"], reply_to=answer_at)
            for place, text in enumerate(said):
                call(self.notify.send_reply_email, Sealed({
                    "to": sender, "reply_to": answer_at, "subject": SUBJECT, "body": text,
                    "key": "mail:" + hashlib.sha256(f"{mail['message_id']}:{place}".encode()).hexdigest()}))
        except DomainError as exc:
            return json_response(exc.status, exc.to_dict())
        except Exception:  # noqa: BLE001 - log the failure, never the message: it holds an address
            log.exception("unhandled error in the email intake")
            return json_response(500, {"error": {"code": "internal", "message": "Something went wrong."}})
        return Response('{"accepted": true}', mimetype="application/json", headers={"Cache-Control": "no-store"})

    def _answer_key(self):
        """Derived from the gateway's own secret (as the rate limiter's): every replica makes the
        same answering addresses, and knowing one gives neither this key nor the secret."""
        secret = (self.config.get("SEAL_KEY_GATEWAY") or "").encode()
        return hmac.new(secret, b"allies mail answering addresses", hashlib.sha256).digest()
