"""One contract, two adapters: the in-memory stores the workflow's tests use (memory.py) behave as
the real ones over FerretDB do (storage.py)."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.notify import memory, storage
from tests.support import STORE_ADAPTERS, every_page, store_adapter

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(params=STORE_ADAPTERS)
def stores(request):
    return store_adapter(request, "notify", memory.stores, storage.stores, storage.prepare)


def new_id():
    return uuid.uuid4().hex


def test_a_persons_document_keeps_a_chosen_preference_applies_contacts_by_version_and_ends_as_a_tombstone(stores):
    people, p1, p2, nobody = stores.people, new_id(), new_id(), new_id()
    people.set_email_mode(p1, "daily", NOW)        # a choice before notify heard of their profile
    people.default_email_off(p1, NOW)              # registered as an activist: the choice stays
    assert people.remember_contact(p1, "sealed-1", 1, announced=True, sms_sealed="sealed-number")
    assert not people.remember_contact(p1, "sealed-0", 1)  # a copy of the same version
    assert people.email_mode(p1) == "daily" and people.sealed_contact(p1) == "sealed-1" and people.announced(p1)
    people.default_email_off(p2, NOW)
    assert people.email_mode(p2) == "off" and people.email_mode(nobody) == "instant" and not people.announced(nobody)
    assert people.many([p1, nobody, p1]) == {p1: {"_id": p1, "contact_sealed": "sealed-1", "email": "daily",
                                                  "sms_sealed": "sealed-number"}, nobody: {}}
    people.remember_contact(p1, None, 2)           # deactivated: the address and number are not kept
    assert people.sealed_contact(p1) is None and not people.announced(p1)
    assert "sms_sealed" not in people.many([p1])[p1]

    people.forget(p1, 3)
    people.remember_contact(p1, "sealed-1", 2)     # a late copy brings nothing back
    assert people.many([p1]) == {p1: {"_id": p1, "deleted": True}} and people.email_mode(p1) == "instant"


def notification(recipient, at, read=False):
    return {"_id": new_id(), "recipient_id": recipient, "kind": "match_proposed", "text": "...", "match_id": None,
            "request_id": None, "created_at": at, "read": read}


def test_an_inbox_pages_newest_first_breaking_ties_by_id_and_counts_what_is_unread(stores):
    inbox, me, other = stores.inbox, new_id(), new_id()
    mine = [notification(me, NOW + timedelta(seconds=n // 2)) for n in range(5)]  # ties in pairs
    assert inbox.add(mine[0]) and not inbox.add(mine[0])
    assert inbox.add_many(mine) == {n["_id"] for n in mine[1:]}
    theirs = notification(other, NOW)
    inbox.add(theirs)
    assert inbox.page(me, 2)[1] == 5

    def inbox_page(limit, before):
        items, _, more = inbox.page(me, limit, before)
        return items, more

    seen = every_page(inbox_page)
    assert seen == [n["_id"] for n in sorted(mine, key=lambda n: (n["created_at"], n["_id"]), reverse=True)]
    assert inbox.page(me, 2, theirs["_id"]) == ([], 5, False)  # someone else's cursor shows nothing

    assert inbox.mark_read(me, mine[0]["_id"], NOW) and not inbox.mark_read(other, mine[1]["_id"], NOW)
    assert inbox.mark_all_read(me, NOW) == 4 and inbox.page(me, 10)[1] == 0
    inbox.forget(me)
    assert inbox.page(me, 10) == ([], 0, False) and inbox.page(other, 10)[1] == 1


def email(recipient, request_id=None, at=NOW, **fields):
    return {"_id": new_id(), "recipient_id": recipient, "kind": "notification", "notification_ids": [],
            "request_id": request_id, "status": "pending", "attempts": 0, "next_attempt_at": at,
            "created_at": at} | fields


def test_a_due_email_is_claimed_by_one_worker_for_its_lease_and_settled(stores):
    emails, who, request_id = stores.emails, new_id(), new_id()
    first, second, later = email(who, request_id), email(who, request_id, NOW + timedelta(seconds=1)), email(
        who, at=NOW + timedelta(hours=1))
    assert emails.add(first) and not emails.add(first)
    assert emails.add_new([first, second, later]) == {second["_id"], later["_id"]}
    due = [i for i in emails.due(NOW + timedelta(seconds=1), limit=10_000) if i in (first["_id"], second["_id"],
                                                                                     later["_id"])]
    assert due == [first["_id"], second["_id"]]  # oldest due first; not what is due later

    held = emails.claim(first["_id"], NOW, 60)
    assert held["next_attempt_at"] == NOW + timedelta(seconds=60)
    assert emails.claim(first["_id"], NOW + timedelta(seconds=30), 60) is None  # another worker, within the lease
    assert emails.claim(later["_id"], NOW, 60) is None                         # not due yet
    emails.settle(first["_id"], {"status": "failed", "reason": "refused"})
    assert emails.claim(first["_id"], NOW + timedelta(hours=2), 60) is None
    assert emails.find(first["_id"])["reason"] == "refused"

    emails.mark_sent(request_id, [second["_id"]], NOW)
    assert (emails.find(second["_id"])["status"], emails.find(second["_id"])["attempts"]) == ("sent", 1)
    emails.forget(who)
    assert emails.find(later["_id"]) is None


def test_a_digest_gathers_notifications_once_until_it_went_out(stores):
    emails, who, digest_id = stores.emails, new_id(), new_id()
    slot = NOW + timedelta(hours=3)
    assert emails.add_to_digest(digest_id, who, "n1", slot, NOW)
    assert emails.add_to_digest(digest_id, who, "n1", slot, NOW)  # a redelivery
    assert emails.add_to_digest(digest_id, who, "n2", slot, NOW)
    digest = emails.find(digest_id)
    assert (digest["kind"], sorted(digest["notification_ids"]), digest["next_attempt_at"]) == ("digest", ["n1", "n2"],
                                                                                               slot)
    emails.settle(digest_id, {"status": "sent"})
    assert not emails.add_to_digest(digest_id, who, "n3", slot, NOW)  # too late: it waits in the inbox
    assert sorted(emails.find(digest_id)["notification_ids"]) == ["n1", "n2"]


def test_deliveries_to_a_deleted_webhook_are_dropped_and_those_about_a_person_forgotten(stores):
    deliveries, hook, other_hook, person = stores.deliveries, new_id(), new_id(), new_id()
    pending, about, elsewhere = (
        {"_id": new_id(), "webhook_id": hook, "status": "pending", "next_attempt_at": NOW, "about": []},
        {"_id": new_id(), "webhook_id": other_hook, "status": "pending", "next_attempt_at": NOW, "about": [person]},
        {"_id": new_id(), "webhook_id": other_hook, "status": "pending", "next_attempt_at": NOW, "about": []})
    deliveries.add_new([pending, about, elsewhere])
    deliveries.drop_for(hook)
    deliveries.forget(person)
    assert deliveries.find(pending["_id"])["status"] == "dropped" and deliveries.find(about["_id"]) is None
    assert deliveries.find(elsewhere["_id"])["status"] == "pending"


def match(volunteer, author):
    return {"match_id": new_id(), "volunteer_id": volunteer, "author_id": author, "request_id": new_id(),
            "proposed_at": NOW}


def test_proposals_are_reminded_when_due_and_an_answer_that_overtook_one_keeps_it_closed(stores):
    conversations, volunteer, author = stores.conversations, new_id(), new_id()
    soon, later, answered = match(volunteer, author), match(volunteer, author), match(volunteer, author)
    conversations.close_proposal(answered)  # the answer came first
    conversations.remember_proposals([storage.proposal_record(m, NOW + timedelta(seconds=s), NOW)
                                      for m, s in ((soon, 1), (later, 7200), (answered, 1))])
    assert conversations.proposal(answered["match_id"])["status"] == "closed"

    reminded = []

    def remind(proposals):
        for proposal in proposals:
            reminded.append(proposal["_id"])
            conversations.mark_reminded(proposal["_id"])

    conversations.walk_due_reminders(NOW + timedelta(seconds=2), remind)
    conversations.walk_due_reminders(NOW + timedelta(seconds=3), remind)  # nothing twice
    assert [r for r in reminded if r in (soon["match_id"], later["match_id"], answered["match_id"])] == [
        soon["match_id"]]
    assert conversations.proposal(soon["match_id"])["status"] == "reminded"


def test_a_channel_opens_once_its_messages_page_oldest_first_and_a_deleted_sender_leaves_tombstones(stores):
    conversations, volunteer, author = stores.conversations, new_id(), new_id()
    confirmed = match(volunteer, author)
    assert conversations.open_channel(confirmed, NOW) and not conversations.open_channel(confirmed, NOW)
    match_id = confirmed["match_id"]
    published = []
    sent = []
    for n in range(5):
        message = {"_id": new_id(), "match_id": match_id, "sender_id": (volunteer, author)[n % 2],
                   "sent_at": NOW + timedelta(seconds=n // 2), "ciphertext": f"token-{n}", "deleted": False}
        conversations.add_message(message, [{"event_id": new_id(), "event_type": "message_sent"}],
                                  lambda event_type, event: published.append(event_type))
        sent.append(message)
    assert published == ["message_sent"] * 5
    seen = every_page(lambda limit, after: conversations.page(match_id, limit, after))
    assert seen == [m["_id"] for m in sorted(sent, key=lambda m: (m["sent_at"], m["_id"]))]
    assert "events" not in conversations.page(match_id, 1)[0][0]  # the outbox stays inside the store
    assert conversations.page(new_id(), 2, sent[0]["_id"]) == ([], False)
    assert [m["_id"] for m in conversations.latest(match_id, 2)] == seen[-2:]  # READ's last lines, oldest first
    assert conversations.latest(new_id(), 2) == []

    conversations.end_channel(match_id, NOW)
    conversations.end_channel(match_id, NOW + timedelta(hours=1))  # ended once: the first time stays
    assert conversations.channel(match_id)["ended_at"] == NOW
    conversations.forget(volunteer, NOW)
    items, _ = conversations.page(match_id, 10)
    kept = {m["_id"]: (m["sender_id"], m["deleted"], "ciphertext" in m) for m in items}
    assert [kept[m["_id"]] for m in sent[:2]] == [(None, True, False), (author, False, True)]
    assert conversations.channel(match_id)["volunteer_id"] is None


def request_event(request_id, version, hidden=False, visibility="public"):
    return {"request_id": request_id, "version": version, "hidden": hidden, "visibility": visibility,
            "status": "open"}


def test_a_requests_state_applies_in_version_order_and_says_what_it_was(stores):
    requests, request_id = stores.requests, new_id()
    assert requests.remember(request_event(request_id, 1)) == ({}, {"hidden": False, "visibility": "public",
                                                                    "status": "open"})
    before, now = requests.remember(request_event(request_id, 3, hidden=True))
    assert before["hidden"] is False and now["hidden"] is True
    before, now = requests.remember(request_event(request_id, 2))  # older, late
    assert before is None and now["hidden"] is True and now["version"] == 3
    assert requests.state(request_id)["hidden"] is True and requests.state(new_id()) is None


def test_webhooks_are_listed_by_type_and_a_deleted_one_forgets_its_secret(stores):
    webhooks, first, second = stores.webhooks, new_id(), new_id()
    for hook_id, types, at in ((first, ["request_created"], NOW), (second, ["request_created", "match_proposed"],
                                                                   NOW + timedelta(seconds=1))):
        webhooks.add({"_id": hook_id, "url": "https://example.org/hook", "event_types": types,
                      "secret_sealed": "sealed", "created_at": at})
    assert [h["_id"] for h in webhooks.subscribed("match_proposed")] == [second]
    assert [h["_id"] for h in webhooks.subscribed("request_created") if h["_id"] in (first, second)] == [first, second]
    assert webhooks.delete(first, NOW) and not webhooks.delete(first, NOW)
    assert webhooks.find(first) is None and webhooks.find(second)["secret_sealed"] == "sealed"
    assert first not in [h["_id"] for h in webhooks.subscribed()]


def given(signature_id, campaign_id, at):
    return {"signature_id": signature_id, "campaign_id": campaign_id, "contact_sealed": "sealed",
            "token_sealed": "token", "at": at}


def test_supporters_keep_their_latest_choice_and_news_goes_to_the_confirmed_once(stores):
    supporters, campaign_id = stores.supporters, new_id()
    early, late, asked = new_id(), new_id(), new_id()
    for signature_id in (early, late, asked):
        assert supporters.given(given(signature_id, campaign_id, NOW))
    assert not supporters.given(given(early, campaign_id, NOW))  # a copy
    supporters.confirmed({"signature_id": early, "campaign_id": campaign_id, "at": NOW + timedelta(seconds=1)})
    supporters.has_news({"campaign_id": campaign_id, "news_id": "n1", "at": NOW + timedelta(seconds=2)})
    supporters.confirmed({"signature_id": late, "campaign_id": campaign_id, "at": NOW + timedelta(seconds=3)})
    assert supporters.find(late)["last_news"] == "n1"  # not the news from before they confirmed

    assert [c for c in supporters.news_going_out(1000) if c["_id"] == campaign_id] == [
        {"_id": campaign_id, "news_id": "n1"}]
    assert supporters.without_news(campaign_id, "n1", 10) == [early]
    supporters.mark_told(campaign_id, [early], "n1")
    assert supporters.without_news(campaign_id, "n1", 10) == []
    supporters.has_news({"campaign_id": campaign_id, "news_id": "n2", "at": NOW + timedelta(seconds=4)})
    supporters.stop_news(campaign_id, "n1")  # the page that ended n1 does not stop n2
    assert [c["news_id"] for c in supporters.news_going_out(1000) if c["_id"] == campaign_id] == ["n2"]

    supporters.stopped({"signature_id": early, "campaign_id": campaign_id, "updates": "stopped",
                        "at": NOW + timedelta(seconds=5)})
    supporters.given(given(early, campaign_id, NOW))  # very late: nothing comes back
    kept = supporters.find(early)
    assert (kept["updates"], kept["contact_sealed"], kept["token_sealed"]) == ("stopped", None, None)

    supporters.set_mode(campaign_id, "paused", 2)
    supporters.set_mode(campaign_id, "public", 1)  # older, late
    assert supporters.paused(campaign_id) and not supporters.paused(new_id())
    supporters.stop_news(campaign_id)
    assert [c for c in supporters.news_going_out(1000) if c["_id"] == campaign_id] == []


def test_a_text_waits_with_its_sealed_fields_and_drops_them_when_settled(stores):
    texts, text_id = stores.texts, new_id()
    assert texts.add({"_id": text_id, "kind": "text", "to_sealed": "t", "body_sealed": "b", "status": "pending",
                      "attempts": 0, "next_attempt_at": NOW, "created_at": NOW})
    assert texts.claim(text_id, NOW, 60)["to_sealed"] == "t"
    texts.settle(text_id, {"status": "sent", "sent_at": NOW}, forget=("to_sealed", "body_sealed"))
    kept = texts.find(text_id)
    assert kept["status"] == "sent" and "to_sealed" not in kept and "body_sealed" not in kept
