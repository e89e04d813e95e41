"""The requests database: one document per request, with its outbox and its text sealed; and flags."""
import uuid

from nameko.extensions import DependencyProvider

from services.common import flags
from services.common.bus.readmodel import apply_if_newer
from services.common.store import outbox, paging
from services.common.store.mongo import create_collections
from services.common.errors import Conflict
from services.common.bus.events import utcnow
from services.common.trust.textseal import BoundText

REQUESTS = "requests"
# Each time a moderator read a private request's text (while a flag on it was open): who, which,
# when; never the text. The operator's audit trail of the one exception to the promise that a
# private request is read by its author and confirmed helper only.
MODERATOR_READINGS = "moderator_readings"
# The mode of each campaign that caused a need here (from `campaign_changed`, newest version
# wins): a need posted while its campaign is paused is held from the start.
CAMPAIGN_MODES = "campaign_modes"
# A campaign causes at most this many needs (its asks and its letters' translations are capped
# there): what one pause or resume rewrites.
MAX_CAMPAIGN_NEEDS = 500


def prepare(db):
    db[REQUESTS].create_index("author_id")
    db[REQUESTS].create_index("status")
    db[REQUESTS].create_index("campaign_id")  # what a campaign's pause holds back
    create_collections(db, CAMPAIGN_MODES)  # found by _id only
    outbox.index(db[REQUESTS])
    db[MODERATOR_READINGS].create_index("request_id")
    db[MODERATOR_READINGS].create_index("moderator_id")
    flags.prepare(db)


class RequestText(BoundText):
    """A request's title and body at rest: a Fernet token (AES-128-CBC + HMAC-SHA256) made with
    the first of REQUEST_TEXT_KEYS, bound to the request's id; every key in the list opens, so
    keys rotate without downtime (`python -m services.requests.rotate_keys`). A private request's
    text is for its author and the helper they confirm only: a copy of the database must not
    give it away (public text is sealed the same way, so nothing changes when visibility does)."""

    def __init__(self, keys):
        super().__init__(keys, "REQUEST_TEXT_KEYS")

    def open(self, request_id, token):
        """(title, body)."""
        title, body = super().open(request_id, token)
        return title, body


