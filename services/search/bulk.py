"""The index writes of all of search's handlers, sent to Elasticsearch together (`_bulk`).

Each write used to be an HTTP request of its own, and Elasticsearch syncs its translog to disk at
the end of every request (`index.translog.durability: request`): a backlog of events, handled by
ten workers at once, paid for that ten times over. Now a handler hands its operations to the
`BulkWriter` and waits for their outcome; one sender sends what is waiting as one `_bulk` request,
and while that request is under way the next handlers' operations gather for the next one. So a
lone event waits for nothing more than its own request (no timer, no window), and under load the
requests grow instead of multiplying (group commit).

Each handler gets its own operations' outcome: a version conflict (an older or repeated write:
the writes carry external versions, indexing.py) and deleting what is not there are success, as
before; any other failed item raises in that handler alone (`ItemFailed`; Elasticsearch's
"too many requests" or "shards unavailable" count as an outage, waited out like one: consumer.py);
an outage of the whole request raises in every handler that was waiting on it.
"""
import logging

import eventlet
from eventlet.event import Event
from eventlet.queue import Empty, LightQueue
from nameko.extensions import DependencyProvider

from services.common.store import elastic
from services.common.outage import OUTAGE_STATUSES

log = logging.getLogger(__name__)

# Handlers' writes in one request at most; with search's workers (max_workers) it is rarely reached.
MAX_WRITES = 100


class ItemFailed(Exception):
    """One operation of a bulk request failed: its status and Elasticsearch's error type."""

    def __init__(self, status, error_type):
        super().__init__(f"index write failed: {status} {error_type}")
        self.status = status
        # Read by services.common.outage.is_outage: a node overloaded or recovering is an outage.
        self.outage = status in OUTAGE_STATUSES


def _failure(item):
    """None if this item of a bulk response is a success as the platform counts it."""
    [(action, result)] = item.items()
    status = result.get("status", 500)
    if status < 300 or status == 409 or (action == "delete" and status == 404):
        return None
    return ItemFailed(status, (result.get("error") or {}).get("type", "unknown"))


class BulkWriter:
    """Sends the operations that handlers `write` in as few `_bulk` requests as the load allows."""

    def __init__(self, client):
        self.client = client
        self.waiting = LightQueue()
        self.sender = None

    def start(self):
        self.sender = eventlet.spawn(self._send_forever)

    def stop(self):
        if self.sender is not None:
            self.sender.kill()
            self.sender = None

    def write(self, operations):
        """`operations`: [(action, document or None)] in `_bulk` form, e.g. ({"index": {"_index":
        ..., "_id": ..., "version": 3, "version_type": "external"}}, {...}). Returns once they are
        written; raises the first failure among them."""
        done = Event()
        self.waiting.put((operations, done))
        return done.wait()

    def _send_forever(self):
        while True:
            batch = [self.waiting.get()]
            while len(batch) < MAX_WRITES:
                try:
                    batch.append(self.waiting.get_nowait())
                except Empty:
                    break
            self._send(batch)

    def _send(self, batch):
        body = []
        for operations, _ in batch:
            for action, document in operations:
                body.append(action)
                if document is not None:
                    body.append(document)
        try:
            items = iter(self.client.bulk(operations=body)["items"])
            outcomes = []
            for operations, _ in batch:
                failures = [failure for failure in (_failure(next(items)) for _ in operations) if failure]
                outcomes.append(failures[0] if failures else None)
        except Exception as exc:  # the whole request: every handler waiting on it hears of it
            outcomes = [exc] * len(batch)
        for (_, done), outcome in zip(batch, outcomes):
            if outcome is None:
                done.send(None)
            else:
                done.send_exception(outcome)


class IndexWriter(DependencyProvider):
    """Injects the search service's one `BulkWriter` (with a client of its own)."""

    def setup(self):
        self.writer = BulkWriter(elastic.connect(self.container.config))

    def start(self):
        self.writer.start()

    def stop(self):
        self.writer.stop()
        self.writer.client.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.writer
