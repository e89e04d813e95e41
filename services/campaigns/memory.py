"""In-memory twins of storage.py's stores, for the workflow's fast tests. Each passes the same
contract test as the real store on FerretDB (tests/test_store_contract.py): what the workflow
relies on a store to do, both do.

Nothing here seals (there is no disk to protect); an outbox is a list per document, published by
`flush` as the real one is.
"""
from pymongo.errors import DuplicateKeyError

from services.common.store import paging
from services.common.store.memory import Outboxes, copied


_copy = copied


class InMemoryCampaignStore:
    def __init__(self):
        self.outbox = Outboxes()
        self.campaigns, self.prisoners, self.signatures, self.intake = {}, {}, {}, {}
        self._invitations, self.professionals, self.endorsements, self.schedule = {}, {}, {}, {}

    # ---- campaigns

    def insert(self, campaign, prisoner, events=()):
        if campaign["_id"] in self.campaigns:
            raise DuplicateKeyError("a campaign with this id exists")
        self.campaigns[campaign["_id"]] = _copy(campaign)
        self.prisoners[campaign["_id"]] = _copy(prisoner)
        self.outbox.stage(campaign["_id"], list(events))

    def find(self, campaign_id):
        campaign = _copy(self.campaigns.get(campaign_id))
        return (campaign, _copy(self.prisoners[campaign_id])) if campaign is not None else (None, None)

    def find_plain(self, campaign_id):
        campaign = _copy(self.campaigns.get(campaign_id))
        if campaign is not None:
            campaign.pop("timeline_sealed", None)
        return campaign

    def update(self, campaign, changes, prisoner=None, make_events=None):
        stored = self.campaigns.get(campaign["_id"])
        if stored is None or stored["version"] != campaign["version"]:
            return None
        changes = dict(changes, version=campaign["version"] + 1)
        events = make_events(dict(campaign, **changes)) if make_events is not None else []
        stored.update(_copy(changes))
        if prisoner is not None:
            self.prisoners[campaign["_id"]] = _copy(prisoner)
        self.outbox.stage(campaign["_id"], events)
        return _copy(stored)

    def flush(self, campaign_id, dispatch):
        self.outbox.flush(campaign_id, dispatch)

    def flush_pending(self, dispatch):
        self.outbox.flush_all(dispatch)

    def listed(self, limit, before=None, country=None, prisoner_status=None):
        found = [c for c in self.campaigns.values() if c["mode"] == "public"
                 and (not country or c["prisoner_country"] == country)
                 and (not prisoner_status or c["prisoner_status"] == prisoner_status)]
        anchor = self.campaigns.get(before) if before else None
        if before and (anchor is None or anchor not in found):
            return []
        return [_copy(c) for c in paging.page_of(found, "created_at", anchor, limit)[0]]

    def timeline(self, campaign):
        return _copy(campaign.get("timeline_sealed")) or []

    def sealed_timeline(self, campaign_id, entries):
        return _copy(entries)

    def owned_full(self, account_id, limit=200):
        return [_copy(c) for c in self.campaigns.values() if account_id in c["owners"]][:limit]

    def owned_by(self, account_id, limit=200):
        return sorted((_copy(c) for c in self.campaigns.values() if account_id in c["owners"]),
                      key=lambda c: c["created_at"], reverse=True)[:limit]

    def started_by(self, account_id):
        return sum(1 for c in self.campaigns.values() if c.get("created_by") == account_id)

    # ---- co-owners' invitations

    def invite(self, code_hash, campaign_id, created_by, expires_at):
        ref = f"{len(self._invitations) + 1:032x}"
        self._invitations[code_hash] = {"_id": code_hash, "ref": ref, "campaign_id": campaign_id,
                                       "created_by": created_by, "expires_at": expires_at}
        return ref

    def invitations(self, campaign_id, now, limit=50):
        found = [i for i in self._invitations.values() if i["campaign_id"] == campaign_id and i["expires_at"] >= now]
        return [{"ref": i["ref"], "expires_at": i["expires_at"]} for i in sorted(found, key=lambda i: i["expires_at"])][:limit]

    def revoke(self, campaign_id, ref):
        for code_hash, invitation in list(self._invitations.items()):
            if invitation["campaign_id"] == campaign_id and invitation["ref"] == ref:
                del self._invitations[code_hash]
                return True
        return False

    def redeem(self, code_hash, campaign_id):
        invitation = self._invitations.get(code_hash)
        if invitation is None or invitation["campaign_id"] != campaign_id:
            return None
        return self._invitations.pop(code_hash)

    # ---- verified professionals' support

    def remember_professional(self, profile_id, kinds, version):
        stored = self.professionals.get(profile_id)
        if stored is None or stored["version"] < version:
            self.professionals[profile_id] = dict(stored or {}, kinds=list(kinds), version=version)

    def professional_kinds(self, profile_id):
        return list((self.professionals.get(profile_id) or {}).get("kinds") or [])

    def forget_professional(self, profile_id, version):
        stored = self.professionals.get(profile_id)
        if stored is None or stored["version"] < version:
            self.professionals[profile_id] = {"kinds": [], "deleted": True, "version": version}

    def endorse(self, endorsement_id, campaign_id, kinds, now):
        if endorsement_id in self.endorsements:
            return False
        self.endorsements[endorsement_id] = {"campaign_id": campaign_id, "kinds": list(kinds), "endorsed_at": now}
        campaign = self.campaigns.get(campaign_id)
        if campaign is not None:
            professionals = campaign.setdefault("support", {}).setdefault("professionals", {})
            for kind in kinds:
                professionals[kind] = professionals.get(kind, 0) + 1
            campaign["support_dirty"] = True
        return True

    # ---- signatures and counts

    def receive_signature(self, received):
        self.intake[received["_id"]] = _copy(received)

    def received(self, limit):
        return [_copy(item) for item in list(self.intake.values())[:limit]]

    def forget_received(self, ids):
        for item_id in ids:
            self.intake.pop(item_id, None)

    def add_signature(self, signature, events=()):
        stored = self.signatures.get(signature["_id"])
        if stored is None:
            self.signatures[signature["_id"]] = dict(_copy(signature), counted=False)
            self.outbox.stage(signature["_id"], list(events))
            return True
        if signature.get("updates") is not None and stored.get("updates") == "withdrawn":
            stored.update(_copy({k: v for k, v in signature.items() if k != "_id"}), counted=False)
            self.outbox.stage(signature["_id"], list(events))
            return True
        return False

    def signature(self, signature_id):
        return _copy(self.signatures.get(signature_id))

    def set_updates(self, signature, updates, events):
        stored = self.signatures.get(signature["_id"])
        if stored is None or stored.get("updates") != signature["updates"]:
            return False
        stored["updates"] = updates
        self.outbox.stage(signature["_id"], list(events))
        return True

    def _add_to_counts(self, signature, step):
        campaign = self.campaigns.get(signature["campaign_id"])
        if campaign is None:
            return
        support = campaign.setdefault("support", {})
        support["total"] = support.get("total", 0) + step
        by_country = support.setdefault("by_country", {})
        by_country[signature["country"]] = by_country.get(signature["country"], 0) + step
        campaign["support_dirty"] = True

    def count(self, signature):
        stored = self.signatures.get(signature["_id"])
        if stored is not None and stored.get("counted") is False:
            stored["counted"] = True
            self._add_to_counts(stored, 1)

    def uncount(self, signature):
        stored = self.signatures.get(signature["_id"])
        if stored is not None and stored.get("counted") is True:
            stored["counted"] = "withdrawn"
            self._add_to_counts(stored, -1)

    def flush_signature(self, signature_id, dispatch):
        self.outbox.flush(signature_id, dispatch)

    def flush_pending_signatures(self, dispatch):
        self.outbox.flush_all(dispatch)

    def last_published_period(self):
        return self.schedule.get("period")

    def claim_period(self, period, last):
        if self.schedule.get("period") != last:
            return False
        self.schedule["period"] = period
        return True

    def publish_counts(self, now, batch, batches):
        published = 0
        for campaign in self.campaigns.values():
            if campaign.get("support_dirty") and published < batch * batches:
                campaign.update(support_shown=_copy(campaign.get("support") or {}), support_shown_at=now,
                                support_dirty=False)
                published += 1
        return published


