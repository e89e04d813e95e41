"""campaigns: campaigns for prisoners of conscience, and the support they gather without
identifying anyone (DESIGN, "Campaigns for prisoners of conscience"; ../shared/CAMPAIGNS.md).

What a campaign says about the prisoner arrives sealed to this service, is sealed at rest, and
leaves sealed to the gateway; each field reaches only whom the owners allowed (consent.py). A
signature is a country, and, if given, an email that only decides it signs once (support.py)."""
import uuid
from datetime import timedelta

from nameko.dependency_providers import Config
from nameko.timer import timer

from services.common import privacy
from services.common.errors import Conflict, ConfirmationRequired, DomainError, Forbidden, NotFound
from services.common.events import utcnow
from services.common.mongo import ServiceDatabase, ping
from services.common.rpc import rpc
from services.common.schemas import load_or_fail, trusted_viewer
from services.common.trust import ReplyCall, ViewerAudience, keyring, sealed_reply

from . import consent, storage, support
from .schemas import CampaignEdit, CampaignId, CampaignListQuery, NewCampaign, Signature

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

    @property
    def store(self):
        return storage.CampaignStore(self.db, self.keys[0])

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
