"""Notifications, email and private messages, end to end over HTTP on real servers.

Story (SCENARIOS.md): a family member of a prisoner in Iran needs a translator for an appeal.
A translator is proposed, told in the app and by an email that says nothing but "sign in", accepts;
the family is told a volunteer offers help, confirms them, and only then do the two talk privately. A third volunteer can never read what they say, and nothing they say
reaches a log, an email, or the database in clear.
"""
import uuid

import pytest

from services.common.store import mongo
from services.notify.tests.sink import SmtpSink, free_port
from tests.e2e.api import unique
from tests.support import wait_until

SMTP_PORT = free_port()
PLATFORM_OVERRIDES = {"SMTP_PORT": SMTP_PORT, "PUBLIC_URL": "https://allies.example", "EMAIL_RETRY_BASE_S": 0.5}


@pytest.fixture(scope="module")
def sink(tmp_path_factory):
    running = SmtpSink(tmp_path_factory.mktemp("mail"), port=SMTP_PORT).start()
    yield running
    running.stop()


def test_proposal_email_acceptance_and_a_private_conversation(platform, person, sink, appoint):
    translator_email = f"{uuid.uuid4().hex[:8]}@example.org"
    family_email = f"{uuid.uuid4().hex[:8]}@example.org"
    translator = person(unique("roya-translates"), "volunteer", email=translator_email)
    family = person(unique("sister-of-a-prisoner"), "activist", email=family_email)
    stranger = person(unique("curious"), "volunteer")

    assert translator.call("GET", "/api/me/notification-preferences").json() == {"email": "instant"}
    # An activist gets no email unless they ask for it: a watched mailbox can endanger them.
    wait_until(lambda: family.call("GET", "/api/me/notification-preferences").json() == {"email": "off"},
               message="the activist's email to be off by default")
    assert family.call("PUT", "/api/me/notification-preferences", {"email": "instant"}).status_code == 200
    bad = translator.call("PUT", "/api/me/notification-preferences", {"email": "weekly"})
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"email"}

    profile = {"skills": ["translation"], "languages": ["fa", "en"], "countries": ["IR"],
               "availability_hours": 10, "max_active_matches": 3}
    # A request for volunteers only reaches those a moderator vetted.
    moderator = appoint(person(unique("mod"), "activist"), "moderator").sign_in_again()
    assert moderator.call("POST", f"/api/moderation/accounts/{translator.account['id']}/verify").ok
    assert translator.call("PUT", "/api/me/profile", profile).status_code == 200
    assert stranger.call("PUT", "/api/me/profile", dict(profile, skills=["press"])).status_code == 200

    title = "Translate an appeal for my brother"
    body = "My brother was arrested in Tehran; his appeal must be read in English."
    response = family.call("POST", "/api/requests", {
        "title": title, "body": body, "skills": ["translation"], "languages": ["fa", "en"],
        "country": "IR", "urgency": "high", "visibility": "volunteers"})
    assert response.status_code == 201, response.text
    request_id = response.json()["id"]

    # The translator is told in the app and by email; the email says nothing but "sign in".
    inbox = wait_until(lambda: _inbox_about(translator, request_id), message="the proposal notification")
    assert inbox["unread"] >= 1
    [email] = sink.wait_for(translator_email)
    text = email.get_content() + email["Subject"]
    # Neither the subject nor the sender names the platform (the link is the deployment's own).
    assert not any("allies" in str(email[h]).lower() for h in ("Subject", "From", "Message-ID"))
    assert "https://allies.example/notifications" in text
    for secret in ("brother", "Tehran", "appeal", translator.account["handle"], family.account["handle"]):
        assert secret not in text

    notification = next(n for n in inbox["items"] if n["request_id"] == request_id)
    assert translator.call("POST", f"/api/notifications/{notification['id']}/read").status_code == 200
    assert stranger.call("POST", f"/api/notifications/{notification['id']}/read").status_code == 404
    assert translator.call("POST", "/api/notifications/read-all").status_code == 200
    assert translator.call("GET", "/api/notifications").json()["unread"] == 0

    match_id = notification["match_id"]
    # No conversation before the translator accepts; a stranger cannot tell the match exists.
    assert translator.call("GET", f"/api/matches/{match_id}/messages").status_code == 409
    assert stranger.call("GET", f"/api/matches/{match_id}/messages").status_code == 404

    accepted = translator.call("POST", f"/api/matches/{match_id}/accept")
    assert accepted.status_code == 200, accepted.text
    # The family learns a volunteer offers help (app + email); the channel stays shut until they confirm.
    wait_until(lambda: any(n["kind"] == "match_accepted" for n in family.call("GET", "/api/notifications").json()["items"]),
               message="the family's acceptance notification")
    sink.wait_for(family_email)
    assert family.call("POST", f"/api/matches/{match_id}/messages", {"text": "hello?"}).status_code == 409
    assert translator.call("POST", f"/api/matches/{match_id}/confirm").status_code == 403
    confirmed = family.call("POST", f"/api/matches/{match_id}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    wait_until(lambda: any(n["kind"] == "match_confirmed"
                           for n in translator.call("GET", "/api/notifications").json()["items"]),
               message="the translator's confirmation notification")
    wait_until(lambda: translator.call("GET", f"/api/matches/{match_id}/messages").status_code == 200,
               message="the channel to open")

    private = "His case number is 1402-77; the hearing is on the 3rd."
    sent = family.call("POST", f"/api/matches/{match_id}/messages", {"text": private})
    assert sent.status_code == 201, sent.text
    reply = translator.call("POST", f"/api/matches/{match_id}/messages", {"text": "I will translate it tonight."})
    assert reply.status_code == 201

    conversation = translator.call("GET", f"/api/matches/{match_id}/messages").json()["items"]
    assert [m["text"] for m in conversation] == [private, "I will translate it tonight."]
    assert [m["mine"] for m in conversation] == [False, True]
    assert family.call("GET", f"/api/matches/{match_id}/messages").json()["items"][0]["mine"] is True

    for method, payload in (("GET", None), ("POST", {"text": "let me in"})):
        response = stranger.call(method, f"/api/matches/{match_id}/messages", payload)
        assert response.status_code == 404
        assert private not in response.text
    empty = family.call("POST", f"/api/matches/{match_id}/messages", {"text": ""})
    assert empty.status_code == 400 and "text" in empty.json()["error"]["fields"]

    # At rest the text is ciphertext; no log line and no email carries it or an address.
    client = mongo.connect(platform.config)
    try:
        stored = list(client[f"{platform.config['DB_PREFIX']}_notify"].messages.find({"match_id": match_id}))
    finally:
        client.close()
    assert len(stored) == 2 and all("1402-77" not in str(doc) for doc in stored)
    logs = platform.logs()
    for secret in ("1402-77", translator_email, family_email, "Tehran"):
        assert secret not in logs
    assert all("1402-77" not in m.as_string() for m in sink.messages())


