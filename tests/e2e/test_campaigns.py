"""Campaigns for prisoners of conscience, through the gateway on the real servers (DESIGN,
"Campaigns"): consent field by field, support without identity, pausing."""
import time
import uuid

import pytest

from tests.e2e.platform import Client
from tests.support import wait_until

# Counts published at most every second (not every ten minutes), signatures not limited per address.
PLATFORM_OVERRIDES = {"CAMPAIGN_COUNTS_EVERY_S": 1, "CAMPAIGN_SIGN_LIMIT": 1000}


def unique(handle):
    return f"{handle}-{uuid.uuid4().hex[:6]}"


def new_campaign(family, **fields):
    body = {"title": "Free the two doctors", "language": "fa", "prisoner_country": "IR",
            "story": "Two doctors held since spring for treating wounded protesters. Write to them.",
            "detained_on": "2026-03-01",
            "prisoner": {"name": "Dr. Example Person", "prison": "Evin, ward 209",
                         "family_names": "Their brother", "charges": "Article 286"},
            "consent": {"name": "public", "prison": "verified", "family_names": "owners"}} | fields
    response = family.call("POST", "/api/campaigns", body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def family(person):
    return person(unique("family"), "activist")


@pytest.fixture
def anyone(platform):
    return Client(platform)


def test_each_detail_about_the_prisoner_reaches_only_whom_the_family_allowed(platform, person, appoint, family,
                                                                             anyone):
    campaign = new_campaign(family)
    assert campaign["prisoner"] == {"name": "Dr. Example Person", "prison": "Evin, ward 209",
                                    "family_names": "Their brother", "charges": "Article 286"}
    assert campaign["consent"] == {"name": "public", "prison": "verified", "family_names": "owners",
                                   "charges": "owners"}  # not chosen: owners only
    campaign_id = campaign["id"]
    assert anyone.call("GET", f"/api/campaigns/{campaign_id}").json()["prisoner"] == {"name": "Dr. Example Person"}
    moderator = appoint(person(unique("mod"), "activist"), "moderator").sign_in_again()
    vetted = person(unique("lawyer"), "volunteer")
    assert moderator.call("POST", f"/api/moderation/accounts/{vetted.account['id']}/verify").status_code == 200
    vetted.sign_in_again()
    seen = vetted.call("GET", f"/api/campaigns/{campaign_id}").json()
    assert seen["prisoner"] == {"name": "Dr. Example Person", "prison": "Evin, ward 209"}
    assert "consent" not in seen and seen["is_owner"] is False
    stranger = person(unique("stranger"), "volunteer")
    assert stranger.call("GET", f"/api/campaigns/{campaign_id}").json()["prisoner"] == {"name": "Dr. Example Person"}
    assert stranger.call("PATCH", f"/api/campaigns/{campaign_id}", {"title": "Taken over"}).status_code == 403
    # The prisoner's status changes: consent is asked again, and until then every detail is the owners'.
    changed = family.call("PATCH", f"/api/campaigns/{campaign_id}", {"prisoner_status": "sentenced"})
    assert changed.status_code == 200 and changed.json()["consent_review_due"] is True, changed.text
    assert anyone.call("GET", f"/api/campaigns/{campaign_id}").json()["prisoner"] == {}
    assert family.call("PATCH", f"/api/campaigns/{campaign_id}", {"consent_confirmed": True}).status_code == 200
    assert anyone.call("GET", f"/api/campaigns/{campaign_id}").json()["prisoner"] == {"name": "Dr. Example Person"}


def test_text_that_may_identify_someone_is_published_only_when_confirmed(family):
    story = "Call his wife on +98 912 345 6789 to help; she is waiting for news every day."
    refused = family.call("POST", "/api/campaigns", {"title": "Free him", "story": story, "language": "fa",
                                                     "prisoner_country": "IR"})
    assert refused.status_code == 422, refused.text
    assert "story" in refused.json()["error"]["fields"]
    assert new_campaign(family, story=story, confirm_public=True)["story"] == story
    bad = family.call("POST", "/api/campaigns", {"title": "x", "story": "short", "prisoner_country": "XX",
                                                 "consent": {"name": "everyone"}})
    assert bad.status_code == 400
    assert {"title", "story", "prisoner_country", "language", "consent.name"} <= set(bad.json()["error"]["fields"])


def test_support_is_counted_without_identity_and_never_shown_for_the_prisoners_country(family, anyone):
    campaign_id = new_campaign(family)["id"]
    for _ in range(29):
        assert anyone.call("POST", f"/api/campaigns/{campaign_id}/signatures", {"country": "DE"}).status_code == 202
    # One email signs once, and the answer never tells whether it had signed before.
    answers = [anyone.call("POST", f"/api/campaigns/{campaign_id}/signatures",
                           {"country": "DE", "email": "Supporter@Example.org"}) for _ in range(3)]
    assert [(a.status_code, a.json()) for a in answers] == [(202, {"received": True})] * 3
    for _ in range(27):  # inside the country that holds the prisoner
        anyone.call("POST", f"/api/campaigns/{campaign_id}/signatures", {"country": "IR"})
    for _ in range(7):  # below the threshold
        anyone.call("POST", f"/api/campaigns/{campaign_id}/signatures", {"country": "FR"})

    expected = {"total": 60, "by_country": {"DE": 30}}  # 64 signed: rounded down; IR and FR never
    seen = []

    def published():
        seen.append(anyone.call("GET", f"/api/campaigns/{campaign_id}").json()["support"])
        return seen[-1] == expected

    # (A batch may be published while the signatures still arrive: the next one has them all.)
    wait_until(published, timeout=30, interval=0.5, message="the counts to be published")
    support = seen[-1]
    assert not any({"IR", "FR"} & set(each["by_country"]) for each in seen)
    assert all(each["total"] % 5 == 0 for each in seen)
    bad = anyone.call("POST", f"/api/campaigns/{campaign_id}/signatures", {"country": "Narnia", "email": "no"})
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"country", "email"}
    listed = anyone.call("GET", "/api/campaigns", limit=200).json()["items"]
    assert [c["support"] for c in listed if c["id"] == campaign_id] == [support]


