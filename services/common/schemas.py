"""Base schema and field types shared by every boundary (HTTP, RPC, events)."""
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from services.common.errors import Forbidden, ValidationFailed
from services.common.taxonomy import COUNTRIES, LANGUAGES, SKILLS
from services.common.trust.keyring import keyring


NUL = "\x00"


class StrictSchema(Schema):
    """Unknown fields are an error naming the field, never silently dropped or stored. No text may
    hold a NUL character: none has a use for it, and PostgreSQL (FerretDB's store) cannot keep one."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _no_nul(self, data, **kwargs):
        if isinstance(data, dict):
            found = {name: "Must not contain a NUL character." for name, value in data.items()
                     if _holds_nul(value)}
            if found:
                raise ValidationError(found)
        return data


def _holds_nul(value):
    """Whether a string anywhere in `value` (lists and objects, any depth) holds a NUL."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def load_or_fail(schema, data, **kwargs):
    """Load `data` with `schema`, turning marshmallow's error into the one public error type."""
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", {"_schema": "Expected an object."})
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        raise ValidationFailed.from_marshmallow(exc) from None


def unique(values):
    if len(set(values)) != len(values):
        raise ValidationError("Must not repeat a value.")


Skill = lambda **kw: fields.String(validate=validate.OneOf(sorted(SKILLS)), **kw)  # noqa: E731
Language = lambda **kw: fields.String(  # noqa: E731
    validate=validate.OneOf(sorted(LANGUAGES), error="Must be an ISO 639-1 code such as 'fa' or 'en'."), **kw)
Country = lambda **kw: fields.String(  # noqa: E731
    validate=validate.OneOf(sorted(COUNTRIES), error="Must be an ISO 3166-1 alpha-2 code such as 'IR'."), **kw)


# Lists of codes say in the API document that they repeat nothing (as unique checks).
UNIQUE = {"metadata": {"uniqueItems": True}}


def SkillList(min_items=0, **kwargs):
    return fields.List(Skill(), validate=[validate.Length(min=min_items, max=len(SKILLS)), unique], **UNIQUE,
                       **kwargs)


def LanguageList(min_items=0, **kwargs):
    return fields.List(Language(), validate=[validate.Length(min=min_items, max=20), unique], **UNIQUE, **kwargs)


def CountryList(**kwargs):
    return fields.List(Country(), validate=[validate.Length(max=50), unique], **UNIQUE, **kwargs)


def PhoneNumber(**kwargs):
    """A phone number in E.164 (`+989121234567`): how the SMS provider gives and takes them."""
    return fields.String(validate=validate.Regexp(r"^\+[1-9][0-9]{6,14}$", error="An E.164 number."), **kwargs)


ROLES = ("activist", "volunteer", "moderator", "analyst")
PROFILE_STATUSES = ("active", "suspended", "deactivated")
URGENCIES = ("low", "normal", "high", "critical")
VISIBILITIES = ("public", "volunteers", "private")
REQUEST_STATUSES = ("open", "matched", "fulfilled", "closed", "withdrawn")
MATCH_STATUSES = ("proposed", "accepted", "confirmed", "rejected", "declined", "expired", "withdrawn", "ended")


class Viewer(StrictSchema):
    """Who is asking, as the gateway resolved it from the bearer token (None when anonymous)."""

    account_id = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    handle = fields.String(required=True)
    # Vetted by a moderator: only such volunteers read `volunteers` requests (DESIGN, "Trust").
    verified = fields.Boolean(load_default=False)


def trusted_viewer(signed):
    """The viewer an RPC acts for, once the gateway's signature on it is checked: an unsigned,
    forged or expired viewer is refused (403). Returns the claims {account_id, role, handle,
    verified}."""
    return load_or_fail(Viewer(), keyring().verify_viewer(signed))


def require_role(viewer, role, message):
    """The validated viewer if they hold `role`; Forbidden (with `message`) for anyone else."""
    if viewer is None:
        raise Forbidden(message)
    return holds_role(trusted_viewer(viewer), role, message)


def holds_role(claims, role, message):
    """Claims already checked (a workflow's viewer) if they hold `role`; Forbidden otherwise."""
    if claims is None or claims["role"] != role:
        raise Forbidden(message)
    return claims


class Paging(StrictSchema):
    """A page of a list that grows with use, newest first (notifications, one's requests, matches)."""
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    # The id of the last item of the previous page.
    before = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
