"""Matching end to end over HTTP: propose, decline, re-propose, accept, confirm, expire, re-match, edit.

Every test here uses its own skills and languages, so the volunteers of one story never fit the
requests of another. The matching service runs with k = 2 (fewer sign-ups for the same story);
the expiry story restarts it with a 2-second expiry, and runs last.
"""
import uuid

import pytest

from tests.e2e.api import matches, unique
from tests.support import wait_until


def restart_matching(platform, **env):
    platform.stop_service("matching")
    platform.start_service("matching", MATCH_TOP_K="2", **env)
    wait_until(platform.healthy, timeout=60, interval=0.5, message="matching to be back")


@pytest.fixture(scope="module", autouse=True)
def two_proposals_per_request(platform):
    restart_matching(platform)


def volunteer(person, name, **profile):
    client = person(unique(name), "volunteer")
    body = {"skills": ["legal"], "languages": ["fa"], "countries": [], "availability_hours": 0,
            "max_active_matches": 3} | profile
    response = client.call("PUT", "/api/me/profile", body)
    assert response.status_code == 200, response.text
    client.id = client.call("GET", "/api/me").json()["id"]
    return client


def post_request(activist, **fields):
    body = {"title": "Help needed with a case", "body": "A family needs help; details in private.",
            "skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high",
            "visibility": "public"} | fields
    response = activist.call("POST", "/api/requests", body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def proposal_for(client, request_id):
    found = wait_until(lambda: matches(client, request_id, "proposed"), message=f"a proposal for {request_id}")
    return found[0]


def status_of(client, request_id, match_id):
    return next((m["status"] for m in matches(client, request_id) if m["id"] == match_id), None)


def test_decline_proposes_the_next_and_the_authors_confirmation_takes_the_request(platform, person):
    # Ranked by fit: knows Iran and offers 20 hours > knows Iran > neither. k = 2.
    first = volunteer(person, "arash-law", countries=["IR"], availability_hours=20)
    second = volunteer(person, "mina-law", countries=["IR"], availability_hours=5)
    third = volunteer(person, "kian-law")
    family = person(unique("omid-family"), "activist")
    request_id = post_request(family)

    a = proposal_for(first, request_id)
    b = proposal_for(second, request_id)
    assert any("Knows IR" in reason for reason in a["reasons"]) and a["score"] > b["score"]
    assert matches(third, request_id) == []

    # Only the proposed volunteer answers.
    assert third.call("POST", f"/api/matches/{a['id']}/accept").status_code == 404
    assert family.call("POST", f"/api/matches/{a['id']}/accept").status_code == 403
    bad = first.call("POST", f"/api/matches/{a['id']}/decline", {"reason": "x" * 600, "why": "?"})
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"reason", "why"}

    # Decline (with a private reason): the next candidate is proposed.
    reason = f"conflict of interest {uuid.uuid4().hex}"
    response = first.call("POST", f"/api/matches/{a['id']}/decline", {"reason": reason})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "declined"
    c = proposal_for(third, request_id)
    assert first.call("POST", f"/api/matches/{a['id']}/accept").status_code == 409

    # A yes waits for the author; the author confirms it: the request is taken, the other open
    # proposal is withdrawn, nobody else can take it.
    response = second.call("POST", f"/api/matches/{b['id']}/accept")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"
    assert status_of(third, request_id, c["id"]) == "proposed"
    response = family.call("POST", f"/api/matches/{b['id']}/confirm")
    assert response.status_code == 200 and response.json()["status"] == "confirmed", response.text
    assert status_of(third, request_id, c["id"]) == "withdrawn"
    assert third.call("POST", f"/api/matches/{c['id']}/accept").status_code == 409

    # The author sees who said yes, never who declined or was asked and withdrawn, nor a reason.
    seen = family.call("GET", "/api/matches").json()["items"]
    assert [(m["status"], m["volunteer_id"]) for m in seen if m["request_id"] == request_id] == [
        ("confirmed", second.id)]
    assert first.id not in str(seen) and third.id not in str(seen) and reason not in str(seen)
    assert family.call("GET", f"/api/matches/{a['id']}").status_code == 404
    assert reason not in platform.logs()


def test_a_confirmed_request_becomes_matched(platform, person):
    helper = volunteer(person, "dara-press", skills=["press"], languages=["ku"])
    family = person(unique("rojin-family"), "activist")
    request_id = post_request(family, skills=["press"], languages=["ku"])
    proposal = proposal_for(helper, request_id)
    assert helper.call("POST", f"/api/matches/{proposal['id']}/accept").status_code == 200
    assert family.call("GET", f"/api/requests/{request_id}").json()["status"] == "open"  # a yes is not a match
    assert family.call("POST", f"/api/matches/{proposal['id']}/confirm").status_code == 200
    wait_until(lambda: family.call("GET", f"/api/requests/{request_id}").json()["status"] == "matched",
               message="the request to become matched")


def test_a_volunteer_who_joins_later_is_proposed_for_open_requests(platform, person):
    family = person(unique("sasha-family"), "activist")
    request_id = post_request(family, skills=["medical"], languages=["be"], country="BY")
    assert wait_until(lambda: matches(family, request_id) == [], message="no match yet") is True
    doctor = volunteer(person, "ales-med", skills=["medical"], languages=["be", "ru"], countries=["BY"])
    proposal = proposal_for(doctor, request_id)
    assert "Knows BY" in proposal["reasons"]


def test_an_edit_recomputes_and_hiding_or_closing_withdraws(platform, person):
    arabic = volunteer(person, "layla-tech", skills=["digital-security"], languages=["ar"])
    persian = volunteer(person, "bahar-tech", skills=["digital-security"], languages=["fa"])
    family = person(unique("sami-family"), "activist")
    request_id = post_request(family, skills=["digital-security"], languages=["ar"], country="SY")
    first = proposal_for(arabic, request_id)
    assert matches(persian, request_id) == []

    response = family.call("PATCH", f"/api/requests/{request_id}", {"languages": ["fa"]})
    assert response.status_code == 200, response.text
    proposal_for(persian, request_id)
    wait_until(lambda: status_of(arabic, request_id, first["id"]) == "withdrawn", message="the withdrawal")

    response = family.call("POST", f"/api/requests/{request_id}/close", {"outcome": "withdrawn"})
    assert response.status_code == 200, response.text
    wait_until(lambda: matches(persian, request_id, "withdrawn"), message="withdrawn on close")


def test_unanswered_proposals_expire_and_the_next_is_asked(platform, person):
    restart_matching(platform, MATCH_EXPIRY_S="2")
    try:
        translators = [volunteer(person, f"tr-{n}", skills=["translation"], languages=["zh", "en"],
                                 availability_hours=hours) for n, hours in enumerate((20, 10, 0))]
        family = person(unique("wei-family"), "activist")
        request_id = post_request(family, skills=["translation"], languages=["zh", "en"], country="CN")
        proposal_for(translators[0], request_id)
        # The first two expire unanswered; the third is proposed in their place.
        wait_until(lambda: matches(translators[0], request_id, "expired"), timeout=30, message="an expiry")
        wait_until(lambda: matches(translators[2], request_id), timeout=30, message="the next proposal")
    finally:
        restart_matching(platform)
