"""notify's rules, in milliseconds: the workflow over the in-memory stores (memory.py, held to the
real stores' contract), with a mailer, an opener and a webhook poster that only record. The
end-to-end tests keep the wiring (events over RabbitMQ, SMTP, HTTP to a receiver)."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.fernet import Fernet, MultiFernet

from services.common.bus.events import Event
from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.notify import memory, outgoing, retry, supporters
from services.notify.workflow import NotifyWorkflow

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
CONFIG = {"PUBLIC_URL": "https://allies.example"}


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


class Mailer:
    from_address = "Notifications <no-reply@notifications.invalid>"

    def __init__(self):
        self.sent, self.down = [], False

    def send(self, message):
        if self.down:
            raise ConnectionRefusedError()
        self.sent.append(message)

    def to(self, address):
        return [m for m in self.sent if m["To"] == address]


class Opener:
    """Sealed contacts here are "sealed:<address>"; only this opens them."""

    @staticmethod
    def open(token):
        return token.removeprefix("sealed:") if token else None


class Poster:
    def __init__(self):
        self.posted, self.status = [], 200

    def __call__(self, url, body, headers):
        self.posted.append((url, body, headers))
        return self.status


class Phone:
    """The SMS provider's side: what was texted to whom."""

    def __init__(self):
        self.sent = []

    def send(self, to, body):
        self.sent.append((to, body))

    def to(self, number):
        return [body for to, body in self.sent if to == number]


@pytest.fixture
def world():
    stores, clock, mailer, poster, phone = memory.stores(), Clock(), Mailer(), Poster(), Phone()
    cipher = MultiFernet([Fernet(Fernet.generate_key())])
    published = []
    out = outgoing.Outgoing(stores, CONFIG, mailer, Opener(), cipher, poster, sms=phone, clock=clock)
    work = NotifyWorkflow(stores, out, cipher, CONFIG, lambda event_type, event: published.append(event_type),
                          clock=clock)
    return type("World", (), {"work": work, "stores": stores, "clock": clock, "mailer": mailer, "poster": poster,
                              "phone": phone, "published": published})


def event(event_type, data, version=1):
    return Event(uuid.uuid4().hex, event_type, T0, version, data)


def profile(world, profile_id, role, address=None, status="active", version=1, event_type="profile_registered",
            number=None):
    world.work.profile_changed(event(event_type, {
        "profile_id": profile_id, "role": role, "status": status, "version": version, "handle": profile_id,
        "contact_sealed": f"sealed:{address}" if address else None, "sms_sealed": f"sealed:{number}" if number else None,
        "skills": [], "languages": [],
        "countries": [], "verified": False}))


def match_data(volunteer="vol", author="act", request_id="r1", match_id=None):
    return {"match_id": match_id or uuid.uuid4().hex, "volunteer_id": volunteer, "author_id": author,
            "request_id": request_id, "proposed_at": T0, "status": "proposed"}


def request(request_id="r1", version=1, visibility="public", hidden=False, held=False, author="act"):
    return {"request_id": request_id, "author_id": author, "version": version, "visibility": visibility,
            "hidden": hidden, "held": held, "status": "open", "title": "A lawyer", "body": "For an appeal.",
            "skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high", "created_at": T0}


VOLUNTEER = {"account_id": "vol", "role": "volunteer"}
AUTHOR = {"account_id": "act", "role": "activist"}
MODERATOR = {"account_id": "mod", "role": "moderator"}


def test_an_activist_is_not_emailed_unless_they_ask_and_a_volunteer_is_at_once(world):
    profile(world, "act", "activist", "act@example.org")
    profile(world, "vol", "volunteer", "vol@example.org")
    world.work.proposed([event("match_proposed", match_data())])
    accepted = dict(match_data(), status="accepted")
    world.work.match_answered(event("match_accepted", accepted))
    assert len(world.mailer.to("vol@example.org")) == 1 and world.mailer.to("act@example.org") == []
    assert world.work.notifications(AUTHOR, 50, None)["unread"] == 1  # the inbox has it all the same

    world.work.set_preferences(AUTHOR, {"email": "instant"})
    world.work.match_answered(event("match_accepted", dict(match_data(), status="accepted")))
    assert len(world.mailer.to("act@example.org")) == 1
    body = world.mailer.sent[-1].get_content()
    assert "A lawyer" not in body and "act" not in world.mailer.sent[-1]["Subject"]


