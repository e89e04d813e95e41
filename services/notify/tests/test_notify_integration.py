"""notify against the real broker, database and the project's SMTP server (a real process)."""
import json
import os
import re
import subprocess
import sys
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_hook, entrypoint_waiter

from services.common.config import ROOT
from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.common.bus.events import make_event
from services.common.ids import match_id_of
from services.common.trust.sealing import Sealer
from services.notify import webhooks
from services.notify.service import NotifyService
from services.notify.tests.receiver import Receiver
from services.notify.tests.sink import SmtpSink
from tests.support import author_decision, opened, sealed_to, signed_viewer, wait_until

VOLUNTEER = signed_viewer("vol-1", "volunteer", "nima")
ACTIVIST = signed_viewer("act-1", "activist", "omid")
STRANGER = signed_viewer("other-1", "volunteer", "sara")
MODERATOR = signed_viewer("mod-1", "moderator", "mod")


@contextmanager
def as_gateway(container, entrypoint):
    """An entrypoint called as the gateway calls it: a message's body sealed to notify, the
    reply (it holds message text) opened from its seal to the gateway."""
    with entrypoint_hook(container, entrypoint) as call:
        def through(*args):
            if entrypoint == "send_message":
                args = args[:-1] + (sealed_to("notify", args[-1]),)
            return opened(call(*args), "notify", entrypoint)
        yield through
NOW = datetime.now(timezone.utc)


M1 = match_id_of("r-1", "vol-1")  # a match's id is derived from its request and volunteer


def match_event(event_type="match_proposed", volunteer_id="vol-1", match_id=None, proposed_at=None,
                status=None):
    request_id = "r-1" if match_id is None else f"r-{match_id}"
    match_id = match_id or match_id_of(request_id, volunteer_id)
    data = {
        "match_id": match_id, "request_id": request_id, "volunteer_id": volunteer_id, "author_id": "act-1",
        "status": status or event_type.split("_")[1], "score": 0.9, "reasons": ["Has the skills asked for: legal"],
        "proposed_at": proposed_at or datetime.now(timezone.utc), "version": 1,
    }
    if event_type == "match_confirmed":  # the author's choice, signed as the gateway signs it
        data["author_decision"] = author_decision(match_id, "act-1")
    return make_event("matching", event_type, data)


def proposal(volunteer_id="vol-1", match_id=None):
    return match_event("match_proposed", volunteer_id, match_id)


def profile_event(config, profile_id, email, version=1, event_type="profile_registered", role="volunteer",
                  status="active"):
    sealed = Sealer(config["NOTIFY_PUBLIC_KEY"]).seal(email) if email else None
    return make_event("profiles", event_type, {
        "profile_id": profile_id, "handle": f"h-{profile_id}", "role": role, "status": status,
        "skills": ["legal"], "languages": ["fa"], "countries": ["IR"], "bio": "", "availability_hours": 5,
        "max_active_matches": 3, "verified": False, "contact_sealed": sealed, "version": version,
    })


@pytest.fixture
def sink(tmp_path):
    running = SmtpSink(tmp_path / "mail").start()
    yield running
    running.stop()


@pytest.fixture
def notify(container_factory, config, sink):
    """A running notify container wired to the test's SMTP sink, with fast retries."""
    config.update(SMTP_PORT=sink.port, EMAIL_RETRY_BASE_S=0.5, EMAIL_RETRY_MAX_S=1, WEBHOOK_RETRY_BASE_S=0.5,
                  WEBHOOK_RETRY_MAX_S=1, PUBLIC_URL="https://allies.example", WEBHOOK_ALLOW_PRIVATE="true")
    container = container_factory(NotifyService, config)
    container.start()
    return container


def deliver(container, config, source, event_type, event, entrypoint=None):
    with entrypoint_waiter(container, entrypoint or f"on_{event_type}"):
        event_dispatcher(config)(source, event_type, event)


def email_doc(db, **query):
    return db.emails.find_one(query)


# ---- inbox and idempotency

