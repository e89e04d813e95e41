"""Who fits a request, and how well: plain functions over plain dicts, no I/O.

A volunteer is *eligible* when they are an active volunteer other than the author, have spare
capacity, cover at least one required skill, and fit the languages: a translation need wants
every language of the request (fa -> en wants both); any other need wants one shared language.
Eligible volunteers are *scored* in [0, 1]; each score comes with the reasons a person can read.
"""

WEIGHTS = {"skills": 0.5, "languages": 0.2, "country": 0.15, "availability": 0.1, "verified": 0.05}
FULL_AVAILABILITY_HOURS = 20  # a month; more hours than this earns no extra credit


def language_fit(request, volunteer):
    wanted = set(request["languages"])
    spoken = set(volunteer["languages"])
    if not wanted:
        return True, 1.0
    if "translation" in request["skills"]:
        return wanted <= spoken, 1.0
    shared = wanted & spoken
    return bool(shared), len(shared) / len(wanted)


def eligible(request, volunteer):
    if volunteer.get("status") != "active" or volunteer.get("role") != "volunteer":
        return False
    if volunteer["_id"] == request["author_id"]:
        return False
    if volunteer.get("active_matches", 0) >= volunteer["max_active_matches"]:
        return False
    if not set(request["skills"]) & set(volunteer["skills"]):
        return False
    fits, _ = language_fit(request, volunteer)
    return fits


def score(request, volunteer):
    """(score, reasons) for an eligible volunteer."""
    covered = sorted(set(request["skills"]) & set(volunteer["skills"]))
    skill_part = len(covered) / len(request["skills"])
    _, language_part = language_fit(request, volunteer)
    knows_country = request["country"] in volunteer.get("countries", [])
    availability_part = min(volunteer.get("availability_hours", 0), FULL_AVAILABILITY_HOURS) / FULL_AVAILABILITY_HOURS
    verified = bool(volunteer.get("verified"))

    total = (WEIGHTS["skills"] * skill_part + WEIGHTS["languages"] * language_part
             + WEIGHTS["country"] * knows_country + WEIGHTS["availability"] * availability_part
             + WEIGHTS["verified"] * verified)

    reasons = [f"Has the skills asked for: {', '.join(covered)}"]
    shared = sorted(set(request["languages"]) & set(volunteer["languages"]))
    if shared:
        reasons.append(f"Speaks {', '.join(shared)}")
    if knows_country:
        reasons.append(f"Knows {request['country']}")
    if availability_part:
        reasons.append(f"Offers {volunteer['availability_hours']} hours a month")
    if verified:
        reasons.append("Verified by a moderator")
    return round(total, 4), reasons


def rank(request, volunteers, k):
    """The best `k` eligible volunteers, best first; ties broken by id so the result is stable."""
    scored = []
    for volunteer in volunteers:
        if eligible(request, volunteer):
            value, reasons = score(request, volunteer)
            scored.append((value, volunteer["_id"], volunteer, reasons))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [(volunteer, value, reasons) for value, _, volunteer, reasons in scored[:k]]
