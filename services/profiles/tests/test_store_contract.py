"""One contract, two adapters: the in-memory stores the workflow's tests use (memory.py) behave as
the real ones over FerretDB do (storage.py)."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.common.bus.events import utcnow
from services.common.errors import Conflict
from services.profiles import accounts, memory, storage
from tests.support import STORE_ADAPTERS, store_adapter


@pytest.fixture(params=STORE_ADAPTERS)
def stores(request):
    return store_adapter(
        request, "profiles",
        lambda: (memory.InMemoryAccountStore(), memory.InMemorySessionStore(), memory.InMemoryAttemptStore()),
        lambda db: (storage.AccountStore(db), storage.SessionStore(db), storage.AttemptStore(db)), storage.prepare)


def account(**fields):
    handle = f"h{uuid.uuid4().hex[:10]}"
    return {"_id": uuid.uuid4().hex, "handle": handle, "handle_key": handle, "password_hash": "x", "role": "volunteer",
            "status": "active", "verified": False, "profile": {}, "version": 1, "created_at": utcnow(),
            "updated_at": utcnow()} | fields


def event(name):
    return {"event_id": uuid.uuid4().hex, "event_type": name}


def test_an_account_is_stored_once_per_handle_changed_by_version_and_buried_holding_its_handle(stores):
    accounts_store = stores[0]
    published = []
    first = account()
    registered = event("profile_registered")
    accounts_store.publish(accounts_store.insert(first, [registered]), lambda t, e: published.append(e["event_id"]))
    with pytest.raises(Conflict):
        accounts_store.insert(account(handle_key=first["handle_key"]), [])
    assert accounts_store.find_by_handle_key(first["handle_key"])["_id"] == first["_id"]
    changed = accounts_store.update(first["_id"], lambda current: {"verified": True}, lambda after: [event("u")])
    assert changed["version"] == 2 and accounts_store.find(first["_id"])["verified"] is True
    accounts_store.flush(first["_id"], lambda t, e: published.append(e["event_id"]))
    assert published[0] == registered["event_id"] and len(published) == 2
    accounts_store.set_password_hash(first["_id"], "y")
    assert accounts_store.find(first["_id"])["password_hash"] == "y"
    now = utcnow()
    held = accounts.held_handle_key("k" * 44, first["handle_key"])
    accounts_store.replace_with_tombstone(accounts_store.find(first["_id"]),
                                          accounts.tombstone(accounts_store.find(first["_id"]), now, held), [])
    assert accounts_store.find(first["_id"]) is None
    assert first["_id"] not in [a["_id"] for a in accounts_store.export_page(None, 100_000)]
    with pytest.raises(Conflict):
        accounts_store.check_handle_free(held, now + timedelta(days=300))
    accounts_store.check_handle_free(held, now + accounts.HANDLE_HELD + timedelta(seconds=1))
    accounts_store.check_handle_free(held, now)  # let go of
    assert accounts_store.update(uuid.uuid4().hex, lambda current: {}, lambda after: []) is None


def test_sessions_are_found_by_id_and_ended_one_or_all(stores):
    sessions = stores[1]
    owner, now = uuid.uuid4().hex, datetime.now(timezone.utc)
    ids = [uuid.uuid4().hex for _ in range(3)]
    for n, session_id in enumerate(ids):
        sessions.insert({"_id": session_id, "account_id": owner, "created_at": now,
                         "expires_at": now + timedelta(hours=1 if n else -1)})
    assert sessions.find(ids[1])["account_id"] == owner
    assert sessions.purge_expired(now) >= 1 and sessions.find(ids[0]) is None
    sessions.delete(ids[1])
    assert sessions.find(ids[1]) is None
    assert sessions.delete_of(owner) == 1 and sessions.find(ids[2]) is None


def test_failures_count_per_pair_account_and_source_and_a_success_clears_the_accounts(stores):
    attempts = stores[2]
    handle, source, other = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    for _ in range(2):
        attempts.record_failure(handle, source, 900)
    attempts.record_failure(handle, other, 900)
    found = attempts.failures(handle, source, 900)
    assert (found["pair"][0], found["account"][0], found["source"][0]) == (2, 3, 2)
    attempts.clear_failures(handle, other)  # the owner, elsewhere: the account is clean again
    found = attempts.failures(handle, source, 900)
    assert (found["pair"][0], found["account"][0], found["source"][0]) == (2, 0, 2)
    assert attempts.count_sign_up(source, 3600) == 1 and attempts.count_sign_up(source, 3600) == 2
    attempts.clear_failures(handle)
    assert attempts.failures(handle, source, 900)["pair"] == (0, None)


def test_a_channel_finds_its_account_by_keyed_hash_and_a_link_code_finds_its_account_until_it_expires(stores):
    accounts_, _, _ = stores
    key, other = f"sms:{uuid.uuid4().hex}", f"sms:{uuid.uuid4().hex}"
    linked = account(channel_keys=[key], channels_sealed={"sms": "sealed-number"})
    accounts_.insert(linked, [])
    assert accounts_.find_by_channel_key(key)["_id"] == linked["_id"]
    assert accounts_.find_by_channel_key(other) is None

    now = utcnow()
    code, later = uuid.uuid4().hex, uuid.uuid4().hex
    accounts_.set_link_code(linked["_id"], code, now + timedelta(minutes=15))
    assert accounts_.find_by_link_code(code, now)["_id"] == linked["_id"]
    assert accounts_.find_by_link_code(code, now + timedelta(minutes=16)) is None  # expired
    accounts_.set_link_code(linked["_id"], later, now + timedelta(minutes=15))  # a new one replaces it
    assert accounts_.find_by_link_code(code, now) is None
    assert accounts_.find_by_link_code(later, now)["_id"] == linked["_id"]


def test_check_ins_fall_due_once_resume_once_and_only_live_ones_are_read(stores):
    accounts_, _, _ = stores
    published = []
    now = utcnow().replace(microsecond=0)
    due, later, other = account(), account(), account()
    for each in (due, later, other):
        accounts_.insert(each, [])
    check_in = {"interval_s": 3600, "due_at": now - timedelta(minutes=1), "missed_at": None, "helpers": ["m1"],
                "campaigns": [], "message_sealed": "sealed", "set_at": now}
    accounts_.set_check_in(due["_id"], check_in, "duress-hash", "decoy-1")
    accounts_.set_check_in(later["_id"], dict(check_in, due_at=now + timedelta(hours=1)))
    def walk(at):
        """The timer's walk, whose handler marks each missed (as it must: that takes it out)."""
        handed = []

        def miss(found):
            for each in found:
                handed.append(each["_id"])
                accounts_.check_in_missed(each["_id"], each["check_in"]["due_at"], now, [event("check_in_missed")])
        accounts_.walk_due_check_ins(at, miss)
        return [each for each in handed if each in (due["_id"], later["_id"], other["_id"])]

    assert walk(now) == [due["_id"]]
    assert accounts_.find(due["_id"])["duress_hash"] == "duress-hash"

    first_due = now - timedelta(minutes=1)
    assert not accounts_.check_in_missed(due["_id"], first_due, now, [event("check_in_missed")])  # once: done
    accounts_.flush(due["_id"], lambda t, e: published.append(t))
    assert published == ["check_in_missed"]
    assert walk(now + timedelta(minutes=5)) == []  # missed: no longer in any minute
    assert accounts_.find(due["_id"])["check_in"]["missed_at"] == now

    assert accounts_.checked_in(due["_id"], now + timedelta(hours=1), [event("check_in_resumed")])
    assert not accounts_.checked_in(due["_id"], now + timedelta(hours=2), [event("check_in_resumed")])
    accounts_.flush(due["_id"], lambda t, e: published.append(t))
    assert published == ["check_in_missed", "check_in_resumed"]
    kept = accounts_.find(due["_id"])["check_in"]
    assert kept["missed_at"] is None and kept["due_at"] == now + timedelta(hours=2)

    accounts_.set_check_in(due["_id"], None)  # stopped: the duress password goes with it
    assert "check_in" not in accounts_.find(due["_id"]) and "duress_hash" not in accounts_.find(due["_id"])
    decoy = account(decoy_of=due["_id"])
    accounts_.insert_decoy(decoy)
    assert accounts_.find(decoy["_id"])["decoy_of"] == due["_id"]
    assert decoy["_id"] not in [a["_id"] for a in accounts_.export_page(None, 1000)]
    accounts_.delete_decoy(due["_id"])  # only an empty account is ever deleted so
    accounts_.delete_decoy(decoy["_id"])
    assert accounts_.find(decoy["_id"]) is None and accounts_.find(due["_id"]) is not None
