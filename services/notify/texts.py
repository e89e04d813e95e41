"""Text messages (SMS) for those who reach the platform by phone alone (DESIGN, "Reach when the web
is blocked or cut"): sent through the provider's REST API (Twilio's Messages resource, which other
providers copy: `POST {SMS_API_BASE}/2010-04-01/Accounts/{SMS_ACCOUNT_SID}/Messages.json`, form
fields `To`, `From`, `Body`, basic auth with the account and its token).

A text to send is first a pending document in notify's database, like an email (retry.py: claimed,
tried, retried with backoff), its id derived from what caused it, so a redelivered request makes no
second one. The number and the words are kept encrypted (MESSAGE_KEYS) while it waits, and
forgotten once it went out or was given up: the number is the channel, never the identity.
"""
import uuid

import urllib3

from . import retry
from .mail import PermanentFailure

_TEXT_NAMESPACE = uuid.UUID("6f1d2b7e-93a4-4c0e-8d55-2e7b1a9c4f60")
MAX_BODY = 1600  # what the provider takes in one message (it splits it into parts)


def text_id(key):
    """Deterministic: the same cause (an inbound message's id and the reply's place) makes one text."""
    return uuid.uuid5(_TEXT_NAMESPACE, key).hex


def pending_text(key, to, body, cipher, now):
    return {"_id": text_id(key), "kind": "text", "to_sealed": cipher.encrypt(to.encode()).decode(),
            "body_sealed": cipher.encrypt(body.encode()).decode(), "status": retry.PENDING, "attempts": 0,
            "next_attempt_at": now, "created_at": now}


SEALED = ("to_sealed", "body_sealed")  # forgotten once a text is settled for good


class SmsProvider:
    """The provider's Messages endpoint. Exceptions never carry the number or the words."""

    def __init__(self, api_base, account_sid, auth_token, from_number, timeout_s, http=None):
        self.api_base, self.account_sid, self.auth_token = (api_base or "").rstrip("/"), account_sid, auth_token
        self.from_number, self.timeout_s = from_number, timeout_s
        self.http = http or urllib3.PoolManager()

    @property
    def configured(self):
        return bool(self.api_base and self.account_sid and self.auth_token and self.from_number)

    def send(self, to, body):
        if not self.configured:
            raise PermanentFailure("no SMS provider is configured")
        url = f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        headers = urllib3.make_headers(basic_auth=f"{self.account_sid}:{self.auth_token}")
        try:
            response = self.http.request("POST", url, fields={"To": to, "From": self.from_number, "Body": body},
                                         encode_multipart=False, headers=headers, timeout=self.timeout_s,
                                         retries=False, redirect=False)
        except urllib3.exceptions.HTTPError as exc:
            raise ConnectionError(f"SMS provider unreachable: {type(exc).__name__}") from None
        if response.status in (200, 201):
            return
        if 400 <= response.status < 500 and response.status not in (408, 429):
            raise PermanentFailure(f"the SMS provider refused the message (HTTP {response.status})")
        raise ConnectionError(f"SMS provider answered HTTP {response.status}")