def test_a_daily_digest_gathers_what_came_and_goes_out_once_at_its_hour(world):
    profile(world, "vol", "volunteer", "vol@example.org")
    world.work.set_preferences(VOLUNTEER, {"email": "daily"})
    for _ in range(3):
        world.work.proposed([event("match_proposed", match_data())])
    world.work.send_due_emails()
    assert world.mailer.sent == []
    world.clock.advance(86400)
    world.work.send_due_emails()
    world.work.send_due_emails()
    assert len(world.mailer.to("vol@example.org")) == 1


def test_a_preference_is_checked_and_bad_input_names_its_field(world):
    with pytest.raises(ValidationFailed) as error:
        world.work.set_preferences(VOLUNTEER, {"email": "hourly"})
    assert set(error.value.fields) == {"email"}
    assert world.work.preferences(VOLUNTEER) == {"email": "instant"}


def test_an_email_that_failed_is_tried_again_later_and_sent_once(world):
    profile(world, "vol", "volunteer", "vol@example.org")
    world.mailer.down = True
    world.work.proposed([event("match_proposed", match_data())])
    world.mailer.down = False
    world.work.send_due_emails()
    assert world.mailer.sent == []  # not before its backoff
    world.clock.advance(retry.DEFAULTS["EMAIL_RETRY_BASE_S"] + 1)
    world.work.send_due_emails()
    world.work.send_due_emails()
    assert len(world.mailer.to("vol@example.org")) == 1


def test_a_suspended_person_is_not_emailed_and_a_deleted_one_gets_nothing_that_comes_late(world):
    profile(world, "vol", "volunteer", "vol@example.org")
    profile(world, "vol", "volunteer", "vol@example.org", status="suspended", version=2,
            event_type="profile_deactivated")
    world.work.proposed([event("match_proposed", match_data())])
    assert world.mailer.sent == []
    world.work.profile_deleted(event("profile_deleted", {"profile_id": "vol", "version": 3}))
    world.work.proposed([event("match_proposed", match_data())])  # overtaken by the deletion
    assert world.work.notifications(VOLUNTEER, 50, None) == {"unread": 0, "items": []}
    assert world.stores.conversations.proposals == {}


def test_a_moderator_hiding_a_request_is_told_to_its_author_once_but_a_campaigns_hold_is_not(world):
    world.work.request_changed(event("request_created", request()))
    world.work.request_changed(event("request_updated", request(version=2, hidden=True)))
    world.work.request_changed(event("request_updated", request(version=2, hidden=True)))  # a copy
    kinds = [n["kind"] for n in world.work.notifications(AUTHOR, 50, None)["items"]]
    assert kinds == ["request_hidden"]

    world.work.request_changed(event("request_created", request("r2")))
    world.work.request_changed(event("request_updated", request("r2", version=2, hidden=True, held=True)))
    assert len(world.work.notifications(AUTHOR, 50, None)["items"]) == 1


def test_webhooks_hear_of_public_requests_only_and_of_one_that_stops_being_public_by_id_alone(world):
    world.work.create_webhook(MODERATOR, {"url": "https://org.example/hook", "secret": "s" * 24,
                                          "event_types": ["request_created", "request_updated", "match_proposed"]})
    world.work.request_changed(event("request_created", request("private", visibility="volunteers")))
    world.work.proposed([event("match_proposed", match_data(request_id="private"))])
    assert world.poster.posted == []

    world.work.request_changed(event("request_created", request("open")))
    world.work.request_changed(event("request_updated", request("open", version=2, hidden=True)))
    bodies = [body for _, body, _ in world.poster.posted]
    assert len(bodies) == 2 and "A lawyer" in bodies[0]
    assert '"data":{"public":false,"request_id":"open"}' in bodies[1] and "A lawyer" not in bodies[1]
    world.work.proposed([event("match_proposed", match_data(request_id="open"))])
    assert len(world.poster.posted) == 2  # nothing of a hidden request's matches


