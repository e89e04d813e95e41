"""What matching accepts over RPC (the gateway declares the same schemas in its OpenAPI document)."""
from marshmallow import fields, validate

from services.common.schemas import StrictSchema


class DeclineInput(StrictSchema):
    # Private to matching: stored with the match, never published, never shown.
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class MatchId(StrictSchema):
    match_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class RequestId(StrictSchema):
    request_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class Invitation(StrictSchema):
    """An author invites a volunteer they found in the directory."""
    volunteer_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