def test_a_redelivered_event_makes_one_notification(container_factory, config, db_for):
    container = container_factory(NotifyService, config)
    container.start()
    event = proposal()

    for _ in range(3):  # the same event, delivered three times
        deliver(container, config, "matching", "match_proposed", event)

    assert db_for("notify").notifications.count_documents({"recipient_id": "vol-1"}) == 1
    with entrypoint_hook(container, "list_notifications") as list_notifications:
        inbox = list_notifications(VOLUNTEER)
    assert inbox["unread"] == 1
    assert inbox["items"][0]["match_id"] == M1


def batch(request_id, *pairs):
    """`matches_proposed`: one top-up's proposals for one request, `(volunteer, match)` each."""
    return make_event("matching", "matches_proposed", {
        "request_id": request_id, "author_id": "act-1", "proposed_at": datetime.now(timezone.utc),
        "matches": [{"match_id": match_id, "volunteer_id": volunteer_id, "status": "proposed", "score": 0.9,
                     "reasons": ["Has the skills asked for: legal"], "version": 1} for volunteer_id, match_id in pairs]})


def test_one_batch_of_proposals_tells_each_volunteer_once_whatever_brings_it_again(notify, config, db_for):
    """One event per top-up: each volunteer told and each proposal remembered (for its reminder)
    once, through a redelivery of the batch and through another batch carrying one of its matches
    again (two top-ups racing for one volunteer)."""
    db = db_for("notify")
    first = batch("r-9", ("vol-1", "m91"), ("vol-2", "m92"), ("vol-3", "m93"))
    for _ in range(2):
        deliver(notify, config, "matching", "matches_proposed", first)
    deliver(notify, config, "matching", "matches_proposed", batch("r-9", ("vol-3", "m93"), ("vol-4", "m94")))
    told = sorted((n["recipient_id"], n["match_id"]) for n in db.notifications.find({"request_id": "r-9"}))
    assert told == [("vol-1", "m91"), ("vol-2", "m92"), ("vol-3", "m93"), ("vol-4", "m94")]
    assert {p["_id"] for p in db.proposals.find({"request_id": "r-9", "status": "open"})} == {"m91", "m92", "m93", "m94"}


def test_a_proposal_that_reaches_notify_after_its_volunteer_left_recreates_nothing(notify, config, db_for):
    """Deletion and proposals travel on different queues: a first delivery of a proposal after the
    volunteer's deletion makes no notification, reminder or email (the contact's tombstone)."""
    db = db_for("notify")
    deliver(notify, config, "profiles", "profile_registered", profile_event(config, "gone-1", "gone@example.org"))
    deliver(notify, config, "profiles", "profile_deleted",
            make_event("profiles", "profile_deleted", {"profile_id": "gone-1", "version": 2}))
    deliver(notify, config, "matching", "matches_proposed", batch("r-8", ("gone-1", "m81"), ("vol-8", "m82")))
    assert [n["recipient_id"] for n in db.notifications.find({"request_id": "r-8"})] == ["vol-8"]
    assert [p["_id"] for p in db.proposals.find({"request_id": "r-8"})] == ["m82"]
    assert db.emails.count_documents({"recipient_id": "gone-1"}) == 0


def test_an_invalid_event_is_dropped_and_the_next_one_still_handled(container_factory, config, db_for):
    container = container_factory(NotifyService, config)
    container.start()
    broken = dict(proposal(), data={"match_id": M1})  # missing required fields

    deliver(container, config, "matching", "match_proposed", broken)
    deliver(container, config, "matching", "match_proposed", proposal("vol-2"))

    notifications = db_for("notify").notifications
    assert notifications.count_documents({}) == 1
    assert notifications.find_one()["recipient_id"] == "vol-2"


def test_inbox_pages_and_marks_read(container_factory, config):
    container = container_factory(NotifyService, config)
    container.start()
    for number in range(5):
        deliver(container, config, "matching", "match_proposed", proposal(match_id=f"m{number}"))

    with entrypoint_hook(container, "list_notifications") as list_notifications:
        first = list_notifications(VOLUNTEER, 2)
        second = list_notifications(VOLUNTEER, 2, first["next"])
        third = list_notifications(VOLUNTEER, 2, second["next"])
        with pytest.raises(ValidationFailed):
            list_notifications(VOLUNTEER, 0)
    seen = [n["id"] for page in (first, second, third) for n in page["items"]]
    assert len(seen) == len(set(seen)) == 5 and "next" not in third
    assert first["unread"] == 5

    with entrypoint_hook(container, "mark_read") as mark_read:
        mark_read(VOLUNTEER, seen[0])
        with pytest.raises(NotFound):  # someone else's notification is not there for them
            mark_read(STRANGER, seen[1])
    with entrypoint_hook(container, "list_notifications") as list_notifications:
        assert list_notifications(VOLUNTEER)["unread"] == 4
    with entrypoint_hook(container, "mark_all_read") as mark_all_read:
        assert mark_all_read(VOLUNTEER)["marked"] == 4
    with entrypoint_hook(container, "list_notifications") as list_notifications:
        assert list_notifications(VOLUNTEER)["unread"] == 0


