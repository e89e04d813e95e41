import uuid

import pytest
from marshmallow import ValidationError

from services.common.bus.events import CONTRACT, make_event, parse_event

PRIVATE_FIELD_WORDS = ("email", "phone", "password", "real_name", "name", "ip", "text", "message_body")


def request_data(**overrides):
    from datetime import datetime, timezone
    data = {
        "request_id": "r1", "author_id": "a1", "title": "Lawyer needed for asylum claim",
        "body": "A family needs advice on an asylum claim.", "skills": ["legal"], "languages": ["fa"],
        "country": "IR", "urgency": "high", "visibility": "public", "status": "open", "hidden": False,
        "created_at": datetime(2026, 11, 1, tzinfo=timezone.utc), "version": 1,
    }
    data.update(overrides)
    return data


def test_no_event_schema_has_a_private_field():
    for (source, event_type), schema in CONTRACT.items():
        for field in schema().fields:
            assert field not in PRIVATE_FIELD_WORDS, f"{source}.{event_type} carries {field}"
            assert "email" not in field and "phone" not in field, f"{source}.{event_type} carries {field}"


def test_make_event_builds_the_envelope_and_parse_reads_it_back():
    event = make_event("requests", "request_created", request_data())
    assert set(event) == {"event_id", "event_type", "occurred_at", "schema_version", "data"}
    uuid.UUID(event["event_id"])
    assert event["occurred_at"].endswith("Z")
    parsed = parse_event("requests", "request_created", event)
    assert parsed.event_id == event["event_id"]
    assert parsed.data["skills"] == ["legal"]


def test_a_private_field_cannot_be_put_on_the_bus():
    with pytest.raises(ValueError, match="email"):
        make_event("requests", "request_created", request_data(email="someone@example.org"))


def test_parse_rejects_bad_envelopes_naming_the_field():
    event = make_event("requests", "request_created", request_data())
    with pytest.raises(ValidationError) as caught:
        parse_event("requests", "request_created", dict(event, event_id="not-a-uuid"))
    assert "event_id" in caught.value.messages
    with pytest.raises(ValidationError) as caught:
        parse_event("requests", "request_created", dict(event, data=dict(event["data"], skills=["juggling"])))
    assert "skills" in caught.value.messages
    with pytest.raises(ValidationError):
        parse_event("requests", "request_updated", event)  # wrong type for this handler


def test_no_request_event_names_the_campaign_that_caused_it():
    """A quiet campaign is found by nobody without its link: the request events every consumer
    (and, for public needs, every webhook) hears carry no campaign_id."""
    from services.common.bus.events import RequestData
    assert "campaign_id" not in RequestData().fields
