"""What profiles accepts over RPC and what it returns."""
import re

from marshmallow import ValidationError, fields, validate, validates_schema

from services.common.schemas import ROLES, CountryList, PhoneNumber, SkillList, StrictSchema
from services.common.taxonomy import LANGUAGES

HANDLE_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{2,31}$")
LEVELS = ("basic", "conversational", "fluent", "native")


class LanguageEntry(fields.Field):
    """A language a person speaks: `"fa"` (taken as fluent) or `{"code": "fa", "level": "native"}`."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            code, level = value, "fluent"
        elif isinstance(value, dict) and value.keys() <= {"code", "level"}:
            code, level = value.get("code"), value.get("level", "fluent")
        else:
            raise ValidationError('Use a code such as "fa" or {"code": "fa", "level": "native"}.')
        if not isinstance(code, str) or code not in LANGUAGES:  # ({} is not hashable: not a 500)
            raise ValidationError("Must be an ISO 639-1 code such as 'fa' or 'en'.")
        if not isinstance(level, str) or level not in LEVELS:
            raise ValidationError(f"Level must be one of: {', '.join(LEVELS)}.")
        return {"code": code, "level": level}


def repeated_language(profile):
    """The field error if a profile names a language twice ("fa" and {"code": "fa"}): refused with
    422, since the API document can say items are unique but not that their codes are."""
    codes = [entry["code"] for entry in profile["languages"]]
    return {"languages": "Must not repeat a language."} if len(codes) != len(set(codes)) else None


def _pseudonymous_handle(value):
    if not HANDLE_RE.match(value):
        raise ValidationError(
            "3-32 letters, digits, '.', '_' or '-', starting with a letter or digit. "
            "Use a pseudonym, not your real name.")


# An email address: one pattern, checked here and stated in the API document (marshmallow's Email
# and JSON Schema's "email" format disagree at the edges: "0@0.a", a 70-character local part).
EMAIL_PATTERN = (r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                 r"[A-Za-z]{2,6}$")
EMAIL = [validate.Length(max=254), validate.Regexp(EMAIL_PATTERN, error="Not a valid email address.")]


class NewAccount(StrictSchema):
    handle = fields.String(required=True, validate=_pseudonymous_handle, metadata={"pattern": HANDLE_RE.pattern})
    password = fields.String(required=True, validate=validate.Length(min=10, max=256), load_only=True)
    # Moderators and analysts are appointed (`python -m services.profiles.admin`), not self-registered.
    role = fields.String(required=True, validate=validate.OneOf(("activist", "volunteer")))
    email = fields.String(load_default=None, allow_none=True, validate=EMAIL, metadata={"pattern": EMAIL_PATTERN})


PHONE = PhoneNumber()


class ChannelAddress(StrictSchema):
    """Who writes by SMS or email: the channel and its address (sealed to profiles on the bus): an
    E.164 number, or an email address with the address the platform's emails ask to be answered at
    (`reply_to`, email only: the gateway's intake, services/gateway/intake/mail.py). `create`:
    whether an unknown address gets a new pseudonymous account (a need may make one; an answer or
    a question from an unknown address may not)."""
    channel = fields.String(required=True, validate=validate.OneOf(("sms", "email")))
    address = fields.String(required=True, validate=validate.Length(max=254))
    # Made by the gateway (an answering address under the intake's domain, whatever its TLD).
    reply_to = fields.Email(load_default=None, allow_none=True)
    create = fields.Boolean(load_default=True)

    @validates_schema
    def address_of_its_channel(self, data, **kwargs):
        if data["channel"] == "sms":
            checks = PHONE.validators
        else:
            checks = EMAIL
            if not data.get("reply_to"):
                raise ValidationError("An email channel needs the address to answer at.", "reply_to")
        try:
            for check in checks:
                check(data["address"])
        except ValidationError as error:
            raise ValidationError(error.messages, "address") from None


class ChannelLink(ChannelAddress):
    """`LINK <code>` written from an address: the code the web gave a signed-in person."""
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{8}$", error="Eight digits."))


class Credentials(StrictSchema):
    handle = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class ProfileInput(StrictSchema):
    skills = SkillList(required=True)
    languages = fields.List(LanguageEntry(metadata={"oneOf": [
        {"type": "string", "enum": sorted(LANGUAGES)},
        {"type": "object", "required": ["code"], "additionalProperties": False,
         "properties": {"code": {"type": "string", "enum": sorted(LANGUAGES)},
                        "level": {"type": "string", "enum": list(LEVELS)}}}]}),
        required=True, validate=validate.Length(max=20), metadata={"uniqueItems": True})
    countries = CountryList(load_default=list)
    bio = fields.String(load_default="", validate=validate.Length(max=2000))
    # strict: 2.5 (or 1e-40) hours is not a whole number, whatever int() would make of it.
    availability_hours = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=200))
    max_active_matches = fields.Integer(load_default=3, strict=True, validate=validate.Range(min=1, max=20))


class EmailChange(StrictSchema):
    email = fields.String(required=True, allow_none=True, validate=EMAIL, metadata={"pattern": EMAIL_PATTERN})


class PasswordConfirmation(StrictSchema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class PasswordChange(StrictSchema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True)
    new_password = fields.String(required=True, validate=validate.Length(min=10, max=256), load_only=True)




class CheckInSettings(StrictSchema):
    """A check-in (DESIGN, "Reach when the web is blocked or cut"): if `interval_hours` pass without
    one, the people chosen are told, once, with `message`. `helpers`: confirmed matches (their
    helpers are told, in the conversation); `campaigns`: campaigns the person owns (their other
    owners are told). `duress_password`: a password that signs in to an empty account and quietly
    does the same at once."""
    interval_hours = fields.Integer(required=True, validate=validate.Range(min=1, max=24 * 28))
    helpers = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list,
                          validate=validate.Length(max=20))
    campaigns = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list,
                            validate=validate.Length(max=10))
    message = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    duress_password = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=10, max=256),
                                    load_only=True)


class RoleGrant(StrictSchema):
    handle = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
