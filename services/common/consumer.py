"""`consumes`: the one way a service handles an event.

It wraps nameko's `event_handler` with what every consumer needs:
- the envelope and data are validated against the contract; an invalid event is logged (its id
  only, never its body) and dropped, since redelivering it would fail the same way;
- an event whose id is already in the service's ledger is skipped (at-least-once delivery);
- any other failure (database or index down) requeues the event after a pause, so nothing is lost
  and the consumer does not spin; after EVENT_DELIVERY_LIMIT deliveries the broker moves it to
  the dead-letter queue (services/common/topology.py), so one poison message cannot hold a
  worker forever.

The decorated method receives a parsed `Event`. The service must have a `db` dependency (its
Mongo database), where the ledger of handled event ids lives.
"""
import functools
import logging

import eventlet
from marshmallow import ValidationError
from pymongo.errors import DuplicateKeyError

from .events import parse_event, utcnow
from .topology import QuorumEventHandler

log = logging.getLogger(__name__)

LEDGER = "handled_events"
RETRY_PAUSE_S = 1.0


def already_handled(db, event_id):
    return db[LEDGER].find_one({"_id": event_id}, {"_id": 1}) is not None


def mark_handled(db, event_id, event_type):
    try:
        db[LEDGER].insert_one({"_id": event_id, "event_type": event_type, "handled_at": utcnow()})
    except DuplicateKeyError:
        pass


def consumes(source, event_type):
    def decorator(method):
        @functools.wraps(method)
        def handle(self, payload):
            try:
                event = parse_event(source, event_type, payload)
            except ValidationError as exc:
                event_id = payload.get("event_id") if isinstance(payload, dict) else None
                log.error("dropping invalid %s.%s event %s: bad fields %s",
                          source, event_type, event_id, sorted(exc.messages))
                return None
            if already_handled(self.db, event.event_id):
                return None
            try:
                result = method(self, event)
            except Exception:
                log.warning("handling %s %s failed; requeueing", event_type, event.event_id, exc_info=True)
                eventlet.sleep(RETRY_PAUSE_S)
                raise
            mark_handled(self.db, event.event_id, event_type)
            return result

        return QuorumEventHandler.decorator(source, event_type, requeue_on_error=True)(handle)

    return decorator
