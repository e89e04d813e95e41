"""Timers read only what is due (services/common/store/due.py), on the real store: a checkpoint instead
of a sweep over every open item, catching up after any stop, a bounded page per tick. Store
commands are counted (services/common/store/commandcount.py): they do not depend on the machine."""
from datetime import datetime, timedelta, timezone

import pytest

from services.common.store import due
from services.common.store.commandcount import COUNTER

T0 = datetime(2026, 3, 1, 12, 0, 30, tzinfo=timezone.utc)


@pytest.fixture
def items(db_for):
    db = db_for("duetest")
    db.drop_collection("items")
    db.drop_collection(due.CHECKPOINTS)
    db["items"].create_index("due_slot")
    return db["items"]


def add(collection, when, n, prefix):
    collection.insert_many([{"_id": f"{prefix}-{i}", "status": "open", "due_at": when, "due_slot": due.slot(when)}
                            for i in range(n)])


def walker(collection, handed):
    def handle(found):
        for item in found:
            handed.append(item["_id"])
            collection.update_one({"_id": item["_id"], "status": "open"}, {"$set": {"status": "done"}})

    def walk(now, first_sweep=None):
        return due.walk_due(collection, "test.walk", {"status": "open"}, "due_slot", "due_at", now, handle,
                            page=50, first_sweep=first_sweep)
    return walk


def commands(collection, action):
    before = COUNTER.total(collection.database.name)
    action()
    return COUNTER.total(collection.database.name) - before


def test_a_process_down_for_an_hour_catches_up_from_its_checkpoint_reading_nothing_not_due(items):
    handed = []
    walk = walker(items, handed)
    walk(T0)  # the first tick leaves a checkpoint
    for minute in range(60):  # then an hour with a few items falling due every minute...
        add(items, T0 + timedelta(minutes=minute, seconds=10), 3, f"m{minute}")
    add(items, T0 + timedelta(days=2), 500, "later")  # ...and many that are not due for days
    # The old timer looked 3 minutes back and left the rest to a sweep decoding every open item.
    walk(T0 + timedelta(minutes=60, seconds=20))
    assert sorted(handed) == sorted(f"m{m}-{i}" for m in range(60) for i in range(3))
    assert len(handed) == len(set(handed))
    assert items.count_documents({"status": "open"}) == 500


def test_a_quiet_tick_costs_two_commands_whatever_waits(items):
    handed = []
    walk = walker(items, handed)
    walk(T0)
    add(items, T0 + timedelta(days=2), 2000, "later")
    quiet = commands(items, lambda: walk(T0 + timedelta(seconds=5)))
    next_minute = commands(items, lambda: walk(T0 + timedelta(minutes=1)))
    assert handed == [] and quiet == 2, quiet  # the checkpoint, the current minute
    assert next_minute == 4, next_minute  # + the minute that ended, + moving the checkpoint


def test_a_backlog_is_taken_in_bounded_pages_and_nothing_is_skipped(items):
    handed = []
    walk = walker(items, handed)
    walk(T0)
    add(items, T0 + timedelta(seconds=20), 50 * due.MAX_PAGES + 70, "burst")
    add(items, T0 + timedelta(minutes=1, seconds=5), 5, "after")
    first = commands(items, lambda: walk(T0 + timedelta(minutes=2)))
    assert len(handed) == 50 * due.MAX_PAGES  # a tick's worth
    assert first <= due.MAX_PAGES * 51 + 3  # each page: one query and the handler's moves
    walk(T0 + timedelta(minutes=2, seconds=5))
    assert sorted(handed) == sorted([f"burst-{i}" for i in range(50 * due.MAX_PAGES + 70)] +
                                    [f"after-{i}" for i in range(5)])


def test_the_first_tick_of_a_database_sweeps_what_fell_due_before_any_checkpoint(items):
    handed = []
    walk = walker(items, handed)
    add(items, T0 - timedelta(days=1), 30, "old")
    add(items, T0 + timedelta(hours=2), 30, "future")

    def overdue(limit):
        return list(items.find({"status": "open", "due_at": {"$lte": T0}}).limit(limit))

    walk(T0, first_sweep=overdue)
    assert sorted(handed) == sorted(f"old-{i}" for i in range(30))
    walk(T0 + timedelta(hours=2, minutes=1), first_sweep=overdue)  # from the checkpoint: the sweep ran once
    assert len(handed) == 60


def test_a_timer_says_how_far_behind_it_is_without_a_command_of_its_own(items):
    """What /metrics shows as allies_due_behind_seconds: the end of the last minute handled, against now."""
    from services.common.store import backlog
    handed = []
    walk = walker(items, handed)
    walk(T0)
    behind, before = backlog.snapshot()[1]["test.walk"]
    assert behind == 30.0  # through 11:59, 30 s into 12:00
    add(items, T0 + timedelta(minutes=5), 120, "late")
    # Five minutes later, a tick that may read one page only (page 50, MAX_PAGES forced to 1) is behind.
    original = due.MAX_PAGES
    due.MAX_PAGES = 1
    try:
        walk(T0 + timedelta(minutes=6))
    finally:
        due.MAX_PAGES = original
    behind, total = backlog.snapshot()[1]["test.walk"]
    assert behind == 90.0 and total - before == 50  # stopped inside 12:05: through 12:04 (ends 12:05) at 12:06:30
    walk(T0 + timedelta(minutes=6))
    assert backlog.snapshot()[1]["test.walk"][0] == 30.0 and len(handed) == 120
