"""Accounts, profiles, requests and moderation over HTTP, against the whole platform.

Stories from SCENARIOS.md: a family member posts a need and edits it; a moderator vets a lawyer
and hides a post that names a prisoner's relative; a person leaves and is forgotten.
"""
import time
import uuid

import requests

from tests.e2e.api import unique
from tests.support import wait_until

# Behind one trusted proxy (the Ingress of deploy/k8s), as deployments run it.
PLATFORM_OVERRIDES = {"LOGIN_MAX_FAILURES": 3, "LOGIN_MAX_DELAY_S": 2, "TRUSTED_PROXY_HOPS": 1, "FLAG_LIMIT": 3,
                      "MAX_OPEN_REQUESTS": 3}

NEED = {
    "title": "Journalist needed to cover a prisoner's case",
    "body": "My brother has been held without charge for eight months; we want his case covered.",
    "skills": ["press"], "languages": ["fa", "en"], "country": "IR", "urgency": "high",
}


# ---- accounts and sessions

def test_sign_up_sign_in_profile_and_sign_out(platform, person):
    lawyer = person(unique("nima-law"), "volunteer", email="nima@example.org")
    me = lawyer.call("GET", "/api/me").json()
    assert me["email"] == "nima@example.org" and me["role"] == "volunteer"

    response = lawyer.call("PUT", "/api/me/profile", {
        "skills": ["legal"], "languages": [{"code": "fa", "level": "native"}, "en"], "countries": ["IR", "US"],
        "bio": "Immigration lawyer in New York.", "availability_hours": 8, "max_active_matches": 2})
    assert response.status_code == 200, response.text
    assert response.json()["profile"]["languages"] == [{"code": "fa", "level": "native"},
                                                       {"code": "en", "level": "fluent"}]
    public = lawyer.call("GET", f"/api/profiles/{me['id']}").json()
    assert public["bio"] == "Immigration lawyer in New York." and "email" not in public

    assert lawyer.call("DELETE", "/api/sessions").status_code == 204
    assert lawyer.call("GET", "/api/me").status_code == 401  # the token is revoked


def test_sign_out_everywhere_ends_every_session(platform, person):
    first = person(unique("sara"), "volunteer")
    second_token = first.call("POST", "/api/sessions", {"handle": first.account["handle"],
                                                        "password": "correct horse battery staple"}).json()["token"]
    assert first.call("DELETE", "/api/sessions", everywhere="true").status_code == 204
    first.token = second_token
    assert first.call("GET", "/api/me").status_code == 401


def test_a_session_ended_behind_this_gateways_back_stops_working_within_seconds(platform, person):
    """Each gateway process keeps what a token stands for a few seconds (SESSION_CACHE_S, 5):
    a sign-out through another replica (here: straight to profiles) ends it within that time."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from tests.support import sealed_to

    lawyer = person(unique("omid"), "volunteer")
    assert lawyer.call("GET", "/api/me").status_code == 200  # the gateway now holds its claims
    with ClusterRpcProxy(platform.config, timeout=20) as rpc:
        rpc.profiles.logout(sealed_to("profiles", lawyer.token, platform.config), False)
    ended = time.monotonic()
    wait_until(lambda: lawyer.call("GET", "/api/me").status_code == 401, timeout=10, interval=0.2,
               message="the revoked session to be refused")
    assert time.monotonic() - ended <= 5 + 1


def test_a_password_change_ends_every_other_session_and_the_old_password(platform, person):
    """Someone who fears their password or a session was copied changes it: every copy is out."""
    sara = person(unique("sara"), "activist")
    handle, old = sara.account["handle"], "correct horse battery staple"
    copied = sara.call("POST", "/api/sessions", {"handle": handle, "password": old}).json()["token"]
    wrong = sara.call("PUT", "/api/me/password", {"current_password": "not my password", "new_password": "x" * 12})
    assert wrong.status_code == 401 and wrong.json()["error"]["fields"] == {"current_password": "Wrong password."}
    short = sara.call("PUT", "/api/me/password", {"current_password": old, "new_password": "short"})
    assert short.status_code == 400 and "new_password" in short.json()["error"]["fields"]
    before = sara.token
    changed = sara.call("PUT", "/api/me/password", {"current_password": old, "new_password": "a new horse battery"})
    assert changed.status_code == 200, changed.text
    sara.token = changed.json()["token"]
    assert sara.call("GET", "/api/me").status_code == 200  # the one asking goes on, with a new session
    for token in (before, copied):  # every other session has ended, at once on this gateway
        sara.token = token
        assert sara.call("GET", "/api/me").status_code == 401
    assert sara.call("POST", "/api/sessions", {"handle": handle, "password": old}).status_code == 401
    assert sara.call("POST", "/api/sessions", {"handle": handle,
                                               "password": "a new horse battery"}).status_code == 200


def test_wrong_passwords_to_delete_an_account_are_throttled_like_sign_in(platform, person):
    """A stolen session cannot be used to guess the password that deletes the account (or, with
    it, to sign in elsewhere): deletion's password check counts toward the same throttle."""
    kept = person(unique("kept"), "activist")

    def delete(password):
        return requests.delete(f"{platform.url}/api/me", json={"password": password}, timeout=20,
                               headers={"Authorization": f"Bearer {kept.token}",
                                        "X-Forwarded-For": "203.0.113.8"})

    for _ in range(3):
        assert delete("guess-guess-guess").status_code == 401
    paused = delete("correct horse battery staple")
    assert paused.status_code == 429 and paused.json()["error"]["code"] == "too_many_requests"
    assert kept.call("GET", "/api/me").status_code == 200  # nothing was deleted


