"""The requests' use cases in milliseconds, over the in-memory stores (memory.py and
flags.InMemoryFlagStore, held to the real stores' contracts): the rules that end-to-end tests used
to be the only check of, beside those tests, which keep the wiring."""
from datetime import datetime, timezone

import pytest

from services.common.errors import Conflict, ConfirmationRequired, Forbidden, NotFound, TooManyRequests
from services.common.flags import InMemoryFlagStore
from services.common.ids import match_id_of
from services.requests.memory import InMemoryRequestStore
from services.requests.workflow import RequestWorkflow
from tests.support import author_decision

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)
FAMILY = {"account_id": "family", "role": "activist", "handle": "f", "verified": False}
VETTED = {"account_id": "vetted", "role": "volunteer", "handle": "v", "verified": True}
STRANGER = {"account_id": "stranger", "role": "volunteer", "handle": "s", "verified": False}
MODERATOR = {"account_id": "mod", "role": "moderator", "handle": "m", "verified": False}
NEED = {"title": "A lawyer for an appeal", "body": "The hearing is next month; the lawyer never came.",
        "skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high", "visibility": "public"}


@pytest.fixture
def work():
    published = []
    workflow = RequestWorkflow(InMemoryRequestStore(lambda: NOW), InMemoryFlagStore(lambda: NOW),
                               lambda event_type, payload: published.append(payload), lambda: NOW, max_open=3,
                               flag_limit=5)
    workflow.published = published
    return workflow


def posted(work, **fields):
    return work.create_request(FAMILY, dict(NEED, **fields))["id"]


def test_an_author_has_a_bounded_number_of_open_needs_and_a_retry_posts_nothing_twice(work):
    key = "a" * 64
    first = work.create_request(FAMILY, NEED, key)
    assert work.create_request(FAMILY, NEED, key)["id"] == first["id"]  # the same post, retried
    with pytest.raises(Conflict):
        work.create_request(FAMILY, dict(NEED, title="Another need entirely"), key)
    posted(work)
    posted(work)
    with pytest.raises(TooManyRequests):
        posted(work)
    with pytest.raises(TooManyRequests):
        work.check_room(FAMILY)  # a campaign's ask counts the same
    assert work.create_request(FAMILY, NEED, key)["id"] == first["id"]  # a retry is not a new need
    with pytest.raises(Forbidden):
        work.create_request(VETTED, NEED)


def test_text_that_may_identify_someone_is_public_only_once_confirmed(work):
    risky = dict(NEED, body="My brother Reza Tehrani is held in Evin; call me on +98 912 345 6789.")
    with pytest.raises(ConfirmationRequired):
        posted(work, **risky)
    assert posted(work, **dict(risky, visibility="private"))  # nobody else reads a private text
    request_id = posted(work, **dict(risky, confirm_public=True))
    assert work.get_request(None, request_id)["body"] == risky["body"]


def test_a_moderators_own_flag_opens_nothing_and_every_reading_is_shown(work):
    request_id = posted(work, visibility="private")
    work.flag_request(MODERATOR, request_id, {"reason": "I want to read it"})
    assert work.get_request(MODERATOR, request_id)["body"] is None
    work.flag_request(FAMILY, request_id, {"reason": "I wrote more than I should have"})
    assert work.get_request(MODERATOR, request_id)["body"] == NEED["body"]
    other = dict(MODERATOR, account_id="mod-2")
    assert [r["moderator_id"] for r in work.get_request(other, request_id)["moderator_readings"]] == ["mod"]
    work.on_profile_deleted({"profile_id": "mod", "version": 2})  # the reader leaves; the record stays
    assert [r["moderator_id"] for r in work.get_request(other, request_id)["moderator_readings"]][:1] == ["mod"]


def campaign_need(work, campaign_id="c1", request_id="ask-1"):
    work.on_campaign_ask_posted({"request_id": request_id, "campaign_id": campaign_id, "author_id": "family",
                                 "title": "Cover the trial of a prisoner", "body": "Journalists, please report.",
                                 "skills": ["press"], "languages": ["en"], "country": "IR", "urgency": "high"})
    return request_id


def test_a_campaigns_needs_are_for_verified_volunteers_and_never_name_the_campaign_to_them(work):
    request_id = campaign_need(work)
    with pytest.raises(NotFound):
        work.get_request(None, request_id)
    with pytest.raises(NotFound):
        work.get_request(STRANGER, request_id)
    seen = work.get_request(VETTED, request_id)
    assert seen["visibility"] == "volunteers" and seen["verified_only"] and "campaign_id" not in seen
    assert work.get_request(FAMILY, request_id)["campaign_id"] == "c1"
    assert all("campaign_id" not in e["data"] for e in work.published)


def test_a_pause_holds_a_campaigns_needs_and_a_resume_releases_them(work):
    request_id = campaign_need(work)
    work.on_campaign_changed({"campaign_id": "c1", "mode": "paused", "version": 2})
    with pytest.raises(NotFound):
        work.get_request(VETTED, request_id)
    held = work.published[-1]["data"]
    assert held["hidden"] is True and held["held"] is True  # out of search, proposals and webhooks
    work.on_campaign_changed({"campaign_id": "c1", "mode": "public", "version": 1})  # late and older: nothing
    with pytest.raises(NotFound):
        work.get_request(VETTED, request_id)
    later = campaign_need(work, request_id="ask-2")  # posted while paused: held from the start
    with pytest.raises(NotFound):
        work.get_request(VETTED, later)
    work.on_campaign_changed({"campaign_id": "c1", "mode": "quiet", "version": 3})
    assert work.get_request(VETTED, request_id)["status"] == "open" and work.get_request(VETTED, later)


def test_an_old_confirmation_replayed_after_the_end_of_access_gives_nothing_back(work):
    request_id = posted(work, visibility="private")
    match_id = match_id_of(request_id, "vetted")
    confirmed = {"match_id": match_id, "request_id": request_id, "volunteer_id": "vetted", "author_id": "family",
                 "status": "confirmed", "version": 3, "author_decision": author_decision(match_id, "family")}
    work.on_match_confirmed(confirmed)
    assert work.get_request(VETTED, request_id)["body"] == NEED["body"]
    work.on_match_ended(dict(confirmed, status="ended", version=4, author_decision=None))
    with pytest.raises(NotFound):
        work.get_request(VETTED, request_id)
    work.on_match_confirmed(dict(confirmed, version=40))  # the same signed decision, a newer claim
    with pytest.raises(NotFound):
        work.get_request(VETTED, request_id)
    work.on_match_confirmed(dict(confirmed, author_decision=author_decision(match_id, "family", version=5)))
    assert work.get_request(VETTED, request_id)["body"] == NEED["body"]  # a new yes, after the end
