"""matching: keeps read models of volunteers and requests from events, and proposes matches."""
from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.rpc import rpc
from nameko.timer import timer

from services.common import outbox
from services.common.consumer import consumes
from services.common.errors import DomainError
from services.common.events import make_event, utcnow
from services.common.mongo import ServiceDatabase
from services.common.schemas import Viewer, load_or_fail

from . import scoring, storage

SOURCE = "matching"
VOLUNTEER_FIELDS = ("handle", "role", "status", "skills", "languages", "countries",
                    "availability_hours", "max_active_matches", "verified")
REQUEST_FIELDS = ("author_id", "skills", "languages", "country", "urgency", "visibility", "status")


def match_view(match):
    return {key: match[key] for key in ("request_id", "volunteer_id", "status", "score", "reasons")} | {
        "id": match["_id"], "proposed_at": match["proposed_at"].isoformat()}


class MatchingService:
    name = SOURCE

    db = ServiceDatabase(prepare=storage.prepare)
    dispatch = EventDispatcher()
    config = Config()

    # ---- read models, built only from events

    def _remember_profile(self, event):
        data = event.data
        if data["role"] != "volunteer":
            return
        fields = {key: data[key] for key in VOLUNTEER_FIELDS}
        if storage.upsert_newer(self.db[storage.VOLUNTEERS], data["profile_id"], fields, data["version"]):
            # A volunteer who joins or gains skills should see the open needs they fit, not only
            # the ones posted after them.
            self.rematch_volunteer(dict(fields, _id=data["profile_id"]))

    @consumes("profiles", "profile_registered")
    def on_profile_registered(self, event):
        self._remember_profile(event)

    @consumes("profiles", "profile_updated")
    def on_profile_updated(self, event):
        self._remember_profile(event)

    @consumes("profiles", "profile_deactivated")
    def on_profile_deactivated(self, event):
        self._remember_profile(event)

    @consumes("requests", "request_created")
    def on_request_created(self, event):
        data = event.data
        request = {key: data[key] for key in REQUEST_FIELDS}
        storage.upsert_newer(self.db[storage.REQUESTS], data["request_id"], request, data["version"])
        request["_id"] = data["request_id"]
        self.propose(request)

    # ---- proposals

    @property
    def top_k(self):
        return int(self.config.get("MATCH_TOP_K", 5))

    def propose(self, request):
        for volunteer, value, reasons in scoring.rank(request, storage.candidates(self.db, request), self.top_k):
            self._propose_one(request, volunteer, value, reasons)

    def rematch_volunteer(self, volunteer):
        for request in storage.open_requests_needing(self.db, volunteer["skills"]):
            if scoring.eligible(request, volunteer) and storage.count_matches(self.db, request["_id"]) < self.top_k:
                value, reasons = scoring.score(request, volunteer)
                self._propose_one(request, volunteer, value, reasons)

    def _propose_one(self, request, volunteer, value, reasons):
        match = {
            "_id": storage.match_id(request["_id"], volunteer["_id"]),
            "request_id": request["_id"],
            "volunteer_id": volunteer["_id"],
            "author_id": request["author_id"],
            "status": "proposed",
            "score": value,
            "reasons": reasons,
            "proposed_at": utcnow(),
            "version": 1,
        }
        event_data = {key: match[key] for key in match if key != "_id"} | {"match_id": match["_id"]}
        storage.insert_match(self.db, match, [make_event(SOURCE, "match_proposed", event_data)])
        # Flush even when the match already existed: a redelivery after a crash that came
        # between insert and publish must still get the event out.
        outbox.flush(self.db[storage.MATCHES], match["_id"], self.dispatch)

    @rpc(expected_exceptions=DomainError)
    def list_matches(self, viewer):
        viewer = load_or_fail(Viewer(), viewer)
        field = "volunteer_id" if viewer["role"] == "volunteer" else "author_id"
        return [match_view(m) for m in storage.matches_for(self.db, field, viewer["account_id"])]

    @rpc
    def health(self):
        return {"database": storage.ping(self.db)}

    @timer(interval=5)
    def relay_pending_events(self):
        outbox.flush_pending(self.db[storage.MATCHES], self.dispatch)
