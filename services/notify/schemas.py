"""What notify accepts over RPC (from the gateway): strict schemas, every bad field named."""
from urllib.parse import urlparse

from marshmallow import ValidationError, fields, validate, validates

from services.common.schemas import Paging, PhoneNumber, StrictSchema

from .texts import MAX_BODY
from .webhooks import DELIVERABLE

EMAIL_MODES = ("instant", "daily", "off")
MAX_MESSAGE_CHARS = 4000


NotificationPaging = Paging  # one paging for every list that grows with use


class MessagePaging(StrictSchema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    # The id of the last message already seen: the next page is what came after it.
    after = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class NotificationPreferences(StrictSchema):
    """How a person wants email: each notification at once, one daily digest, or none.

    The in-app inbox always gets every notification; this only governs email."""

    email = fields.String(required=True, validate=validate.OneOf(EMAIL_MODES))


class NewText(StrictSchema):
    """A text message to send (the gateway's reply to someone who wrote by SMS): sealed to notify."""
    to = PhoneNumber(required=True)
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY))
    # What caused it (the inbound message's id and the reply's place): one text per cause.
    key = fields.String(required=True, validate=validate.Length(min=8, max=200))


class NewReplyEmail(StrictSchema):
    """An email on the email channel (the gateway's answer to someone who wrote to the intake):
    sealed to notify. `reply_to`: their own answering address."""
    to = fields.Email(required=True)
    reply_to = fields.Email(required=True)
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    key = fields.String(required=True, validate=validate.Length(min=8, max=300))


class NewMessage(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=MAX_MESSAGE_CHARS))

    @validates("text")
    def not_blank(self, value, **_):
        if not value.strip():
            raise ValidationError("Must not be blank.")


# A webhook's address as the document states it (and the schema checks it): scheme, host, port,
# then a path of printable characters.
URL_PATTERN = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][!-~]*)?$"


class NewWebhook(StrictSchema):
    url = fields.String(required=True, validate=[validate.Length(min=1, max=2000), validate.Regexp(
        URL_PATTERN, error="Must be an http:// or https:// URL: a host name, an optional port, a path.")],
                        metadata={"pattern": URL_PATTERN})
    secret = fields.String(required=True, validate=validate.Length(min=16, max=200))
    event_types = fields.List(fields.String(validate=validate.OneOf(sorted(DELIVERABLE))), required=True,
                              validate=validate.Length(min=1, max=20), metadata={"uniqueItems": True})

    @validates("url")
    def http_only(self, value, **_):
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValidationError("Must be an http:// or https:// URL.")
        if parsed.username or parsed.password:
            raise ValidationError("Must not carry credentials; the signature authenticates us.")

    @validates("event_types")
    def deliverable(self, value, **_):
        unknown = sorted(set(value) - set(DELIVERABLE))
        if unknown:
            raise ValidationError(f"Not deliverable: {', '.join(unknown)}. "
                                  f"Choose from: {', '.join(sorted(DELIVERABLE))}.")
        if len(set(value)) != len(value):
            raise ValidationError("Must not repeat a value.")