def test_a_burst_of_wrong_passwords_leaves_the_platform_answering(platform, person):
    """50 wrong passwords at once, from 50 addresses (past any per-address limit): profiles runs a
    few argon2 hashes at a time (64 MiB each) and refuses the rest at once, and everyone else's
    calls are answered meanwhile."""
    import concurrent.futures

    target, bystander = person(unique("target"), "activist"), person(unique("bystander"), "volunteer")

    def wrong(n):
        return requests.delete(f"{platform.url}/api/me", json={"password": f"guess-{n}"}, timeout=30,
                               headers={"Authorization": f"Bearer {target.token}",
                                        "X-Forwarded-For": f"198.51.100.{n + 1}"}).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        burst = [pool.submit(wrong, n) for n in range(50)]
        during = [bystander.call("GET", "/api/me").status_code for _ in range(5)]
        codes = [future.result() for future in burst]
    assert during == [200] * 5
    assert set(codes) <= {401, 429} and codes.count(429) > 0, codes  # refused at once, never a 5xx
    assert target.call("GET", "/api/me").status_code == 200


def test_handles_are_unique_and_roles_cannot_be_self_granted(platform, person):
    taken = person(unique("omid"), "activist")
    response = taken.call("POST", "/api/accounts", {"handle": taken.account["handle"].upper(),
                                                    "password": "correct horse battery", "role": "activist"})
    assert response.status_code == 409 and response.json()["error"]["fields"] == {"handle": "That handle is taken."}
    response = taken.call("POST", "/api/accounts", {"handle": unique("x"), "password": "correct horse battery",
                                                    "role": "moderator"})
    assert response.status_code == 400 and "role" in response.json()["error"]["fields"]


def test_wrong_passwords_slow_down_their_source_but_never_lock_the_owner_out(platform, person):
    """Volunteer handles are public: whoever guesses at one from somewhere waits longer and longer
    there, and the owner signs in from anywhere else as ever."""
    victim = person(unique("leyla"), "activist")
    handle = victim.account["handle"]

    def sign_in(password, address):
        # The Ingress appends the address it saw; what the client wrote before it is not believed.
        return requests.post(f"{platform.url}/api/sessions", json={"handle": handle, "password": password},
                             headers={"X-Forwarded-For": f"10.9.9.9, {address}"}, timeout=20)

    for _ in range(3):
        assert sign_in("wrong-password", "203.0.113.7").status_code == 401
    paused = sign_in("correct horse battery staple", "203.0.113.7")
    assert paused.status_code == 429 and paused.json()["error"]["code"] == "too_many_requests"
    assert paused.json()["error"]["fields"]["retry_after"] == "1"
    assert sign_in("correct horse battery staple", "198.51.100.9").status_code == 200  # the owner, elsewhere
    time.sleep(1.1)
    assert sign_in("wrong-password", "203.0.113.7").status_code == 401  # the 4th: now 2 s
    assert sign_in("correct horse battery staple", "203.0.113.7").status_code == 429
    time.sleep(2.1)
    assert sign_in("correct horse battery staple", "203.0.113.7").status_code == 200  # a delay, not a lockout


