"""What profiles accepts over RPC and what it returns."""
import re

from marshmallow import ValidationError, fields, validate, validates

from services.common.schemas import ROLES, CountryList, SkillList, StrictSchema
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
        if code not in LANGUAGES:
            raise ValidationError("Must be an ISO 639-1 code such as 'fa' or 'en'.")
        if level not in LEVELS:
            raise ValidationError(f"Level must be one of: {', '.join(LEVELS)}.")
        return {"code": code, "level": level}


def _unique_codes(entries):
    codes = [entry["code"] for entry in entries]
    if len(codes) != len(set(codes)):
        raise ValidationError("Must not repeat a language.")


def _pseudonymous_handle(value):
    if not HANDLE_RE.match(value):
        raise ValidationError(
            "3-32 letters, digits, '.', '_' or '-', starting with a letter or digit. "
            "Use a pseudonym, not your real name.")


class NewAccount(StrictSchema):
    handle = fields.String(required=True, validate=_pseudonymous_handle)
    password = fields.String(required=True, validate=validate.Length(min=10, max=256), load_only=True)
    # Moderators and analysts are appointed (`python -m services.profiles.admin`), not self-registered.
    role = fields.String(required=True, validate=validate.OneOf(("activist", "volunteer")))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))


class Credentials(StrictSchema):
    handle = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class ProfileInput(StrictSchema):
    skills = SkillList(required=True)
    languages = fields.List(LanguageEntry(), required=True, validate=[validate.Length(max=20), _unique_codes])
    countries = CountryList(load_default=list)
    bio = fields.String(load_default="", validate=validate.Length(max=2000))
    availability_hours = fields.Integer(load_default=0, validate=validate.Range(min=0, max=200))
    max_active_matches = fields.Integer(load_default=3, validate=validate.Range(min=1, max=20))


class EmailChange(StrictSchema):
    email = fields.Email(required=True, allow_none=True, validate=validate.Length(max=254))


class PasswordConfirmation(StrictSchema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))




class RoleGrant(StrictSchema):
    handle = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
