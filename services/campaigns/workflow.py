"""The campaigns' use cases, as plain code over injected stores (no nameko, no I/O of its own):
what service.py's calls, events and ticks do. The viewer arrives checked and payloads opened
(service.py); the rules are in consent.py, count_schedule.py, letters.py, owners.py, public_counts.py,
supporters.py and timeline.py; the stores are storage.py's (and memory.py's twins, held to the same
contract: tests/test_store_contract.py).

What a campaign says about the prisoner is opened only by the calls that show or change it: the
rest read the campaign's own fields (`_campaign(..., prisoner=False)`).
"""
import hashlib
import logging
import secrets
import uuid
from datetime import timedelta

from services.common.bus.events import make_event, utcnow
from services.common.errors import Conflict, ConfirmationRequired, Forbidden, NotFound, TooManyRequests
from services.common.schemas import Paging, holds_role, load_or_fail
from services.common.trust import privacy
from services.common.trust.keyring import decided_version

from . import consent, count_schedule, letters, owners, public_counts, supporters, timeline
from .schemas import (Ask, CampaignEdit, CampaignListQuery, Dispute, LetterDecision, LetterDelivery, LetterTranslation,
                      NewCampaign, NewLetter, OwnerInvitation, Pledge, Signature, SupporterLink, TimelineEntry, WallPost,
                      is_id, is_ref)
from .supporters import endorsement_id, signature_id

log = logging.getLogger(__name__)
SOURCE = "campaigns"
# Signatures counted per tick of take_signatures (what arrived since the last, not what is stored).
SIGNATURES_PER_TICK = 500
# A co-owner's invitation code works once, within this time.
INVITATION_VALID = timedelta(days=7)
# Asks a campaign's document lists (each is a need of its own in requests).
MAX_ASKS = 50
# Campaigns one account may start (each can reach every verified volunteer with its asks).
DEFAULT_CAMPAIGNS_PER_ACCOUNT = 5
DEFAULT_COUNTS_EVERY_S = 600
_ASK_REQUESTS = uuid.UUID("9a4d2e61-0c7b-4f35-8e19-b2d6a0f3c587")


def _changed(campaign):
    """`campaign_changed`, as the contract lets it travel: the text only while the campaign is
    listed, nothing about the prisoner but the country and status, no owner."""
    listed = campaign["mode"] == "public"
    return [make_event(SOURCE, "campaign_changed", {
        "campaign_id": campaign["_id"], "title": campaign["title"] if listed else None,
        "story": campaign["story"] if listed else None, "prisoner_country": campaign["prisoner_country"],
        "prisoner_status": campaign["prisoner_status"], "language": campaign["language"], "mode": campaign["mode"],
        "detained_on": campaign.get("detained_on"), "disputed": bool(campaign.get("disputed")),
        "created_at": campaign["created_at"], "version": campaign["version"]})]


def _check_public_text(data, confirmed):
    """The title and story are read by everyone the campaign reaches: they must not identify anyone
    (the prisoner's own details have fields of their own, with consent) unless the owner confirms."""
    privacy.confirm_public({k: data[k] for k in ("title", "story") if k in data}, confirmed,
                           "anyone the campaign reaches", "Put the prisoner's details in their own fields, where "
                                                          "you choose who sees each")


