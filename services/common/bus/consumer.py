"""`consumes`: the one way a service handles an event.

It wraps nameko's `event_handler` with what every consumer needs:
- the envelope and data are validated against the contract; an invalid event is logged (its id
  only, never its body) and dropped, since redelivering it would fail the same way;
- an event whose id is already in the service's ledger is skipped (at-least-once delivery), and
  two copies of one event are never handled at once: each first claims it (ledger.py); a
  handler whose every write is already idempotent by itself (conditioned on the aggregate's
  version, or a minimum, as search's are) says `ledger=False` and saves the ledger's two
  writes on every event: two of the six database operations search made per event;
- while a server the handler needs is unreachable (the database or the index restarting), the
  handler waits and tries again, holding the event, for as long as the outage lasts: an outage
  is not the event's fault, and counting it against the delivery limit would dead-letter every
  event that arrived during a minute's restart;
- any other failure (a bug meeting this event) requeues the event after a pause, so the consumer
  does not spin; after EVENT_DELIVERY_LIMIT deliveries the broker moves it to the dead-letter
  queue (services/common/bus/topology.py), so one poison message cannot hold a worker forever.

The decorated method receives a parsed `Event`. The service must have a `db` dependency (its
Mongo database), where the ledger of handled event ids lives (or an `event_ledger` attribute, as
unit tests give it).
"""
import functools
import logging
import uuid

import eventlet
from marshmallow import ValidationError
from nameko.timer import timer

from services.common.bus.events import Envelope, data_schema, parse_event, utcnow
from services.common.store.ledger import BUSY, DONE, LEDGER, RETAIN_DAYS, EventLedger
from services.common.outage import is_outage, pauses
from services.common.bus.topology import QuorumEventHandler

log = logging.getLogger(__name__)

RETRY_PAUSE_S = 1.0
# How often a copy of an event that another copy is handling looks again.
BUSY_PAUSE_S = 0.2


def _ledger(service):
    return getattr(service, "event_ledger", None) or EventLedger(service.db[LEDGER])


def _printable_id(value):
    """The event's id if it is one (a UUID); a log line never carries what a sender made up."""
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _bad_fields(source, event_type, messages):
    """The contract's names of the fields at fault; a name the sender made up (an unknown field)
    is not repeated."""
    known = set(Envelope().fields) | set(data_schema(source, event_type).fields) | {"_schema"}
    return sorted({name if name in known else "(unknown field)" for name in
                   (messages if isinstance(messages, dict) else ["_schema"])})


def _release(events, event_id, owner):
    """Best effort: a claim not released runs out with its lease."""
    try:
        events.release(event_id, owner)
    except Exception:  # noqa: BLE001
        log.warning("could not release the claim on event %s; it runs out with its lease", event_id)


def consumes(source, event_type, ledger=True):
    def decorator(method):
        def handle_once(self, event, owner):
            if not ledger:
                return method(self, event)
            events = _ledger(self)
            while True:
                claimed = events.claim(event.event_id, event_type, owner, utcnow())
                if claimed == DONE:
                    return None
                if claimed != BUSY:
                    break
                eventlet.sleep(BUSY_PAUSE_S)  # another copy is at it: wait for its outcome
            try:
                result = method(self, event)
            except Exception as exc:
                if not is_outage(exc):
                    _release(events, event.event_id, owner)
                raise
            events.finish(event.event_id, owner, utcnow())
            return result

        @functools.wraps(method)
        def handle(self, payload):
            try:
                event = parse_event(source, event_type, payload)
            except ValidationError as exc:
                event_id = _printable_id(payload.get("event_id") if isinstance(payload, dict) else None)
                log.error("dropping invalid %s.%s event %s: bad fields %s",
                          source, event_type, event_id, _bad_fields(source, event_type, exc.messages))
                return None
            waits = pauses()
            owner = uuid.uuid4().hex  # this delivery: its tries renew one claim
            while True:
                try:
                    return handle_once(self, event, owner)
                except Exception as exc:
                    if not is_outage(exc):
                        log.warning("handling %s %s failed; requeueing", event_type, event.event_id, exc_info=True)
                        eventlet.sleep(RETRY_PAUSE_S)
                        raise
                    pause = next(waits)
                    # One line, no traceback: the cause is a server, not this event.
                    log.warning("handling %s %s waits %.1f s for a server: %s", event_type, event.event_id,
                                pause, type(exc).__name__)
                    eventlet.sleep(pause)

        return QuorumEventHandler.decorator(source, event_type, requeue_on_error=True)(handle)

    return decorator


class LedgerUpkeep:
    """Mixed into a service whose handlers keep a ledger: its records expire after
    LEDGER_RETAIN_DAYS (ledger.EventLedger.expire), checked hourly and at start-up. The service
    has `db` and `config`."""

    @timer(interval=3600, eager=True)
    def expire_ledger(self):
        removed = EventLedger(self.db[LEDGER]).expire(utcnow(), int(self.config.get("LEDGER_RETAIN_DAYS", RETAIN_DAYS)))
        if removed:
            log.info("ledger: %d records of handled events expired", removed)
