"""The requests' use cases, as plain code over injected stores (no nameko, no I/O of its own):
what service.py's calls and events do. The viewer arrives checked and payloads opened (service.py);
the lifecycle and who may see what are lifecycle.py's rules; the stores are storage.py's
RequestStore and services/common/flags.py's FlagStore (and their in-memory twins, memory.py and
flags.InMemoryFlagStore, held to the same contract tests)."""
import logging
import re
import uuid

from pymongo.errors import DuplicateKeyError

from services.common import tracecontext
from services.common.bus.events import data_schema, make_event
from services.common.errors import Conflict, Forbidden, NotFound, TooManyRequests, ValidationFailed
from services.common.flags import Flag, ModerationNote
from services.common.schemas import Paging, holds_role, load_or_fail
from services.common.trust import privacy
from services.common.trust.keyring import decided_version

from . import lifecycle
from .schemas import CloseRequest, NewRequest, RequestEdit

log = logging.getLogger(__name__)
SOURCE = "requests"
TERMINAL = ("fulfilled", "closed", "withdrawn")
DEFAULT_MAX_OPEN = 10
DEFAULT_FLAG_LIMIT = 20
# A request posted with an idempotency key gets its id from the author and the key, so a retry
# (a client that timed out, a form sent twice) finds the request the first try stored.
_IDEMPOTENT_IDS = uuid.UUID("0b6f3d52-8c2e-4f8a-b7d1-5a9e2c4f6d13")
_KEY_DIGEST = re.compile(r"[0-9a-f]{64}")
IDEMPOTENCY_FIELD = "Idempotency-Key"


