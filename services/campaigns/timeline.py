"""The prisoner's timeline, and what each viewer may read of it: plain rules, no I/O.

Each moment carries a level like the prisoner's details (`public`, `verified`, `owners`): a
transfer to a named prison, a hunger strike, a charge, can each be safe to tell the world or not,
and only the family can say which. While consent is to be asked again (the prisoner's status
changed), every moment is for the owners only, as every detail is."""
import uuid

from .consent import RANK, reach

# A timeline grows by a few moments a month; this bounds what one campaign document carries.
MAX_ENTRIES = 300


def new_entry(data, now):
    return {"id": uuid.uuid4().hex, "kind": data["kind"], "date": data["date"].isoformat(),
            "source": data["source"], "details": data["details"], "visibility": data["visibility"],
            "added_at": now.isoformat()}


def visible(campaign, entries, viewer):
    """The moments `viewer` may read, oldest first."""
    allowed = RANK[reach(campaign, viewer)]
    review = campaign.get("consent_review_due")
    shown = [entry for entry in entries
             if RANK["owners" if review else entry["visibility"]] <= allowed]
    owner = allowed == RANK["owners"]
    return sorted(({key: value for key, value in entry.items() if owner or key != "added_at"} for entry in shown),
                  key=lambda entry: (entry["date"], entry.get("added_at", "")))