# ---- email

def test_a_proposal_reaches_the_volunteer_by_email_saying_nothing_more(notify, config, sink, db_for):
    deliver(notify, config, "profiles", "profile_registered", profile_event(config, "vol-1", "nima@example.org"))
    deliver(notify, config, "matching", "match_proposed", proposal())

    [message] = sink.wait_for("nima@example.org")
    body = message.get_content()
    assert "https://allies.example/notifications" in body
    assert "h-vol-1" not in body and "legal" not in body and "r-m1" not in body
    # The address is kept only sealed; the pending email names the account, not the address.
    db = db_for("notify")
    assert "nima@example.org" not in json.dumps(list(db.contacts.find()), default=str)
    assert "nima@example.org" not in json.dumps(list(db.emails.find()), default=str)
    assert email_doc(db, recipient_id="vol-1")["status"] == "sent"


def test_a_suspended_person_is_not_emailed_until_reinstated(notify, config, sink, db_for):
    deliver(notify, config, "profiles", "profile_registered", profile_event(config, "vol-1", "nima@example.org"))
    deliver(notify, config, "profiles", "profile_updated",
            profile_event(config, "vol-1", "nima@example.org", version=2, event_type="profile_updated",
                          status="suspended"))
    deliver(notify, config, "matching", "match_proposed", proposal())
    db = db_for("notify")
    # Told in the inbox; no email even queued (no address is kept while suspended).
    assert db.notifications.count_documents({"recipient_id": "vol-1"}) == 1
    assert email_doc(db, recipient_id="vol-1") is None
    assert db.contacts.find_one({"_id": "vol-1"}).get("contact_sealed") is None

    deliver(notify, config, "profiles", "profile_updated",
            profile_event(config, "vol-1", "nima@example.org", version=3, event_type="profile_updated"))
    deliver(notify, config, "matching", "match_proposed", proposal(match_id="m2"))
    assert sink.wait_for("nima@example.org")


def test_an_email_sent_while_the_smtp_server_was_down_arrives_once_it_is_back(notify, config, sink, db_for):
    deliver(notify, config, "profiles", "profile_registered", profile_event(config, "vol-1", "nima@example.org"))
    sink.stop()  # by pid
    deliver(notify, config, "matching", "match_proposed", proposal())

    db = db_for("notify")
    wait_until(lambda: (email_doc(db, recipient_id="vol-1") or {}).get("attempts", 0) >= 2,
               message="failed attempts while the SMTP server is down")
    assert email_doc(db, recipient_id="vol-1")["status"] == "pending"

    sink.start()
    wait_until(lambda: email_doc(db, recipient_id="vol-1")["status"] == "sent", message="the retry to succeed")
    assert len(sink.to("nima@example.org")) == 1


def test_a_redelivered_event_sends_no_second_email(notify, config, sink, db_for):
    deliver(notify, config, "profiles", "profile_registered", profile_event(config, "vol-1", "nima@example.org"))
    event = proposal()
    deliver(notify, config, "matching", "match_proposed", event)
    db = db_for("notify")
    wait_until(lambda: email_doc(db, recipient_id="vol-1")["status"] == "sent", message="the email")

    deliver(notify, config, "matching", "match_proposed", event)  # skipped by the ledger
    db.handled_events.delete_many({})  # even a consumer that forgot it handled the event ...
    deliver(notify, config, "matching", "match_proposed", event)  # ... makes the same email id

    assert db.emails.count_documents({}) == 1
    assert db.notifications.count_documents({}) == 1
    assert len(sink.to("nima@example.org")) == 1


