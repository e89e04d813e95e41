"""Campaign supporters' emails: the confirmation a new address gets, and the news a confirmed one
gets, with their links. Plain rules over two ports: the Supporters store and the EmailQueue.

Every write is keyed (the signature, the news, the email's id from both), so a copy of an event
changes nothing. News goes out in bounded pages from a timer: one page is one read of confirmed
supporters still without this news, one insert of their emails and one update marking them,
whatever the campaign holds.
"""
import uuid

from . import retry

PAGE = 100                       # supporters told per campaign per tick
CAMPAIGNS_PER_TICK = 10
CONFIRM, NEWS = "supporter_confirm", "campaign_news"
_EMAILS = uuid.UUID("0e6b3f9a-58c2-4d71-b4a0-9f1e2c7d5a36")


def email_id(kind, *parts):
    return uuid.uuid5(_EMAILS, ":".join((kind,) + parts)).hex


def _email(kind, supporter_id, campaign_id, now, *key):
    return {"_id": email_id(kind, supporter_id, *key), "kind": kind, "recipient_id": None, "supporter_id": supporter_id,
            "campaign_id": campaign_id, "status": retry.PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}


def email_given(supporters, emails, data, now):
    """Remember the sealed address and token, and queue the email asking to confirm it (once per
    signing: a supporter who withdrew and signed again is asked again)."""
    if supporters.given(data):
        emails.add_new([_email(CONFIRM, data["signature_id"], data["campaign_id"], now, data["at"].isoformat())])


def updates_changed(supporters, data):
    """Confirmed: news from now on. Stopped or withdrawn: the address and token are forgotten."""
    if data["updates"] == "confirmed":
        supporters.confirmed(data)
    else:
        supporters.stopped(data)


def campaign_changed(supporters, data):
    """Only the mode matters here: a paused campaign sends nothing (the news going out stops)."""
    supporters.set_mode(data["campaign_id"], data["mode"], data["version"])
    if data["mode"] == "paused":
        supporters.stop_news(data["campaign_id"])


def fan_out(supporters, emails, now):
    """One page of news emails per campaign with news still going out; how many were queued."""
    queued = 0
    for campaign in supporters.news_going_out(CAMPAIGNS_PER_TICK):
        campaign_id, news_id = campaign["_id"], campaign["news_id"]
        if supporters.paused(campaign_id):
            supporters.stop_news(campaign_id)
            continue
        page = supporters.without_news(campaign_id, news_id, PAGE)
        if page:
            emails.add_new([_email(NEWS, signature_id, campaign_id, now, news_id) for signature_id in page])
            supporters.mark_told(campaign_id, page, news_id)
            queued += len(page)
        if len(page) < PAGE:
            supporters.stop_news(campaign_id, news_id)
    return queued


def sealed_for(supporters, email):
    """(sealed address, sealed token) of a supporter's email, or None when it must not go: the
    supporter stopped or withdrew, has not confirmed (news), or the campaign is paused."""
    supporter = supporters.find(email["supporter_id"])
    if supporter is None or not supporter.get("contact_sealed"):
        return None
    if email["kind"] == NEWS and (supporter["updates"] != "confirmed" or supporters.paused(email["campaign_id"])):
        return None
    return supporter["contact_sealed"], supporter["token_sealed"]
