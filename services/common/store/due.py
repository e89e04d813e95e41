"""Finding work that falls due, without reading everything that is not due yet.

`{"expires_at": {"$lte": now}}` cannot be served by an index on FerretDB (only top-level
equality is pushed down to its backend), so a timer asking it every few seconds decodes every
open item, a cost that grows with the data. Instead each item also stores the minute it falls due
in (`slot`), and a timer asks for minutes by equality, which an index serves.

`walk_due` is how a timer does it: a checkpoint document per timer says through which minute
everything is handled; each tick handles the minutes that ended since, oldest first, in bounded
pages (handled items leave the query's condition, so a page asks again until a minute is empty),
then the items of the current minute already due. A process that was stopped for an hour or a
day catches up from its checkpoint, minute by minute, with no look-back limit and without reading
any item that is not due: what the old 10-minute sweep did by decoding every open item.
"""
from datetime import datetime, timedelta, timezone

from services.common.store import backlog

SLOT_FORMAT = "%Y-%m-%dT%H:%M"
# One small document per timer, `{_id: name, through}`: shared by due.walk_due and the ledger's expiry.
CHECKPOINTS = "checkpoints"


def slot(when):
    """The minute `when` falls in, as the equality key stored beside it."""
    return when.astimezone(timezone.utc).strftime(SLOT_FORMAT)


def slot_for(due_at, now):
    """The slot to store for an item due at `due_at`: an item already due goes in the current minute,
    where the next tick looks, not in a past minute it may no longer look at."""
    return slot(max(due_at, now))


def slots_between(start, end):
    """Every minute from `start`'s to `end`'s, oldest first."""
    minute = start.astimezone(timezone.utc).replace(second=0, microsecond=0)
    found = []
    while minute <= end:
        found.append(slot(minute))
        minute += timedelta(minutes=1)
    return found


# Bounds of one tick: pages of `page` items, and minutes walked (an empty minute costs one query).
MAX_PAGES = 10
MAX_MINUTES = 180


def _minute(slot_text):
    return datetime.strptime(slot_text, SLOT_FORMAT).replace(tzinfo=timezone.utc)


def walk_due(collection, name, condition, slot_field, time_field, now, handle, page=200, projection=None,
             first_sweep=None):
    """Hand every item matching `condition` that is due by `now` to `handle(items)`, which must move
    each out of `condition` (expire it, mark it reminded) or raise. `name` names this timer's
    checkpoint (in the `checkpoints` collection of the same database). `first_sweep()`: the items
    due before any checkpoint existed (a range query, once per database: the first start after an
    upgrade). Returns how many items were handed over."""
    handed, through = _walk(collection, name, condition, slot_field, time_field, now, handle, page, projection,
                            first_sweep)
    # Everything due before the end of the minute `through` is handled: how far that is behind now.
    backlog.timer_walked(name, (now - _minute(through) - timedelta(minutes=1)).total_seconds(), handed)
    return handed


def _walk(collection, name, condition, slot_field, time_field, now, handle, page, projection, first_sweep):
    """walk_due's work: (items handed over, the minute through which everything is handled)."""
    checkpoints = collection.database[CHECKPOINTS]
    state = checkpoints.find_one({"_id": name})
    current = slot(now)
    if state is None:
        handed = 0
        if first_sweep is not None:
            for _ in range(MAX_PAGES):
                items = first_sweep(page)
                handle(items)
                handed += len(items)
                if len(items) < page:
                    break
            else:
                # more than a tick's worth overdue: the next tick sweeps on (behind since the epoch's
                # first minute, as far as anyone can tell)
                return handed, slot(datetime(1970, 1, 1, tzinfo=timezone.utc))
        through = slot(now - timedelta(minutes=1))
        save_checkpoint(checkpoints, name, through)
        return handed + _current(collection, condition, slot_field, time_field, now, handle, page, projection), through
    handed, pages, through = 0, 0, state["through"]
    minute = _minute(through) + timedelta(minutes=1)
    last_ended = _minute(current) - timedelta(minutes=1)
    walked = 0
    while minute <= last_ended and walked < MAX_MINUTES:
        while True:
            items = list(collection.find(dict(condition, **{slot_field: slot(minute)}), projection).limit(page))
            handle(items)
            handed += len(items)
            pages += 1
            if len(items) < page:
                break
            if pages >= MAX_PAGES:
                save_checkpoint(checkpoints, name, through)
                return handed, through  # a backlog: the next tick goes on from here
        through = slot(minute)
        minute += timedelta(minutes=1)
        walked += 1
    if through != state["through"]:
        save_checkpoint(checkpoints, name, through)
    if walked >= MAX_MINUTES and minute <= last_ended:
        return handed, through  # still catching up: the current minute waits for that
    return handed + _current(collection, condition, slot_field, time_field, now, handle, page, projection), through


def _current(collection, condition, slot_field, time_field, now, handle, page, projection):
    """The current minute's items that are already due (the rest wait for a later tick)."""
    items = [item for item in collection.find(dict(condition, **{slot_field: slot(now)}), projection).limit(page)
             if item[time_field] <= now]
    handle(items)
    return len(items)


def save_checkpoint(checkpoints, name, through):
    """Only forward: replicas walking the same minutes never move it back."""
    checkpoints.update_one({"_id": name}, {"$max": {"through": through}}, upsert=True)