def test_a_flood_of_wrong_passwords_from_many_addresses_locks_nobody_out(platform, person):
    """The attack: a few hundred addresses (here 60, from one IPv6 /64 and many IPv4s) guess
    passwords at once, at handles that exist and that do not, to keep the bounded password work
    full and so everyone's sign-in refused. Sign-ins of accounts without recent failures, from
    addresses without them, keep a share the guessing cannot take."""
    import concurrent.futures

    owners = [person(unique("owner"), "volunteer") for _ in range(3)]
    targets = [person(unique("target"), "volunteer").account["handle"] for _ in range(3)] + [unique("nobody")] * 3
    stop = time.monotonic() + 6

    def guess(n):
        codes = []
        address = f"2001:db8:77:1::{n:x}" if n % 2 else f"198.51.100.{n + 1}"
        while time.monotonic() < stop:
            codes.append(requests.post(f"{platform.url}/api/sessions", timeout=30,
                                       json={"handle": targets[n % len(targets)], "password": f"guess-{n}"},
                                       headers={"X-Forwarded-For": address}).status_code)
        return codes

    def owner_signs_in(n):
        time.sleep(1 + n)  # the flood is under way
        return requests.post(f"{platform.url}/api/sessions", timeout=30,
                             json={"handle": owners[n].account["handle"], "password": owners[n].password},
                             headers={"X-Forwarded-For": f"203.0.113.{50 + n}"}).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
        flood = [pool.submit(guess, n) for n in range(60)]
        signed_in = [pool.submit(owner_signs_in, n) for n in range(3)]
        owners_codes = [future.result() for future in signed_in]
        guesses = [code for future in flood for code in future.result()]
    assert owners_codes == [200, 200, 200], owners_codes
    assert guesses.count(429) > guesses.count(401) > 0, (guesses.count(401), guesses.count(429))
    assert set(guesses) <= {401, 429}


# ---- requests

def test_public_text_that_identifies_someone_needs_confirmation(platform, person):
    family = person(unique("omid-family"), "activist")
    risky = dict(NEED, body="My brother Reza Tehrani is held in Evin; call me on +98 912 345 6789.")
    response = family.call("POST", "/api/requests", risky)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "confirmation_required"
    assert set(error["fields"]) == {"body"} and "phone number" in error["fields"]["body"]
    assert family.call("GET", "/api/me/requests").json()["items"] == []  # nothing was published

    assert family.call("POST", "/api/requests", dict(risky, visibility="private")).status_code == 201
    assert family.call("POST", "/api/requests", dict(risky, confirm_public=True)).status_code == 201


def test_a_retried_post_with_its_idempotency_key_posts_the_need_once(platform, person):
    """A client that timed out sends the same need again: one need, the same id, one proposal
    round; the same key for another need is refused, naming the header; another author's same
    key is theirs alone."""
    family = person(unique("retry-family"), "activist")
    other = person(unique("other-family"), "activist")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = family.call("POST", "/api/requests", NEED, headers=key)
    again = family.call("POST", "/api/requests", NEED, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert [r["id"] for r in family.call("GET", "/api/me/requests").json()["items"]] == [first.json()["id"]]

    changed = family.call("POST", "/api/requests", dict(NEED, urgency="low"), headers=key)
    assert changed.status_code == 409 and set(changed.json()["error"]["fields"]) == {"Idempotency-Key"}
    bad = family.call("POST", "/api/requests", NEED, headers={"Idempotency-Key": "k" * 256})
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"Idempotency-Key"}
    theirs = other.call("POST", "/api/requests", NEED, headers=key)
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert len(family.call("GET", "/api/me/requests").json()["items"]) == 1  # nothing else was posted


