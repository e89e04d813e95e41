"""campaigns: campaigns for prisoners of conscience, and the support they gather without
identifying anyone (DESIGN, "Campaigns for prisoners of conscience"; ../shared/CAMPAIGNS.md).

What a campaign says about the prisoner arrives sealed to this service, is sealed at rest, and
leaves sealed to the gateway; each field reaches only whom the owners allowed (consent.py). A
signature is a country, and, if given, an email that only decides it signs once (support.py)."""
import logging
import uuid
from datetime import timedelta

from nameko.dependency_providers import Config
from nameko.timer import timer

from services.common import privacy
from services.common.consumer import consumes
from services.common.errors import Conflict, ConfirmationRequired, DomainError, Forbidden, NotFound
from services.common.events import make_event, utcnow
from services.common.mongo import ServiceDatabase, ping
from services.common.rpc import rpc
from services.common.schemas import Paging, load_or_fail, require_role, trusted_viewer
from services.common.topology import ReliableEventDispatcher
from services.common.trust import ReplyCall, ViewerAudience, chosen_by_author, keyring, sealed_reply

from . import consent, letters, storage, support
from .schemas import (CampaignEdit, CampaignId, CampaignListQuery, LetterDecision, LetterDelivery, LetterId,
                      LetterTranslation, NewCampaign, NewLetter, Signature)

log = logging.getLogger(__name__)
SOURCE = "campaigns"
STRAGGLER_AGE = timedelta(minutes=1)


def _check_public_text(data, confirmed):
    """The title and story are read by everyone the campaign reaches: they must not identify anyone
    (the prisoner's own details have fields of their own, with consent) unless the owner confirms."""
    warnings = privacy.check_public_text({k: data[k] for k in ("title", "story") if k in data})
    if warnings and not confirmed:
        raise ConfirmationRequired(
            "This text may identify someone, and anyone the campaign reaches can read it. Put the "
            "prisoner's details in their own fields, where you choose who sees each; or send it again "
            "with confirm_public: true.", warnings)


