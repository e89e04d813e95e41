"""`POST /api/intake/sms`: the SMS provider's webhook (Twilio's format: form fields `From`, `To`,
`Body`, `MessageSid`, `AccountSid`; signed in `X-Twilio-Signature`). A provider's contract, not
the programs' API: it is left out of the OpenAPI document (openapi.routes).

Whoever writes is found (or made) by profiles from a keyed hash of their number; the gateway acts for
them as for anyone signed in, and answers through notify, which sends texts through the provider's
REST API with retries. The number travels sealed (to profiles, to notify), is logged nowhere, and
never reaches the bus in clear, the index or a log.
"""
import logging

import phonenumbers
from werkzeug.wrappers import Response

from services.common.errors import DomainError, Forbidden, ValidationFailed

from ..http import MAX_BODY_BYTES, Sealed, call, http, json_response
from . import commands, twilio
from .acting import TextActs

log = logging.getLogger(__name__)
PATH = "/api/intake/sms"
# The provider reads this as "nothing to send now": the answers go through its REST API instead,
# where they are retried like emails.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def country_of(number):
    """The country a number belongs to (ISO 3166 alpha-2), or None."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return None
    return region if region and region != "ZZ" else None


class SmsIntake(TextActs):
    @http("POST", PATH)
    def sms_intake(self, request):
        """A text from someone's phone: checked as the provider's, read as a command, answered."""
        try:
            if request.content_length and request.content_length > MAX_BODY_BYTES:
                raise ValidationFailed("The body is too large.", {"Body": "Too large."})
            form = request.form.to_dict(flat=False)
            url = (self.config.get("PUBLIC_URL") or "").rstrip("/") + request.full_path.rstrip("?")
            if not twilio.is_signed(self.config.get("SMS_AUTH_TOKEN"), url, form,
                                    request.headers.get(twilio.SIGNATURE_HEADER)):
                raise Forbidden("Not signed by the SMS provider.")
            number, sid = (form.get("From") or [""])[0], (form.get("MessageSid") or [""])[0]
            if not sid or not number:
                raise ValidationFailed("From and MessageSid are required.", {"From": "Required.", "MessageSid": "Required."})
            self.rate_limit("sms_account", request, key=(form.get("AccountSid") or [""])[0])
            self.rate_limit("sms_number", request, key=number)
            command = commands.parse((form.get("Body") or [""])[0])
            for place, text in enumerate(self.act(command, "sms", number, sid, country_of(number))):
                call(self.notify.send_text, Sealed({"to": number, "body": text, "key": f"sms:{sid}:{place}"}))
        except DomainError as exc:
            return json_response(exc.status, exc.to_dict())
        except Exception:  # noqa: BLE001 - log the failure, never the message: it holds a number
            log.exception("unhandled error in the SMS intake")
            return json_response(500, {"error": {"code": "internal", "message": "Something went wrong."}})
        return Response(EMPTY_TWIML, mimetype="text/xml", headers={"Cache-Control": "no-store"})