def test_one_account_cannot_flood_every_volunteer_with_open_requests(platform, person):
    """Each open need asks volunteers for days: one account has at most MAX_OPEN_REQUESTS (3 here)
    open at once. A retry of one already posted is not a new one; closing one makes room."""
    family = person(unique("flood"), "activist")
    flood = dict(NEED, skills=["medical"], languages=["tk"], country="TM", urgency="critical")  # nobody else's
    key = {"Idempotency-Key": str(uuid.uuid4())}
    posted = [family.call("POST", "/api/requests", flood, headers=headers).json()["id"] for headers in ({}, {}, key)]
    refused = family.call("POST", "/api/requests", flood)
    assert refused.status_code == 429 and set(refused.json()["error"]["fields"]) == {"open_requests"}
    assert len(family.call("GET", "/api/me/requests").json()["items"]) == 3  # nothing else was posted
    retried = family.call("POST", "/api/requests", flood, headers=key)
    assert retried.status_code == 201 and retried.json()["id"] == posted[2]
    assert family.call("POST", f"/api/requests/{posted[0]}/close", {"outcome": "withdrawn"}).status_code == 200
    another = family.call("POST", "/api/requests", flood)
    assert another.status_code == 201
    # Paged, newest first: two pages of two.
    first = family.call("GET", "/api/me/requests", limit=2).json()
    rest = family.call("GET", "/api/me/requests", limit=2, before=first["next"]).json()
    assert [r["id"] for r in first["items"] + rest["items"]] == [another.json()["id"]] + posted[::-1]
    assert "next" not in rest
    for request_id in posted[1:] + [another.json()["id"]]:
        family.call("POST", f"/api/requests/{request_id}/close", {"outcome": "withdrawn"})


def test_the_author_edits_and_closes_a_request_through_its_lifecycle(platform, person):
    family = person(unique("narges-family"), "activist")
    stranger = person(unique("stranger"), "activist")
    created = family.call("POST", "/api/requests", NEED).json()
    path = f"/api/requests/{created['id']}"

    edited = family.call("PATCH", path, {"urgency": "critical", "languages": ["fa"]})
    assert edited.status_code == 200 and edited.json()["urgency"] == "critical"
    assert stranger.call("PATCH", path, {"urgency": "low"}).status_code == 403
    assert family.call("PATCH", path, {"urgency": "whenever"}).json()["error"]["fields"] == {
        "urgency": "Must be one of: low, normal, high, critical."}
    assert family.call("PATCH", path, {}).status_code == 400

    # open -> fulfilled skips `matched`: refused, and nothing changes.
    response = family.call("POST", f"{path}/close", {"outcome": "fulfilled"})
    assert response.status_code == 409
    assert family.call("GET", path).json()["status"] == "open"

    assert family.call("POST", f"{path}/close", {"outcome": "withdrawn"}).json()["status"] == "withdrawn"
    assert family.call("PATCH", path, {"urgency": "low"}).status_code == 409  # closed things stay closed
    found = wait_until(lambda: _found(family, created["id"], "withdrawn"), message="search to see the withdrawal")
    assert found


def test_visibility_is_enforced_when_reading_a_request(platform, person, appoint):
    family = person(unique("maryam"), "activist")
    volunteer = person(unique("arash"), "volunteer")
    unvetted = person(unique("new-here"), "volunteer")
    other = person(unique("other"), "activist")
    moderator = appoint(person(unique("mod"), "activist"), "moderator").sign_in_again()
    assert moderator.call("POST", f"/api/moderation/accounts/{volunteer.account['id']}/verify").ok
    ids = {v: family.call("POST", "/api/requests", dict(NEED, visibility=v)).json()["id"]
           for v in ("public", "volunteers", "private")}

    def status(client, visibility):
        return client.call("GET", f"/api/requests/{ids[visibility]}").status_code

    anonymous = type(family)(platform)
    assert [status(anonymous, v) for v in ("public", "volunteers", "private")] == [200, 404, 404]
    assert [status(other, v) for v in ("public", "volunteers", "private")] == [200, 404, 404]
    assert [status(volunteer, v) for v in ("public", "volunteers", "private")] == [200, 200, 404]
    # Signing up as a volunteer is not enough: a moderator must have vetted them (DESIGN, "Trust").
    assert [status(unvetted, v) for v in ("public", "volunteers", "private")] == [200, 404, 404]
    assert [status(family, v) for v in ("public", "volunteers", "private")] == [200, 200, 200]


