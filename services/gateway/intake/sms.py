"""`POST /api/intake/sms`: the SMS provider's webhook (Twilio's format: form fields `From`, `To`,
`Body`, `MessageSid`, `AccountSid`; signed in `X-Twilio-Signature`). A provider's contract, not
the programs' API: it is left out of the OpenAPI document (openapi.routes).

Whoever writes is found (or made) by profiles from a keyed hash of their number; the gateway acts for
them as for anyone signed in, and answers through notify, which sends texts through the provider's
REST API with retries. The number travels sealed (to profiles, to notify), is logged nowhere, and
never reaches the bus in clear, the index or a log.
"""
import hashlib
import logging

import phonenumbers
from werkzeug.wrappers import Response

from services.common.errors import DomainError, Forbidden, TooManyRequests, ValidationFailed

from ..http import MAX_BODY_BYTES, Sealed, call, http, json_response
from ..routes.base import RoutesBase
from ..web import i18n
from . import commands, replies, twilio

log = logging.getLogger(__name__)
PATH = "/api/intake/sms"
# The provider reads this as "nothing to send now": the answers go through its REST API instead,
# where they are retried like emails.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
TITLE_CHARS = 60


def country_of(number):
    """The country a number belongs to (ISO 3166 alpha-2), or None."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return None
    return region if region and region != "ZZ" else None


def title_of(text):
    """A need's title from its first words (its whole text is the body)."""
    line = text.strip().splitlines()[0]
    if len(line) <= TITLE_CHARS:
        return line
    return line[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


class SmsIntake(RoutesBase):
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
            for place, text in enumerate(self._answer(command, number, sid)):
                call(self.notify.send_text, Sealed({"to": number, "body": text, "key": f"sms:{sid}:{place}"}))
        except DomainError as exc:
            return json_response(exc.status, exc.to_dict())
        except Exception:  # noqa: BLE001 - log the failure, never the message: it holds a number
            log.exception("unhandled error in the SMS intake")
            return json_response(500, {"error": {"code": "internal", "message": "Something went wrong."}})
        return Response(EMPTY_TWIML, mimetype="text/xml", headers={"Cache-Control": "no-store"})

    def _answer(self, command, number, sid):
        """What to do for a command, and the texts that say so back."""
        gettext = i18n.translations(command.lang).gettext
        if command.name == commands.STOP:
            unlinked = call(self.profiles.forget_channel, Sealed({"channel": "sms", "address": number}))
            said = replies.STOPPED if unlinked.get("forgotten") else replies.NOT_LINKED
            return [gettext(said)]
        if command.name == commands.NEED:
            return [gettext(self._post_need(command, number, sid))]
        # Everything else (HELP, anything unclear, what SMS does not do yet): what can be written.
        return [replies.help_text(gettext)]

    def _post_need(self, command, number, sid):
        skill, text = command.text
        session = call(self.profiles.channel_session, Sealed({"channel": "sms", "address": number}))
        token = session["token"]
        try:
            viewer = self._viewer_of(token)
            need = {"title": title_of(text), "body": text, "skills": [skill], "languages": [command.lang],
                    "country": country_of(number), "urgency": "normal", "visibility": "private"}
            # The provider may post the same message again (a timeout): one need per message.
            key = hashlib.sha256(f"sms:{sid}".encode()).hexdigest()
            call(self.requests.create_request, viewer, Sealed(need), key)
        except ValidationFailed:
            return replies.NOT_POSTED
        except TooManyRequests:
            return replies.TOO_MANY
        except Forbidden:
            return replies.CANNOT_ACT
        finally:
            # One act, one session: it ends with the message.
            call(self.profiles.logout, Sealed(token), False)
            self._revoked(token=token)
        return replies.POSTED
