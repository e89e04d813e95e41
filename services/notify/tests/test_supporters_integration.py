"""Campaign supporters' emails on the real store: each event as often and as late as the bus may
bring it, and news to many supporters in bounded pages (services/notify/supporters.py)."""
from datetime import datetime, timedelta, timezone

from services.notify import retry, storage, supporters

T0 = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)


def given(signature_id, at, campaign_id="c1"):
    return {"signature_id": signature_id, "campaign_id": campaign_id, "contact_sealed": f"sealed-{signature_id}",
            "token_sealed": f"token-{signature_id}", "at": at}


def changed(signature_id, updates, at, campaign_id="c1"):
    return {"signature_id": signature_id, "campaign_id": campaign_id, "updates": updates, "at": at}


def emails(db, **query):
    return list(db[storage.EMAILS].find(query))


def ports(db):
    storage.prepare(db)
    stores = storage.stores(db)
    return stores.supporters, stores.emails


def test_a_supporter_is_asked_once_and_a_late_copy_brings_nothing_back(db_for):
    db = db_for("notify")
    kept, queue = ports(db)
    supporters.email_given(kept, queue, given("s1", T0), T0)
    supporters.email_given(kept, queue, given("s1", T0), T0)  # a redelivery
    assert [e["kind"] for e in emails(db, supporter_id="s1")] == [supporters.CONFIRM]

    supporters.updates_changed(kept, changed("s1", "stopped", T0 + timedelta(minutes=5)))
    supporters.email_given(kept, queue, given("s1", T0), T0)  # a copy from before the stop, very late
    supporter = db[storage.SUPPORTERS].find_one({"_id": "s1"})
    assert supporter["updates"] == "stopped" and supporter["contact_sealed"] is None and supporter["token_sealed"] is None
    assert len(emails(db, supporter_id="s1")) == 1
    # The confirmation still queued finds nothing to send to: dropped, never sent.
    assert supporters.sealed_for(kept, emails(db, supporter_id="s1")[0]) is None

    # Withdrawn, then signed again with the same address: asked again.
    supporters.updates_changed(kept, changed("s1", "withdrawn", T0 + timedelta(minutes=6)))
    supporters.email_given(kept, queue, given("s1", T0 + timedelta(minutes=7)), T0 + timedelta(minutes=7))
    assert db[storage.SUPPORTERS].find_one({"_id": "s1"})["updates"] == "asked"
    assert len(emails(db, supporter_id="s1", kind=supporters.CONFIRM)) == 2


def test_news_reaches_every_confirmed_supporter_once_a_bounded_page_at_a_time(db_for):
    db = db_for("notify")
    kept, queue = ports(db)
    confirmed = [f"s{n:03d}" for n in range(supporters.PAGE * 2 + 50)]
    for signature_id in confirmed + ["asked-only"]:
        supporters.email_given(kept, queue, given(signature_id, T0), T0)
    for signature_id in confirmed:
        supporters.updates_changed(kept, changed(signature_id, "confirmed", T0 + timedelta(seconds=1)))
    kept.has_news({"campaign_id": "c1", "news_id": "n1", "at": T0 + timedelta(minutes=1)})
    kept.has_news({"campaign_id": "c1", "news_id": "n1", "at": T0 + timedelta(minutes=1)})  # a copy

    pages = []
    while True:
        queued = supporters.fan_out(kept, queue, T0 + timedelta(minutes=2))
        if not queued:
            break
        pages.append(queued)
    assert pages == [supporters.PAGE, supporters.PAGE, 50]
    news = emails(db, kind=supporters.NEWS)
    assert sorted(e["supporter_id"] for e in news) == confirmed  # once each; not the unconfirmed one
    assert all(e["status"] == retry.PENDING for e in news)
    assert db[storage.CAMPAIGN_NEWS].find_one({"_id": "c1"})["pending"] is False
    assert supporters.fan_out(kept, queue, T0 + timedelta(minutes=3)) == 0  # nothing left to read


def test_a_paused_campaign_sends_no_news_even_already_queued(db_for):
    db = db_for("notify")
    kept, queue = ports(db)
    supporters.email_given(kept, queue, given("s1", T0, "c2"), T0)
    supporters.updates_changed(kept, changed("s1", "confirmed", T0 + timedelta(seconds=1), "c2"))
    kept.has_news({"campaign_id": "c2", "news_id": "n1", "at": T0})
    assert supporters.fan_out(kept, queue, T0) == 1
    queued = emails(db, kind=supporters.NEWS)[0]
    assert supporters.sealed_for(kept, queued) == ("sealed-s1", "token-s1")

    paused = {"campaign_id": "c2", "mode": "paused", "version": 7}
    supporters.campaign_changed(kept, paused)
    assert supporters.sealed_for(kept, queued) is None
    kept.has_news({"campaign_id": "c2", "news_id": "n2", "at": T0 + timedelta(minutes=1)})
    assert supporters.fan_out(kept, queue, T0) == 0  # news that overtook the pause goes nowhere
    supporters.campaign_changed(kept, dict(paused, mode="public", version=6))  # an older change, late
    assert supporters.sealed_for(kept, queued) is None
