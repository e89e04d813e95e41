"""The campaigns database: one document per campaign (what is said about the prisoner sealed at
rest), and one per signature (never who signed).

Cost per signature, whatever the campaign holds (DESIGN, "Cost that does not grow with history"):
one insert (the signature, keyed so that one email signs once), one write marking it counted, one
`$inc` of the campaign's counts. Counts are never recomputed by scanning; a signature a crash left
unmarked is counted by the next `count_stragglers` tick (an equality on `counted`, which an index
serves)."""
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

from cryptography.fernet import Fernet, MultiFernet
from nameko.extensions import DependencyProvider
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

CAMPAIGNS = "campaigns"
SIGNATURES = "signatures"
SUMMARY = ("_id", "title", "prisoner_country", "prisoner_status", "detained_on", "mode", "support_shown",
           "created_at")


def prepare(db):
    db[CAMPAIGNS].create_index("mode")
    db[CAMPAIGNS].create_index("owners")
    db[CAMPAIGNS].create_index("support_dirty")
    db[SIGNATURES].create_index("counted")


class PrisonerText:
    """What a campaign says about the prisoner, at rest: a Fernet token made with the first of
    CAMPAIGN_TEXT_KEYS and bound to the campaign's id (every key in the list opens, so keys
    rotate). A copy of the database must not give away a name the family kept for the owners."""

    def __init__(self, keys):
        keys = [key.strip() for key in (keys or "").split(",") if key.strip()]
        if not keys:
            raise ValueError("CAMPAIGN_TEXT_KEYS is not configured (comma-separated Fernet keys, current first)")
        self.cipher = MultiFernet([Fernet(key) for key in keys])

    def seal(self, campaign_id, prisoner):
        return self.cipher.encrypt(json.dumps([campaign_id, prisoner]).encode()).decode()

    def open(self, campaign_id, token):
        bound_id, prisoner = json.loads(self.cipher.decrypt(token.encode()))
        if bound_id != campaign_id:
            raise ValueError(f"the prisoner's details stored on campaign {campaign_id} are another campaign's")
        return prisoner


class CampaignKeys(DependencyProvider):
    """Injects (PrisonerText, signature key) from configuration."""

    def setup(self):
        config = self.container.config
        key = (config.get("SIGNATURE_KEY") or "").encode()
        if len(key) < 32:
            raise ValueError("SIGNATURE_KEY is not configured (32 characters or more)")
        self.keys = (PrisonerText(config.get("CAMPAIGN_TEXT_KEYS")), key)

    def get_dependency(self, worker_ctx):
        return self.keys


def signature_id(key, campaign_id, email):
    """One email signs a campaign once: a keyed hash decides, never the address (which is not kept).
    Without an email, every signature is its own."""
    if email is None:
        return uuid.uuid4().hex
    normalised = email.strip().lower()
    return hmac.new(key, f"{campaign_id}\n{normalised}".encode(), hashlib.sha256).hexdigest()


class CampaignStore:
    def __init__(self, db, text):
        self.db, self.campaigns, self.signatures, self.text = db, db[CAMPAIGNS], db[SIGNATURES], text

    # ---- campaigns

    def insert(self, campaign, prisoner):
        self.campaigns.insert_one(dict(campaign, prisoner_sealed=self.text.seal(campaign["_id"], prisoner)))

    def find(self, campaign_id):
        """(campaign, prisoner) or (None, None)."""
        campaign = self.campaigns.find_one({"_id": campaign_id})
        if campaign is None:
            return None, None
        return campaign, self.text.open(campaign_id, campaign.pop("prisoner_sealed"))

    def update(self, campaign, changes, prisoner=None):
        """Apply `changes` to the campaign as read (its version): None if it changed meanwhile."""
        changes = dict(changes, version=campaign["version"] + 1)
        if prisoner is not None:
            changes["prisoner_sealed"] = self.text.seal(campaign["_id"], prisoner)
        return self.campaigns.find_one_and_update({"_id": campaign["_id"], "version": campaign["version"]},
                                                  {"$set": changes}, return_document=ReturnDocument.AFTER)

    def listed(self, limit, before=None, country=None, prisoner_status=None):
        """Public (listed) campaigns, newest first, a page at a time (`before`: the last id seen)."""
        query = {"mode": "public"}
        if country:
            query["prisoner_country"] = country
        if prisoner_status:
            query["prisoner_status"] = prisoner_status
        if before:
            anchor = self.campaigns.find_one({"_id": before}, {"created_at": 1})
            if anchor is None:
                return []
            query["created_at"] = {"$lt": anchor["created_at"]}
        return list(self.campaigns.find(query, {key: 1 for key in SUMMARY}).sort("created_at", -1).limit(limit))

    def owned_by(self, account_id, limit=200):
        return list(self.campaigns.find({"owners": account_id}, {key: 1 for key in SUMMARY})
                    .sort("created_at", -1).limit(limit))

    # ---- signatures and counts

    def add_signature(self, signature):
        """False if this signature (this email, on this campaign) was already there."""
        try:
            self.signatures.insert_one(dict(signature, counted=False))
        except DuplicateKeyError:
            return False
        return True

    def count(self, signature):
        """Add one signature to its campaign's counts, once: whoever marks it counted adds it (a
        crash between the two writes loses one from the counts, never counts one twice)."""
        if self.signatures.update_one({"_id": signature["_id"], "counted": False},
                                      {"$set": {"counted": True}}).modified_count:
            self.campaigns.update_one({"_id": signature["campaign_id"]},
                                      {"$inc": {"support.total": 1, f"support.by_country.{signature['country']}": 1},
                                       "$set": {"support_dirty": True}})

    def uncounted(self, older_than, limit):
        return [s for s in self.signatures.find({"counted": False}).limit(limit) if s["signed_at"] < older_than]

    def publish_counts(self, now, every_s, limit):
        """Copy each changed campaign's counts to what the public sees, at most once per `every_s`
        seconds per campaign (a batch: no count can be tied to the moment someone signed)."""
        published = 0
        for campaign in self.campaigns.find({"support_dirty": True}, {"support": 1, "support_shown_at": 1}).limit(limit):
            shown_at = campaign.get("support_shown_at")
            if shown_at is not None and now - shown_at < timedelta(seconds=every_s):
                continue
            # Only if no signature came meanwhile (else it stays marked, for the next tick).
            self.campaigns.update_one({"_id": campaign["_id"], "support": campaign.get("support")}, {"$set": {
                "support_shown": campaign.get("support") or {}, "support_shown_at": now, "support_dirty": False}})
            published += 1
        return published