def test_only_moderators_manage_webhooks_and_a_deleted_one_gets_nothing_more(world):
    body = {"url": "https://org.example/hook", "secret": "s" * 24, "event_types": ["request_created"]}
    with pytest.raises(Forbidden):
        world.work.create_webhook(VOLUNTEER, body)
    hook = world.work.create_webhook(MODERATOR, body)
    assert "secret" not in hook and [h["id"] for h in world.work.list_webhooks(MODERATOR)["items"]] == [hook["id"]]

    world.poster.status = 503  # the organization's server is down: the delivery waits for a retry
    world.work.request_changed(event("request_created", request()))
    world.work.delete_webhook(MODERATOR, hook["id"])
    assert {d["status"] for d in world.stores.deliveries.items.values()} == {"dropped"}
    with pytest.raises(NotFound):
        world.work.delete_webhook(MODERATOR, hook["id"])


def test_only_the_confirmed_pair_talk_and_an_ended_channel_is_read_only_for_the_author(world):
    data = match_data(match_id="m1")
    world.work.proposed([event("match_proposed", data)])
    with pytest.raises(Conflict):  # the two know the match: no conversation yet
        world.work.send_message(VOLUNTEER, "m1", {"text": "hello"})
    with pytest.raises(NotFound):  # anyone else learns nothing
        world.work.messages({"account_id": "stranger", "role": "volunteer"}, "m1", 100, None)

    world.work.match_confirmed(event("match_confirmed", dict(data, status="confirmed")))
    assert world.stores.conversations.channel("m1") is None  # not without the author's signed decision

    world.stores.conversations.open_channel(data, T0)  # as a signed confirmation does (integration tests)
    sent = world.work.send_message(VOLUNTEER, "m1", {"text": "hello"})
    assert sent["mine"] and world.published == ["message_sent"]
    assert [m["text"] for m in world.work.messages(AUTHOR, "m1", 100, None)["items"]] == ["hello"]
    stored = world.stores.conversations.messages[sent["id"]]
    assert "hello" not in str(stored)  # encrypted at rest

    world.work.match_ended(event("match_ended", dict(data, status="ended")))
    with pytest.raises(Forbidden):
        world.work.send_message(AUTHOR, "m1", {"text": "still there?"})
    with pytest.raises(Forbidden):
        world.work.messages(VOLUNTEER, "m1", 100, None)
    assert len(world.work.messages(AUTHOR, "m1", 100, None)["items"]) == 1


def test_a_proposal_is_reminded_once_before_it_expires_unless_answered(world):
    answered, waiting = match_data(), match_data()
    world.work.proposed([event("match_proposed", answered), event("match_proposed", waiting)])
    world.work.match_answered(event("match_declined", dict(answered, status="declined")))
    world.clock.advance(retry.DEFAULTS["MATCH_EXPIRY_S"] - retry.DEFAULTS["EXPIRY_REMINDER_BEFORE_S"] + 1)
    world.work.remind_expiring()
    world.work.remind_expiring()
    reminders = [n for n in world.work.notifications(VOLUNTEER, 50, None)["items"] if n["kind"] == "match_expiring"]
    assert [n["match_id"] for n in reminders] == [waiting["match_id"]]


def test_supporters_news_skips_the_unconfirmed_and_a_paused_campaign_sends_nothing_queued(world):
    for signature_id in ("s1", "s2"):
        world.work.supporter_email_given({"signature_id": signature_id, "campaign_id": "c1",
                                          "contact_sealed": f"sealed:{signature_id}@example.org",
                                          "token_sealed": "sealed:token", "at": T0})
    world.work.send_due_emails()
    assert len(world.mailer.sent) == 2  # each asked to confirm
    world.work.supporter_updates_changed({"signature_id": "s1", "campaign_id": "c1", "updates": "confirmed",
                                          "at": T0 + timedelta(seconds=1)})
    world.work.campaign_news({"campaign_id": "c1", "news_id": "n1", "at": T0 + timedelta(seconds=2)})
    assert world.work.send_campaign_news() == 1
    world.work.campaign_changed({"campaign_id": "c1", "mode": "paused", "version": 2})
    world.work.send_due_emails()
    assert len(world.mailer.sent) == 2
    assert [e["reason"] for e in world.stores.emails.items.values() if e["kind"] == supporters.NEWS] == ["supporter"]


