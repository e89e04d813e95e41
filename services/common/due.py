"""Finding work that falls due, without reading everything that is not due yet.

`{"expires_at": {"$lte": now}}` cannot be served by an index on FerretDB (only top-level
equality is pushed down to its backend), so a timer asking it every few seconds decodes every
open item, a cost that grows with the data. Instead each item also stores the minute it falls due
in (`slot`), and a timer asks for the last few minutes by equality, which an index serves; the
few items of the current minute not due yet are left for the next tick. A slower sweep with the
plain range query (at start-up and every few minutes) catches whatever a stopped or stalled
process missed.
"""
from datetime import timedelta, timezone

SLOT_FORMAT = "%Y-%m-%dT%H:%M"
# A tick looks this many minutes back: a timer that stalls for less than that misses nothing.
LOOK_BACK_MINUTES = 3
SWEEP_INTERVAL_S = 600


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


def due_in_recent_slots(collection, condition, slot_field, time_field, now, limit, projection=None):
    """The items matching `condition` whose `time_field` is past, from the last few minutes' slots."""
    found = []
    for minute in slots_between(now - timedelta(minutes=LOOK_BACK_MINUTES - 1), now):
        for item in collection.find(dict(condition, **{slot_field: minute}), projection):
            if item[time_field] <= now:
                found.append(item)
                if len(found) >= limit:
                    return found
    return found
