"""What the public learns of a campaign's supporters: counts, and only counts that protect them.

No list of signers exists anywhere, and no "someone just signed": the counts shown are a snapshot
published in batches (CAMPAIGN_COUNTS_EVERY_S), so a new number cannot be tied to a moment. A
country's count is shown only at or above a threshold (CAMPAIGN_COUNT_THRESHOLD, default 25),
rounded down, and the prisoner's own country never: a count of supporters inside the country that
holds them could be used against those supporters. The total is rounded down too.
"""
DEFAULT_THRESHOLD = 25
# The professionals whose support is counted apart (DESIGN: "a separate count of verified
# journalists, lawyers and policy-makers"): a moderator-verified volunteer with the skill.
PROFESSIONS = {"press": "journalists", "legal": "lawyers", "policy": "policy_makers"}


def professions(skills):
    """What a volunteer's skills make them count as, in the campaign's separate count."""
    return sorted({PROFESSIONS[skill] for skill in skills or () if skill in PROFESSIONS})


def rounded(count):
    """Rounded down: to 5 under 100, to 10 under 1,000, to 100 under 10,000, to 1,000 beyond."""
    step = 5 if count < 100 else 10 if count < 1000 else 100 if count < 10000 else 1000
    return count - count % step


def shown(counts, prisoner_country, threshold=DEFAULT_THRESHOLD):
    """`{total, by_country}` as the public sees it, from the published snapshot `counts`
    (`{total, by_country}`, exact)."""
    counts = counts or {}
    by_country = {country: rounded(n) for country, n in sorted((counts.get("by_country") or {}).items())
                  if country != prisoner_country and n >= threshold}
    # Verified professionals, from the same snapshot and rounded the same way: few as they are, an
    # observer who could see one more appear could tie it to the one who just clicked.
    professionals = {kind: rounded(int((counts.get("professionals") or {}).get(kind) or 0))
                     for kind in sorted(PROFESSIONS.values())}
    return {"total": rounded(int(counts.get("total") or 0)), "by_country": by_country,
            "professionals": professionals}