# ---- moderation and vetting

def test_moderators_vet_volunteers_and_hide_what_endangers_someone(platform, person, appoint):
    moderator = appoint(person(unique("mod"), "activist"), "moderator")
    moderator.sign_in_again()
    lawyer = person(unique("lawyer"), "volunteer")
    family = person(unique("family"), "activist")
    reader = person(unique("reader"), "volunteer")
    request_id = family.call("POST", "/api/requests", NEED).json()["id"]

    # Anyone may flag; only moderators see the queue.
    assert reader.call("POST", f"/api/requests/{request_id}/flags",
                       {"reason": "It names the prisoner's sister."}).status_code == 201
    assert reader.call("POST", f"/api/profiles/{lawyer.account['id']}/flags",
                       {"reason": "Is this really a lawyer?"}).status_code == 201
    assert reader.call("GET", "/api/moderation/flags").status_code == 403
    queue = moderator.call("GET", "/api/moderation/flags").json()["items"]
    assert {(f["target_type"], f["target_id"]) for f in queue} == {("request", request_id),
                                                                  ("profile", lawyer.account["id"])}

    # Vetting: the lawyer is verified.
    verified = moderator.call("POST", f"/api/moderation/accounts/{lawyer.account['id']}/verify")
    assert verified.status_code == 200 and verified.json()["verified"] is True
    assert reader.call("POST", f"/api/moderation/accounts/{lawyer.account['id']}/verify").status_code == 403

    # Hiding: the request leaves search, matching and other people's view; its author still sees it.
    journalist = person(unique("journalist"), "volunteer")
    assert journalist.call("PUT", "/api/me/profile", {"skills": ["press"], "languages": ["fa"]}).status_code == 200
    wait_until(lambda: _found(reader, request_id, "open"), message="the request in search")
    wait_until(lambda: _match_status(journalist, request_id) == "proposed", message="a proposal for the journalist")
    assert moderator.call("POST", f"/api/moderation/requests/{request_id}/hide",
                          {"reason": "names a relative"}).status_code == 200
    assert reader.call("GET", f"/api/requests/{request_id}").status_code == 404
    assert family.call("GET", f"/api/requests/{request_id}").json()["hidden"] is True
    wait_until(lambda: not _found(reader, request_id), message="the hidden request to leave search")
    wait_until(lambda: _match_status(journalist, request_id) == "withdrawn", message="the proposal to be withdrawn")
    assert moderator.call("GET", "/api/moderation/flags").json()["items"] == []


