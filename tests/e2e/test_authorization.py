"""Who may do what: every role against every endpoint.

Each cell says what a role gets from an endpoint: ALLOW (authorised: any status but 401/403 —
the call may still be refused on its merits, e.g. 404 or 409), 401 (must sign in) or 403
(signed in, not allowed). The calls are harmless: they either read, or are refused on their
merits after the authorisation check.
"""
import uuid

import pytest

from tests.e2e.platform import Client
from tests.support import operator_command, wait_until

ALLOW = "allow"
ROLES = ("anonymous", "activist", "volunteer", "moderator", "analyst")

# (method, path template, body): {role: expected}. Templates use ids made by the `world` fixture.
MATRIX = [
    (("GET", "/api/skills", None), dict.fromkeys(ROLES, ALLOW)),
    (("GET", "/healthz", None), dict.fromkeys(ROLES, ALLOW)),
    (("GET", "/api/openapi.json", None), dict.fromkeys(ROLES, ALLOW)),
    (("GET", "/api/me", None), {"anonymous": 401, "activist": ALLOW, "volunteer": ALLOW, "moderator": ALLOW,
                                "analyst": ALLOW}),
    (("PUT", "/api/me/profile", {"skills": "not-a-list"}),
     {"anonymous": 401, "activist": ALLOW, "volunteer": ALLOW, "moderator": ALLOW, "analyst": ALLOW}),
    (("GET", "/api/me/requests", None), {"anonymous": 401, **dict.fromkeys(ROLES[1:], ALLOW)}),
    (("GET", "/api/profiles/{volunteer_id}", None), dict.fromkeys(ROLES, ALLOW)),
    (("GET", "/api/profiles/{activist_id}", None),  # an activist's profile is never public
     {"anonymous": 404, "activist": ALLOW, "volunteer": 404, "moderator": ALLOW, "analyst": 404}),
    (("POST", "/api/profiles/{volunteer_id}/flags", {"reason": ""}),
     {"anonymous": 401, **dict.fromkeys(ROLES[1:], ALLOW)}),
    (("POST", "/api/requests", {"title": ""}),
     {"anonymous": 401, "activist": ALLOW, "volunteer": 403, "moderator": 403, "analyst": 403}),
    (("GET", "/api/requests/{public_id}", None), dict.fromkeys(ROLES, ALLOW)),
    (("GET", "/api/requests/{volunteers_id}", None),  # the volunteer is verified by a moderator
     {"anonymous": 404, "activist": ALLOW, "volunteer": ALLOW, "moderator": ALLOW, "analyst": 404}),
    (("GET", "/api/requests/{private_id}", None),  # its author, moderators, and the confirmed helper
     {"anonymous": 404, "activist": ALLOW, "volunteer": ALLOW, "moderator": ALLOW, "analyst": 404}),
    (("PATCH", "/api/requests/{public_id}", {"urgency": "high"}),
     {"anonymous": 401, "activist": ALLOW, "volunteer": 403, "moderator": 403, "analyst": 403}),
    (("POST", "/api/requests/{public_id}/close", {"outcome": "fulfilled"}),  # 409 for the author
     {"anonymous": 401, "activist": ALLOW, "volunteer": 403, "moderator": 403, "analyst": 403}),
    (("POST", "/api/requests/{public_id}/flags", {"reason": ""}),
     {"anonymous": 401, **dict.fromkeys(ROLES[1:], ALLOW)}),
    (("GET", "/api/search/requests", None), dict.fromkeys(ROLES, ALLOW)),
    (("GET", "/api/search/volunteers", None), dict.fromkeys(ROLES, ALLOW)),
    (("GET", "/api/matches", None), {"anonymous": 401, **dict.fromkeys(ROLES[1:], ALLOW)}),
    (("POST", "/api/matches/{match_id}/accept", None),  # only the proposed volunteer
     {"anonymous": 401, "activist": (403, 404), "volunteer": ALLOW, "moderator": (403, 404),
      "analyst": (403, 404)}),
    (("POST", "/api/matches/{match_id}/decline", {"reason": 5}),
     {"anonymous": 401, "activist": (400, 403, 404), "volunteer": ALLOW, "moderator": (400, 403, 404),
      "analyst": (400, 403, 404)}),
    (("POST", "/api/matches/{match_id}/confirm", None),  # only the request's author
     {"anonymous": 401, "activist": ALLOW, "volunteer": 403, "moderator": 404, "analyst": 404}),
    (("POST", "/api/matches/{match_id}/reject", None),  # (409 for the author: already confirmed)
     {"anonymous": 401, "activist": ALLOW, "volunteer": 403, "moderator": 404, "analyst": 404}),
    (("POST", "/api/requests/{volunteers_id}/offers", None),  # volunteers (verified, for this one)
     {"anonymous": 401, "activist": 403, "volunteer": ALLOW, "moderator": 403, "analyst": 403}),
    (("POST", "/api/requests/{public_id}/invitations", {"volunteer_id": "{volunteer_id}"}),  # its author
     {"anonymous": 401, "activist": ALLOW, "volunteer": 404, "moderator": 404, "analyst": 404}),
    (("GET", "/api/matches/{match_id}/messages", None),  # the two matched people only, once confirmed
     {"anonymous": 401, "activist": ALLOW, "volunteer": ALLOW, "moderator": 404, "analyst": 404}),
    (("GET", "/api/notifications", None), {"anonymous": 401, **dict.fromkeys(ROLES[1:], ALLOW)}),
    (("GET", "/api/me/notification-preferences", None), {"anonymous": 401, **dict.fromkeys(ROLES[1:], ALLOW)}),
    (("GET", "/api/moderation/flags", None),
     {"anonymous": 401, "activist": 403, "volunteer": 403, "moderator": ALLOW, "analyst": 403}),
    (("POST", "/api/moderation/requests/{public_id}/unhide", None),
     {"anonymous": 401, "activist": 403, "volunteer": 403, "moderator": ALLOW, "analyst": 403}),
    (("POST", "/api/moderation/accounts/{volunteer_id}/verify", None),
     {"anonymous": 401, "activist": 403, "volunteer": 403, "moderator": ALLOW, "analyst": 403}),
    (("POST", "/api/moderation/accounts/{volunteer_id}/reinstate", None),
     {"anonymous": 401, "activist": 403, "volunteer": 403, "moderator": ALLOW, "analyst": 403}),
    (("GET", "/api/webhooks", None),
     {"anonymous": 401, "activist": 403, "volunteer": 403, "moderator": ALLOW, "analyst": 403}),
    (("GET", "/api/analytics/requests", None),
     {"anonymous": 401, "activist": 403, "volunteer": 403, "moderator": 403, "analyst": ALLOW}),
    (("DELETE", "/api/me", {"password": "not-their-password"}),  # refused on its merits: 401 wrong password
     {"anonymous": 401, **dict.fromkeys(ROLES[1:], 401)}),
]