class InMemoryLetterStore:
    def __init__(self):
        self.outbox = Outboxes()
        self.letters = {}

    def insert(self, letter, text):
        self.letters[letter["_id"]] = dict(_copy(letter), text=text, translation=None)

    def find(self, letter_id):
        return _copy(self.letters.get(letter_id))

    def pending(self, limit, before=None):
        anchor = self.letters.get(before) if before else None
        if before and anchor is None:
            return []
        found = [l for l in self.letters.values() if l["status"] == "pending"]
        return [_copy(l) for l in paging.page_of(found, "created_at", anchor, limit, newest_first=False)[0]]

    def approved(self, campaign_id, limit=500):
        found = [l for l in self.letters.values() if l["campaign_id"] == campaign_id and l["status"] == "approved"]
        return [_copy(l) for l in sorted(found, key=lambda l: l["moderated_at"])[:limit]]

    def decide(self, letter_id, change, events=()):
        letter = self.letters.get(letter_id)
        if letter is None or letter["status"] != "pending":
            return False
        letter.update(_copy(change))
        self.outbox.stage(letter_id, list(events))
        return True

    def flush(self, letter_id, dispatch):
        self.outbox.flush(letter_id, dispatch)

    def flush_pending(self, dispatch):
        self.outbox.flush_all(dispatch)

    def mark_delivery(self, letter_id, campaign_id, delivery, now):
        letter = self.letters.get(letter_id)
        if letter is None or letter["campaign_id"] != campaign_id or letter["status"] != "approved":
            return False
        letter.update(delivery=delivery, delivery_at=now)
        return True

    def by_translation_request(self, request_id):
        return next((_copy(l) for l in self.letters.values() if l.get("translation_request_id") == request_id), None)

    def set_translator(self, letter_id, translator_id, version, seen_version):
        letter = self.letters.get(letter_id)
        if (seen_version is not None and version <= seen_version) or letter is None \
                or letter.get("translator_version") != seen_version:
            return False
        letter.update(translator_id=translator_id, translator_version=version)
        return True

    def translate(self, letter_id, translator_id, text, now):
        letter = self.letters.get(letter_id)
        if letter is None or letter.get("translator_id") != translator_id or letter.get("translation_status") == "approved":
            return False
        letter.update(translation=text, translation_status="pending", translated_at=now)
        return True

    def translations_pending(self, limit):
        found = [l for l in self.letters.values() if l.get("translation_status") == "pending"]
        return [_copy(l) for l in sorted(found, key=lambda l: l["translated_at"])[:limit]]

    def decide_translation(self, letter_id, status, moderator_id, now):
        letter = self.letters.get(letter_id)
        if letter is None or letter.get("translation_status") != "pending":
            return False
        letter.update(translation_status=status, translation_moderated_by=moderator_id, translation_moderated_at=now)
        return True

    def ask_translation(self, letter_id, campaign_id, change, events):
        letter = self.letters.get(letter_id)
        if letter is None or letter["campaign_id"] != campaign_id or not letter.get("translation_awaits_owner"):
            return False
        letter.update(_copy(change), translation_awaits_owner=False)
        self.outbox.stage(letter_id, list(events))
        return True

    def forget_author(self, account_id):
        for letter in self.letters.values():
            if letter.get("author_id") == account_id:
                letter["author_id"] = None