def test_a_linked_number_is_texted_each_notification_and_each_line_by_its_short_number_and_never_the_words(world):
    from services.common.refs import short_ref
    profile(world, "act", "activist", number="+989120000001")
    profile(world, "vol", "volunteer", "vol@example.org", number="+447700900001")
    data = match_data(match_id="m1")
    ref = short_ref("m1")
    proposal = event("match_proposed", data)
    world.work.proposed([proposal])
    world.work.proposed([proposal])  # a redelivery texts nothing more
    assert world.phone.to("+447700900001") == [f"A need fits your skills ({ref}). READ {ref} to see it; "
                                               f"YES {ref} or NO {ref} to answer."]
    assert len(world.mailer.to("vol@example.org")) == 1  # the email all the same
    world.work.match_answered(event("match_accepted", dict(data, status="accepted")))
    assert f"CONFIRM {ref}" in world.phone.to("+989120000001")[0]

    world.stores.conversations.open_channel(data, T0)  # as a signed confirmation does
    world.work.send_message(VOLUNTEER, "m1", {"text": "I can help with the appeal"})
    assert world.phone.to("+989120000001")[1] == f"A new line in {ref}. READ {ref} to read it."
    assert "appeal" not in str(world.phone.sent)  # the words are fetched, never pushed
    assert "+989120000001" not in str(world.stores.texts.items)  # sealed while waiting, then forgotten

    # Unlinked (STOP): nothing more is texted there.
    profile(world, "act", "activist", version=2, event_type="profile_updated")
    world.work.send_message(VOLUNTEER, "m1", {"text": "are you there?"})
    assert len(world.phone.to("+989120000001")) == 2


def test_a_missed_check_in_tells_the_other_side_of_each_chosen_conversation_once_with_the_message(world):
    profile(world, "vol", "volunteer", "vol@example.org", number="+447700900002")
    data = match_data(match_id="m1")
    world.stores.conversations.open_channel(data, T0)
    world.stores.conversations.open_channel(match_data(volunteer="other-vol", author="someone-else", match_id="m9"), T0)
    missed = Event(uuid.uuid4().hex, "check_in_missed", T0, 1, {
        "profile_id": "act", "helpers": ["m1", "m9", "no-such-match"], "campaigns": [],
        "message_sealed": "sealed:They took me. Call Leila.", "at": T0})
    world.work.check_in_changed(missed)
    world.work.check_in_changed(missed)  # a redelivery tells nobody twice
    [told] = world.work.notifications(VOLUNTEER, 50, None)["items"]
    assert told["kind"] == "check_in_missed" and told["message"] == "They took me. Call Leila."
    assert world.work.notifications({"account_id": "other-vol"}, 50, None)["items"] == []  # not their match
    assert "Call Leila" not in str(world.stores.inbox.notifications)  # encrypted at rest
    [texted] = world.phone.to("+447700900002")
    assert texted.endswith("Their message: They took me. Call Leila.")
    assert len(world.mailer.to("vol@example.org")) == 1 and "Call Leila" not in str(world.mailer.sent)

    world.work.check_in_changed(Event(uuid.uuid4().hex, "check_in_resumed", T0, 1, {
        "profile_id": "act", "helpers": ["m1"], "campaigns": [], "at": T0}))
    assert sorted(n["kind"] for n in world.work.notifications(VOLUNTEER, 50, None)["items"]) == [
        "check_in_missed", "check_in_resumed"]

    # A campaign's other owners, as campaigns relays it.
    world.work.campaign_owners_told(Event(uuid.uuid4().hex, "campaign_owners_told", T0, 1, {
        "campaign_id": "c1", "owner_ids": ["co-owner"], "kind": "missed",
        "message_sealed": "sealed:They took me. Call Leila.", "at": T0}))
    [owner_told] = world.work.notifications({"account_id": "co-owner"}, 50, None)["items"]
    assert owner_told["kind"] == "check_in_missed" and owner_told["message"] == "They took me. Call Leila."
