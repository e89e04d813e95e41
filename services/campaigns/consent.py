"""Who sees what of a campaign: plain rules, no I/O.

A family decides, field by field, what the page says about the person held: a name published
abroad can send a prisoner to solitary, a family name can bring the police to a door
(../shared/CAMPAIGNS.md). So every field about the prisoner carries a level (`public`, `verified`
for moderator-verified volunteers and moderators, `owners`), a field without one is for the
owners only, and when the prisoner's status changes the owners are asked again: until they
confirm, every field is for the owners only. Modes: `public` (listed), `quiet` (by link only),
`paused` (gone for everyone but the owners, at once; nothing deleted).
"""
from services.common import detention

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


days_detained = detention.days_detained  # the one rule, shared with search's campaign results


def status_changes(campaign, data):
    """What an owner's edit does to the prisoner's status and to consent, as `{field: value}`.

    A new status is only proposed (`status_pending`): the public, the supporters' emails and
    every other service keep the confirmed one, and every detail is for the owners only
    (`consent_review_due`), until an owner confirms (`consent_confirmed`, or new consent levels).
    News of a status change reaches people only once an owner confirmed what is shown: the
    family, not the platform, decides what the world hears, and when. A new status sent with
    `consent_confirmed` is confirmed at once."""
    changes = {}
    current = campaign.get("status_pending") or campaign["prisoner_status"]
    proposed = data.get("prisoner_status")
    if proposed is not None and proposed != current:
        if proposed == campaign["prisoner_status"]:
            changes.update(status_pending=None)  # back to the one shown: nothing left to confirm
        else:
            changes.update(status_pending=proposed, consent_review_due=True)
    pending = changes.get("status_pending", campaign.get("status_pending"))
    confirmed = data.get("consent_confirmed") or (not changes.get("status_pending") and data.get("consent"))
    if confirmed:
        changes["consent_review_due"] = False
        if pending:
            changes.update(prisoner_status=pending, status_pending=None)
    return changes
