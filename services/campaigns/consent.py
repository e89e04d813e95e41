"""Who sees what of a campaign: plain rules, no I/O.

A family decides, field by field, what the page says about the person held: a name published
abroad can send a prisoner to solitary, a family name can bring the police to a door
(../shared/CAMPAIGNS.md). So every field about the prisoner carries a level (`public`, `verified`
for moderator-verified volunteers and moderators, `owners`), a field without one is for the
owners only, and when the prisoner's status changes the owners are asked again: until they
confirm, every field is for the owners only. Modes: `public` (listed), `quiet` (by link only),
`paused` (gone for everyone but the owners, at once; nothing deleted).
"""
from datetime import date

from .schemas import LEVELS, PRISONER_FIELDS

RANK = {level: rank for rank, level in enumerate(LEVELS)}  # public 0 < verified 1 < owners 2


def is_owner(campaign, viewer):
    return viewer is not None and viewer["account_id"] in campaign["owners"]


def reach(campaign, viewer):
    """The highest level `viewer` may see: owners, verified (verified volunteers, moderators), public."""
    if is_owner(campaign, viewer):
        return "owners"
    if viewer is not None and (viewer["role"] == "moderator" or (viewer["role"] == "volunteer" and viewer["verified"])):
        return "verified"
    return "public"


def visible(campaign, viewer):
    """Whether the campaign exists for `viewer` at all (a paused one: for its owners only)."""
    return campaign is not None and (campaign["mode"] != "paused" or is_owner(campaign, viewer))


def effective_level(campaign, field):
    """A field's level as it applies now: owners-only while consent is to be asked again."""
    if campaign.get("consent_review_due"):
        return "owners"
    return campaign.get("consent", {}).get(field, "owners")


def prisoner_view(campaign, prisoner, viewer):
    """The fields about the prisoner `viewer` may see."""
    allowed = RANK[reach(campaign, viewer)]
    return {field: prisoner[field] for field in PRISONER_FIELDS
            if prisoner.get(field) and RANK[effective_level(campaign, field)] <= allowed}


def days_detained(campaign, today=None):
    """Days since detention, while the person is held (None when unknown or released)."""
    if not campaign.get("detained_on") or campaign.get("prisoner_status") in ("released", "exiled"):
        return None
    detained = date.fromisoformat(campaign["detained_on"])
    return max(0, ((today or date.today()) - detained).days)