def test_preferences_off_daily_and_instant_are_respected(container_factory, config, sink, db_for):
    config.update(SMTP_PORT=sink.port, DIGEST_INTERVAL_S=2)
    container = container_factory(NotifyService, config)
    container.start()
    people = {"off-1": "off@example.org", "daily-1": "daily@example.org", "instant-1": "instant@example.org"}
    for profile_id, address in people.items():
        deliver(container, config, "profiles", "profile_registered", profile_event(config, profile_id, address))
    with entrypoint_hook(container, "set_preferences") as set_preferences:
        set_preferences(signed_viewer("off-1", "volunteer", "a"), {"email": "off"})
        set_preferences(signed_viewer("daily-1", "volunteer", "b"), {"email": "daily"})
        with pytest.raises(ValidationFailed) as error:
            set_preferences(VOLUNTEER, {"email": "hourly", "sms": True})
        assert set(error.value.fields) == {"email", "sms"}
    with entrypoint_hook(container, "get_preferences") as get_preferences:
        assert get_preferences(signed_viewer("daily-1", "volunteer", "b")) == {"email": "daily"}
        assert get_preferences(VOLUNTEER) == {"email": "instant"}

    deliver(container, config, "matching", "match_proposed", proposal("off-1", "m0"))
    for match_id in (M1, "m2"):
        deliver(container, config, "matching", "match_proposed", proposal("daily-1", match_id))
    deliver(container, config, "matching", "match_proposed", proposal("instant-1", "m3"))

    # One digest holds both, unless the digest timer happened to fire between the two deliveries:
    # either way, the digests count exactly the two notifications and nothing was sent one by one.
    def counted():
        digests = sink.to("daily@example.org")
        numbers = [int(re.match(r"(\d+) new notifications?$", d["Subject"]).group(1)) for d in digests]
        return sum(numbers) == 2 and digests
    digests = wait_until(counted, message="digests counting both notifications")
    assert len(digests) in (1, 2)
    sink.wait_for("instant@example.org")
    assert sink.to("off@example.org") == []  # its event was handled before the other two
    assert db_for("notify").notifications.count_documents({"recipient_id": "off-1"}) == 1  # the inbox still has it


def test_a_proposal_about_to_expire_is_reminded_once_unless_answered(notify, config, db_for):
    config.update(MATCH_EXPIRY_S=3600, EXPIRY_REMINDER_BEFORE_S=600)  # the running container's config
    long_ago = datetime.now(timezone.utc) - timedelta(hours=1)  # its reminder is due at once
    # m2's answer overtakes its proposal on the bus; m3 was proposed just now (reminder far away).
    deliver(notify, config, "matching", "match_declined", match_event("match_declined", match_id="m2",
                                                                      proposed_at=long_ago))
    deliver(notify, config, "matching", "match_proposed", match_event(match_id="m2", proposed_at=long_ago))
    deliver(notify, config, "matching", "match_proposed", match_event(match_id="m3"))
    deliver(notify, config, "matching", "match_proposed", match_event(match_id=M1, proposed_at=long_ago))

    db = db_for("notify")
    wait_until(lambda: db.notifications.find_one({"kind": "match_expiring"}), message="the reminder")
    wait_until(lambda: db.proposals.find_one({"_id": M1})["status"] == "reminded", message="m1 marked reminded")
    reminders = list(db.notifications.find({"kind": "match_expiring"}))
    assert [n["match_id"] for n in reminders] == [M1]
    assert db.proposals.find_one({"_id": "m2"})["status"] == "closed"


def test_a_hidden_request_is_told_to_its_author_once(notify, config, db_for):
    def update(version, hidden):
        return make_event("requests", "request_updated", {
            "request_id": "r1", "author_id": "act-1", "title": "t", "body": "b", "skills": ["legal"],
            "languages": ["fa"], "country": "IR", "urgency": "high", "visibility": "public", "status": "open",
            "hidden": hidden, "created_at": NOW, "version": version})

    deliver(notify, config, "requests", "request_updated", update(2, False))
    deliver(notify, config, "requests", "request_updated", update(3, True))
    deliver(notify, config, "requests", "request_updated", update(4, True))  # still hidden: not news
    deliver(notify, config, "requests", "request_updated", update(3, True))  # stale copy

    told = list(db_for("notify").notifications.find({"recipient_id": "act-1"}))
    assert [n["kind"] for n in told] == ["request_hidden"]
    assert "b" not in told[0]["text"].split()