def test_preferences_off_means_no_email_but_the_inbox_still_gets_it(platform, person, sink):
    quiet_email = f"{uuid.uuid4().hex[:8]}@example.org"
    quiet = person(unique("quiet-lawyer"), "volunteer", email=quiet_email)
    assert quiet.call("PUT", "/api/me/notification-preferences", {"email": "off"}).json() == {"email": "off"}
    assert quiet.call("PUT", "/api/me/profile", {
        "skills": ["legal"], "languages": ["ar"], "countries": ["SY"], "availability_hours": 5,
        "max_active_matches": 2}).status_code == 200
    family = person(unique("aleppo-family"), "activist")
    response = family.call("POST", "/api/requests", {
        "title": "Lawyer for a detained relative", "body": "We need legal advice about a detention.",
        "skills": ["legal"], "languages": ["ar"], "country": "SY", "urgency": "normal", "visibility": "public"})
    assert response.status_code == 201
    wait_until(lambda: _inbox_about(quiet, response.json()["id"]), message="the in-app notification")
    # The notification and its (suppressed) email are decided in the same handler, before the
    # inbox shows it: by now an email would already have been queued.
    client = mongo.connect(platform.config)
    try:
        emails = client[f"{platform.config['DB_PREFIX']}_notify"].emails.count_documents(
            {"recipient_id": quiet.account["id"]})
    finally:
        client.close()
    assert emails == 0
    assert sink.to(quiet_email) == []


def test_only_moderators_register_webhooks(platform, person, appoint):
    volunteer = person(unique("not-a-mod"), "volunteer")
    hook = {"url": "https://hooks.example.org/allies", "secret": "a-long-shared-secret-123",
            "event_types": ["request_created"]}
    assert volunteer.call("POST", "/api/webhooks", hook).status_code == 403

    moderator = appoint(person(unique("mod"), "volunteer"), "moderator").sign_in_again()
    created = moderator.call("POST", "/api/webhooks", hook)
    assert created.status_code == 201, created.text
    assert "secret" not in created.json()
    bad = moderator.call("POST", "/api/webhooks", dict(hook, url="file:///etc/passwd", event_types=["message_sent"]))
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"url", "event_types.0"}  # the item at fault
    assert [h["id"] for h in moderator.call("GET", "/api/webhooks").json()["items"]] == [created.json()["id"]]
    assert moderator.call("DELETE", f"/api/webhooks/{created.json()['id']}").status_code == 204
    assert moderator.call("DELETE", f"/api/webhooks/{created.json()['id']}").status_code == 404


def _inbox_about(client, request_id):
    inbox = client.call("GET", "/api/notifications").json()
    return inbox if any(n["request_id"] == request_id for n in inbox["items"]) else None
