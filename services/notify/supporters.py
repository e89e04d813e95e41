"""Campaign supporters' emails: the confirmation a new address gets, and the news a confirmed one
gets, with their links. Supporters have no account, so their sealed address and the sealed token
of their links live on a supporter document of their own (one per signature), not on a person.

Every write is keyed (the signature, the news, the email's id from both), so a copy of an event
changes nothing; a supporter's later choice wins over an older event (`at`, as a read model's
version). News goes out in bounded pages from a timer: one page is one read of confirmed
supporters still without this news (two equalities and a `$ne` on a scalar, all pushed down to the
index), one insert of their emails and one update marking them, whatever the campaign holds.
"""
import uuid

from services.common.bus.readmodel import apply_if_newer

from . import retry
from .storage import CAMPAIGN_MODES as MODES, CAMPAIGN_NEWS as CAMPAIGNS, EMAILS, SUPPORTERS, insert_new

PAGE = 100                       # supporters told per campaign per tick
CAMPAIGNS_PER_TICK = 10
CONFIRM, NEWS = "supporter_confirm", "campaign_news"
_EMAILS = uuid.UUID("0e6b3f9a-58c2-4d71-b4a0-9f1e2c7d5a36")


def email_id(kind, *parts):
    return uuid.uuid5(_EMAILS, ":".join((kind,) + parts)).hex


def _email(kind, supporter_id, campaign_id, now, *key):
    return {"_id": email_id(kind, supporter_id, *key), "kind": kind, "recipient_id": None, "supporter_id": supporter_id,
            "campaign_id": campaign_id, "status": retry.PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}


def email_given(db, data, now):
    """Remember the sealed address and token, and queue the email asking to confirm it (once per
    signing: a supporter who withdrew and signed again is asked again)."""
    applied = apply_if_newer(db[SUPPORTERS], data["signature_id"], {"$set": {
        "campaign_id": data["campaign_id"], "contact_sealed": data["contact_sealed"],
        "token_sealed": data["token_sealed"], "updates": "asked", "last_news": None}}, data["at"])
    if applied:
        insert_new(db[EMAILS], [_email(CONFIRM, data["signature_id"], data["campaign_id"], now,
                                       data["at"].isoformat())])


def updates_changed(db, data):
    """Confirmed: news from now on (not the news from before). Stopped or withdrawn: the address and
    token are forgotten at once; what stays is the choice, so an older event brings nothing back."""
    if data["updates"] == "confirmed":
        latest = db[CAMPAIGNS].find_one({"_id": data["campaign_id"]}, {"news_id": 1}) or {}
        change = {"$set": {"updates": "confirmed", "campaign_id": data["campaign_id"],
                           "last_news": latest.get("news_id")}}
    else:
        change = {"$set": {"updates": data["updates"], "campaign_id": data["campaign_id"], "contact_sealed": None,
                           "token_sealed": None}}
    apply_if_newer(db[SUPPORTERS], data["signature_id"], change, data["at"])


def news(db, data):
    """A campaign has news: its supporters are told from the timer, a page at a time."""
    apply_if_newer(db[CAMPAIGNS], data["campaign_id"], {"$set": {"news_id": data["news_id"], "pending": True}},
                   data["at"])


def campaign_changed(db, data):
    """Only the mode matters here: a paused campaign sends nothing (the news going out stops)."""
    apply_if_newer(db[MODES], data["campaign_id"], {"$set": {"mode": data["mode"]}}, data["version"])
    if data["mode"] == "paused":
        db[CAMPAIGNS].update_one({"_id": data["campaign_id"]}, {"$set": {"pending": False}})


def _paused(db, campaign_id):
    return (db[MODES].find_one({"_id": campaign_id}, {"mode": 1}) or {}).get("mode") == "paused"


def fan_out(db, now):
    """One page of news emails per campaign with news still going out; how many were queued."""
    queued = 0
    for campaign in db[CAMPAIGNS].find({"pending": True}).limit(CAMPAIGNS_PER_TICK):
        if _paused(db, campaign["_id"]):
            db[CAMPAIGNS].update_one({"_id": campaign["_id"]}, {"$set": {"pending": False}})
            continue
        page = list(db[SUPPORTERS].find({"campaign_id": campaign["_id"], "updates": "confirmed",
                                         "last_news": {"$ne": campaign["news_id"]}}, {"_id": 1}).limit(PAGE))
        if page:
            insert_new(db[EMAILS], [_email(NEWS, s["_id"], campaign["_id"], now, campaign["news_id"]) for s in page])
            db[SUPPORTERS].update_many({"campaign_id": campaign["_id"], "_id": {"$in": [s["_id"] for s in page]}},
                                       {"$set": {"last_news": campaign["news_id"]}})
            queued += len(page)
        if len(page) < PAGE:
            db[CAMPAIGNS].update_one({"_id": campaign["_id"], "news_id": campaign["news_id"]},
                                     {"$set": {"pending": False}})
    return queued


def sealed_for(db, email):
    """(sealed address, sealed token) of a supporter's email, or None when it must not go: the
    supporter stopped or withdrew, has not confirmed (news), or the campaign is paused."""
    supporter = db[SUPPORTERS].find_one({"_id": email["supporter_id"]})
    if supporter is None or not supporter.get("contact_sealed"):
        return None
    if email["kind"] == NEWS:
        if supporter["updates"] != "confirmed":
            return None
        if _paused(db, email["campaign_id"]):
            return None
    return supporter["contact_sealed"], supporter["token_sealed"]