@pytest.fixture(scope="module")
def world(platform):
    """One person per role, and a request of each visibility with a match accepted on one."""
    from nameko.standalone.rpc import ClusterRpcProxy

    people = {"anonymous": Client(platform)}
    for role in ROLES[1:]:
        signup_role = role if role in ("activist", "volunteer") else "activist"
        people[role] = Client(platform).sign_up(f"{role}-{uuid.uuid4().hex[:6]}", signup_role)
    with ClusterRpcProxy(platform.config, timeout=20) as rpc:
        for role in ("moderator", "analyst"):
            rpc.profiles.grant_role(operator_command({"handle": people[role].account["handle"], "role": role},
                                                     platform.config))
            people[role].sign_in_again()
    volunteer, activist = people["volunteer"], people["activist"]
    # Vetted by a moderator: only such a volunteer is proposed what is not public.
    assert people["moderator"].call("POST", f"/api/moderation/accounts/{volunteer.account['id']}/verify").ok
    assert volunteer.call("PUT", "/api/me/profile", {"skills": ["translation"], "languages": ["fa", "en"]}).ok
    need = {"title": "Translate an appeal for a prisoner", "body": "An appeal from Persian into English.",
            "skills": ["translation"], "languages": ["fa", "en"], "country": "IR"}
    ids = {f"{v}_id": activist.call("POST", "/api/requests", dict(need, visibility=v)).json()["id"]
           for v in ("public", "volunteers", "private")}
    matches = wait_until(lambda: len(volunteer.call("GET", "/api/matches").json()["items"]) == 3
                         and volunteer.call("GET", "/api/matches").json()["items"], message="three proposals")
    private_match = next(m for m in matches if m["request_id"] == ids["private_id"])
    assert volunteer.call("POST", f"/api/matches/{private_match['id']}/accept").status_code == 200
    assert activist.call("POST", f"/api/matches/{private_match['id']}/confirm").status_code == 200
    wait_until(lambda: volunteer.call("GET", f"/api/requests/{ids['private_id']}").ok,
               message="the confirmed helper to read the private request")
    ids.update(match_id=private_match["id"], volunteer_id=volunteer.account["id"],
               activist_id=activist.account["id"])
    return people, ids


@pytest.mark.parametrize("call,expected", MATRIX, ids=[f"{m} {p}" for (m, p, _), _ in MATRIX])
def test_authorization_matrix(world, call, expected):
    people, ids = world
    method, template, body = call
    outcomes = {}
    for role in ROLES:
        filled = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()} if body else body
        response = people[role].call(method, template.format(**ids), filled)
        outcomes[role] = response.status_code
    failures = {}
    for role, want in expected.items():
        got = outcomes[role]
        ok = (got not in (401, 403)) if want == ALLOW else (got in want if isinstance(want, tuple) else got == want)
        if not ok:
            failures[role] = f"got {got}, want {want}"
    assert not failures, failures
