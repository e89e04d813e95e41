"""The campaigns database: one document per campaign (what is said about the prisoner sealed at
rest), and one per signature (never who signed).

Cost per signature, whatever the campaign holds (DESIGN, "Cost that does not grow with history"):
on the signer's call, one insert of what was received, the same whoever signs; then, on
take_signatures' schedule, one insert (the signature, keyed so that one email signs once), one
write marking it counted, one `$inc` of the campaign's counts, and the received item deleted with
the rest of its page. Counts are never recomputed by scanning. A signature keeps its day, never
the moment it was made."""
import uuid

from nameko.extensions import DependencyProvider
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.common.store import backlog, outbox, paging
from services.common.store.mongo import create_collections
from services.common.bus.readmodel import apply_if_newer
from services.common.trust.sealing import Sealer
from services.common.trust.textseal import BoundText

CAMPAIGNS = "campaigns"
SIGNATURES = "signatures"
LETTERS = "letters"
WALL = "wall"
PLEDGES = "pledges"
INVITATIONS = "owner_invitations"
PROFESSIONALS = "professionals"  # verified volunteer -> what they count as (public_counts.professions), from profiles
ENDORSEMENTS = "endorsements"    # one per professional and campaign, keyed by a hash: no account id kept
# Signatures as received, before they are counted (sign_campaign answers after one insert here,
# the same insert whoever signs: take_signatures does the rest on its own schedule).
INTAKE = "signature_intake"
SCHEDULE = "schedule"            # one document: the last period whose counts were published (count_schedule.py)
SUMMARY = ("_id", "title", "prisoner_country", "prisoner_status", "detained_on", "mode", "support_shown",
           "disputed", "created_at")


def prepare(db):
    db[CAMPAIGNS].create_index("mode")
    db[CAMPAIGNS].create_index("owners")
    db[CAMPAIGNS].create_index("created_by")  # how many campaigns an account started
    db[CAMPAIGNS].create_index("support_dirty")
    db[INVITATIONS].create_index("campaign_id")  # the owners' list of codes not yet used
    # The moderators' queue (an equality on `status`), a campaign's letters, and the letter a
    # translation need is about (matching's confirmations name the request).
    db[LETTERS].create_index("status")
    db[LETTERS].create_index("campaign_id")
    db[LETTERS].create_index("translation_request_id")
    db[LETTERS].create_index("author_id")  # a writer who deletes their account is forgotten
    db[LETTERS].create_index("translation_status")  # the moderators' queue of translations
    db[WALL].create_index("status")
    db[WALL].create_index("campaign_id")
    db[WALL].create_index("author_id")
    db[PLEDGES].create_index("campaign_id")
    db[PLEDGES].create_index("author_id")
    create_collections(db, PROFESSIONALS, ENDORSEMENTS, INTAKE, SCHEDULE)  # found by _id only (or read whole)
    for collection in (CAMPAIGNS, SIGNATURES, LETTERS):
        outbox.index(db[collection])


class TextAtRest(BoundText):
    """What a campaign says about the prisoner, and each letter and its translation, at rest: a
    Fernet token made with the first of CAMPAIGN_TEXT_KEYS and bound to the document's id (every
    key in the list opens, so keys rotate). A copy of the database must not give away a name the
    family kept for the owners, nor what a supporter wrote to the person held."""

    def __init__(self, keys):
        super().__init__(keys, "CAMPAIGN_TEXT_KEYS")

    def seal(self, doc_id, value):
        return super().seal(doc_id, value)

    def open(self, doc_id, token):
        return super().open(doc_id, token)[0]


class CampaignKeys(DependencyProvider):
    """Injects (TextAtRest, signature key, sealer to notify) from configuration: a supporter's
    address and the token of their links leave sealed to notify's key (supporters.py)."""

    def setup(self):
        config = self.container.config
        key = (config.get("SIGNATURE_KEY") or "").encode()
        if len(key) < 32:
            raise ValueError("SIGNATURE_KEY is not configured (32 characters or more)")
        self.keys = (TextAtRest(config.get("CAMPAIGN_TEXT_KEYS")), key, Sealer(config.get("NOTIFY_PUBLIC_KEY")))

    def get_dependency(self, worker_ctx):
        return self.keys


