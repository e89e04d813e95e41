"""The event ledger's contract, held by the real one (on the MongoDB-wire server) and the
in-memory one unit tests use: one claim at a time, handled is final, a lease runs out."""
import uuid
from datetime import timedelta

import pytest

from services.common.store import mongo
from services.common.bus.events import utcnow
from services.common.store.ledger import BUSY, DONE, HANDLED, HANDLING, LEDGER, MINE, EventLedger

from .fake_ledger import MemoryLedger


@pytest.fixture(params=["mongo", "memory"])
def ledger(request, config):
    if request.param == "memory":
        yield MemoryLedger()
        return
    client = mongo.connect(config)
    collection = client[f"{config['DB_PREFIX']}_ledger_contract"][LEDGER]
    collection.database["checkpoints"].drop()
    collection.create_index("day")
    yield EventLedger(collection)
    collection.drop()
    collection.database["checkpoints"].drop()
    client.close()


def ids():
    return str(uuid.uuid4()), uuid.uuid4().hex, uuid.uuid4().hex


def test_one_copy_claims_the_other_waits_then_sees_it_handled(ledger):
    event_id, first, second = ids()
    now = utcnow()
    assert ledger.claim(event_id, "request_created", first, now) == MINE
    assert ledger.claim(event_id, "request_created", second, now) == BUSY
    assert ledger.state(event_id) == HANDLING
    ledger.finish(event_id, first, now)
    assert ledger.claim(event_id, "request_created", second, now) == DONE
    assert ledger.claim(event_id, "request_created", first, now) == DONE
    assert ledger.state(event_id) == HANDLED


def test_the_owner_renews_its_own_claim(ledger):
    event_id, owner, _ = ids()
    now = utcnow()
    assert ledger.claim(event_id, "request_created", owner, now) == MINE
    assert ledger.claim(event_id, "request_created", owner, now + timedelta(seconds=1)) == MINE


def test_a_claim_whose_owner_died_is_taken_over_after_its_lease(ledger):
    event_id, dead, alive = ids()
    now = utcnow()
    assert ledger.claim(event_id, "request_created", dead, now, lease_s=5) == MINE
    assert ledger.claim(event_id, "request_created", alive, now + timedelta(seconds=4)) == BUSY
    assert ledger.claim(event_id, "request_created", alive, now + timedelta(seconds=6)) == MINE
    ledger.finish(event_id, dead, now + timedelta(seconds=7))  # too late: no longer its claim
    assert ledger.state(event_id) == HANDLING
    ledger.finish(event_id, alive, now + timedelta(seconds=7))
    assert ledger.state(event_id) == HANDLED


def test_a_released_claim_can_be_claimed_at_once(ledger):
    event_id, failed, retry = ids()
    now = utcnow()
    assert ledger.claim(event_id, "request_created", failed, now) == MINE
    ledger.release(event_id, retry)  # not its claim: nothing happens
    assert ledger.claim(event_id, "request_created", retry, now) == BUSY
    ledger.release(event_id, failed)
    assert ledger.state(event_id) is None
    assert ledger.claim(event_id, "request_created", retry, now) == MINE


def test_a_handled_event_stays_handled(ledger):
    event_id, owner, other = ids()
    now = utcnow()
    ledger.claim(event_id, "request_created", owner, now)
    ledger.finish(event_id, owner, now)
    ledger.release(event_id, owner)  # a handled record is never released
    assert ledger.claim(event_id, "request_created", other, now + timedelta(days=1)) == DONE


def test_records_of_the_old_ledger_count_as_handled(config):
    """Before claims, the ledger held {_id, event_type, handled_at}: those events were handled."""
    client = mongo.connect(config)
    collection = client[f"{config['DB_PREFIX']}_ledger_contract"][LEDGER]
    try:
        event_id = str(uuid.uuid4())
        collection.insert_one({"_id": event_id, "event_type": "request_created", "handled_at": utcnow()})
        assert EventLedger(collection).claim(event_id, "request_created", "someone", utcnow()) == DONE
    finally:
        collection.drop()
        client.close()


def test_records_expire_a_whole_day_at_a_time_after_the_retention(ledger):
    """A few days of events instead of every event ever handled; whole days go, each once."""
    today = utcnow().replace(hour=12)
    events = {age: [ids() for _ in range(3)] for age in (6, 5, 4, 3, 0)}  # days ago
    for age, claims in events.items():
        for event_id, owner, _ in claims:
            ledger.claim(event_id, "request_created", owner, today - timedelta(days=age))
            ledger.finish(event_id, owner, today - timedelta(days=age))
    assert ledger.expire(today, retain_days=3) == 9  # the days past retention: 6, 5 and 4 days ago
    assert [ledger.state(e) for e, _, _ in events[6] + events[5] + events[4]] == [None] * 9
    assert [ledger.state(e) for e, _, _ in events[3] + events[0]] == [HANDLED] * 6
    assert ledger.expire(today, retain_days=3) == 0  # once a day is gone, it is not asked again
    assert ledger.expire(today + timedelta(days=1), retain_days=3) == 3  # the next day, the next day's
    assert [ledger.state(e) for e, _, _ in events[3]] == [None] * 3
    assert [ledger.state(e) for e, _, _ in events[0]] == [HANDLED] * 3