def test_a_paused_campaign_is_gone_for_everyone_but_its_owners_at_once(family, anyone):
    campaign_id = new_campaign(family)["id"]
    assert anyone.call("GET", f"/api/campaigns/{campaign_id}").status_code == 200
    paused = family.call("PATCH", f"/api/campaigns/{campaign_id}", {"mode": "paused"})
    assert paused.status_code == 200 and paused.json()["mode"] == "paused"
    started = time.monotonic()
    assert anyone.call("GET", f"/api/campaigns/{campaign_id}").status_code == 404
    assert time.monotonic() - started < 1
    assert anyone.call("POST", f"/api/campaigns/{campaign_id}/signatures", {"country": "DE"}).status_code == 404
    assert campaign_id not in {c["id"] for c in anyone.call("GET", "/api/campaigns", limit=200).json()["items"]}
    assert family.call("GET", f"/api/campaigns/{campaign_id}").json()["mode"] == "paused"  # nothing deleted
    assert campaign_id in {c["id"] for c in family.call("GET", "/api/me/campaigns").json()["items"]}
    # A quiet campaign is reached by its link, never listed.
    family.call("PATCH", f"/api/campaigns/{campaign_id}", {"mode": "quiet"})
    assert anyone.call("GET", f"/api/campaigns/{campaign_id}").status_code == 200
    assert campaign_id not in {c["id"] for c in anyone.call("GET", "/api/campaigns", limit=200).json()["items"]}
    assert anyone.call("GET", "/api/campaigns/0123456789abcdef0123456789abcdef").status_code == 404


def test_only_activists_start_campaigns(person):
    volunteer = person(unique("volunteer"), "volunteer")
    assert volunteer.call("POST", "/api/campaigns", {"title": "A campaign", "story": "x" * 30, "language": "fa",
                                                     "prisoner_country": "IR"}).status_code == 403
