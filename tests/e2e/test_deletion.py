"""A person who deletes their account is forgotten by every service.

Story: a volunteer and an activist worked together; the activist, fearing for their safety,
deletes their account. Nothing they wrote or were known by is left in any database or index.
"""

import uuid

from tests.e2e.traces import stored_text, where
from tests.support import marker, wait_until


def test_deleting_an_account_leaves_nothing_of_theirs_anywhere(platform, person):
    # Letters only: a run of digits in a public title would (rightly) look like a phone number.
    mark = marker(10)
    handle, bio, email = f"gone{mark}", f"biotext{mark}", f"mail{mark}@example.org"
    title, message = f"needtitle{mark}", f"msgtext{mark}"

    leaving = person(handle, "volunteer", email=email)
    assert leaving.call("PUT", "/api/me/profile", {"skills": ["press"], "languages": ["fa"], "countries": ["IR"],
                                                   "bio": f"Journalist {bio}"}).status_code == 200
    family = person(f"family{mark}", "activist", email=f"family{mark}@example.org")
    family_need = {"title": f"Coverage for a prisoner {title}", "body": "A journalist to cover the case.",
                   "skills": ["press"], "languages": ["fa"], "country": "IR"}
    request_id = family.call("POST", "/api/requests", family_need).json()["id"]
    # Someone else reports the request: what they wrote about it is about the family too.
    bystander = person(f"bystander{mark}", "volunteer")
    assert bystander.call("POST", f"/api/requests/{request_id}/flags",
                          {"reason": f"flagreason{mark} looks odd"}).status_code == 201
    match = wait_until(lambda: leaving.call("GET", "/api/matches").json()["items"], message="a proposal")[0]
    assert leaving.call("POST", f"/api/matches/{match['id']}/accept").status_code == 200
    assert family.call("POST", f"/api/matches/{match['id']}/confirm").status_code == 200
    wait_until(lambda: leaving.call("POST", f"/api/matches/{match['id']}/messages",
                                    {"text": f"I can help {message}"}).status_code == 201, message="a message")
    wait_until(lambda: family.call("GET", "/api/search/volunteers", q=bio).json().get("total"),
               message="the volunteer to be searchable")

    # The family deletes their account too (their request must go), then the volunteer.
    assert family.call("DELETE", "/api/me", {"password": "wrong"}).status_code == 401  # confirmed by password
    assert family.call("DELETE", "/api/me", {"password": family.password}).status_code == 204
    assert leaving.call("DELETE", "/api/me", {"password": leaving.password}).status_code == 204
    assert leaving.call("GET", "/api/me").status_code == 401
    assert leaving.call("POST", "/api/sessions", {"handle": handle, "password": leaving.password}).status_code == 401
    # A state that takes the handle over the day it is deleted could pose as them: it stays taken a
    # year (held by a keyed hash: the handle itself is among the canaries below).
    impostor = type(family)(platform).call("POST", "/api/accounts", {"handle": handle.upper(), "password": f"Pw-{uuid.uuid4().hex}",
                                                                     "role": "volunteer"})
    assert impostor.status_code == 409 and "handle" in impostor.json()["error"]["fields"], impostor.text

    canaries = (handle, bio, email, f"family{mark}", title, message, f"flagreason{mark}")

    def forgotten():
        places = stored_text(platform.config)
        return all(not where(c, places) for c in canaries) or None

    try:
        wait_until(forgotten, timeout=30, message="every service to forget them")
    except AssertionError:
        places = stored_text(platform.config)
        raise AssertionError({c: where(c, places) for c in canaries if where(c, places)}) from None
    anonymous = type(family)(platform)
    assert anonymous.call("GET", f"/api/requests/{request_id}").status_code == 404
    assert anonymous.call("GET", "/api/search/volunteers", q=bio).json()["total"] == 0

    # Who worked with whom is forgotten too (found in review): no match, conversation or message
    # still names either of them; a tombstone keeps an id only as its own key.
    from services.common.store import mongo
    client = mongo.connect(platform.config)
    try:
        prefix = platform.config["DB_PREFIX"]
        ids = (family.account["id"], leaving.account["id"])
        for person_id in ids:
            for db_name, collection, field in (("matching", "matches", "author_id"),
                                               ("matching", "matches", "volunteer_id"),
                                               ("matching", "requests", "author_id"),
                                               ("notify", "channels", "author_id"),
                                               ("notify", "channels", "volunteer_id"),
                                               ("notify", "messages", "sender_id"),
                                               ("notify", "proposals", "author_id"),
                                               ("notify", "proposals", "volunteer_id")):
                found = client[f"{prefix}_{db_name}"][collection].count_documents({field: person_id})
                assert found == 0, (db_name, collection, field)
    finally:
        client.close()