# ---- private messages

def test_only_the_matched_pair_talk_and_the_text_is_unreadable_at_rest(notify, config, db_for):
    deliver(notify, config, "matching", "match_proposed", proposal())
    with as_gateway(notify, "send_message") as send:
        with pytest.raises(Conflict):  # proposed, not accepted: no channel yet
            send(ACTIVIST, M1, {"text": "hello"})
        with pytest.raises(NotFound):
            send(STRANGER, M1, {"text": "hello"})

    deliver(notify, config, "matching", "match_accepted", match_event("match_accepted"))
    with as_gateway(notify, "send_message") as send:
        with pytest.raises(Conflict):  # the volunteer said yes, the author has not: still shut
            send(VOLUNTEER, M1, {"text": "hello"})
    deliver(notify, config, "matching", "match_confirmed", match_event("match_confirmed"))
    secret = "My brother is held in Evin, ward 209"
    with as_gateway(notify, "send_message") as send:
        sent = send(ACTIVIST, M1, {"text": secret})
        send(VOLUNTEER, M1, {"text": "I can help with the case."})
        with pytest.raises(NotFound):  # a third person cannot write into it ...
            send(STRANGER, M1, {"text": "hello"})
        with pytest.raises(ValidationFailed):
            send(ACTIVIST, M1, {"text": "   "})
    with as_gateway(notify, "list_messages") as list_messages:
        with pytest.raises(NotFound):  # ... nor read it, nor tell it from a match that does not exist
            list_messages(STRANGER, M1)
        with pytest.raises(NotFound):
            list_messages(STRANGER, "no-such-match")
        conversation = list_messages(VOLUNTEER, M1)
    assert [m["text"] for m in conversation["items"]] == [secret, "I can help with the case."]
    assert [m["mine"] for m in conversation["items"]] == [False, True]

    db = db_for("notify")
    raw = db.messages.find_one({"_id": sent["id"]})
    assert "Evin" not in json.dumps(raw, default=str)
    assert raw["ciphertext"] and raw.get("_outbox") == []  # message_sent published, metadata only
    # The author was told a volunteer offers help, the volunteer that the author chose them.
    assert db.notifications.find_one({"recipient_id": "act-1", "kind": "match_accepted"})
    assert db.notifications.find_one({"recipient_id": "vol-1", "kind": "match_confirmed"})


def test_a_deleted_account_leaves_no_readable_text(notify, config, db_for):
    deliver(notify, config, "profiles", "profile_registered",
            profile_event(config, "act-1", "omid@example.org", role="activist"))
    deliver(notify, config, "matching", "match_confirmed", match_event("match_confirmed"))
    with as_gateway(notify, "send_message") as send:
        send(ACTIVIST, M1, {"text": "My address is 12 Example Street"})
        send(VOLUNTEER, M1, {"text": "Noted, thank you."})
    with entrypoint_hook(notify, "set_preferences") as set_preferences:
        set_preferences(ACTIVIST, {"email": "daily"})

    deliver(notify, config, "profiles", "profile_deleted",
            make_event("profiles", "profile_deleted", {"profile_id": "act-1", "version": 2}))
    # A stale profile event arriving later does not bring the contact back.
    deliver(notify, config, "profiles", "profile_updated",
            profile_event(config, "act-1", "omid@example.org", event_type="profile_updated"))

    db = db_for("notify")
    everything = json.dumps([list(db[name].find()) for name in db.list_collection_names()], default=str)
    assert "Example Street" not in everything
    assert db.messages.count_documents({"sender_id": "act-1"}) == 0  # tombstones name no sender
    assert all("ciphertext" not in m for m in db.messages.find({"sender_id": None}))
    # Who they talked with is forgotten too; the volunteer keeps their side.
    assert db.channels.find_one({"_id": M1})["author_id"] is None
    assert db.channels.find_one({"_id": M1})["volunteer_id"] == "vol-1"
    assert db.contacts.find_one({"_id": "act-1"}).get("contact_sealed") is None
    assert db.preferences.count_documents({"_id": "act-1"}) == 0
    assert db.notifications.count_documents({"recipient_id": "act-1"}) == 0
    assert db.emails.count_documents({"recipient_id": "act-1"}) == 0
    with as_gateway(notify, "list_messages") as list_messages:
        items = list_messages(VOLUNTEER, M1)["items"]
    assert [(m["deleted"], m["text"]) for m in items] == [(True, None), (False, "Noted, thank you.")]