class CampaignsService:
    name = SOURCE

    config = Config()
    db = ServiceDatabase(prepare=storage.prepare)
    keys = storage.CampaignKeys()
    reply_call = ReplyCall()  # what sealed replies are bound to (services/common/trust.py)
    viewer_audience = ViewerAudience()  # a signed viewer counts only in the call it was signed for
    dispatch = ReliableEventDispatcher()

    @property
    def store(self):
        return storage.CampaignStore(self.db, self.keys[0])

    @property
    def letter_store(self):
        return storage.LetterStore(self.db, self.keys[0])

    def _threshold(self):
        return int(self.config.get("CAMPAIGN_COUNT_THRESHOLD") or support.DEFAULT_THRESHOLD)

    def _campaign(self, viewer, campaign_id):
        """(campaign, prisoner) as `viewer` may reach it: 404 for a paused or unknown one alike."""
        if CampaignId().validate({"campaign_id": campaign_id}):
            raise NotFound("No such campaign.")  # an id that is no campaign id names nothing, as an unknown one
        campaign, prisoner = self.store.find(campaign_id)
        if not consent.visible(campaign, viewer):
            raise NotFound("No such campaign.")
        return campaign, prisoner

    def _view(self, campaign, prisoner, viewer):
        owner = consent.is_owner(campaign, viewer)
        view = {"id": campaign["_id"], "title": campaign["title"], "story": campaign["story"],
                "mode": campaign["mode"], "prisoner_country": campaign["prisoner_country"],
                "prisoner_status": campaign["prisoner_status"], "detained_on": campaign.get("detained_on"),
                "days_detained": consent.days_detained(campaign), "language": campaign["language"],
                "prisoner": consent.prisoner_view(campaign, prisoner, viewer),
                "support": support.shown(campaign.get("support_shown"), campaign["prisoner_country"],
                                         self._threshold()),
                "is_owner": owner, "created_at": campaign["created_at"].isoformat()}
        if owner:
            view.update(consent={field: campaign.get("consent", {}).get(field, "owners")
                                 for field in consent.PRISONER_FIELDS},
                        consent_review_due=bool(campaign.get("consent_review_due")))
        return view

    def _summary(self, campaign):
        return {"id": campaign["_id"], "title": campaign["title"], "prisoner_country": campaign["prisoner_country"],
                "prisoner_status": campaign["prisoner_status"], "mode": campaign["mode"],
                "days_detained": consent.days_detained(campaign),
                "support": support.shown(campaign.get("support_shown"), campaign["prisoner_country"],
                                         self._threshold()),
                "created_at": campaign["created_at"].isoformat()}

    # ---- owners

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def create_campaign(self, viewer, payload):
        """An activist (a family member, a colleague, under a pseudonym) starts a campaign."""
        viewer = trusted_viewer(viewer)
        if viewer["role"] != "activist":
            raise Forbidden("Only activists can start campaigns.")
        data = load_or_fail(NewCampaign(), keyring().open(SOURCE, payload))
        _check_public_text(data, data.pop("confirm_public"))
        now = utcnow()
        prisoner = data.pop("prisoner")
        campaign = dict(data, _id=uuid.uuid4().hex, owners=[viewer["account_id"]], created_by=viewer["account_id"],
                        detained_on=data["detained_on"].isoformat() if data["detained_on"] else None,
                        consent_review_due=False, support={"total": 0, "by_country": {}}, support_dirty=False,
                        support_shown={"total": 0, "by_country": {}}, version=1, created_at=now, updated_at=now)
        self.store.insert(campaign, prisoner)
        return self._view(campaign, prisoner, viewer)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def update_campaign(self, viewer, campaign_id, payload):
        """An owner changes the campaign: its text, the prisoner's details and status, consent,
        mode (`paused` hides it from everyone but the owners at once). A change of the prisoner's
        status asks consent again: until an owner confirms it, every field is for the owners only."""
        viewer = trusted_viewer(viewer)
        campaign, prisoner = self._campaign(viewer, campaign_id)
        if not consent.is_owner(campaign, viewer):
            raise Forbidden("Only the campaign's owners can change it.")
        data = load_or_fail(CampaignEdit(), keyring().open(SOURCE, payload))
        _check_public_text(data, data.pop("confirm_public"))
        changes = {key: value for key, value in data.items() if key not in ("prisoner", "consent", "consent_confirmed")}
        if "detained_on" in changes:
            changes["detained_on"] = changes["detained_on"].isoformat() if changes["detained_on"] else None
        if data.get("consent"):
            changes["consent"] = dict(campaign.get("consent", {}), **data["consent"])
        if "prisoner_status" in data and data["prisoner_status"] != campaign["prisoner_status"]:
            changes["consent_review_due"] = True
        elif data.get("consent_confirmed") or data.get("consent"):
            changes["consent_review_due"] = False
        new_prisoner = dict(prisoner, **data["prisoner"]) if data.get("prisoner") else None
        changes["updated_at"] = utcnow()
        updated = self.store.update(campaign, changes, new_prisoner)
        if updated is None:
            raise Conflict("The campaign changed meanwhile; look again.", {"version": "Changed."})
        updated.pop("prisoner_sealed", None)
        return self._view(updated, new_prisoner or prisoner, viewer)

    @rpc(expected_exceptions=DomainError)
    def my_campaigns(self, viewer):
        viewer = trusted_viewer(viewer)
        return {"items": [self._summary(c) for c in self.store.owned_by(viewer["account_id"])]}

    # ---- everyone

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def get_campaign(self, viewer, campaign_id):
        """A campaign as `viewer` (None: anyone) may see it; 404 if paused (but to its owners) or unknown."""
        viewer = trusted_viewer(viewer) if viewer is not None else None
        campaign, prisoner = self._campaign(viewer, campaign_id)
        return self._view(campaign, prisoner, viewer)

    @rpc(expected_exceptions=DomainError)
    def list_campaigns(self, query=None):
        """Listed (`public`) campaigns, newest first, a page at a time: `{items, next?}`."""
        query = load_or_fail(CampaignListQuery(), query or {})
        items = self.store.listed(query["limit"] + 1, query["before"], query["country"], query["prisoner_status"])
        page = {"items": [self._summary(c) for c in items[:query["limit"]]]}
        if len(items) > query["limit"]:
            page["next"] = items[query["limit"] - 1]["_id"]
        return page

    @rpc(expected_exceptions=DomainError)
    def sign_campaign(self, campaign_id, payload):
        """A signature: a country, and optionally an email that only decides it signs once. The
        answer is the same whether it was counted or had been before: it never tells whether an
        email signed (someone holding another's address could ask)."""
        campaign, _ = self._campaign(None, campaign_id)
        data = load_or_fail(Signature(), keyring().open(SOURCE, payload))
        now = utcnow()
        signature = {"_id": storage.signature_id(self.keys[1], campaign["_id"], data["email"]),
                     "campaign_id": campaign["_id"], "country": data["country"], "signed_at": now}
        if self.store.add_signature(signature):
            self.store.count(signature)
        return {"received": True}

    # ---- letters of support

    @rpc(expected_exceptions=DomainError)
    def write_letter(self, viewer, campaign_id, payload):
        """A signed-in supporter writes to the person held. Nobody but the moderators sees it until
        one approves it; the owners never learn who wrote it. A letter the composer warns about (a
        name, a plan) needs `confirm_sensitive`."""
        viewer = trusted_viewer(viewer)
        campaign, _ = self._campaign(viewer, campaign_id)
        data = load_or_fail(NewLetter(), keyring().open(SOURCE, payload))
        warnings = letters.warnings(data["text"])
        if warnings and not data["confirm_sensitive"]:
            raise ConfirmationRequired(
                "Prison staff read letters before the person held does. Leave out what could be used "
                "against them, other prisoners or you; or send it again with confirm_sensitive: true.", warnings)
        letter = {"_id": uuid.uuid4().hex, "campaign_id": campaign["_id"], "author_id": viewer["account_id"],
                  "language": data["language"], "status": "pending", "created_at": utcnow()}
        self.letter_store.insert(letter, data["text"])
        return {"id": letter["_id"], "status": "pending"}

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def letters_to_moderate(self, viewer, query=None):
        """The moderators' queue of pending letters, oldest first: `{items, next?}`."""
        require_role(viewer, "moderator", "Only moderators read letters before they are approved.")
        query = load_or_fail(Paging(), query or {})
        items = self.letter_store.pending(query["limit"] + 1, query["before"])
        titles = {}
        page = []
        for letter in items[:query["limit"]]:
            if letter["campaign_id"] not in titles:
                campaign, _ = self.store.find(letter["campaign_id"])
                titles[letter["campaign_id"]] = campaign["title"] if campaign else None
            page.append({"id": letter["_id"], "campaign_id": letter["campaign_id"],
                         "campaign_title": titles[letter["campaign_id"]], "language": letter["language"],
                         "text": letter["text"], "author_id": letter["author_id"],
                         "warnings": letters.warnings(letter["text"]), "created_at": letter["created_at"].isoformat()})
        result = {"items": page}
        if len(items) > query["limit"]:
            result["next"] = items[query["limit"] - 1]["_id"]
        return result

    @rpc(expected_exceptions=DomainError)
    def moderate_letter(self, viewer, letter_id, payload):
        """A moderator approves or rejects a pending letter. An approved letter in another language
        than the prisoner's becomes a translation need (`letter_translation_needed`)."""
        viewer = require_role(viewer, "moderator", "Only moderators approve letters.")
        decision = load_or_fail(LetterDecision(), payload)["decision"]
        letter = self._letter(letter_id)
        if letter["status"] != "pending":
            raise Conflict("This letter was decided already.", {"decision": "Already " + letter["status"] + "."})
        now = utcnow()
        change = {"status": "approved" if decision == "approve" else "rejected", "moderated_by": viewer["account_id"],
                  "moderated_at": now}
        events = []
        campaign, _ = self.store.find(letter["campaign_id"])
        if decision == "approve" and campaign is not None and letters.needs_translation(letter, campaign):
            author = campaign.get("created_by") or next(iter(campaign["owners"]), None)
            if author is not None:
                request_id = letters.translation_request_id(letter["_id"])
                change.update(needs_translation=True, translation_request_id=request_id, translation_author_id=author)
                events.append(make_event(SOURCE, "letter_translation_needed", {
                    "request_id": request_id, "campaign_id": campaign["_id"], "letter_id": letter["_id"],
                    "author_id": author, "from_language": letter["language"], "to_language": campaign["language"],
                    "country": campaign["prisoner_country"]}))
        if not self.letter_store.decide(letter["_id"], change, events):
            raise Conflict("This letter was decided already.", {"decision": "Already decided."})
        if events:
            self.letter_store.flush(letter["_id"], self.dispatch)
        return {"id": letter["_id"], "status": change["status"]}

    def _letter(self, letter_id):
        if LetterId().validate({"letter_id": letter_id}):
            raise NotFound("No such letter.")
        letter = self.letter_store.find(letter_id)
        if letter is None:
            raise NotFound("No such letter.")
        return letter

    def _owned(self, viewer, campaign_id):
        viewer = trusted_viewer(viewer)
        campaign, prisoner = self._campaign(viewer, campaign_id)
        if not consent.is_owner(campaign, viewer):
            raise Forbidden("Only the campaign's owners read its letters.")
        return viewer, campaign, prisoner

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def campaign_letters(self, viewer, campaign_id):
        """The approved letters, for the owners: text, translation, what became of each; never who
        wrote it. Also what the bundle is printed in: the prisoner's language and, if the owners
        allowed it at all, the prisoner's name."""
        viewer, campaign, prisoner = self._owned(viewer, campaign_id)
        return {"campaign_id": campaign["_id"], "title": campaign["title"], "language": campaign["language"],
                "prisoner_name": prisoner.get("name"),
                "items": [letters.owner_view(letter, letter["text"], letter["translation"])
                          for letter in self.letter_store.approved(campaign["_id"])]}

    @rpc(expected_exceptions=DomainError)
    def mark_letter(self, viewer, campaign_id, letter_id, payload):
        """The family marks what became of a printed letter: handed over, delivered, returned,
        confiscated."""
        viewer, campaign, _ = self._owned(viewer, campaign_id)
        delivery = load_or_fail(LetterDelivery(), payload)["delivery"]
        if LetterId().validate({"letter_id": letter_id}) or \
                not self.letter_store.mark_delivery(letter_id, campaign["_id"], delivery, utcnow()):
            raise NotFound("No such letter.")
        return {"id": letter_id, "delivery": delivery}

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def letter_to_translate(self, viewer, letter_id):
        """The letter, for the translator its campaign's owner confirmed (and nobody else)."""
        viewer = trusted_viewer(viewer)
        letter = self._letter(letter_id)
        if letter.get("translator_id") != viewer["account_id"]:
            raise NotFound("No such letter.")
        campaign, _ = self.store.find(letter["campaign_id"])
        return {"id": letter["_id"], "language": letter["language"], "to_language": campaign["language"],
                "text": letter["text"], "translation": letter["translation"],
                "request_id": letter.get("translation_request_id")}

    @rpc(expected_exceptions=DomainError)
    def translate_letter(self, viewer, letter_id, payload):
        """The confirmed translator's translation: it is what the bundle prints (never their handle)."""
        viewer = trusted_viewer(viewer)
        letter = self._letter(letter_id)
        data = load_or_fail(LetterTranslation(), keyring().open(SOURCE, payload))
        if letter.get("translator_id") != viewer["account_id"] or \
                not self.letter_store.translate(letter["_id"], viewer["account_id"], data["text"], utcnow()):
            raise NotFound("No such letter.")
        return {"id": letter["_id"], "translated": True}

    # ---- events from other services

    def _translation_letter(self, data):
        """The letter whose translation need a match is about (None for every other request)."""
        return self.letter_store.by_translation_request(data["request_id"])

    @consumes("matching", "match_confirmed", ledger=False)
    def on_match_confirmed(self, event):
        """The owner confirmed a translator for a letter's translation need: they may read it and
        translate it. Only on the owner's signed decision; a newer event about the match wins."""
        letter = self._translation_letter(event.data)
        if letter is None:
            return
        if not chosen_by_author(event.data, letter.get("translation_author_id")):
            log.warning("refused a match_confirmed without its author's signed decision (%s)", event.event_id)
            return
        self.letter_store.set_translator(letter["_id"], event.data["volunteer_id"], event.data["version"],
                                         letter.get("translator_version"))

    @consumes("matching", "match_ended", ledger=False)
    def on_match_ended(self, event):
        """The owner ended the translator's access (or they lost their standing): the letter is
        theirs no more."""
        letter = self._translation_letter(event.data)
        if letter is None or letter.get("translator_id") != event.data["volunteer_id"]:
            return
        self.letter_store.set_translator(letter["_id"], None, event.data["version"], letter.get("translator_version"))

    @consumes("profiles", "profile_deleted", ledger=False)
    def on_profile_deleted(self, event):
        """Someone deleted their account: letters they wrote stay the family's, nobody's; campaigns
        they owned lose them as an owner (one left without owners is paused, nothing deleted)."""
        account_id = event.data["profile_id"]
        self.letter_store.forget_author(account_id)
        storage.forget_owner(self.db, account_id)

    @timer(interval=5)
    def relay_pending_events(self):
        self.letter_store.flush_pending(self.dispatch)

    @rpc
    def health(self):
        return {"database": ping(self.db)}

    # ---- timers

    @timer(interval=5)
    def publish_counts(self):
        """What the public sees of the counts: a snapshot, at most once per CAMPAIGN_COUNTS_EVERY_S."""
        self.store.publish_counts(utcnow(), float(self.config.get("CAMPAIGN_COUNTS_EVERY_S") or 600), limit=200)

    @timer(interval=60)
    def count_stragglers(self):
        """Signatures a crash left uncounted (stored, not yet added to the counts): counted now."""
        for signature in self.store.uncounted(utcnow() - STRAGGLER_AGE, limit=500):
            self.store.count(signature)
