"""An in-memory EventLedger for unit tests; test_ledger.py holds it to the real one's contract."""
from datetime import timedelta

import pymongo.errors

from services.common.store.ledger import (BUSY, DONE, HANDLED, HANDLING, LEASE_S, MINE, RETAIN_DAYS, day_of,
                                    days_to_expire)


class MemoryLedger:
    def __init__(self, failures=0):
        self.records, self.failures = {}, failures
        self.expired_through = None

    def _maybe_fail(self):
        if self.failures:
            self.failures -= 1
            raise pymongo.errors.ServerSelectionTimeoutError("the database is restarting")

    def claim(self, event_id, event_type, owner, now, lease_s=LEASE_S):
        self._maybe_fail()
        until = now + timedelta(seconds=lease_s)
        current = self.records.get(event_id)
        if current is None:
            self.records[event_id] = {"state": HANDLING, "owner": owner, "until": until, "day": day_of(now)}
            return MINE
        if current["state"] == HANDLED:
            return DONE
        if current["owner"] != owner and current["until"] > now:
            return BUSY
        current.update(owner=owner, until=until)
        return MINE

    def finish(self, event_id, owner, now):
        current = self.records.get(event_id)
        if current is not None and current["owner"] == owner:
            current.update(state=HANDLED, until=None)

    def release(self, event_id, owner):
        current = self.records.get(event_id)
        if current is not None and current["owner"] == owner and current["state"] == HANDLING:
            del self.records[event_id]

    def state(self, event_id):
        current = self.records.get(event_id)
        return None if current is None else current["state"]

    def expire(self, now, retain_days=RETAIN_DAYS):
        days = set(days_to_expire(self.expired_through, now, retain_days))
        gone = [event_id for event_id, record in self.records.items() if record["day"] in days]
        for event_id in gone:
            del self.records[event_id]
        if days:
            self.expired_through = max(days | ({self.expired_through} - {None}))
        return len(gone)