def test_rotating_keys_re_encrypts_every_message(notify, config, db_for):
    deliver(notify, config, "matching", "match_confirmed", match_event("match_confirmed"))
    with as_gateway(notify, "send_message") as send:
        for number in range(3):
            send(ACTIVIST, M1, {"text": f"message {number}"})
    from cryptography.fernet import Fernet

    from services.notify import messages

    old, new = config["MESSAGE_KEYS"], Fernet.generate_key().decode()
    env = dict(os.environ, MESSAGE_KEYS=f"{new},{old}", DB_PREFIX=config["DB_PREFIX"], PYTHONPATH=ROOT)
    run = subprocess.run([sys.executable, "-m", "services.notify.rotate_keys"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "rotated: 3" in run.stdout and "remaining under old keys: 0" in run.stdout

    only_new = messages.cipher_from_config(new)
    texts = sorted(messages.open_text(only_new, m["_id"], m["ciphertext"]) for m in db_for("notify").messages.find())
    assert texts == ["message 0", "message 1", "message 2"]


# ---- webhooks

@pytest.fixture
def receiver():
    running = Receiver(fail_first=1)
    yield running
    running.stop()


def test_webhooks_are_signed_retried_once_per_event_and_public_only(notify, config, receiver, db_for):
    secret = "org-shared-secret-" + uuid.uuid4().hex
    with entrypoint_hook(notify, "create_webhook") as create:
        with pytest.raises(Forbidden):
            create(VOLUNTEER, {"url": receiver.url, "secret": secret, "event_types": ["request_created"]})
        with pytest.raises(ValidationFailed) as error:
            create(MODERATOR, sealed_to("notify", {"url": "ftp://example.org/x", "secret": "short", "event_types": ["message_sent"]}))
        assert set(error.value.fields) == {"url", "secret", "event_types.0"}  # the item at fault
        hook = create(MODERATOR, sealed_to("notify", {"url": receiver.url, "secret": secret,
                                  "event_types": ["request_created", "profile_registered"]}))
    assert "secret" not in hook

    created = make_event("requests", "request_created", {
        "request_id": "r1", "author_id": "act-1", "title": "Translator for an appeal", "body": "Public text.",
        "skills": ["translation"], "languages": ["fa", "en"], "country": "IR", "urgency": "normal",
        "visibility": "public", "status": "open", "hidden": False, "created_at": NOW, "version": 1})
    deliver(notify, config, "requests", "request_created", created)
    deliver(notify, config, "profiles", "profile_registered",
            profile_event(config, "vol-9", "vol9@example.org"))  # a volunteer: public fields only
    deliver(notify, config, "matching", "match_proposed", proposal())  # not subscribed

    db = db_for("notify")
    wait_until(lambda: db.deliveries.count_documents({"status": "sent"}) == 2, message="both deliveries")
    db.handled_events.delete_many({})
    deliver(notify, config, "requests", "request_created", created)  # redelivered: no new delivery
    assert db.deliveries.count_documents({}) == 2

    by_event = {}
    for headers, body in receiver.received:
        by_event.setdefault(headers["X-Allies-Event"], []).append((headers, body))
    assert sorted(by_event) == ["profile_registered", "request_created"]
    # The first attempt got a 500 and was retried with the same body and delivery id.
    attempts = sorted(len(v) for v in by_event.values())
    assert attempts == [1, 2]
    for deliveries in by_event.values():
        assert len({h["X-Allies-Delivery"] for h, _ in deliveries}) == 1
        headers, body = deliveries[-1]
        assert webhooks.verify(secret, headers, body)
        assert not webhooks.verify(secret, headers, body.replace(b"Translator", b"Trans1ator").replace(b"h-vol-9", b"h-vol-8"))
        assert not webhooks.verify("not-the-secret-at-all", headers, body)
    profile_body = by_event["profile_registered"][-1][1].decode()
    assert "contact_sealed" not in profile_body and "vol9@example.org" not in profile_body
    assert json.loads(by_event["request_created"][-1][1])["data"]["title"] == "Translator for an appeal"
    assert "author_id" not in by_event["request_created"][-1][1].decode()

    with entrypoint_hook(notify, "list_webhooks") as list_webhooks:
        assert [h["id"] for h in list_webhooks(MODERATOR)["items"]] == [hook["id"]]
    with entrypoint_hook(notify, "delete_webhook") as delete:
        delete(MODERATOR, hook["id"])
        with pytest.raises(NotFound):
            delete(MODERATOR, hook["id"])
    assert "secret_sealed" not in db.webhooks.find_one({"_id": hook["id"]})


def test_webhooks_hear_nothing_of_private_or_hidden_requests_nor_their_matches(notify, config, receiver, db_for):
    """Found in review: skills, country, urgency, status and exact times of private and hidden
    requests, and of their matches, went to every webhook."""
    with entrypoint_hook(notify, "create_webhook") as create:
        create(MODERATOR, sealed_to("notify", {"url": receiver.url, "secret": "org-shared-secret-" + uuid.uuid4().hex,
                           "event_types": ["request_created", "request_updated", "match_proposed"]}))

    def request(request_id, version=1, **fields):
        return make_event("requests", "request_updated" if version > 1 else "request_created", {
            "request_id": request_id, "author_id": "act-1", "title": None, "body": None, "skills": ["legal"],
            "languages": ["fa"], "country": "IR", "urgency": "high", "visibility": "private", "status": "open",
            "hidden": False, "created_at": NOW, "version": version} | fields)

    def proposal_on(request_id):
        return make_event("matching", "match_proposed", {
            "match_id": f"m-{request_id}", "request_id": request_id, "volunteer_id": "vol-1", "author_id": "act-1",
            "status": "proposed", "score": 0.9, "reasons": [], "proposed_at": NOW, "version": 1})

    deliver(notify, config, "requests", "request_created", request("r-private"))
    deliver(notify, config, "matching", "match_proposed", proposal_on("r-private"))
    deliver(notify, config, "requests", "request_created", request("r-volunteers", visibility="volunteers",
                                                                   title="For volunteers", body="Their text."))
    public = dict(visibility="public", title="Lawyer for an appeal", body="Public text.")
    deliver(notify, config, "requests", "request_created", request("r-public", **public))
    deliver(notify, config, "matching", "match_proposed", proposal_on("r-public"))
    deliver(notify, config, "requests", "request_updated", request("r-public", version=2, hidden=True, **public))
    deliver(notify, config, "requests", "request_updated", request("r-private", version=2, urgency="critical"))

    db = db_for("notify")
    wait_until(lambda: db.deliveries.count_documents({"status": "sent"}) == 3, message="three deliveries")
    sent = [json.loads(body) for _, body in receiver.received]
    assert sorted({(b["event_type"], b["data"].get("request_id")) for b in sent}) == [
        ("match_proposed", "r-public"), ("request_created", "r-public"), ("request_updated", "r-public")]
    removal = next(b for b in sent if b["event_type"] == "request_updated")
    assert removal["data"] == {"request_id": "r-public", "public": False}  # hidden: its id alone
    assert "r-private" not in json.dumps(sent) and "r-volunteers" not in json.dumps(sent)


def test_a_webhook_into_the_internal_network_is_refused(container_factory, config, receiver, db_for):
    container = container_factory(NotifyService, config)  # WEBHOOK_ALLOW_PRIVATE not set
    container.start()
    with entrypoint_hook(container, "create_webhook") as create:
        create(MODERATOR, sealed_to("notify", {"url": receiver.url, "secret": "x" * 20, "event_types": ["profile_registered"]}))
    deliver(container, config, "profiles", "profile_registered", profile_event(config, "vol-9", None))

    delivery = db_for("notify").deliveries.find_one()
    assert delivery["status"] == "failed" and delivery["reason"] == "destination"
    assert receiver.received == []


def test_an_email_queued_to_send_at_once_is_left_to_its_sender_then_to_the_timer(config, db_for):
    """`notify` writes a new email leased to the worker about to send it: the timer does not take
    it meanwhile (no double send), and does once the lease is over (that worker died)."""
    from services.notify import inbox, outgoing, retry, storage

    db = db_for("notify")
    storage.prepare(db)
    stores = storage.stores(db)
    out = outgoing.Outgoing(stores, config, None, None, None, None)
    now = datetime.now(timezone.utc)
    notification = inbox.notification("match_proposed", "vol-1", "cause-1", now, M1, "r1")

    person = {"contact_sealed": "sealed-address"}  # as notify read it, once, for the notification
    email = out._queue(notification, now, person)
    assert email is not None and email["status"] == retry.PENDING
    assert stores.emails.due(now + timedelta(seconds=1)) == []
    later = now + timedelta(seconds=retry.setting(config, "LEASE_S") + 1)
    assert stores.emails.due(later) == [email["_id"]]

    # A redelivery of the same cause does not queue it again, and gets it only when it is due.
    assert out._queue(notification, now, person) is None
    assert out._queue(notification, later, person)["_id"] == email["_id"]


def test_preferences_kept_in_the_old_collection_move_onto_the_persons_document_once(config, db_for):
    """A deployment of the earlier version kept preferences apart: they move onto the person's
    document, once. (The document's other rules: tests/test_store_contract.py.)"""
    from services.notify import storage

    db = db_for("notify")
    db["preferences"].insert_many([{"_id": "old-1", "email": "daily", "updated_at": NOW},
                                   {"_id": "old-2", "email": "off", "updated_at": NOW, "default": True}])
    people = storage.People(db)
    people.remember_contact("old-2", "sealed-2", 1)
    storage.prepare(db)
    assert people.email_mode("old-1") == "daily" and people.email_mode("old-2") == "off"
    assert people.sealed_contact("old-2") == "sealed-2" and db["preferences"].count_documents({}) == 0


def test_a_batchs_emails_are_sent_once_and_recorded_sent_in_one_write(notify, config, sink, db_for):
    db = db_for("notify")
    for volunteer, address in (("vol-5", "five@example.org"), ("vol-6", "six@example.org")):
        deliver(notify, config, "profiles", "profile_registered", profile_event(config, volunteer, address))
    proposals = batch("r-5", ("vol-5", "m55"), ("vol-6", "m56"))
    deliver(notify, config, "matching", "matches_proposed", proposals)
    sink.wait_for("five@example.org")
    sink.wait_for("six@example.org")
    assert [(e["status"], e["attempts"]) for e in db.emails.find({"request_id": "r-5"})] == [("sent", 1), ("sent", 1)]
    deliver(notify, config, "matching", "matches_proposed", proposals)  # a redelivery sends nothing again
    assert len(sink.to("five@example.org")) == len(sink.to("six@example.org")) == 1


def test_webhooks_hear_of_a_volunteers_deletion_never_of_an_activists(notify, config, receiver, db_for):
    """Found in review: that an activist's account was deleted (which id, when) went to every webhook
    subscribed to deletions, though webhooks never heard the activist existed."""
    with entrypoint_hook(notify, "create_webhook") as create:
        create(MODERATOR, sealed_to("notify", {"url": receiver.url, "secret": "org-shared-secret-" + uuid.uuid4().hex,
                           "event_types": ["profile_deleted"]}))
    for profile_id, role in (("act-gone", "activist"), ("vol-gone", "volunteer")):
        deliver(notify, config, "profiles", "profile_registered", profile_event(config, profile_id, None, role=role))
        deliver(notify, config, "profiles", "profile_deleted",
                make_event("profiles", "profile_deleted", {"profile_id": profile_id, "version": 2}))
    db = db_for("notify")
    wait_until(lambda: db.deliveries.count_documents({"status": "sent"}) >= 1, message="the volunteer's deletion")
    assert db.deliveries.count_documents({}) == 1  # none was made for the activist (both handled in order)
    sent = {(b["event_type"], json.dumps(b["data"])) for b in (json.loads(body) for _, body in receiver.received)}
    assert sent == {("profile_deleted", json.dumps({"profile_id": "vol-gone"}))}
