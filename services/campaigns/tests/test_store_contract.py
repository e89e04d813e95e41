"""One contract, two adapters: the in-memory stores the workflow's tests use (memory.py) behave as
the real ones over FerretDB do (storage.py): every adapter of a port passes the same test."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.fernet import Fernet

from services.campaigns import memory, storage
from tests.support import STORE_ADAPTERS, store_adapter

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


def new_id():
    return uuid.uuid4().hex


def real_stores(db):
    text = storage.TextAtRest(Fernet.generate_key().decode())
    return (storage.CampaignStore(db, text), storage.LetterStore(db, text), storage.WallStore(db, text),
            storage.PledgeStore(db))


@pytest.fixture(params=STORE_ADAPTERS)
def stores(request):
    """(campaigns, letters, wall, pledges) of one adapter."""
    return store_adapter(request, "campaigns", memory.stores, real_stores, storage.prepare)


@pytest.fixture
def published():
    out = []
    return out


def dispatcher(published):
    return lambda event_type, payload: published.append((event_type, payload["event_id"]))


def campaign(**fields):
    return {"_id": new_id(), "title": "Free them", "story": "x" * 30, "mode": "public", "prisoner_country": "IR",
            "prisoner_status": "detained", "language": "fa", "owners": ["family"], "created_by": "family",
            "support": {"total": 0, "by_country": {}}, "support_dirty": False, "version": 1,
            "created_at": NOW, "updated_at": NOW} | fields


def event(name="campaign_changed"):
    return {"event_id": new_id(), "event_type": name}


def test_a_campaign_is_found_whole_or_plain_and_changed_only_on_the_version_read(stores, published):
    campaigns = stores[0]
    first = campaign(timeline_sealed=campaigns.sealed_timeline("t", [{"kind": "detained"}]))
    first["timeline_sealed"] = campaigns.sealed_timeline(first["_id"], [{"kind": "detained"}])
    created = event()
    campaigns.insert(first, {"name": "N"}, [created])
    found, prisoner = campaigns.find(first["_id"])
    assert prisoner == {"name": "N"} and campaigns.timeline(found) == [{"kind": "detained"}]
    plain = campaigns.find_plain(first["_id"])
    assert plain["title"] == "Free them" and "timeline_sealed" not in plain and "prisoner_sealed" not in plain
    assert campaigns.find(new_id()) == (None, None) and campaigns.find_plain(new_id()) is None
    changed = event()
    updated = campaigns.update(plain, {"title": "Free them now"}, make_events=lambda after: [changed])
    assert updated["version"] == 2 and updated["title"] == "Free them now"
    assert campaigns.update(plain, {"title": "A stale write"}) is None  # read at version 1
    campaigns.update(updated, {}, prisoner={"name": "M"})
    assert campaigns.find(first["_id"])[1] == {"name": "M"}
    campaigns.flush(first["_id"], dispatcher(published))
    campaigns.flush(first["_id"], dispatcher(published))
    assert published == [("campaign_changed", created["event_id"]), ("campaign_changed", changed["event_id"])]


def test_listed_campaigns_are_the_public_ones_newest_first_a_page_at_a_time(stores):
    campaigns = stores[0]
    country = f"X{uuid.uuid4().hex[:1].upper()}"  # a country of this test's own
    made = [campaign(prisoner_country="DE", created_at=NOW + timedelta(minutes=n), mode=mode, title=country)
            for n, mode in enumerate(("public", "quiet", "public", "paused", "public"))]
    for each in made:
        campaigns.insert(each, {})
    mine = [c for c in campaigns.listed(200, country="DE") if c["title"] == country]
    assert [c["_id"] for c in mine] == [made[4]["_id"], made[2]["_id"], made[0]["_id"]]
    after = [c["_id"] for c in campaigns.listed(200, before=made[2]["_id"], country="DE") if c["title"] == country]
    assert after == [made[0]["_id"]]
    assert campaigns.listed(10, before=new_id()) == []


def test_owners_campaigns_and_invitations(stores):
    campaigns = stores[0]
    owner = new_id()
    for n in range(2):
        campaigns.insert(campaign(owners=[owner], created_by=owner, created_at=NOW + timedelta(minutes=n)), {})
    campaigns.insert(campaign(owners=["someone", owner], created_by="someone"), {})
    assert campaigns.started_by(owner) == 2 and len(campaigns.owned_by(owner)) == 3
    assert len(campaigns.owned_full(owner)) == 3
    campaign_id = campaigns.owned_by(owner)[0]["_id"]
    soon = campaigns.invite("h1" + new_id(), campaign_id, owner, NOW + timedelta(days=1))
    later_hash = "h2" + new_id()
    later = campaigns.invite(later_hash, campaign_id, owner, NOW + timedelta(days=7))
    campaigns.invite("h3" + new_id(), campaign_id, owner, NOW - timedelta(days=1))  # expired
    assert [i["ref"] for i in campaigns.invitations(campaign_id, NOW)] == [soon, later]
    assert campaigns.revoke(campaign_id, soon) and not campaigns.revoke(campaign_id, soon)
    assert not campaigns.revoke(new_id(), later)  # another campaign's
    assert campaigns.redeem(later_hash, new_id()) is None
    assert campaigns.redeem(later_hash, campaign_id)["created_by"] == owner
    assert campaigns.redeem(later_hash, campaign_id) is None  # once


def test_professionals_are_remembered_by_version_and_endorse_once(stores):
    campaigns = stores[0]
    person = new_id()
    campaigns.remember_professional(person, ["lawyers"], 2)
    campaigns.remember_professional(person, ["journalists"], 1)  # older: nothing
    assert campaigns.professional_kinds(person) == ["lawyers"]
    the_campaign = campaign()
    campaigns.insert(the_campaign, {})
    endorsement = new_id()
    assert campaigns.endorse(endorsement, the_campaign["_id"], ["lawyers"], NOW)
    assert not campaigns.endorse(endorsement, the_campaign["_id"], ["lawyers"], NOW)
    assert campaigns.find_plain(the_campaign["_id"])["support"]["professionals"] == {"lawyers": 1}
    campaigns.forget_professional(person, 3)
    campaigns.remember_professional(person, ["lawyers"], 2)  # a late event brings nothing back
    assert campaigns.professional_kinds(person) == []


def test_signatures_are_received_then_counted_once_each(stores, published):
    campaigns = stores[0]
    the_campaign = campaign()
    campaigns.insert(the_campaign, {})
    for item in ({"_id": new_id(), "campaign_id": the_campaign["_id"], "signature_id": "s1"},
                 {"_id": new_id(), "campaign_id": the_campaign["_id"], "signature_id": "s2"}):
        campaigns.receive_signature(item)
    received = [item for item in campaigns.received(500) if item["campaign_id"] == the_campaign["_id"]]
    assert sorted(item["signature_id"] for item in received) == ["s1", "s2"]
    campaigns.forget_received([item["_id"] for item in received])
    assert not [item for item in campaigns.received(500) if item["campaign_id"] == the_campaign["_id"]]

    key = new_id()
    signature = {"_id": key, "campaign_id": the_campaign["_id"], "country": "DE", "signed_on": "2026-12-05",
                 "updates": "asked"}
    given = event("supporter_email_given")
    assert campaigns.add_signature(signature, [given])
    assert not campaigns.add_signature(signature, [event("supporter_email_given")])  # the same email again
    campaigns.flush_signature(key, dispatcher(published))
    assert published == [("supporter_email_given", given["event_id"])]
    campaigns.count(signature)
    campaigns.count(signature)  # twice: counted once
    assert campaigns.find_plain(the_campaign["_id"])["support"] == {"total": 1, "by_country": {"DE": 1}}
    stored = campaigns.signature(key)
    assert stored["counted"] is True and "signed_at" not in stored
    assert not campaigns.set_updates(dict(stored, updates="confirmed"), "stopped", [])  # not as read
    assert campaigns.set_updates(stored, "withdrawn", [])
    campaigns.uncount(stored)
    campaigns.uncount(stored)
    assert campaigns.find_plain(the_campaign["_id"])["support"] == {"total": 0, "by_country": {"DE": 0}}
    assert campaigns.add_signature(signature, [])  # a withdrawn signature signs again
    campaigns.count(signature)
    assert campaigns.find_plain(the_campaign["_id"])["support"]["total"] == 1


def test_counts_are_published_for_one_period_by_one_claimer(stores):
    campaigns = stores[0]
    changed, still = campaign(support={"total": 7, "by_country": {"DE": 7}}, support_dirty=True), campaign()
    campaigns.insert(changed, {})
    campaigns.insert(still, {})
    last = campaigns.last_published_period()
    assert campaigns.claim_period((last or 0) + 1, last)
    assert not campaigns.claim_period((last or 0) + 1, last)  # another replica took it
    assert campaigns.last_published_period() == (last or 0) + 1
    campaigns.publish_counts(NOW, batch=200, batches=50)
    assert campaigns.find_plain(changed["_id"])["support_shown"] == {"total": 7, "by_country": {"DE": 7}}
    assert campaigns.find_plain(changed["_id"])["support_dirty"] is False
    assert "support_shown" not in campaigns.find_plain(still["_id"])


def letter(campaign_id, **fields):
    return {"_id": new_id(), "campaign_id": campaign_id, "author_id": "writer", "language": "en",
            "status": "pending", "created_at": NOW} | fields


def test_letters_are_decided_once_translated_by_their_translator_and_moderated(stores, published):
    letters = stores[1]
    campaign_id = new_id()
    first, second = letter(campaign_id), letter(campaign_id, created_at=NOW + timedelta(seconds=1))
    letters.insert(first, "We think of you.")
    letters.insert(second, "We write to you.")
    queue = [l["_id"] for l in letters.pending(500) if l["campaign_id"] == campaign_id]
    assert queue == [first["_id"], second["_id"]]
    needed = event("letter_translation_needed")
    assert letters.decide(first["_id"], {"status": "approved", "moderated_at": NOW, "needs_translation": True,
                                         "translation_request_id": "req-" + first["_id"]}, [needed])
    assert not letters.decide(first["_id"], {"status": "rejected"})
    letters.flush(first["_id"], dispatcher(published))
    assert published == [("letter_translation_needed", needed["event_id"])]
    assert [l["text"] for l in letters.approved(campaign_id)] == ["We think of you."]
    assert letters.by_translation_request("req-" + first["_id"])["_id"] == first["_id"]
    # The translator: confirmed (version 3), ended (4), a late confirmation (3) changes nothing.
    assert letters.set_translator(first["_id"], "t", 3, None)
    assert letters.set_translator(first["_id"], None, 4, 3)
    assert not letters.set_translator(first["_id"], "t", 3, 4)
    assert letters.set_translator(first["_id"], "t", 6, 4)
    assert not letters.translate(first["_id"], "someone-else", "Words.", NOW)
    assert letters.translate(first["_id"], "t", "Words.", NOW)
    assert [l["translation"] for l in letters.translations_pending(500) if l["_id"] == first["_id"]] == ["Words."]
    assert letters.decide_translation(first["_id"], "approved", "mod", NOW)
    assert not letters.decide_translation(first["_id"], "rejected", "mod", NOW)
    assert not letters.translate(first["_id"], "t", "Other words.", NOW)  # approved: final
    assert letters.find(first["_id"])["translation"] == "Words."
    assert letters.mark_delivery(first["_id"], campaign_id, "delivered", NOW)
    assert not letters.mark_delivery(second["_id"], campaign_id, "delivered", NOW)  # not approved
    letters.forget_author("writer")
    assert letters.find(second["_id"])["author_id"] is None


def test_a_translation_waits_for_the_owners_yes_once(stores, published):
    letters = stores[1]
    campaign_id = new_id()
    waiting = letter(campaign_id)
    letters.insert(waiting, "We think of you.")
    letters.decide(waiting["_id"], {"status": "approved", "moderated_at": NOW, "translation_awaits_owner": True})
    asked = event("letter_translation_needed")
    assert not letters.ask_translation(waiting["_id"], new_id(), {"translation_request_id": "r"}, [asked])
    assert letters.ask_translation(waiting["_id"], campaign_id, {"translation_request_id": "r"}, [asked])
    assert not letters.ask_translation(waiting["_id"], campaign_id, {"translation_request_id": "r"}, [asked])
    letters.flush(waiting["_id"], dispatcher(published))
    assert published == [("letter_translation_needed", asked["event_id"])]
    assert letters.find(waiting["_id"])["translation_request_id"] == "r"


def test_wall_posts_and_pledges(stores):
    _, _, wall, pledges = stores
    campaign_id = new_id()
    post = {"_id": new_id(), "campaign_id": campaign_id, "author_id": "family", "status": "pending", "created_at": NOW}
    wall.insert(post, "We wait for you.")
    assert post["_id"] in [p["_id"] for p in wall.pending(500)]
    assert wall.decide(post["_id"], {"status": "approved"}) and not wall.decide(post["_id"], {"status": "rejected"})
    assert [p["text"] for p in wall.approved(campaign_id)] == ["We wait for you."]
    wall.forget_author("family")
    assert wall.find(post["_id"])["author_id"] is None
    pledge = {"_id": new_id(), "campaign_id": campaign_id, "author_id": "j", "handle": "j", "action": "An article",
              "kind": "press", "status": "open", "created_at": NOW}
    pledges.insert(pledge)
    assert [p["_id"] for p in pledges.of_campaign(campaign_id)] == [pledge["_id"]] and pledges.done(campaign_id) == []
    assert pledges.mark_done(pledge["_id"], campaign_id, NOW) and not pledges.mark_done(pledge["_id"], campaign_id, NOW)
    assert [p["action"] for p in pledges.done(campaign_id)] == ["An article"]
    pledges.forget_author("j")
    assert pledges.of_campaign(campaign_id)[0]["handle"] is None
