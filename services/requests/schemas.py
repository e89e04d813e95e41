"""What the requests service accepts over RPC."""
from marshmallow import fields, validate

from services.common.schemas import (URGENCIES, VISIBILITIES, Country, LanguageList, SkillList,
                                     StrictSchema)


class NewRequest(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(min=5, max=200))
    body = fields.String(required=True, validate=validate.Length(min=10, max=5000))
    skills = SkillList(required=True, min_items=1)
    languages = LanguageList(required=True, min_items=1)
    country = Country(required=True)
    urgency = fields.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    visibility = fields.String(load_default="public", validate=validate.OneOf(VISIBILITIES))
