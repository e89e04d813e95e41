"""The ledger of events a service handled, and of the ones it is handling right now.

At-least-once delivery sends some events twice, and two copies can arrive together: an outbox's
relay timer and the write's own flush both publishing it (services/common/store/outbox.py), or the
broker redelivering an event whose consumer lost its connection while still at work. Checking
"handled?" before and recording "handled" after let both copies through at once; for matching
that meant two top-ups of one need, each proposing a different volunteer (the fault suite caught
one need proposed twice under MATCH_TOP_K=1).

So a copy first *claims* its event: one insert keyed by the event id, which only one copy can
make. The claim names its owner (one delivery: a fresh token) and a lease. Another copy that finds
it waits for the outcome: "handled" ends its wait, a lease run out (its owner died) lets it take
the claim over. A claim's owner that fails for a bug releases it, so the redelivery need not wait
out the lease; one that waits out an outage keeps it and renews it on each try. Records written
before claims existed (no `state`) count as handled. The common case costs what the old ledger
did: an insert and an update instead of a read and an insert.

Records expire: each carries the day it was claimed (`day`, indexed), and `expire` deletes whole
days older than `RETAIN_DAYS`, one indexed delete per day since its checkpoint, so the ledger
holds a few days of events instead of every event ever handled, and nothing scans it (FerretDB
has no TTL index; this is the same shape). Records from before `day` existed are left as they are.
"""
from datetime import datetime, timedelta, timezone

from pymongo.errors import DuplicateKeyError

from services.common.store.due import CHECKPOINTS, save_checkpoint

LEDGER = "handled_events"
HANDLED, HANDLING = "handled", "handling"
# What `claim` says: go ahead; it was handled already; another copy is at it now (wait).
MINE, DONE, BUSY = "mine", "done", "busy"
# Far longer than any handler takes; while a handler waits out an outage it renews its claim on
# every try. A claim whose owner was killed holds its copies back this long.
LEASE_S = 30.0
# Far longer than a redelivery can lag (the broker's delivery limit, an outage waited out): a copy
# of an event arriving after its record expired would be handled again.
RETAIN_DAYS = 3
EXPIRY_CHECKPOINT = "ledger.expire"
DAY_FORMAT = "%Y-%m-%d"
# Days deleted in one run at most (a process stopped for weeks catches up over several runs).
MAX_DAYS_PER_RUN = 31


def day_of(now):
    return now.astimezone(timezone.utc).strftime(DAY_FORMAT)


def _day(text):
    return datetime.strptime(text, DAY_FORMAT).replace(tzinfo=timezone.utc)


def days_to_expire(through, now, retain_days):
    """The days whose records go now: after the checkpoint `through` (None: the first run, the
    last `MAX_DAYS_PER_RUN` such days), up to `retain_days` before today."""
    last = _day(day_of(now)) - timedelta(days=retain_days + 1)
    day = last - timedelta(days=MAX_DAYS_PER_RUN - 1) if through is None else _day(through) + timedelta(days=1)
    found = []
    while day <= last and len(found) < MAX_DAYS_PER_RUN:
        found.append(day_of(day))
        day += timedelta(days=1)
    return found


class EventLedger:
    """The ledger over the service's `handled_events` collection (all lookups by `_id`)."""

    def __init__(self, collection):
        self.collection = collection

    def claim(self, event_id, event_type, owner, now, lease_s=LEASE_S):
        until = now + timedelta(seconds=lease_s)
        try:
            self.collection.insert_one({"_id": event_id, "event_type": event_type, "state": HANDLING,
                                        "owner": owner, "until": until, "day": day_of(now)})
            return MINE
        except DuplicateKeyError:
            pass
        current = self.collection.find_one({"_id": event_id})
        if current is None:
            return BUSY  # released a moment ago: claim again
        if current.get("state", HANDLED) == HANDLED:
            return DONE
        if current["owner"] != owner and current["until"] > now:
            return BUSY
        # Our own claim (an earlier try of this delivery), or one whose owner is gone: renew or
        # take it over, unless someone else did so first.
        taken = self.collection.update_one(
            {"_id": event_id, "state": HANDLING, "owner": current["owner"], "until": current["until"]},
            {"$set": {"owner": owner, "until": until}})
        return MINE if taken.modified_count == 1 else BUSY

    def finish(self, event_id, owner, now):
        """Handled. A claim taken over meanwhile is its new owner's to finish."""
        self.collection.update_one({"_id": event_id, "owner": owner},
                                   {"$set": {"state": HANDLED, "handled_at": now}, "$unset": {"until": ""}})

    def release(self, event_id, owner):
        """Give up a claim (the handler failed): the next copy may claim at once."""
        self.collection.delete_one({"_id": event_id, "owner": owner, "state": HANDLING})

    def state(self, event_id):
        """HANDLED, HANDLING or None (for tests and operators)."""
        current = self.collection.find_one({"_id": event_id})
        return None if current is None else current.get("state", HANDLED)

    def expire(self, now, retain_days=RETAIN_DAYS):
        """Delete the records of the days more than `retain_days` before today that the last run
        did not delete; returns how many went."""
        checkpoints = self.collection.database[CHECKPOINTS]
        state = checkpoints.find_one({"_id": EXPIRY_CHECKPOINT})
        days = days_to_expire(state and state["through"], now, retain_days)
        removed = sum(self.collection.delete_many({"day": day}).deleted_count for day in days)
        if days:
            save_checkpoint(checkpoints, EXPIRY_CHECKPOINT, days[-1])
        return removed