def request_id_for(author_id, idempotency_key):
    """A fresh id, or the one id this author's key stands for."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    if not isinstance(idempotency_key, str) or not _KEY_DIGEST.fullmatch(idempotency_key):
        raise ValidationFailed("The idempotency key is not a SHA-256 digest.",
                               {IDEMPOTENCY_FIELD: "Not a SHA-256 digest (the gateway hashes the header)."})
    return uuid.uuid5(_IDEMPOTENT_IDS, f"{author_id}:{idempotency_key}").hex


def _same_request(stored, data):
    """Whether a retry asks for what the first try stored. Once the author edited it, the key
    still stands for that request: the retry gets it as it is now."""
    return stored["version"] > 1 or all(stored.get(key) == value for key, value in data.items())


def _check_public_text(data, request=None):
    """Text that will be readable by others must not identify anyone unless the author confirms."""
    visibility = data.get("visibility", request["visibility"] if request else "public")
    if visibility == "private" or data.get("confirm_public"):
        return
    text = {k: data[k] for k in ("title", "body") if k in data}
    if request is not None and request["visibility"] == "private":
        # Widened from private: the stored text, written for the author's chosen helper only, is
        # about to become readable by others, so it is checked as if it were new.
        text = {k: data.get(k, request[k]) for k in ("title", "body")}
    privacy.confirm_public(text, False, "anyone allowed to see the request")


def _events(event_type):
    return lambda request: [make_event(SOURCE, event_type, lifecycle.event_data(request))]


def _moderator(viewer):
    return holds_role(viewer, "moderator", "Only moderators can do this.")


class RequestWorkflow:
    """`store`: storage.RequestStore (or memory.InMemoryRequestStore); `flags`: a FlagStore;
    `dispatch(event_type, payload)` publishes; `clock()` is now."""

    def __init__(self, store, flags, dispatch, clock, max_open=DEFAULT_MAX_OPEN, flag_limit=DEFAULT_FLAG_LIMIT):
        self.store, self.flags, self.dispatch, self.clock = store, flags, dispatch, clock
        self.max_open, self.flag_limit = int(max_open), int(flag_limit)

    def _own_request(self, viewer, request_id):
        request = self.store.find(request_id)
        if request is None or not lifecycle.can_view(request, viewer):
            raise NotFound("No such request.")
        if not lifecycle.is_author(request, viewer):
            raise Forbidden("Only its author can change a request.")
        return request

    def _change(self, request_id, change, event_type):
        request = self.store.update(request_id, change, _events(event_type))
        self.store.flush(request_id, self.dispatch)
        return request

    # ---- the author's side

    def create_request(self, viewer, payload, idempotency_key=None):
        """Post a need. With `idempotency_key` (the SHA-256 of the client's `Idempotency-Key`,
        hashed by the gateway), a retry of the same post returns the request the first try stored
        instead of posting it twice; the same key with a different request is a conflict."""
        if viewer["role"] != "activist":
            raise Forbidden("Only activists can post requests.")
        request_id = request_id_for(viewer["account_id"], idempotency_key)
        data = load_or_fail(NewRequest(), payload)
        _check_public_text(data)
        data.pop("confirm_public")
        self._check_room(viewer["account_id"], request_id if idempotency_key else None)
        now = self.clock()
        request = dict(data, _id=request_id, author_id=viewer["account_id"], status="open",
                       helper_ids=[], hidden=False, version=1, created_at=now, updated_at=now)
        trace_id = tracecontext.trace_id()
        if trace_id:
            # The trace of the act that posted it (`./dev trace REQUEST_ID`): spans hold no id of ours.
            request["trace_id"] = trace_id
        try:
            inserted = self.store.insert(request, _events("request_created")(request))
        except DuplicateKeyError:
            stored = self.store.find(request_id)
            if stored is None or not _same_request(stored, data):
                raise Conflict("This idempotency key was used for another request.",
                               {IDEMPOTENCY_FIELD: "Already used for another request; send a new key."}) from None
            self.store.flush(request_id, self.dispatch)  # its event may still wait in the outbox
            return lifecycle.public_view(stored, viewer)
        self.store.publish(inserted, self.dispatch)
        return lifecycle.public_view(request, viewer)

    def _check_room(self, author_id, retried_id=None):
        """One account must not flood every volunteer's proposals: at most `max_open` open at once
        (a retry of a post already stored is not a new one)."""
        if self.store.open_count(author_id) < self.max_open:
            return
        if retried_id is not None and self.store.find(retried_id) is not None:
            return
        raise TooManyRequests(f"You have {self.max_open} open requests, the most one account may have at once; "
                              "close one that is done or no longer needed first.",
                              {"open_requests": str(self.max_open)})

    def check_room(self, viewer):
        """429 when the viewer has as many open needs as one account may: a campaign's ask is a need
        like any other (the gateway asks before the campaign posts it)."""
        self._check_room(viewer["account_id"])
        return True

    def update_request(self, viewer, request_id, payload):
        data = load_or_fail(RequestEdit(), payload)
        request = self._own_request(viewer, request_id)
        lifecycle.check_editable(request)
        _check_public_text(data, request)
        data.pop("confirm_public")
        if not data:
            raise ValidationFailed("Nothing to change.", {"_schema": "Send at least one field to change."})
        return lifecycle.public_view(self._change(request_id, lambda _: data, "request_updated"), viewer)

    def close_request(self, viewer, request_id, payload=None):
        outcome = load_or_fail(CloseRequest(), payload if payload is not None else {})["outcome"]
        request = self._own_request(viewer, request_id)

        def close(current):
            lifecycle.check_transition(current["status"], outcome)
            return {"status": outcome}

        return lifecycle.public_view(self._change(request["_id"], close, "request_closed"), viewer)

    def my_requests(self, viewer, limit=50, before=None):
        """A page of one's own requests, newest first: {items, next?} (`next`: pass as `before`)."""
        paging = load_or_fail(Paging(), {"limit": limit, "before": before})
        found, more = self.store.page_by_author(viewer["account_id"], paging["limit"], paging["before"])
        page = {"items": [lifecycle.public_view(r, viewer) for r in found]}
        if more:
            page["next"] = found[-1]["_id"]
        return page

    # ---- anyone's side

    def get_request(self, viewer, request_id):
        request = self.store.find(request_id)
        # A request the viewer may not see is reported as missing: its existence is private too.
        if request is None or not lifecycle.can_view(request, viewer):
            raise NotFound("No such request.")
        return self._view(request, viewer)

    def _view(self, request, viewer):
        """The request as `viewer` reads it. A moderator reads a private request's text only while
        someone else's flag on it is open, and each such reading is recorded (who, which, when;
        never the text) and shown to every moderator (kept when a reader deletes their account)."""
        if not lifecycle.text_withheld_from(request, viewer):
            return lifecycle.public_view(request, viewer)
        readings = [{"moderator_id": r["moderator_id"], "at": r["at"].isoformat()}
                    for r in self.store.moderator_readings(request["_id"])]
        if not self.flags.is_open(request["_id"], other_than=viewer["account_id"]):
            return dict(lifecycle.public_view(request, viewer, text=False), moderator_readings=readings)
        self.store.record_moderator_reading(viewer["account_id"], request["_id"])
        log.info("a moderator read a flagged private request's text (recorded)")
        return dict(lifecycle.public_view(request, viewer), moderator_readings=readings)

    def flag_request(self, viewer, request_id, payload):
        reason = load_or_fail(Flag(), payload)["reason"]
        request = self.store.find(request_id)
        if request is None or not lifecycle.can_view(request, viewer):
            raise NotFound("No such request.")
        return self.flags.raise_flag("request", request_id, viewer["account_id"], reason, self.flag_limit)

    # ---- moderation

    def flagged_requests(self, viewer):
        _moderator(viewer)
        return self.flags.open_flags()

    def set_hidden(self, viewer, request_id, hidden, payload=None):
        viewer = _moderator(viewer)
        load_or_fail(ModerationNote(), payload or {})
        if self.store.find(request_id) is None:
            raise NotFound("No such request.")
        request = self._change(request_id, lambda _: {"hidden": bool(hidden)}, "request_updated")
        self.flags.resolve(request_id, "hidden" if hidden else "dismissed")
        return lifecycle.public_view(request, viewer, text=not lifecycle.text_withheld_from(request, viewer))

    def dismiss_request_flags(self, viewer, request_id):
        _moderator(viewer)
        self.flags.resolve(request_id, "dismissed")
        return True

    # ---- events from other services

    def on_match_confirmed(self, data, event_id=None):
        """The author confirmed a helper: the request is matched, and a private request's text
        becomes readable by that helper (and only them)."""
        request = self.store.find(data["request_id"])
        if request is None or data["volunteer_id"] in request["helper_ids"]:
            return  # gone, or already applied
        decided = decided_version(data, request["author_id"])
        if decided is None:
            # Not the author's signed choice: matching alone cannot hand anyone a private text.
            log.warning("refused a match_confirmed without its author's signed decision (%s)", event_id)
            return
        if decided < (request.get("ended") or {}).get(data["volunteer_id"], 0):
            # A decision made before the author ended this helper's access: a replay gives nothing back.
            log.warning("refused a match_confirmed whose decision predates the end of access (%s)", event_id)
            return

        def matched(current):
            lifecycle.check_transition(current["status"], "matched")
            return {"status": "matched", "helper_ids": current["helper_ids"] + [data["volunteer_id"]]}

        if request["status"] == "open":
            self._change(request["_id"], matched, "request_updated")

    def on_match_ended(self, data):
        """A confirmed helper's access ended (the author ended it, or the helper lost the standing
        the request needs): a private text is theirs no more, and a request they were the helper
        of is open again. Taking access away needs no author's signature: it grants nothing."""
        request = self.store.find(data["request_id"])
        if request is None or data["volunteer_id"] not in request["helper_ids"]:
            return  # gone, or already applied

        def ended(current):
            # The match's version at its end: a confirmation decided before it is a replay.
            ends = dict(current.get("ended") or {}, **{data["volunteer_id"]: data["version"]})
            helpers = [h for h in current["helper_ids"] if h != data["volunteer_id"]]
            if current["status"] == "matched" and not helpers:
                lifecycle.check_transition(current["status"], "open")
                return {"status": "open", "helper_ids": helpers, "ended": ends}
            return {"helper_ids": helpers, "ended": ends}

        self._change(request["_id"], ended, "request_updated")

    def on_letter_translation_needed(self, data):
        """A moderator approved a letter of support in another language than the prisoner's (or the
        owner asked for it, in a quiet campaign): a translation need in the name of the campaign's
        owner, matched to translators like any need. Verified translators only: the confirmed one
        reads the letter."""
        self._post_for_campaign(
            data, letter_id=data["letter_id"], skills=["translation"], urgency="normal",
            languages=[data["from_language"], data["to_language"]],
            title=f"Translate a letter of support to a prisoner of conscience ({data['from_language']} to "
                  f"{data['to_language']})",
            body="A supporter wrote to a person held for their conscience; the moderators approved the letter. "
                 "The family prints it in the prisoner's language and hands it over. Once the campaign's "
                 "owner confirms you, the letter is yours to translate on the campaign's page.")

    def on_campaign_ask_posted(self, data):
        """A campaign's owners ask journalists, policy-makers or lawyers for something: a need in the
        name of the owner who asked, linked to the campaign, for moderator-verified helpers only
        (they will work with a family at risk)."""
        self._post_for_campaign(data, **{key: data[key] for key in ("title", "body", "skills", "languages", "urgency")})

    def _post_for_campaign(self, data, **fields):
        """Post the need a campaign's event asks for, in the name of `author_id`, linked to the
        campaign. `volunteers`: read, proposed and offered to moderator-verified volunteers only,
        never listed to anyone else (a public need would lead anyone to a quiet campaign). Held
        from the start if the campaign is paused meanwhile. Its id is the event's, so a second
        copy of the event finds it posted (no ledger needed)."""
        now = self.clock()
        request = dict(fields, _id=data["request_id"], author_id=data["author_id"], campaign_id=data["campaign_id"],
                       country=data["country"], status="open", helper_ids=[], hidden=False, version=1,
                       held=self.store.campaign_paused(data["campaign_id"]),
                       created_at=now, updated_at=now, visibility="volunteers", verified_only=True)
        try:
            self.store.insert(request, _events("request_created")(request))
        except DuplicateKeyError:
            pass  # posted by an earlier copy; its event may wait in the outbox: flushed below
        self.store.flush(request["_id"], self.dispatch)

    def on_campaign_changed(self, data):
        """A campaign was paused (or resumed): every need it caused is held (or released) at once:
        out of search, proposals and webhooks (an update event with `hidden`), readable by its
        author alone, and back as it was on resume. Versioned: an older event changes nothing."""
        was_paused = self.store.campaign_paused(data["campaign_id"])
        if not self.store.remember_campaign_mode(data["campaign_id"], data["mode"], data["version"]) or \
                was_paused == (data["mode"] == "paused"):
            return  # an older event, or a change that neither paused nor resumed it
        held = self.store.campaign_paused(data["campaign_id"])  # the newest known, whatever raced this
        for request in self.store.of_campaign(data["campaign_id"]):
            if request["status"] in TERMINAL or bool(request.get("held")) == held:
                continue
            self._change(request["_id"], lambda _: {"held": held}, "request_updated")

    def on_profile_deleted(self, data):
        """The author deleted their account: their requests go, text and all. The closing event
        carries no text (as for a private request) and no author, so search drops them, matching
        withdraws, and nobody downstream keeps who asked."""
        account_id = data["profile_id"]
        for request in self.store.by_author(account_id):
            closing = dict(request, author_id=None, visibility="private", status="withdrawn",
                           version=request["version"] + 1)
            self.store.replace_with_tombstone(request, _events("request_closed")(closing))
            self.store.flush(request["_id"], self.dispatch)
            self.flags.forget_target(request["_id"])
            self.store.forget_moderator_readings(request["_id"])
        self.flags.forget_person(account_id)
        # A moderator's readings of private texts stay: the record of who read what must not leave
        # with the reader (their request's readings went with each request above).

    # ---- for rebuilding other services' views (search), paged by id

    def export_requests(self, after_id, limit):
        """A page of every request (as events carry them: no private text)."""
        schema = data_schema(SOURCE, "request_created")
        return [schema.dump(lifecycle.event_data(r)) for r in self.store.export_page(after_id, limit)]

    def relay_pending(self):
        """Events a crash left in an outbox, published now."""
        self.store.flush_pending(self.dispatch)
