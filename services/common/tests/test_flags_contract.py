"""One contract, two adapters: the flags store the workflows' tests use in memory behaves as the
real one over FerretDB."""
import uuid
from datetime import timedelta

import pytest

from services.common import flags
from services.common.errors import TooManyRequests
from tests.support import STORE_ADAPTERS, store_adapter


@pytest.fixture(params=STORE_ADAPTERS)
def store(request):
    return store_adapter(request, "requests", flags.InMemoryFlagStore, flags.FlagStore, flags.prepare)


def test_flags_are_raised_queued_resolved_and_forgotten(store):
    target, reporter, moderator = (uuid.uuid4().hex for _ in range(3))
    assert not store.is_open(target)
    store.raise_flag("request", target, moderator, "I want to read it")
    assert store.is_open(target) and not store.is_open(target, other_than=moderator)  # their own opens nothing
    store.raise_flag("request", target, reporter, "It names someone")
    assert store.is_open(target, other_than=moderator)
    queued = [f for f in store.open_flags() if f["target_id"] == target]
    assert [f["reason"] for f in queued] == ["I want to read it", "It names someone"]
    assert "reporter_id" not in queued[0]
    store.resolve(target, "dismissed")
    assert not store.is_open(target) and not [f for f in store.open_flags() if f["target_id"] == target]
    store.raise_flag("request", target, reporter, "Again")
    store.forget_target(target)
    assert not store.is_open(target)
    store.raise_flag("profile", reporter, moderator, "A troll")
    store.forget_person(reporter)
    assert not store.is_open(reporter)


def test_one_reporter_raises_a_bounded_number_an_hour(store):
    reporter = uuid.uuid4().hex
    for _ in range(3):
        store.raise_flag("request", uuid.uuid4().hex, reporter, "Look at this", limit=3)
    with pytest.raises(TooManyRequests):
        store.raise_flag("request", uuid.uuid4().hex, reporter, "And this", limit=3)


def _age(store, reporter, hours):
    """Move a reporter's flags `hours` into the past (each adapter keeps them its own way)."""
    back = timedelta(hours=hours)
    if isinstance(store, flags.InMemoryFlagStore):
        for flag in store.flags.values():
            if flag["reporter_id"] == reporter:
                flag["created_at"] -= back
    else:
        for flag in store.flags.find({"reporter_id": reporter}):
            store.flags.update_one({"_id": flag["_id"]}, {"$set": {"created_at": flag["created_at"] - back}})


def test_flags_from_more_than_an_hour_ago_do_not_count_against_the_bound(store):
    reporter = uuid.uuid4().hex
    for _ in range(3):
        store.raise_flag("request", uuid.uuid4().hex, reporter, "Look at this", limit=3)
    _age(store, reporter, 2)
    for _ in range(3):
        store.raise_flag("request", uuid.uuid4().hex, reporter, "And this", limit=3)
    with pytest.raises(TooManyRequests):
        store.raise_flag("request", uuid.uuid4().hex, reporter, "And this too", limit=3)
