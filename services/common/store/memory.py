"""What every in-memory twin of a store shares: copies that a caller cannot change behind the
store's back, and an outbox (a document's events, kept until published), as the real stores'
outbox (outbox.py) keeps them on the document."""
import copy


def copied(document):
    return copy.deepcopy(document) if document is not None else None


class Outboxes:
    """Each document's pending events, published by `flush` oldest first."""

    def __init__(self):
        self.pending = {}

    def stage(self, doc_id, events):
        if events:
            self.pending.setdefault(doc_id, []).extend(events)

    def flush(self, doc_id, dispatch):
        events = self.pending.pop(doc_id, [])
        for event in events:
            dispatch(event["event_type"], event)
        return len(events)

    def flush_all(self, dispatch):
        for doc_id in list(self.pending):
            self.flush(doc_id, dispatch)
