"""Email: what it says (as little as possible), when it is tried again, and the SMTP client.

An email is first a *pending email* document in notify's database, with an id derived from what
caused it (one per notification, or one per person and digest slot), so a redelivered event
cannot make a second one. It holds the recipient's account id, never an address: the address is
opened from its sealed form only at the moment of sending. A failed send is tried again later
(retry.py).

Bodies name no one and quote nothing: no request text, no handle, no name, only that there is
something to read and a link back to the platform, where the person signs in to see it. A
mailbox read by someone else reveals only that its owner uses the platform.
"""
import smtplib
import ssl
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate

_EMAIL_NAMESPACE = uuid.UUID("d3c9a0e1-7b4f-4e8a-a1f6-0c2b5e9d7f42")


def instant_id(notification_id):
    return uuid.uuid5(_EMAIL_NAMESPACE, f"instant:{notification_id}").hex


def digest_slot(now, interval_s):
    """The end of the digest period `now` falls in: periods are aligned on the Unix epoch, so a
    day-long period ends at midnight UTC."""
    seconds = int(now.timestamp())
    end = (seconds // interval_s + 1) * interval_s
    return datetime.fromtimestamp(end, timezone.utc)


def digest_id(recipient_id, slot):
    return uuid.uuid5(_EMAIL_NAMESPACE, f"digest:{recipient_id}:{slot.isoformat()}").hex


DEFAULT_SUBJECT = "You have a new notification"


SUPPORTER_KINDS = ("supporter_confirm", "campaign_news")


def _supporter_text(email, base, token):
    """A campaign supporter's email (no account): the links act for them (services/campaigns/
    supporters.py). Neither the campaign's title nor the prisoner's name: a link, and what to do."""
    links = f"{base}/supporters/{token}"
    if email["kind"] == "supporter_confirm":
        return "Please confirm your email", (
            "This address was given with a signature, to receive news.\n\n"
            f"To receive the news, confirm here: {links}/confirm\n\n"
            "If it was not you, do nothing: no other email will come. You can also withdraw the "
            f"signature made with this address: {links}/withdraw\n")
    return "News you asked for", (
        f"There is news: {base}/campaigns/{email['campaign_id']}\n\n"
        f"To stop these emails: {links}/stop\n"
        f"To withdraw your signature: {links}/withdraw\n")


def compose(email, to_address, from_address, public_url, subject=DEFAULT_SUBJECT, token=None):
    """The email: neither subject, body nor headers name the platform (a seized mailbox or a
    watched mail server should not reveal that its owner uses it); the subject is configurable
    (EMAIL_SUBJECT), the sender too (SMTP_FROM). `token`: a supporter's links (SUPPORTER_KINDS)."""
    message = EmailMessage()
    count = len(email.get("notification_ids", [])) or 1
    base = public_url.rstrip("/")
    if email["kind"] in SUPPORTER_KINDS:
        message["Subject"], body = _supporter_text(email, base, token)
        if email["kind"] == "campaign_news":
            message["List-Unsubscribe"] = f"<{base}/supporters/{token}/stop>"
    elif email["kind"] == "digest":
        message["Subject"] = f"{count} new notification{'s' if count != 1 else ''}"
        lead = f"You have {count} new notification{'s' if count != 1 else ''}."
    else:
        message["Subject"] = subject or DEFAULT_SUBJECT
        lead = "You have a new notification."
    message["From"] = from_address
    message["To"] = to_address
    message["Date"] = formatdate(usegmt=True)
    # Deterministic, so a receiver (or a test) can see one email is one email even if sent twice;
    # under the sender's own domain, not one naming the platform.
    domain = from_address.rsplit("@", 1)[-1].strip(" >") if "@" in from_address else "localhost"
    message["Message-ID"] = f"<{email['_id']}@{domain}>"
    if email["kind"] not in SUPPORTER_KINDS:
        body = (f"{lead}\n\n"
                f"Sign in to read it: {base}/notifications\n\n"
                "You can choose instant emails, a daily summary or no email at all in your settings.\n")
    message.set_content(body)
    return message


REPLY_SEALED = ("to_sealed", "reply_to_sealed", "subject_sealed", "body_sealed")  # forgotten once settled


def reply_id(key):
    """Deterministic: one cause (an inbound message and the reply's place) makes one email."""
    return uuid.uuid5(_EMAIL_NAMESPACE, f"reply:{key}").hex


def compose_reply(email_id, to_address, reply_to, subject, body, from_address):
    """An email on the email channel (docs/reach.md): an answer to what someone wrote, or what they
    would otherwise be texted. `Reply-To` is their own answering address, which alone carries
    what they write next to the intake."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = from_address
    message["To"] = to_address
    message["Reply-To"] = reply_to
    message["Date"] = formatdate(usegmt=True)
    domain = from_address.rsplit("@", 1)[-1].strip(" >") if "@" in from_address else "localhost"
    message["Message-ID"] = f"<{email_id}@{domain}>"
    message.set_content(body)
    return message


class PermanentFailure(Exception):
    """The server refused the recipient: trying again would fail the same way."""


class Mailer:
    """An SMTP client (green under eventlet). Exceptions never carry the address.

    With `starttls` the connection is encrypted (and the server's certificate verified) before
    anything is sent, so addresses do not cross the network in the clear; `username` logs in
    after that. The local sink speaks plain SMTP on loopback, so both are off by default.
    """

    def __init__(self, host, port, from_address, timeout_s, starttls=False, username=None, password=None,
                 smtp=smtplib.SMTP):
        self.host, self.port, self.from_address, self.timeout_s = host, int(port), from_address, timeout_s
        self.starttls, self.username, self.password = starttls, username, password
        self._smtp = smtp

    def send(self, message):
        accepted = False
        try:
            with self._smtp(self.host, self.port, timeout=self.timeout_s) as client:
                if self.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(message)
                accepted = True
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused):
            raise PermanentFailure("the SMTP server refused the message") from None
        except (OSError, smtplib.SMTPException) as exc:
            if accepted:
                # The server answered 250 to the message: it is its to deliver now. Only saying
                # goodbye failed; sending again would deliver it twice.
                return
            # Re-raise without the original message: SMTP replies can echo the address back.
            raise ConnectionError(f"SMTP send failed: {type(exc).__name__}") from None
