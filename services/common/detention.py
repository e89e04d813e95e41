"""How long a person has been held: one rule for every page that says it (campaigns' own views,
search's campaign results)."""
from datetime import date

# While held the days count; once out (released, in exile) a count would mislead.
FREE = ("released", "exiled")


def days_detained(campaign, today=None):
    """Days since detention (`detained_on`, ISO date) while the person is held (`prisoner_status`);
    None when unknown or once they are out."""
    if not campaign.get("detained_on") or campaign.get("prisoner_status") in FREE:
        return None
    detained = date.fromisoformat(campaign["detained_on"])
    return max(0, ((today or date.today()) - detained).days)