class CampaignStore:
    def __init__(self, db, text):
        self.db, self.campaigns, self.signatures, self.text = db, db[CAMPAIGNS], db[SIGNATURES], text

    # ---- campaigns

    def insert(self, campaign, prisoner, events=()):
        outbox.insert_with_events(self.campaigns, dict(campaign, prisoner_sealed=self.text.seal(campaign["_id"], prisoner)),
                                  events)

    def find(self, campaign_id):
        """(campaign, prisoner) or (None, None)."""
        campaign = self.campaigns.find_one({"_id": campaign_id}, outbox.HIDE)
        if campaign is None:
            return None, None
        return campaign, self.text.open(campaign_id, campaign.pop("prisoner_sealed"))

    def find_plain(self, campaign_id):
        """The campaign's own fields (title, language, owners...), or None, without reading or opening
        what is sealed about the prisoner and their timeline: for callers that need neither."""
        return self.campaigns.find_one({"_id": campaign_id},
                                       dict(outbox.HIDE, prisoner_sealed=0, timeline_sealed=0))

    def update(self, campaign, changes, prisoner=None, make_events=None):
        """Apply `changes` to the campaign as read (its version), with the events
        `make_events(updated)` in the same write: None if it changed meanwhile."""
        changes = dict(changes, version=campaign["version"] + 1)
        if prisoner is not None:
            changes["prisoner_sealed"] = self.text.seal(campaign["_id"], prisoner)
        update = {"$set": changes}
        events = make_events(dict(campaign, **changes)) if make_events is not None else []
        if events:
            update = outbox.stage(update, events)
        return outbox.strip(self.campaigns.find_one_and_update({"_id": campaign["_id"], "version": campaign["version"]},
                                                               update, return_document=ReturnDocument.AFTER))

    def flush(self, campaign_id, dispatch):
        outbox.flush(self.campaigns, campaign_id, dispatch)

    def flush_pending(self, dispatch):
        outbox.flush_pending(self.campaigns, dispatch)

    def listed(self, limit, before=None, country=None, prisoner_status=None):
        """Public (listed) campaigns, newest first, a page at a time (`before`: the last id seen)."""
        query = {"mode": "public"}
        if country:
            query["prisoner_country"] = country
        if prisoner_status:
            query["prisoner_status"] = prisoner_status
        return paging.page(self.campaigns, query, "created_at", before, limit, projection={key: 1 for key in SUMMARY})[0]

    def timeline(self, campaign):
        sealed = campaign.get("timeline_sealed")
        return self.text.open(campaign["_id"] + ":timeline", sealed) if sealed else []

    def sealed_timeline(self, campaign_id, entries):
        """The timeline as it is kept: one token, bound to its campaign (what is said of a transfer
        or a hunger strike is no less sensitive than the prisoner's name)."""
        return self.text.seal(campaign_id + ":timeline", entries)

    # ---- co-owners' invitations

    def invite(self, code_hash, campaign_id, created_by, expires_at):
        """Keep an invitation by its code's hash; `ref` names it to the owners (to revoke it)."""
        ref = uuid.uuid4().hex
        self.db[INVITATIONS].insert_one({"_id": code_hash, "ref": ref, "campaign_id": campaign_id,
                                         "created_by": created_by, "expires_at": expires_at})
        return ref

    def invitations(self, campaign_id, now, limit=50):
        """A campaign's codes not yet used nor expired: `[{ref, expires_at}]`, soonest to expire first."""
        return [{"ref": i["ref"], "expires_at": i["expires_at"]}
                for i in sorted(self.db[INVITATIONS].find({"campaign_id": campaign_id}, {"ref": 1, "expires_at": 1})
                                .limit(limit), key=lambda i: i["expires_at"]) if i["expires_at"] >= now and i.get("ref")]

    def revoke(self, campaign_id, ref):
        return self.db[INVITATIONS].delete_one({"campaign_id": campaign_id, "ref": ref}).deleted_count == 1

    def redeem(self, code_hash, campaign_id):
        """The invitation, taken (each code works once), or None."""
        return self.db[INVITATIONS].find_one_and_delete({"_id": code_hash, "campaign_id": campaign_id})

    def owned_full(self, account_id, limit=200):
        return [campaign for campaign in self.campaigns.find({"owners": account_id}, outbox.HIDE).limit(limit)]

    # ---- verified professionals' support

    def remember_professional(self, profile_id, kinds, version):
        """What a volunteer counts as (nothing unless verified and with the skill), newer versions only."""
        apply_if_newer(self.db[PROFESSIONALS], profile_id, {"$set": {"kinds": kinds}}, version)

    def professional_kinds(self, profile_id):
        return (self.db[PROFESSIONALS].find_one({"_id": profile_id}, {"kinds": 1}) or {}).get("kinds") or []

    def forget_professional(self, profile_id, version):
        """A deleted account counts as nothing: a tombstone, so a late event of theirs brings nothing back."""
        apply_if_newer(self.db[PROFESSIONALS], profile_id, {"$set": {"kinds": [], "deleted": True}}, version)

    def endorse(self, endorsement_id, campaign_id, kinds, now):
        """Count one professional's support, once (their second click changes nothing); the counts go
        out with the next published snapshot."""
        try:
            self.db[ENDORSEMENTS].insert_one({"_id": endorsement_id, "campaign_id": campaign_id, "kinds": kinds,
                                              "endorsed_at": now})
        except DuplicateKeyError:
            return False
        self.campaigns.update_one({"_id": campaign_id}, {"$inc": {f"support.professionals.{kind}": 1 for kind in kinds},
                                                         "$set": {"support_dirty": True}})
        return True

    def started_by(self, account_id):
        """How many campaigns `account_id` started (an equality an index serves)."""
        return self.campaigns.count_documents({"created_by": account_id})

    def owned_by(self, account_id, limit=200):
        return list(self.campaigns.find({"owners": account_id}, {key: 1 for key in SUMMARY})
                    .sort("created_at", -1).limit(limit))

    # ---- signatures and counts

    def receive_signature(self, received):
        """Keep a signature as it came (one insert, whoever signs): counted by take_signatures."""
        self.db[INTAKE].insert_one(received)

    def received(self, limit):
        taken = list(self.db[INTAKE].find().limit(limit))
        backlog.queue_taken(INTAKE, len(taken), limit)
        return taken

    def forget_received(self, ids):
        if ids:
            self.db[INTAKE].delete_many({"_id": {"$in": list(ids)}})

    def add_signature(self, signature, events=()):
        """False if this signature (this email, on this campaign) was already there; one that was
        withdrawn signs again (with `events`, as a new one)."""
        try:
            if events:
                outbox.insert_with_events(self.signatures, dict(signature, counted=False), events)
            else:
                self.signatures.insert_one(dict(signature, counted=False))
        except DuplicateKeyError:
            return signature.get("updates") is not None and outbox.update_one_with_events(
                self.signatures, {"_id": signature["_id"], "updates": "withdrawn"},
                {"$set": dict({k: v for k, v in signature.items() if k != "_id"}, counted=False)}, events)
        return True

    def signature(self, signature_id):
        return self.signatures.find_one({"_id": signature_id}, outbox.HIDE)

    def set_updates(self, signature, updates, events):
        """What becomes of a signature's updates, if nobody changed them since `signature` was read."""
        return outbox.update_one_with_events(self.signatures, {"_id": signature["_id"], "updates": signature["updates"]},
                                             {"$set": {"updates": updates}}, events)

    def uncount(self, signature):
        """Take a withdrawn signature out of its campaign's counts, once (as `count` adds it)."""
        if self.signatures.update_one({"_id": signature["_id"], "counted": True},
                                      {"$set": {"counted": "withdrawn"}}).modified_count:
            self.campaigns.update_one({"_id": signature["campaign_id"]},
                                      {"$inc": {"support.total": -1, f"support.by_country.{signature['country']}": -1},
                                       "$set": {"support_dirty": True}})

    def flush_signature(self, signature_id, dispatch):
        outbox.flush(self.signatures, signature_id, dispatch)

    def flush_pending_signatures(self, dispatch):
        outbox.flush_pending(self.signatures, dispatch)

    def count(self, signature):
        """Add one signature to its campaign's counts, once: whoever marks it counted adds it (a
        crash between the two writes loses one from the counts, never counts one twice)."""
        if self.signatures.update_one({"_id": signature["_id"], "counted": False},
                                      {"$set": {"counted": True}}).modified_count:
            self.campaigns.update_one({"_id": signature["campaign_id"]},
                                      {"$inc": {"support.total": 1, f"support.by_country.{signature['country']}": 1},
                                       "$set": {"support_dirty": True}})

    def last_published_period(self):
        return (self.db[SCHEDULE].find_one({"_id": "counts"}) or {}).get("period")

    def claim_period(self, period, last):
        """Take the publishing of `period` (after `last`), once across replicas: False if another took it."""
        try:
            result = self.db[SCHEDULE].update_one({"_id": "counts", "period": last}, {"$set": {"period": period}},
                                                  upsert=last is None)
        except DuplicateKeyError:
            return False
        return result.modified_count == 1 or result.upserted_id is not None

    def publish_counts(self, now, batch, batches):
        """Copy each changed campaign's counts to what the public sees. A campaign a signature
        reached meanwhile stays marked, for the next period. At most `batches` pages of `batch`
        (what one period changed, not what the store holds)."""
        published = 0
        for _ in range(batches):
            page = list(self.campaigns.find({"support_dirty": True}, {"support": 1}).limit(batch))
            for campaign in page:
                self.campaigns.update_one({"_id": campaign["_id"], "support": campaign.get("support")}, {"$set": {
                    "support_shown": campaign.get("support") or {}, "support_shown_at": now, "support_dirty": False}})
                published += 1
            if len(page) < batch:
                break
        return published


