"""A supporter's links: tokens campaigns can make again for every email and nobody else can make."""
from datetime import datetime, timezone

from services.campaigns import supporters

KEY = b"k" * 32


def test_a_token_stands_for_its_signature_and_nothing_else():
    signature_id = supporters.signature_id(KEY, "c1", "sara@example.org")
    token = supporters.token(KEY, signature_id)
    assert supporters.signature_of(KEY, token) == signature_id
    assert supporters.token(KEY, signature_id) == token  # made again for the next email, never stored
    other = supporters.signature_id(KEY, "c1", "nima@example.org")
    forged = f"{other}.{token.split('.')[1]}"  # another signature's id with this MAC
    assert supporters.signature_of(KEY, forged) is None
    assert supporters.signature_of(b"x" * 32, token) is None  # another key
    for junk in (None, "", "abc", token + "0", token.upper(), f"{signature_id}."):
        assert supporters.signature_of(KEY, junk) is None


def _campaign(**changes):
    return dict({"_id": "c1", "version": 3, "mode": "public", "prisoner_status": "detained",
                 "updated_at": datetime(2026, 1, 1, tzinfo=timezone.utc)}, **changes)


def test_news_is_a_status_change_or_a_public_moment_of_a_campaign_that_is_not_paused():
    before = _campaign()
    [news] = supporters.news_of_change(before, _campaign(prisoner_status="sentenced", version=4), "campaigns")
    assert news["event_type"] == "campaign_news" and news["data"]["campaign_id"] == "c1"
    assert supporters.news_of_change(before, _campaign(prisoner_status="sentenced", mode="quiet", version=4), "campaigns")
    # prisoner_status changes only once an owner confirmed it (consent.status_changes): then it is news.
    assert supporters.news_of_change(before, _campaign(prisoner_status="sentenced", consent_review_due=True), "campaigns")
    assert supporters.news_of_change(before, _campaign(prisoner_status="sentenced", mode="paused"), "campaigns") == []
    assert supporters.news_of_change(before, _campaign(title="New title", version=4), "campaigns") == []
    assert supporters.news_of_moment(_campaign(), "public", "campaigns")
    assert supporters.news_of_moment(_campaign(), "verified", "campaigns") == []
    assert supporters.news_of_moment(_campaign(consent_review_due=True), "public", "campaigns") == []
    assert supporters.news_of_moment(_campaign(mode="paused"), "public", "campaigns") == []
    first, second = supporters.news(_campaign(version=4), "campaigns"), supporters.news(_campaign(version=5), "campaigns")
    assert first["data"]["news_id"] != second["data"]["news_id"]
    assert supporters.news(_campaign(version=4), "campaigns")["data"]["news_id"] == first["data"]["news_id"]