class RequestStore:
    """The requests collection as the service uses it: text sealed on the way in, opened on the
    way out; every write with its events (the outbox)."""

    def __init__(self, db, text):
        self.db, self.collection, self.text = db, db[REQUESTS], text

    def _sealed(self, request_id, fields, current=None):
        """`fields` with title and body replaced by their sealed form (and the clear fields of a
        document written before text was sealed emptied)."""
        if "title" not in fields and "body" not in fields:
            return dict(fields)
        title = fields.get("title", (current or {}).get("title"))
        body = fields.get("body", (current or {}).get("body"))
        out = {k: v for k, v in fields.items() if k not in ("title", "body")}
        out.update(text_sealed=self.text.seal(request_id, title, body), title=None, body=None)
        return out

    def _opened(self, document):
        document = outbox.strip(document)
        if document is not None and document.get("text_sealed"):
            document["title"], document["body"] = self.text.open(document["_id"], document.pop("text_sealed"))
        return document

    def insert(self, request, events):
        """Store a new request with its events (DuplicateKeyError if its id is taken): what
        `publish` sends."""
        return outbox.insert_with_events(self.collection, self._sealed(request["_id"], request), events)

    def publish(self, inserted, dispatch):
        """Publish what `insert` just wrote, from memory, and clear it."""
        outbox.publish(inserted, dispatch)

    def flush(self, request_id, dispatch):
        """Publish whatever waits in one request's outbox."""
        outbox.flush(self.collection, request_id, dispatch)

    def flush_pending(self, dispatch):
        """Publish what a crash (or a broker outage) left in any outbox."""
        outbox.flush_pending(self.collection, dispatch)

    def find(self, request_id):
        request = self._opened(self.collection.find_one({"_id": request_id}))
        return None if request is None or request.get("deleted") else request

    def update(self, request_id, change, make_events):
        """Versioned update with its events (see outbox.update_with_events); `change` and
        `make_events` see the request with its text open."""
        def stamped(stored):
            current = self._opened(dict(stored))
            return self._sealed(request_id, dict(change(current), updated_at=utcnow()), current)

        try:
            return self._opened(outbox.update_with_events(self.collection, request_id, stamped,
                                                          lambda updated: make_events(self._opened(dict(updated)))))
        except outbox.ConcurrentUpdate:
            raise Conflict("The request changed while saving; try again.") from None

    def replace_with_tombstone(self, request, events):
        """Forget a request's content in one write, keeping only what stops a late event reviving it."""
        tombstone = {"_id": request["_id"], "deleted": True, "status": "withdrawn",
                     "version": request["version"] + 1, "updated_at": utcnow()}
        outbox.replace_with_events(self.collection, request, tombstone, events)

    def open_count(self, author_id):
        """How many open requests `author_id` has (two equalities, pushed down and indexed)."""
        return self.collection.count_documents({"author_id": author_id, "status": "open"})

    def by_author(self, author_id):
        """Every request of an author (forgetting them): newest first."""
        return [self._opened(r) for r in
                self.collection.find({"author_id": author_id, "deleted": {"$ne": True}}).sort("created_at", -1)]

    def page_by_author(self, author_id, limit, before=None):
        """A page of an author's requests, newest first, after the one with id `before` (the last
        of the previous page): (requests, whether more follow)."""
        found, more = paging.page(self.collection, {"author_id": author_id, "deleted": {"$ne": True}}, "created_at",
                                  before, limit)
        return [self._opened(r) for r in found], more

    def record_moderator_reading(self, moderator_id, request_id):
        self.db[MODERATOR_READINGS].insert_one({"_id": uuid.uuid4().hex, "moderator_id": moderator_id,
                                                "request_id": request_id, "at": utcnow()})

    def moderator_readings(self, request_id, limit=50):
        return list(self.db[MODERATOR_READINGS].find({"request_id": request_id}, {"moderator_id": 1, "at": 1})
                    .sort("at", 1).limit(limit))

    def forget_moderator_readings(self, request_id):
        """A deleted request's readings go with it (a deleted moderator's stay: who read what)."""
        self.db[MODERATOR_READINGS].delete_many({"request_id": request_id})

    # ---- the campaigns needs were posted for

    def remember_campaign_mode(self, campaign_id, mode, version):
        """The campaign's mode as of `version`: False when a newer one is known already."""
        return apply_if_newer(self.db[CAMPAIGN_MODES], campaign_id, {"$set": {"mode": mode}}, version) is not None

    def campaign_paused(self, campaign_id):
        return (self.db[CAMPAIGN_MODES].find_one({"_id": campaign_id}, {"mode": 1}) or {}).get("mode") == "paused"

    def of_campaign(self, campaign_id):
        """Every need a campaign caused, in one read (bounded: MAX_CAMPAIGN_NEEDS)."""
        return [self._opened(r) for r in self.collection.find({"campaign_id": campaign_id, "deleted": {"$ne": True}})
                .limit(MAX_CAMPAIGN_NEEDS)]

    def export_page(self, after_id, limit):
        query = {"deleted": {"$ne": True}}
        if after_id:
            query["_id"] = {"$gt": after_id}
        return [self._opened(r) for r in self.collection.find(query).sort("_id", 1).limit(limit)]


class RequestTextKeys(DependencyProvider):
    """Injects the service's RequestText, keyed from configuration (REQUEST_TEXT_KEYS)."""

    def setup(self):
        self.text = RequestText(self.container.config.get("REQUEST_TEXT_KEYS"))

    def get_dependency(self, worker_ctx):
        return self.text