class LetterStore:
    """Letters of support: the text sealed at rest, never who wrote it to anyone but moderators.

    Cost: writing a letter is one insert; a moderator's decision one conditional update (with its
    event in the same write when the letter needs translating); the queue and a campaign's letters
    are equalities an index serves, a page at a time."""

    def __init__(self, db, text):
        self.letters, self.text = db[LETTERS], text

    def insert(self, letter, text):
        self.letters.insert_one(dict(letter, text_sealed=self.text.seal(letter["_id"], text)))

    def _opened(self, letter):
        if letter is None:
            return None
        letter = outbox.strip(letter)
        letter["text"] = self.text.open(letter["_id"], letter.pop("text_sealed"))
        sealed = letter.pop("translation_sealed", None)
        letter["translation"] = self.text.open(letter["_id"] + ":translation", sealed) if sealed else None
        return letter

    def find(self, letter_id):
        return self._opened(self.letters.find_one({"_id": letter_id}))

    def pending(self, limit, before=None):
        """The moderators' queue, oldest first (`before`: the last id seen... here, after it)."""
        # The cursor may have been decided meanwhile: the page still starts after it.
        found, _ = paging.page(self.letters, {"status": "pending"}, "created_at", before, limit, newest_first=False,
                               anchor_query={})
        return [self._opened(letter) for letter in found]

    def approved(self, campaign_id, limit=500):
        """A campaign's approved letters, oldest first (the bundle's order)."""
        return [self._opened(letter) for letter in
                self.letters.find({"campaign_id": campaign_id, "status": "approved"}).sort("moderated_at", 1)
                .limit(limit)]

    def decide(self, letter_id, change, events=()):
        """Move a pending letter to its decision (with `events` in the same write): False if it was
        decided already."""
        condition = {"_id": letter_id, "status": "pending"}
        if events:
            return outbox.update_one_with_events(self.letters, condition, {"$set": change}, events)
        return self.letters.update_one(condition, {"$set": change}).modified_count == 1

    def flush(self, letter_id, dispatch):
        outbox.flush(self.letters, letter_id, dispatch)

    def flush_pending(self, dispatch):
        outbox.flush_pending(self.letters, dispatch)

    def mark_delivery(self, letter_id, campaign_id, delivery, now):
        return self.letters.update_one({"_id": letter_id, "campaign_id": campaign_id, "status": "approved"},
                                       {"$set": {"delivery": delivery, "delivery_at": now}}).modified_count == 1

    def by_translation_request(self, request_id):
        return self.letters.find_one({"translation_request_id": request_id},
                                     {"campaign_id": 1, "translator_id": 1, "translator_version": 1,
                                      "translation_author_id": 1})

    def set_translator(self, letter_id, translator_id, version, seen_version):
        """The owner's confirmed translator (None: their access ended), as of the match event's
        `version`: only if no newer event about it was applied since the letter was read (a late
        copy of a confirmation never gives back access that was ended)."""
        if seen_version is not None and version <= seen_version:
            return False
        return self.letters.update_one({"_id": letter_id, "translator_version": seen_version},
                                       {"$set": {"translator_id": translator_id,
                                                 "translator_version": version}}).modified_count == 1

    def translate(self, letter_id, translator_id, text, now):
        """The confirmed translator's translation, pending until a moderator reads it (a new one
        replaces one not yet approved, or rejected)."""
        return self.letters.update_one(
            {"_id": letter_id, "translator_id": translator_id, "translation_status": {"$ne": "approved"}},
            {"$set": {"translation_sealed": self.text.seal(letter_id + ":translation", text),
                      "translation_status": "pending", "translated_at": now}}).modified_count == 1

    def translations_pending(self, limit):
        """The moderators' queue of translations, oldest first."""
        return [self._opened(letter) for letter in
                self.letters.find({"translation_status": "pending"}).sort("translated_at", 1).limit(limit)]

    def decide_translation(self, letter_id, status, moderator_id, now):
        return self.letters.update_one({"_id": letter_id, "translation_status": "pending"}, {"$set": {
            "translation_status": status, "translation_moderated_by": moderator_id,
            "translation_moderated_at": now}}).modified_count == 1

    def ask_translation(self, letter_id, campaign_id, change, events):
        """The owners' yes to a translation need for a letter that waited for it, once."""
        return outbox.update_one_with_events(
            self.letters, {"_id": letter_id, "campaign_id": campaign_id, "translation_awaits_owner": True},
            {"$set": dict(change, translation_awaits_owner=False)}, events)

    def forget_author(self, account_id):
        """A writer deleted their account: their letters stay the family's, nobody's any more."""
        self.letters.update_many({"author_id": account_id}, {"$set": {"author_id": None}})