def test_a_moderator_reads_a_private_request_only_while_it_is_flagged_and_each_reading_is_recorded(
        platform, person, appoint):
    """A private request's text is promised to its author and confirmed helper: a moderator gets
    what it is about (skills, country, status) to moderate, and its text only to judge an open flag."""
    from services.common.store import mongo
    from tests.e2e.web import WebVisitor

    family = person(unique("roya"), "activist")
    moderator = appoint(person(unique("mod"), "activist"), "moderator").sign_in_again()
    private = dict(NEED, visibility="private", title="A lawyer for my sister's appeal",
                   body="Her appeal hearing is next month; the court-appointed lawyer has not met her.")
    request_id = family.call("POST", "/api/requests", private).json()["id"]
    path = f"/api/requests/{request_id}"

    seen = moderator.call("GET", path).json()
    assert seen["title"] is None and seen["body"] is None and seen["text_withheld"] is True
    assert seen["skills"] == ["press"] and seen["country"] == "IR" and seen["visibility"] == "private"
    page = WebVisitor(platform).sign_in(moderator.account["handle"]).get(f"/requests/{request_id}")
    assert page.status_code == 200 and private["body"] not in page.text and private["title"] not in page.text
    assert family.call("GET", path).json()["body"] == private["body"]

    # A moderator's own flag opens nothing (else any moderator could read any private text).
    assert moderator.call("POST", f"{path}/flags", {"reason": "Looks odd to me, I should read it."}).status_code == 201
    assert moderator.call("GET", path).json()["body"] is None
    assert family.call("POST", f"{path}/flags", {"reason": "I wrote more than I should have."}).status_code == 201
    judged = moderator.call("GET", path).json()
    assert judged["body"] == private["body"] and "text_withheld" not in judged
    client = mongo.connect(platform.config)
    try:
        readings = list(client[f"{platform.config['DB_PREFIX']}_requests"]["moderator_readings"].find(
            {"request_id": request_id}))
    finally:
        client.close()
    assert [(r["moderator_id"], r["request_id"]) for r in readings] == [(moderator.account["id"], request_id)]
    assert private["body"] not in repr(readings)

    assert moderator.call("POST", f"/api/moderation/requests/{request_id}/dismiss").status_code in (200, 204)
    assert moderator.call("GET", path).json()["body"] is None  # the flag judged, the text closes again
    # The reader deletes their account: the record of the reading stays, and another moderator sees it.
    assert moderator.call("DELETE", "/api/me", {"password": moderator.password}).status_code == 204
    other = appoint(person(unique("mod"), "activist"), "moderator").sign_in_again()
    wait_until(lambda: [r["moderator_id"] for r in other.call("GET", path).json()["moderator_readings"]] == [
        moderator.account["id"]] or None, timeout=10, message="the reading to be shown")


def test_a_suspended_account_is_signed_out_and_cannot_sign_in(platform, person, appoint):
    moderator = appoint(person(unique("mod2"), "activist"), "moderator")
    moderator.sign_in_again()
    troll = person(unique("troll"), "volunteer")
    assert troll.call("PUT", "/api/me/profile", {"skills": ["legal"], "languages": ["ru"],
                                                 "bio": f"Lawyer {troll.account['handle']}"}).status_code == 200
    wait_until(lambda: _volunteer_found(moderator, troll), message="the volunteer in search")
    assert moderator.call("POST", f"/api/moderation/accounts/{troll.account['id']}/suspend",
                          {"reason": "posing as a lawyer"}).json()["status"] == "suspended"
    assert troll.call("GET", "/api/me").status_code == 401
    assert troll.call("POST", "/api/sessions", {"handle": troll.account["handle"],
                                                "password": "correct horse battery staple"}).status_code == 401
    anonymous = type(troll)(platform)
    assert anonymous.call("GET", f"/api/profiles/{troll.account['id']}").status_code == 404
    wait_until(lambda: not _volunteer_found(moderator, troll), message="the suspended volunteer to leave search")
    assert moderator.call("POST", f"/api/moderation/accounts/{troll.account['id']}/reinstate").status_code == 200
    assert troll.sign_in_again().call("GET", "/api/me").status_code == 200


def _found(client, request_id, status=None):
    items = client.call("GET", "/api/search/requests", size=50).json()["items"]
    hit = [item for item in items if item["id"] == request_id]
    return bool(hit) and (status is None or hit[0]["status"] == status)


def _match_status(client, request_id):
    mine = [m for m in client.call("GET", "/api/matches").json()["items"] if m["request_id"] == request_id]
    return mine[0]["status"] if mine else None


def _volunteer_found(client, volunteer):
    items = client.call("GET", "/api/search/volunteers", q=volunteer.account["handle"]).json()["items"]
    return any(item["handle"] == volunteer.account["handle"] for item in items)


def test_one_person_cannot_flood_the_moderators_queue(platform, person):
    family = person(unique("family"), "activist")
    troll = person(unique("troll"), "volunteer")
    request_id = family.call("POST", "/api/requests", NEED).json()["id"]
    for n in range(3):
        assert troll.call("POST", f"/api/requests/{request_id}/flags", {"reason": f"spam {n}"}).status_code == 201
    assert troll.call("POST", f"/api/requests/{request_id}/flags", {"reason": "spam 4"}).status_code == 429
    assert family.call("POST", f"/api/requests/{request_id}/flags", {"reason": "A real report"}).status_code == 201
