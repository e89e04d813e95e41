"""Supporters who asked for updates: the links that act for them, and the events notify needs.

A supporter has no account. The email they gave is sealed to notify's key at once (only notify,
at the moment of sending, can read it) and campaigns keeps only the keyed hash that makes one
email sign once (`storage.signature_id`). What stands for the supporter afterwards is a link:
`/supporters/{token}/confirm|stop|withdraw`, where the token is the signature's id and a MAC of it
under the signature key. campaigns can make the token again for every email without storing it,
and nobody can make one for another signature. The token crosses the bus only sealed to notify:
whoever holds it can withdraw the signature.

Double opt-in: the first email only asks to confirm (and offers to withdraw a signature someone
else may have made with the address); news goes only to a confirmed address, and never while the
campaign is paused.
"""
import hashlib
import hmac
import re
import uuid

from services.common.bus.events import make_event

ACTIONS = ("confirm", "stop", "withdraw")
TOKEN = re.compile(r"^([0-9a-f]{64})\.([0-9a-f]{32})$")
_NEWS = uuid.UUID("5b0f7c2e-94d1-4a63-8e2f-1c7a9d3b6e40")


def signature_id(key, campaign_id, email):
    """One email signs a campaign once: a keyed hash decides, never the address (which is not kept).
    Without an email, every signature is its own."""
    if email is None:
        return uuid.uuid4().hex
    normalised = email.strip().lower()
    return hmac.new(key, f"{campaign_id}\n{normalised}".encode(), hashlib.sha256).hexdigest()


def endorsement_id(key, campaign_id, account_id):
    """One professional's support of one campaign, keyed so that no account id is kept."""
    return hmac.new(key, f"endorsement\n{campaign_id}\n{account_id}".encode(), hashlib.sha256).hexdigest()


def _mac(key, signature_id):
    return hmac.new(key, f"supporter-links\n{signature_id}".encode(), hashlib.sha256).hexdigest()[:32]


def token(key, signature_id):
    """The token of a signature made with an email (its id is a 64-hex keyed hash)."""
    return f"{signature_id}.{_mac(key, signature_id)}"


def signature_of(key, link_token):
    """The signature id a token stands for, or None if it is not one this service made."""
    found = TOKEN.match(link_token or "")
    if found is None or not hmac.compare_digest(found.group(2), _mac(key, found.group(1))):
        return None
    return found.group(1)


def email_given(signature, contact_sealed, sealer, key, at, source):
    """`supporter_email_given`: the address (sealed to notify when it was received) and the
    signature's token, sealed to notify too."""
    return make_event(source, "supporter_email_given", {
        "signature_id": signature["_id"], "campaign_id": signature["campaign_id"],
        "contact_sealed": contact_sealed, "token_sealed": sealer.seal(token(key, signature["_id"])), "at": at})


def updates_changed(signature, updates, at, source):
    return make_event(source, "supporter_updates_changed", {
        "signature_id": signature["_id"], "campaign_id": signature["campaign_id"], "updates": updates, "at": at})


def news(campaign, source):
    """`campaign_news`: something supporters should come and read (the prisoner's status changed, a
    public moment was added). Only that: notify's email says there is news, never what."""
    return make_event(source, "campaign_news", {
        "campaign_id": campaign["_id"], "news_id": uuid.uuid5(_NEWS, f"{campaign['_id']}:{campaign['version']}").hex,
        "at": campaign["updated_at"]})


def news_of_change(before, after, source):
    """[`campaign_news`] when a change of the campaign tells its supporters something: the
    prisoner's status changed, as an owner confirmed it (a status only proposed is news to nobody:
    consent.status_changes). Nothing while the campaign is paused: every outgoing update stops."""
    changed = after["mode"] != "paused" and after["prisoner_status"] != before["prisoner_status"]
    return [news(after, source)] if changed else []


def news_of_moment(after, visibility, source):
    """[`campaign_news`] when the moment just added is one everyone may read: not one for the
    owners or the verified only, nor any while consent is asked again, nor while paused."""
    shown = visibility == "public" and not after.get("consent_review_due") and after["mode"] != "paused"
    return [news(after, source)] if shown else []
