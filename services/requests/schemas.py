"""What the requests service accepts over RPC."""
from marshmallow import fields, validate

from services.common.schemas import (URGENCIES, VISIBILITIES, Country, LanguageList, SkillList,
                                     StrictSchema)

TITLE = dict(validate=validate.Length(min=5, max=200))
BODY = dict(validate=validate.Length(min=10, max=5000))


class NewRequest(StrictSchema):
    title = fields.String(required=True, **TITLE)
    body = fields.String(required=True, **BODY)
    skills = SkillList(required=True, min_items=1)
    languages = LanguageList(required=True, min_items=1)
    country = Country(required=True)
    urgency = fields.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    visibility = fields.String(load_default="public", validate=validate.OneOf(VISIBILITIES))
    # Only moderator-verified volunteers may be proposed, offer or be invited (always so for
    # `volunteers` and `private` requests; this asks it of a public one too).
    verified_only = fields.Boolean(load_default=False)
    # The author read the warning that the text may identify someone, and publishes anyway.
    confirm_public = fields.Boolean(load_default=False)


class RequestEdit(StrictSchema):
    """PATCH: every field optional, at least one."""
    title = fields.String(**TITLE)
    body = fields.String(**BODY)
    skills = SkillList(min_items=1)
    languages = LanguageList(min_items=1)
    country = Country()
    urgency = fields.String(validate=validate.OneOf(URGENCIES))
    visibility = fields.String(validate=validate.OneOf(VISIBILITIES))
    verified_only = fields.Boolean()
    confirm_public = fields.Boolean(load_default=False)


class CloseRequest(StrictSchema):
    """No body (or no outcome) closes the request as `closed`."""
    outcome = fields.String(load_default="closed", validate=validate.OneOf(("fulfilled", "closed", "withdrawn")))
