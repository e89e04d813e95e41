"""What profiles accepts over RPC and what it returns."""
import re

from marshmallow import ValidationError, fields, validate, validates

from services.common.schemas import CountryList, LanguageList, SkillList, StrictSchema

HANDLE_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{2,31}$")


class NewAccount(StrictSchema):
    handle = fields.String(required=True)
    password = fields.String(required=True, validate=validate.Length(min=10, max=256),
                             load_only=True)
    # Moderators and analysts are appointed, not self-registered.
    role = fields.String(required=True, validate=validate.OneOf(("activist", "volunteer")))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))

    @validates("handle")
    def _handle(self, value):
        if not HANDLE_RE.match(value):
            raise ValidationError(
                "3-32 letters, digits, '.', '_' or '-', starting with a letter or digit. "
                "Use a pseudonym, not your real name.")


class Credentials(StrictSchema):
    handle = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class ProfileInput(StrictSchema):
    skills = SkillList(required=True)
    languages = LanguageList(required=True)
    countries = CountryList(load_default=list)
    bio = fields.String(load_default="", validate=validate.Length(max=2000))
    availability_hours = fields.Integer(load_default=0, validate=validate.Range(min=0, max=200))
    max_active_matches = fields.Integer(load_default=3, validate=validate.Range(min=1, max=20))