class InMemoryWallStore:
    def __init__(self):
        self.posts = {}

    def insert(self, post, text):
        self.posts[post["_id"]] = dict(_copy(post), text=text)

    def find(self, post_id):
        return _copy(self.posts.get(post_id))

    def pending(self, limit):
        found = sorted((p for p in self.posts.values() if p["status"] == "pending"), key=lambda p: p["created_at"])
        return [_copy(p) for p in found[:limit]]

    def approved(self, campaign_id, limit=20):
        found = [p for p in self.posts.values() if p["campaign_id"] == campaign_id and p["status"] == "approved"]
        return [_copy(p) for p in sorted(found, key=lambda p: p["created_at"], reverse=True)[:limit]]

    def decide(self, post_id, change):
        post = self.posts.get(post_id)
        if post is None or post["status"] != "pending":
            return False
        post.update(_copy(change))
        return True

    def forget_author(self, account_id):
        for post in self.posts.values():
            if post.get("author_id") == account_id:
                post["author_id"] = None


class InMemoryPledgeStore:
    def __init__(self):
        self.pledges = {}

    def insert(self, pledge):
        self.pledges[pledge["_id"]] = _copy(pledge)

    def of_campaign(self, campaign_id, limit=200):
        found = [p for p in self.pledges.values() if p["campaign_id"] == campaign_id]
        return [_copy(p) for p in sorted(found, key=lambda p: p["created_at"], reverse=True)[:limit]]

    def done(self, campaign_id, limit=50):
        found = [p for p in self.pledges.values() if p["campaign_id"] == campaign_id and p["status"] == "done"]
        return [_copy(p) for p in sorted(found, key=lambda p: p["done_at"], reverse=True)[:limit]]

    def mark_done(self, pledge_id, campaign_id, now):
        pledge = self.pledges.get(pledge_id)
        if pledge is None or pledge["campaign_id"] != campaign_id or pledge["status"] != "open":
            return False
        pledge.update(status="done", done_at=now)
        return True

    def forget_author(self, account_id):
        for pledge in self.pledges.values():
            if pledge.get("author_id") == account_id:
                pledge.update(author_id=None, handle=None)


def stores():
    """(campaigns, letters, wall, pledges): the workflow's stores, in memory."""
    return InMemoryCampaignStore(), InMemoryLetterStore(), InMemoryWallStore(), InMemoryPledgeStore()

