from marshmallow import ValidationError
from nameko.exceptions import deserialize, serialize

from services.common.errors import NotFound, ValidationFailed


def test_validation_errors_flatten_to_one_message_per_field():
    exc = ValidationFailed.from_marshmallow(ValidationError(
        {"title": ["Too short."], "profile": {"skills": {0: ["Not a skill."]}}}))
    assert exc.fields == {"title": "Too short.", "profile.skills.0": "Not a skill."}
    assert exc.to_dict()["error"]["code"] == "validation_failed"


def test_domain_errors_survive_the_rpc_round_trip():
    # nameko serialises exceptions for RPC; ours come back as the same class with their fields.
    original = ValidationFailed("Some fields are not valid.", {"title": "Too short."})
    back = deserialize(serialize(original))
    assert type(back) is ValidationFailed
    assert back.fields == {"title": "Too short."}
    assert back.status == 400
    assert type(deserialize(serialize(NotFound("No such request.")))) is NotFound
