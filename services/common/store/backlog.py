"""How far behind the store's background work is, as the work itself last saw it.

Two kinds of work run on timers and can fall behind without anyone noticing:
- the outbox relay (`outbox.flush_pending`): documents whose events are written but not yet
  published, because a process died between the two or the broker refused them;
- timers walking due items (`due.walk_due`): how far the timer's checkpoint is behind the clock;
- queues a timer takes a page of at a time (emails, texts, webhooks, received signatures): how many
  the last tick took, against its page (a full page tick after tick is a queue growing).

Each records what it saw at its last run here, costing no store command of its own; the process's
/metrics shows it (services/common/metrics.py), and the alert rules watch it grow.
"""
import threading

_LOCK = threading.Lock()
_OUTBOX = {}   # collection: documents flagged at the relay's last look (at most its page)
_TIMERS = {}   # timer: (seconds behind the clock, items handed over in all)
_QUEUES = {}   # queue: (taken at the last tick, the page it may take)


def outbox_seen(collection, pending):
    with _LOCK:
        _OUTBOX[collection] = pending


def timer_walked(name, behind_seconds, handed):
    with _LOCK:
        _, total = _TIMERS.get(name, (0.0, 0))
        _TIMERS[name] = (max(0.0, behind_seconds), total + handed)


def queue_taken(name, taken, page):
    with _LOCK:
        _QUEUES[name] = (taken, page)


def snapshot():
    """({collection: pending}, {timer: (behind_seconds, handed_total)}, {queue: (taken, page)})"""
    with _LOCK:
        return dict(_OUTBOX), dict(_TIMERS), dict(_QUEUES)