class CampaignWorkflow:
    """`stores`: (campaigns, letters, wall, pledges), storage.py's or memory.py's; `keys`:
    (text at rest, signature key, sealer to notify); `dispatch(event_type, payload)` publishes."""

    def __init__(self, stores, keys, dispatch, threshold=public_counts.DEFAULT_THRESHOLD,
                 campaigns_per_account=DEFAULT_CAMPAIGNS_PER_ACCOUNT, counts_every_s=DEFAULT_COUNTS_EVERY_S,
                 clock=utcnow):
        self.store, self.letter_store, self.wall_store, self.pledge_store = stores
        self.keys, self.dispatch, self.clock = keys, dispatch, clock
        self.threshold, self.campaigns_per_account = int(threshold), int(campaigns_per_account)
        self.counts_every_s = float(counts_every_s)

    def _write(self, campaign, changes, prisoner=None, make_events=None, log=(), viewer=None):
        """Change `campaign` as it was read (its version), with the events `make_events(updated)`
        makes in the same write, and publish them: 409 if someone changed it meanwhile. `log`:
        `(action, detail)` pairs for the owner log, done by `viewer`."""
        staged = []
        if log:
            now = self.clock()
            by = owners.handle_of(campaign, viewer["account_id"]) or viewer.get("handle")
            changes = dict(changes, owner_log=owners.logged(campaign, *(owners.entry(now, by, action, detail)
                                                                        for action, detail in log)))

        def events(after):
            staged.extend(make_events(after) if make_events is not None else ())
            return staged

        updated = self.store.update(campaign, dict(changes, updated_at=self.clock()), prisoner, make_events=events)
        if updated is None:
            raise Conflict("The campaign changed meanwhile; look again.", {"version": "Changed."})
        if staged:  # nothing to publish (a moment only the owners see): no read of the outbox
            self.store.flush(campaign["_id"], self.dispatch)
        updated.pop("prisoner_sealed", None)
        return updated

    def _campaign(self, viewer, campaign_id, prisoner=False):
        """(campaign, prisoner) as `viewer` may reach it: 404 for a paused or unknown one alike.
        Without `prisoner`, what is sealed about the prisoner and their timeline is neither read nor
        opened (None): only calls that show or change it open it."""
        if not is_id(campaign_id):
            raise NotFound("No such campaign.")  # an id that is no campaign id names nothing, as an unknown one
        if prisoner:
            campaign, details = self.store.find(campaign_id)
        else:
            campaign, details = self.store.find_plain(campaign_id), None
        if not consent.visible(campaign, viewer):
            raise NotFound("No such campaign.")
        return campaign, details

    def _view(self, campaign, prisoner, viewer):
        owner = consent.is_owner(campaign, viewer)
        view = {"id": campaign["_id"], "title": campaign["title"], "story": campaign["story"],
                "mode": campaign["mode"], "prisoner_country": campaign["prisoner_country"],
                "prisoner_status": campaign["prisoner_status"], "detained_on": campaign.get("detained_on"),
                "days_detained": consent.days_detained(campaign), "language": campaign["language"],
                "prisoner": consent.prisoner_view(campaign, prisoner, viewer),
                "support": public_counts.shown(campaign.get("support_shown"), campaign["prisoner_country"],
                                         self.threshold),
                "is_owner": owner, "created_at": campaign["created_at"].isoformat(),
                "disputed": bool(campaign.get("disputed")),
                "timeline": timeline.visible(campaign, self.store.timeline(campaign), viewer),
                # The wall speaks to the person held only while the campaign is public.
                # The day, not the moment: an exact time could tie a post to the family's connection.
                "wall": [{"id": post["_id"], "text": post["text"], "posted_on": post["created_at"].date().isoformat()}
                         for post in self.wall_store.approved(campaign["_id"])]
                if campaign["mode"] == "public" or owner else [],
                "asks": campaign.get("asks", []),
                "done": [{"action": pledge["action"], "kind": pledge["kind"], "by": pledge.get("handle"),
                          "done_at": pledge["done_at"].isoformat()} for pledge in self.pledge_store.done(campaign["_id"])]}
        if owner:
            is_creator = viewer["account_id"] == campaign.get("created_by")
            view.update(consent={field: campaign.get("consent", {}).get(field, "owners")
                                 for field in consent.PRISONER_FIELDS},
                        consent_review_due=bool(campaign.get("consent_review_due")),
                        status_pending=campaign.get("status_pending"),
                        owners=len(campaign["owners"]), co_owners=owners.co_owners(campaign),
                        owner_log=list(reversed(campaign.get("owner_log") or [])), is_creator=is_creator)
            if is_creator or campaign.get("created_by") is None:
                view["invitations"] = [{"ref": i["ref"], "expires_at": i["expires_at"].isoformat()}
                                       for i in self.store.invitations(campaign["_id"], self.clock())]
        return view

    def _summary(self, campaign):
        return {"id": campaign["_id"], "title": campaign["title"], "prisoner_country": campaign["prisoner_country"],
                "prisoner_status": campaign["prisoner_status"], "mode": campaign["mode"],
                "days_detained": consent.days_detained(campaign),
                "support": public_counts.shown(campaign.get("support_shown"), campaign["prisoner_country"],
                                         self.threshold),
                "disputed": bool(campaign.get("disputed")), "created_at": campaign["created_at"].isoformat()}

    # ---- owners

    def create_campaign(self, viewer, payload):
        """An activist (a family member, a colleague, under a pseudonym) starts a campaign."""
        if viewer["role"] != "activist":
            raise Forbidden("Only activists can start campaigns.")
        data = load_or_fail(NewCampaign(), payload)
        _check_public_text(data, data.pop("confirm_public"))
        most = self.campaigns_per_account
        if self.store.started_by(viewer["account_id"]) >= most:
            raise TooManyRequests(f"One account starts at most {most} campaigns.", {"campaigns": str(most)})
        now = self.clock()
        prisoner = data.pop("prisoner")
        campaign = dict(data, _id=uuid.uuid4().hex, owners=[viewer["account_id"]], created_by=viewer["account_id"],
                        owner_handles={viewer["account_id"]: viewer["handle"]},
                        owner_log=[owners.entry(now, viewer["handle"], "created")],
                        detained_on=data["detained_on"].isoformat() if data["detained_on"] else None,
                        consent_review_due=False, support={"total": 0, "by_country": {}}, support_dirty=False,
                        support_shown={"total": 0, "by_country": {}}, version=1, created_at=now, updated_at=now)
        self.store.insert(campaign, prisoner, _changed(campaign))
        self.store.flush(campaign["_id"], self.dispatch)
        return self._view(campaign, prisoner, viewer)

    def update_campaign(self, viewer, campaign_id, payload):
        """An owner changes the campaign: its text, the prisoner's details and status, consent,
        mode (`paused` hides it from everyone but the owners at once). A change of the prisoner's
        status asks consent again: until an owner confirms it, every field is for the owners only."""
        campaign, prisoner = self._campaign(viewer, campaign_id, prisoner=True)
        if not consent.is_owner(campaign, viewer):
            raise Forbidden("Only the campaign's owners can change it.")
        data = load_or_fail(CampaignEdit(), payload)
        _check_public_text(data, data.pop("confirm_public"))
        changes = {key: value for key, value in data.items()
                   if key not in ("prisoner", "consent", "consent_confirmed", "prisoner_status")}
        if "detained_on" in changes:
            changes["detained_on"] = changes["detained_on"].isoformat() if changes["detained_on"] else None
        if data.get("consent"):
            changes["consent"] = dict(campaign.get("consent", {}), **data["consent"])
        changes.update(consent.status_changes(campaign, data))
        confirmed = changes.get("prisoner_status") if changes.get("prisoner_status") != campaign["prisoner_status"] else None
        new_prisoner = dict(prisoner, **data["prisoner"]) if data.get("prisoner") else None
        updated = self._write(campaign, changes, new_prisoner, make_events=lambda after: _changed(after) +
                              supporters.news_of_change(campaign, after, SOURCE),
                              log=owners.of_change(campaign, changes, confirmed), viewer=viewer)
        return self._view(updated, new_prisoner or prisoner, viewer)

    def my_campaigns(self, viewer):
        return {"items": [self._summary(c) for c in self.store.owned_by(viewer["account_id"])]}

    # ---- everyone

    def get_campaign(self, viewer, campaign_id):
        """A campaign as `viewer` (None: anyone) may see it; 404 if paused (but to its owners) or unknown."""
        campaign, prisoner = self._campaign(viewer, campaign_id, prisoner=True)
        return self._view(campaign, prisoner, viewer)

    def list_campaigns(self, query=None):
        """Listed (`public`) campaigns, newest first, a page at a time: `{items, next?}`."""
        query = load_or_fail(CampaignListQuery(), query or {})
        items = self.store.listed(query["limit"] + 1, query["before"], query["country"], query["prisoner_status"])
        page = {"items": [self._summary(c) for c in items[:query["limit"]]]}
        if len(items) > query["limit"]:
            page["next"] = items[query["limit"] - 1]["_id"]
        return page

    def sign_campaign(self, campaign_id, payload):
        """A signature: a country, and optionally an email that only decides it signs once.

        The answer, and the work before it, are the same whether the email signed before or not
        (a state holding its citizens' addresses could time the two): one read of the campaign, a
        keyed hash, the address sealed to notify, one insert of what was received. Whether it
        counts, and the email asking to confirm, are decided later by take_signatures, on its own
        schedule. Nothing received keeps the moment: a signature keeps its day."""
        campaign, _ = self._campaign(None, campaign_id)
        data = load_or_fail(Signature(), payload)
        _, key, sealer = self.keys
        self.store.receive_signature({
            "_id": uuid.uuid4().hex, "campaign_id": campaign["_id"], "country": data["country"],
            "signature_id": signature_id(key, campaign["_id"], data["email"]),
            "contact_sealed": sealer.seal(data["email"].strip()) if data["email"] else None})
        return {"received": True}

    def take_signatures(self):
        """Count what sign_campaign received: each email once (a known one changes nothing), the
        confirmation asked of a new address. Crash-safe: what was received is forgotten only once
        counted, and counting twice changes nothing (storage.CampaignStore.count)."""
        received = self.store.received(SIGNATURES_PER_TICK)
        _, key, sealer = self.keys
        for item in received:
            signature = {"_id": item["signature_id"], "campaign_id": item["campaign_id"], "country": item["country"],
                         "signed_on": self.clock().date().isoformat()}
            events = []
            if item.get("contact_sealed"):
                # Updates only once the address is confirmed (double opt-in): notify asks.
                signature["updates"] = "asked"
                events.append(supporters.email_given(signature, item["contact_sealed"], sealer, key, self.clock(), SOURCE))
            if self.store.add_signature(signature, events) and events:
                self.store.flush_signature(signature["_id"], self.dispatch)
            self.store.count(signature)
        self.store.forget_received([item["_id"] for item in received])

    def supporter_action(self, payload):
        """What a supporter's link does, with no account: `confirm` the address (updates start),
        `stop` the updates (the address is forgotten), or `withdraw` the signature (out of the
        counts, the address forgotten). Works whatever the campaign's mode: leaving must always be
        possible. A link that is not one of ours, or whose signature is gone, is 404 alike."""
        link = load_or_fail(SupporterLink(), payload)
        action, signature_id = link["action"], supporters.signature_of(self.keys[1], link["token"])
        signature = self.store.signature(signature_id) if signature_id else None
        if signature is None or signature.get("updates") in (None, "withdrawn"):
            raise NotFound("This link is no longer valid.")
        updates = {"confirm": "confirmed", "stop": "stopped", "withdraw": "withdrawn"}[action]
        if signature["updates"] == "stopped" and action == "confirm":
            updates = "stopped"  # an old confirmation link does not undo a stop
        if updates != signature["updates"]:
            event = supporters.updates_changed(signature, updates, self.clock(), SOURCE)
            if not self.store.set_updates(signature, updates, [event]):
                raise Conflict("This signature changed meanwhile; open the link again.", {"action": "Changed."})
            self.store.flush_signature(signature["_id"], self.dispatch)
        if updates == "withdrawn":
            self.store.uncount(signature)
        return {"done": action, "updates": updates, "campaign_id": signature["campaign_id"]}

    def endorse_campaign(self, viewer, campaign_id):
        """A moderator-verified journalist, lawyer or policy-maker supports the campaign as such: the
        page counts them apart (never who). Once per person and campaign."""
        campaign, _ = self._campaign(viewer, campaign_id)
        kinds = self.store.professional_kinds(viewer["account_id"]) if viewer.get("verified") else []
        if not kinds:
            raise Forbidden("Only moderator-verified journalists, lawyers and policy-makers are counted apart; "
                            "sign like anyone else.")
        endorsement = endorsement_id(self.keys[1], campaign["_id"], viewer["account_id"])
        counted = self.store.endorse(endorsement, campaign["_id"], kinds, self.clock())
        return {"counted_as": kinds, "new": counted}

    # ---- letters of support

    def write_letter(self, viewer, campaign_id, payload):
        """A signed-in supporter writes to the person held. Nobody but the moderators sees it until
        one approves it; the owners never learn who wrote it. A letter the composer warns about (a
        name, a plan) needs `confirm_sensitive`."""
        campaign, _ = self._campaign(viewer, campaign_id)
        data = load_or_fail(NewLetter(), payload)
        warnings = letters.warnings(data["text"])
        if warnings and not data["confirm_sensitive"]:
            raise ConfirmationRequired(
                "Prison staff read letters before the person held does. Leave out what could be used "
                "against them, other prisoners or you; or send it again with confirm_sensitive: true.", warnings)
        letter = {"_id": uuid.uuid4().hex, "campaign_id": campaign["_id"], "author_id": viewer["account_id"],
                  "language": data["language"], "status": "pending", "created_at": self.clock()}
        self.letter_store.insert(letter, data["text"])
        return {"id": letter["_id"], "status": "pending"}

    def letters_to_moderate(self, viewer, query=None):
        """The moderators' queue of pending letters, oldest first: `{items, next?}`."""
        holds_role(viewer, "moderator", "Only moderators read letters before they are approved.")
        query = load_or_fail(Paging(), query or {})
        items = self.letter_store.pending(query["limit"] + 1, query["before"])
        titles = {}
        page = []
        for letter in items[:query["limit"]]:
            if letter["campaign_id"] not in titles:
                campaign = self.store.find_plain(letter["campaign_id"])
                titles[letter["campaign_id"]] = campaign["title"] if campaign else None
            page.append({"id": letter["_id"], "campaign_id": letter["campaign_id"],
                         "campaign_title": titles[letter["campaign_id"]], "language": letter["language"],
                         "text": letter["text"], "author_id": letter["author_id"],
                         "warnings": letters.warnings(letter["text"]), "created_at": letter["created_at"].isoformat()})
        result = {"items": page}
        if len(items) > query["limit"]:
            result["next"] = items[query["limit"] - 1]["_id"]
        return result

    def moderate_letter(self, viewer, letter_id, payload):
        """A moderator approves or rejects a pending letter. An approved letter in another language
        than the prisoner's becomes a translation need (`letter_translation_needed`)."""
        viewer = holds_role(viewer, "moderator", "Only moderators approve letters.")
        decision = load_or_fail(LetterDecision(), payload)["decision"]
        letter = self._letter(letter_id)
        if letter["status"] != "pending":
            raise Conflict("This letter was decided already.", {"decision": "Already " + letter["status"] + "."})
        now = self.clock()
        change = {"status": "approved" if decision == "approve" else "rejected", "moderated_by": viewer["account_id"],
                  "moderated_at": now}
        events = []
        campaign = self.store.find_plain(letter["campaign_id"])
        if decision == "approve" and campaign is not None and letters.needs_translation(letter, campaign):
            author = campaign.get("created_by") or next(iter(campaign["owners"]), None)
            change["needs_translation"] = True
            if author is not None and letters.translation_need(letter, campaign):
                change.update(self._translation_need(letter, campaign, author, events))
            else:
                change["translation_awaits_owner"] = True  # quiet or paused: an owner says when
        if not self.letter_store.decide(letter["_id"], change, events):
            raise Conflict("This letter was decided already.", {"decision": "Already decided."})
        if events:
            self.letter_store.flush(letter["_id"], self.dispatch)
        return {"id": letter["_id"], "status": change["status"]}

    def _translation_need(self, letter, campaign, author, events):
        """The letter's changes, and its `letter_translation_needed` event in `events`."""
        request_id = letters.translation_request_id(letter["_id"])
        events.append(make_event(SOURCE, "letter_translation_needed", {
            "request_id": request_id, "campaign_id": campaign["_id"], "letter_id": letter["_id"],
            "author_id": author, "from_language": letter["language"], "to_language": campaign["language"],
            "country": campaign["prisoner_country"]}))
        return {"translation_request_id": request_id, "translation_author_id": author}

    def ask_translation(self, viewer, campaign_id, letter_id):
        """An owner asks the platform's translators for a letter of a quiet campaign (or one approved
        while it was paused): its translation need is posted now, in their name."""
        viewer, campaign, _ = self._owned(viewer, campaign_id)
        if campaign["mode"] == "paused":
            raise Conflict("The campaign is paused: nothing leaves it until it is resumed.", {"mode": "Paused."})
        letter = self._letter(letter_id)
        if letter["campaign_id"] != campaign["_id"]:
            raise NotFound("No such letter.")
        events = []
        change = self._translation_need(letter, campaign, viewer["account_id"], events)
        if not self.letter_store.ask_translation(letter["_id"], campaign["_id"], change, events):
            raise Conflict("This letter's translation was asked for already.", {"letter": "Already asked."})
        self.letter_store.flush(letter["_id"], self.dispatch)
        self._write(campaign, {}, log=[("asked_translation", None)], viewer=viewer)
        return {"id": letter["_id"], "translation_request_id": change["translation_request_id"]}

    def _letter(self, letter_id):
        if not is_id(letter_id):
            raise NotFound("No such letter.")
        letter = self.letter_store.find(letter_id)
        if letter is None:
            raise NotFound("No such letter.")
        return letter

    def _owned(self, viewer, campaign_id, prisoner=False):
        campaign, prisoner = self._campaign(viewer, campaign_id, prisoner)
        if not consent.is_owner(campaign, viewer):
            raise Forbidden("Only the campaign's owners read its letters.")
        return viewer, campaign, prisoner

    def campaign_letters(self, viewer, campaign_id):
        """The approved letters, for the owners: text, translation, what became of each; never who
        wrote it. Also what the bundle is printed in: the prisoner's language and, if the owners
        allowed it at all, the prisoner's name."""
        viewer, campaign, prisoner = self._owned(viewer, campaign_id, prisoner=True)
        return {"campaign_id": campaign["_id"], "title": campaign["title"], "language": campaign["language"],
                "prisoner_name": prisoner.get("name"),
                "items": [letters.owner_view(letter, letter["text"], letter["translation"])
                          for letter in self.letter_store.approved(campaign["_id"])]}

    def mark_letter(self, viewer, campaign_id, letter_id, payload):
        """The family marks what became of a printed letter: handed over, delivered, returned,
        confiscated."""
        viewer, campaign, _ = self._owned(viewer, campaign_id)
        delivery = load_or_fail(LetterDelivery(), payload)["delivery"]
        if not is_id(letter_id) or \
                not self.letter_store.mark_delivery(letter_id, campaign["_id"], delivery, self.clock()):
            raise NotFound("No such letter.")
        return {"id": letter_id, "delivery": delivery}

    def letter_to_translate(self, viewer, letter_id):
        """The letter, for the translator its campaign's owner confirmed (and nobody else)."""
        letter = self._letter(letter_id)
        campaign = self.store.find_plain(letter["campaign_id"])
        if letter.get("translator_id") != viewer["account_id"] or not consent.visible(campaign, None):
            raise NotFound("No such letter.")  # nor while the campaign is paused
        return {"id": letter["_id"], "language": letter["language"], "to_language": campaign["language"],
                "text": letter["text"], "translation": letter["translation"],
                "request_id": letter.get("translation_request_id")}

    def translate_letter(self, viewer, letter_id, payload):
        """The confirmed translator's translation: it is what the bundle prints (never their handle)."""
        letter = self._letter(letter_id)
        data = load_or_fail(LetterTranslation(), payload)
        if letter.get("translator_id") != viewer["account_id"] or \
                not consent.visible(self.store.find_plain(letter["campaign_id"]), None):
            raise NotFound("No such letter.")
        if not self.letter_store.translate(letter["_id"], viewer["account_id"], data["text"], self.clock()):
            raise Conflict("A moderator approved this translation already.", {"text": "Already approved."})
        return {"id": letter["_id"], "translated": True, "status": "pending"}

    def translations_to_moderate(self, viewer):
        """The moderators' queue of translations, oldest first: the letter beside its translation."""
        holds_role(viewer, "moderator", "Only moderators read translations before the owners do.")
        return {"items": [{"id": letter["_id"], "campaign_id": letter["campaign_id"], "language": letter["language"],
                           "text": letter["text"], "translation": letter["translation"],
                           "warnings": letters.warnings(letter["translation"] or ""),
                           "translated_at": letter["translated_at"].isoformat()}
                          for letter in self.letter_store.translations_pending(50)]}

    def moderate_translation(self, viewer, letter_id, payload):
        """A moderator approves a translation (the owners then see and print it) or rejects it (the
        translator may send another)."""
        viewer = holds_role(viewer, "moderator", "Only moderators approve translations.")
        decision = load_or_fail(LetterDecision(), payload)["decision"]
        status = "approved" if decision == "approve" else "rejected"
        if not is_id(letter_id) or not self.letter_store.decide_translation(letter_id, status, viewer["account_id"],
                                                                            self.clock()):
            raise NotFound("No such translation waiting.")
        return {"id": letter_id, "translation_status": status}

    # ---- the prisoner's timeline

    def _owned_change(self, viewer, campaign_id, change, make_events=None):
        """Apply `change(campaign) -> {field: value}` for an owner, on the version read (with the
        events `make_events(updated)`, if any, in the same write)."""
        campaign, prisoner = self._campaign(viewer, campaign_id, prisoner=True)
        if not consent.is_owner(campaign, viewer):
            raise Forbidden("Only the campaign's owners can change it.")
        return self._view(self._write(campaign, change(campaign), make_events=make_events), prisoner, viewer)

    def add_timeline_entry(self, viewer, campaign_id, payload):
        """An owner adds a moment of the prisoner's story, with a date, a source and who may read it."""
        data = load_or_fail(TimelineEntry(), payload)

        def add(campaign):
            entries = self.store.timeline(campaign)
            if len(entries) >= timeline.MAX_ENTRIES:
                raise Conflict("The timeline is full.", {"kind": f"At most {timeline.MAX_ENTRIES} moments."})
            entries.append(timeline.new_entry(data, self.clock()))
            return {"timeline_sealed": self.store.sealed_timeline(campaign["_id"], entries)}

        return self._owned_change(viewer, campaign_id, add, make_events=lambda after: supporters.news_of_moment(
            after, data["visibility"], SOURCE))

    def remove_timeline_entry(self, viewer, campaign_id, entry_id):
        def remove(campaign):
            entries = self.store.timeline(campaign)
            kept = [entry for entry in entries if entry["id"] != entry_id]
            if len(kept) == len(entries):
                raise NotFound("No such moment.")
            return {"timeline_sealed": self.store.sealed_timeline(campaign["_id"], kept)}

        return self._owned_change(viewer, campaign_id, remove)

    # ---- asks

    def post_ask(self, viewer, campaign_id, payload):
        """The owners ask journalists, policy-makers or lawyers for something: a need linked to the
        campaign (`campaign_ask_posted` -> requests), proposed and notified as any need is."""
        data = load_or_fail(Ask(), payload)
        privacy.confirm_public({k: data[k] for k in ("title", "body")}, data["confirm_public"],
                               "every verified volunteer with the skills")
        campaign, prisoner = self._campaign(viewer, campaign_id, prisoner=True)
        if not consent.is_owner(campaign, viewer):
            raise Forbidden("Only the campaign's owners post its asks.")
        if campaign["mode"] == "paused":
            raise Conflict("The campaign is paused: nothing leaves it until it is resumed.", {"mode": "Paused."})
        asks = campaign.get("asks", [])
        if len(asks) >= MAX_ASKS:
            raise Conflict("This campaign has all the asks it may have.", {"title": f"At most {MAX_ASKS}."})
        now = self.clock()
        request_id = uuid.uuid5(_ASK_REQUESTS, uuid.uuid4().hex).hex
        event = make_event(SOURCE, "campaign_ask_posted", {
            "request_id": request_id, "campaign_id": campaign["_id"], "author_id": viewer["account_id"],
            "title": data["title"], "body": data["body"], "skills": data["skills"], "languages": data["languages"],
            "country": campaign["prisoner_country"], "urgency": data["urgency"]})
        ask = {"request_id": request_id, "title": data["title"], "skills": data["skills"], "posted_at": now.isoformat()}
        return self._view(self._write(campaign, {"asks": asks + [ask]}, make_events=lambda _: [event],
                                      log=[("asked", data["title"])], viewer=viewer), prisoner, viewer)

    # ---- the wall

    def post_to_wall(self, viewer, campaign_id, payload):
        """The family (the owners) writes to the person held. A moderator reads it first; it shows
        only while the campaign is public."""
        campaign, _ = self._campaign(viewer, campaign_id)
        if not consent.is_owner(campaign, viewer):
            raise Forbidden("Only the campaign's owners post on its wall.")
        data = load_or_fail(WallPost(), payload)
        post = {"_id": uuid.uuid4().hex, "campaign_id": campaign["_id"], "author_id": viewer["account_id"],
                "status": "pending", "created_at": self.clock()}
        self.wall_store.insert(post, data["text"])
        return {"id": post["_id"], "status": "pending"}

    def wall_to_moderate(self, viewer):
        holds_role(viewer, "moderator", "Only moderators read wall posts before they are shown.")
        return {"items": [{"id": post["_id"], "campaign_id": post["campaign_id"], "text": post["text"],
                           "created_at": post["created_at"].isoformat()} for post in self.wall_store.pending(50)]}

    def moderate_wall_post(self, viewer, post_id, payload):
        viewer = holds_role(viewer, "moderator", "Only moderators approve wall posts.")
        decision = load_or_fail(LetterDecision(), payload)["decision"]
        status = "approved" if decision == "approve" else "rejected"
        if not is_id(post_id) or not self.wall_store.decide(
                post_id, {"status": status, "moderated_by": viewer["account_id"], "moderated_at": self.clock()}):
            raise NotFound("No such post waiting.")
        return {"id": post_id, "status": status}

    # ---- pledges

    def pledge(self, viewer, campaign_id, payload):
        """A signed-in supporter promises an action. Their handle is kept only if they asked to be
        credited, and shown only once the owners mark the action done."""
        campaign, _ = self._campaign(viewer, campaign_id)
        data = load_or_fail(Pledge(), payload)  # what they promise is theirs: sealed
        pledge = {"_id": uuid.uuid4().hex, "campaign_id": campaign["_id"], "author_id": viewer["account_id"],
                  "handle": viewer["handle"] if data["credit"] else None, "action": data["action"],
                  "kind": data["kind"], "status": "open", "created_at": self.clock()}
        self.pledge_store.insert(pledge)
        return {"id": pledge["_id"], "status": "open"}

    def campaign_pledges(self, viewer, campaign_id):
        """Every pledge, for the owners: the action, and the handle only of those who asked credit."""
        viewer, campaign, _ = self._owned(viewer, campaign_id)
        return {"items": [{"id": p["_id"], "action": p["action"], "kind": p["kind"], "by": p.get("handle"),
                           "status": p["status"], "created_at": p["created_at"].isoformat()}
                          for p in self.pledge_store.of_campaign(campaign["_id"])]}

    def pledge_done(self, viewer, campaign_id, pledge_id):
        viewer, campaign, _ = self._owned(viewer, campaign_id)
        if not is_id(pledge_id) or \
                not self.pledge_store.mark_done(pledge_id, campaign["_id"], self.clock()):
            raise NotFound("No such open pledge.")
        return {"id": pledge_id, "status": "done"}

    # ---- co-owners

    def invite_owner(self, viewer, campaign_id):
        """The creator makes a code for one co-owner (a lawyer, an NGO), given privately; it works
        once, for INVITATION_VALID, unless revoked first. Only its hash is kept."""
        campaign, _ = self._campaign(viewer, campaign_id)
        self._check_runs_owners(campaign, viewer, "Only the campaign's creator adds co-owners.")
        code = secrets.token_urlsafe(24)
        expires = self.clock() + INVITATION_VALID
        ref = self.store.invite(hashlib.sha256(code.encode()).hexdigest(), campaign["_id"], viewer["account_id"],
                                expires)
        self._write(campaign, {}, log=[("invited", None)], viewer=viewer)
        return {"code": code, "ref": ref, "expires_at": expires.isoformat()}

    def revoke_invitation(self, viewer, campaign_id, ref):
        """The creator takes back a code not used yet (given to the wrong person, or seized)."""
        campaign, _ = self._campaign(viewer, campaign_id)
        self._check_runs_owners(campaign, viewer, "Only the campaign's creator revokes invitations.")
        if not is_ref(ref) or not self.store.revoke(campaign["_id"], ref):
            raise NotFound("No such invitation, or it was used already.")
        self._write(campaign, {}, log=[("revoked_invitation", None)], viewer=viewer)
        return {"revoked": True}

    @staticmethod
    def _check_runs_owners(campaign, viewer, refusal):
        """The creator decides who the owners are (once the creator is gone, any owner does)."""
        creator = campaign.get("created_by")
        if not consent.is_owner(campaign, viewer) or creator not in (None, viewer["account_id"]):
            raise Forbidden(refusal)

    def join_as_owner(self, viewer, campaign_id, payload):
        """A signed-in person with the creator's code becomes a co-owner."""
        code = load_or_fail(OwnerInvitation(), payload)["code"]
        if not is_id(campaign_id):
            raise NotFound("No such campaign.")
        invitation = self.store.redeem(hashlib.sha256(code.encode()).hexdigest(), campaign_id)
        if invitation is None or invitation["expires_at"] < self.clock():  # the store gives aware times
            raise NotFound("No such invitation, or it was used or has expired.")
        me = viewer["account_id"]
        for _ in range(5):
            campaign, prisoner = self.store.find(campaign_id)
            if campaign is None:
                raise NotFound("No such campaign.")
            if me in campaign["owners"]:
                return self._view(campaign, prisoner, viewer)
            joined = {"owners": campaign["owners"] + [me],
                      "owner_handles": dict(campaign.get("owner_handles") or {}, **{me: viewer["handle"]})}
            try:
                updated = self._write(dict(campaign, owner_handles=joined["owner_handles"]), joined,
                                      log=[("joined", None)], viewer=viewer)
            except Conflict:
                continue
            return self._view(updated, prisoner, viewer)
        raise Conflict("The campaign kept changing; try again.", {"code": "Try again."})

    def remove_owner(self, viewer, campaign_id, handle):
        """The creator removes a co-owner, named by their handle; a co-owner may leave. Nobody
        removes the creator (owners.removable)."""
        campaign, _ = self._campaign(viewer, campaign_id)
        if not consent.is_owner(campaign, viewer):
            raise NotFound("No such co-owner.")
        target = owners.removable(campaign, viewer["account_id"], handle)
        left = target == viewer["account_id"]
        self._write(campaign, {"owners": [o for o in campaign["owners"] if o != target],
                               "owner_handles": {k: v for k, v in (campaign.get("owner_handles") or {}).items()
                                                 if k != target}},
                    log=[("left", None) if left else ("removed", handle)], viewer=viewer)
        return {"removed": True}

    # ---- moderators

    def set_disputed(self, viewer, campaign_id, payload):
        """A moderator marks a campaign as disputed (its page says so to everyone), or clears it."""
        viewer = holds_role(viewer, "moderator", "Only moderators mark a campaign as disputed.")
        data = load_or_fail(Dispute(), payload)  # the note names a relative: sealed
        campaign, _ = self._campaign(viewer, campaign_id)
        self._write(campaign, {"disputed": data["disputed"], "dispute_note": data["note"]}, make_events=_changed)
        return {"id": campaign["_id"], "disputed": data["disputed"]}

    # ---- events from other services

    def _translation_letter(self, data):
        """The letter whose translation need a match is about (None for every other request)."""
        return self.letter_store.by_translation_request(data["request_id"])

    def on_match_confirmed(self, data, event_id=None):
        """The owner confirmed a translator for a letter's translation need: they may read it and
        translate it. Only on the owner's signed decision; a newer event about the match wins."""
        letter = self._translation_letter(data)
        if letter is None:
            return
        decided = decided_version(data, letter.get("translation_author_id"))
        if decided is None:
            log.warning("refused a match_confirmed without its author's signed decision (%s)", event_id)
            return
        # The version the author's signature names, not the one the event claims: a replayed old
        # confirmation is older than the end of access applied since, whatever its event says.
        self.letter_store.set_translator(letter["_id"], data["volunteer_id"], decided + 1,
                                         letter.get("translator_version"))

    def on_match_ended(self, data):
        """The owner ended the translator's access (or they lost their standing): the letter is
        theirs no more."""
        letter = self._translation_letter(data)
        if letter is None or letter.get("translator_id") != data["volunteer_id"]:
            return
        self.letter_store.set_translator(letter["_id"], None, data["version"], letter.get("translator_version"))

    def on_profile_changed(self, data):
        """What a volunteer counts as apart (a verified journalist, lawyer, policy-maker); versioned."""
        apart = data["role"] == "volunteer" and data["verified"] and data["status"] == "active"
        self.store.remember_professional(data["profile_id"], public_counts.professions(data["skills"]) if apart else [],
                                         data["version"])

    def on_profile_deleted(self, data):
        """Someone deleted their account: letters, wall posts and pledges stay, nobody's; campaigns
        they owned lose them as an owner (one left without owners is paused, nothing deleted)."""
        account_id = data["profile_id"]
        self.store.forget_professional(account_id, data["version"])
        self.letter_store.forget_author(account_id)
        self.wall_store.forget_author(account_id)
        self.pledge_store.forget_author(account_id)
        for campaign in self.store.owned_full(account_id):
            owners = [owner for owner in campaign["owners"] if owner != account_id]
            change = {"owners": owners, "owner_handles": {k: v for k, v in (campaign.get("owner_handles") or {}).items()
                                                          if k != account_id}}
            if campaign.get("created_by") == account_id:
                change["created_by"] = None
            if not owners:
                change["mode"] = "paused"  # nothing deleted: a moderator can hand it to the family again
            if self.store.update(campaign, change, make_events=_changed) is None:
                raise Conflict("The campaign changed meanwhile.", {})  # the event is delivered again
            self.store.flush(campaign["_id"], self.dispatch)

    def on_check_in(self, event_type, data):
        """An owner missed a check-in (or used their duress password), or checked in after one: the
        campaigns they chose tell their other owners (through notify), and each campaign's owner
        log says so. A campaign they do not own is passed over."""
        kind = event_type.removeprefix("check_in_")
        chosen = set(data["campaigns"])
        for campaign in self.store.owned_full(data["profile_id"]):
            if campaign["_id"] not in chosen:
                continue
            others = [owner for owner in campaign["owners"] if owner != data["profile_id"]]
            told = make_event(SOURCE, "campaign_owners_told", {
                "campaign_id": campaign["_id"], "owner_ids": others, "kind": kind,
                "message_sealed": data.get("message_sealed"), "at": data["at"]})
            self._write(campaign, {}, make_events=lambda after, told=told: [told] if others else [],
                        log=[(f"check_in_{kind}", None)], viewer={"account_id": data["profile_id"]})

    def relay_pending(self):
        """Events a crash left in an outbox, published now."""
        self.store.flush_pending(self.dispatch)
        self.store.flush_pending_signatures(self.dispatch)
        self.letter_store.flush_pending(self.dispatch)

    # ---- timers

    def publish_counts(self):
        """What the public sees of the counts: copied from the exact ones at the start of each period
        of CAMPAIGN_COUNTS_EVERY_S seconds (count_schedule.py), whatever changed, never when someone signs."""
        now, every_s = self.clock(), self.counts_every_s
        last = self.store.last_published_period()
        if count_schedule.due(last, now, every_s) and self.store.claim_period(count_schedule.period(now, every_s), last):
            self.store.publish_counts(now, batch=200, batches=50)
