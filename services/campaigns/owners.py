"""Who runs a campaign, and the record of what each of them did: plain rules, no I/O.

A co-owner is a lawyer or an NGO the family trusted with the campaign. Trust can end (a lawyer
arrested and made to cooperate, an NGO's account taken over), so the owners must see who the
co-owners are (their handles), the creator must be able to remove any of them and revoke a code
not yet used, and every owner action that matters (mode, status, consent, owners) is on a log the
owners read. Nobody removes the creator, who is the family; a co-owner may leave. Once the creator
is gone (their account deleted), any remaining owner may remove another: otherwise nobody could.
"""
from services.common.errors import Forbidden, NotFound

# The owner log keeps the newest entries only: enough to see what happened lately, bounded in size.
LOG_SIZE = 100
ACTIONS = ("created", "edited", "paused", "resumed", "made_quiet", "made_public", "status_proposed",
           "status_confirmed", "consent_changed", "invited", "revoked_invitation", "joined", "removed", "left",
           "asked", "asked_translation", "check_in_missed", "check_in_resumed")


def handle_of(campaign, account_id):
    return (campaign.get("owner_handles") or {}).get(account_id)


def co_owners(campaign):
    """The owners as the owners see them: handles (an owner whose handle was never recorded, from
    before handles were kept, shows as None), the creator first."""
    creator = campaign.get("created_by")
    ordered = sorted(campaign["owners"], key=lambda owner: owner != creator)
    return [{"handle": handle_of(campaign, owner), "creator": owner == creator} for owner in ordered]


def removable(campaign, me, handle):
    """The account id of the owner `me` may remove by `handle`: 404 if no owner has it, 403 if
    `me` may not remove them."""
    target = next((owner for owner in campaign["owners"] if handle_of(campaign, owner) == handle), None)
    if target is None:
        raise NotFound("No such co-owner.")
    creator = campaign.get("created_by")
    if target == creator:
        raise Forbidden("Nobody removes the campaign's creator.")
    if target == me or me == creator or creator is None:
        return target
    raise Forbidden("Only the campaign's creator removes co-owners; a co-owner may leave.")


def entry(at, handle, action, detail=None):
    """One line of the owner log: the minute, who (their handle), what."""
    assert action in ACTIONS, action
    return {"at": at.replace(second=0, microsecond=0).isoformat(), "by": handle, "action": action,
            "detail": detail}


def logged(campaign, *entries):
    """The campaign's log with `entries` added, the oldest dropped past LOG_SIZE."""
    return ((campaign.get("owner_log") or []) + list(entries))[-LOG_SIZE:]


def of_change(before, changes, confirmed_status):
    """The log entries an owner's edit makes: what changed of the mode, the status and consent."""
    found = []
    mode = changes.get("mode")
    if mode and mode != before["mode"]:
        if mode == "paused":
            found.append(("paused", None))
        elif before["mode"] == "paused":
            found.append(("resumed", mode))
        else:
            found.append(("made_quiet" if mode == "quiet" else "made_public", None))
    if changes.get("status_pending"):
        found.append(("status_proposed", changes["status_pending"]))
    if confirmed_status:
        found.append(("status_confirmed", confirmed_status))
    if "consent" in changes:
        found.append(("consent_changed", None))
    if {"title", "story", "detained_on", "language"} & set(changes):
        found.append(("edited", None))
    return found