class WallStore:
    """Messages the family posts to the person held: moderated, sealed at rest."""

    def __init__(self, db, text):
        self.posts, self.text = db[WALL], text

    def insert(self, post, text):
        self.posts.insert_one(dict(post, text_sealed=self.text.seal(post["_id"] + ":wall", text)))

    def _opened(self, post):
        post["text"] = self.text.open(post["_id"] + ":wall", post.pop("text_sealed"))
        return post

    def find(self, post_id):
        post = self.posts.find_one({"_id": post_id})
        return self._opened(post) if post else None

    def pending(self, limit):
        return [self._opened(p) for p in self.posts.find({"status": "pending"}).sort("created_at", 1).limit(limit)]

    def approved(self, campaign_id, limit=20):
        """The newest approved posts of one campaign."""
        return [self._opened(p) for p in self.posts.find({"campaign_id": campaign_id, "status": "approved"})
                .sort("created_at", -1).limit(limit)]

    def decide(self, post_id, change):
        return self.posts.update_one({"_id": post_id, "status": "pending"}, {"$set": change}).modified_count == 1

    def forget_author(self, account_id):
        self.posts.update_many({"author_id": account_id}, {"$set": {"author_id": None}})


class PledgeStore:
    """Supporters' promised actions. Who pledged is kept for the pledge's own page only; the handle
    is kept only when they asked to be credited."""

    def __init__(self, db):
        self.pledges = db[PLEDGES]

    def insert(self, pledge):
        self.pledges.insert_one(pledge)

    def of_campaign(self, campaign_id, limit=200):
        return list(self.pledges.find({"campaign_id": campaign_id}).sort("created_at", -1).limit(limit))

    def done(self, campaign_id, limit=50):
        return list(self.pledges.find({"campaign_id": campaign_id, "status": "done"}).sort("done_at", -1).limit(limit))

    def mark_done(self, pledge_id, campaign_id, now):
        return self.pledges.update_one({"_id": pledge_id, "campaign_id": campaign_id, "status": "open"},
                                       {"$set": {"status": "done", "done_at": now}}).modified_count == 1

    def forget_author(self, account_id):
        self.pledges.update_many({"author_id": account_id}, {"$set": {"author_id": None, "handle": None}})
