"""Who fits a request, and how well: plain functions over plain dicts, no I/O.

A volunteer *fits* a request when they are an active volunteer other than the author, cover at
least one required skill, and fit the languages: a translation need wants every language of the
request (fa -> en wants both); any other need wants one shared language. A volunteer who fits is
*eligible* when they also have room (see `has_room`: the fairness cap).

Eligible volunteers are *scored* in [0, 1] as a weighted sum of parts, each in [0, 1]:

- request parts (depend on the request): skills covered, languages shared, knows the country;
- volunteer parts (depend only on the volunteer, so the candidate index precomputes them):
  hours offered, load (active matches plus open proposals against capacity), verified,
  acceptance (smoothed share of past proposals accepted), responsiveness (how fast they answer).

Urgency shifts weight to responsiveness: for a critical need, someone who answers within the hour
is worth more. Weights are normalised per urgency so that a perfect fit scores 1.0.

Each score comes with reasons a person can read. Ties are broken by a hash of (request, volunteer),
so equal volunteers take turns across requests instead of the same id always winning.
"""
import zlib

URGENCIES = ("low", "normal", "high", "critical")
REQUEST_PARTS = ("skills", "languages", "country")
VOLUNTEER_PARTS = ("availability", "load", "verified", "acceptance", "responsiveness")

BASE_WEIGHTS = {
    "skills": 0.33, "languages": 0.20, "country": 0.10,
    "availability": 0.07, "load": 0.12, "verified": 0.05, "acceptance": 0.07, "responsiveness": 0.06,
}
RESPONSIVENESS_BY_URGENCY = {"low": 0.06, "normal": 0.06, "high": 0.11, "critical": 0.16}


def _weights(urgency):
    raw = dict(BASE_WEIGHTS, responsiveness=RESPONSIVENESS_BY_URGENCY[urgency])
    total = sum(raw.values())
    return {name: value / total for name, value in raw.items()}


WEIGHTS = {urgency: _weights(urgency) for urgency in URGENCIES}
# The most the volunteer parts can add, whatever the urgency: the index buckets on this scale.
MAX_VOLUNTEER_PART = max(sum(WEIGHTS[u][p] for p in VOLUNTEER_PARTS) for u in URGENCIES)

FULL_AVAILABILITY_HOURS = 20  # a month; more hours than this earns no extra credit
# Fairness cap: open proposals plus active matches never exceed this many times capacity.
PENDING_PER_SLOT = 2
ANSWER_HOURS_SCALE = 24.0  # answering within a day scores 0.5; at once, 1.0


def urgency_of(request):
    return request.get("urgency") or "normal"


# ---- hard rules

def language_fit(request, volunteer):
    """(fits, part): does the volunteer fit the languages, and how much of them they cover."""
    wanted = set(request["languages"])
    if not wanted:
        return True, 1.0
    spoken = set(volunteer["languages"])
    if "translation" in request["skills"]:
        return wanted <= spoken, 1.0
    shared = wanted & spoken
    return bool(shared), len(shared) / len(wanted)


def needs_verified(request):
    """Who may be proposed, offer or be invited (DESIGN, "Trust"): only moderator-verified
    volunteers for a request that is not public, or whose author asked for them."""
    return request.get("visibility") in ("volunteers", "private") or bool(request.get("verified_only"))


def fits(request, volunteer):
    """Skills, languages and standing; not capacity. A proposal stays valid while this holds."""
    if volunteer.get("status") != "active" or volunteer.get("role") != "volunteer":
        return False
    if needs_verified(request) and not volunteer.get("verified"):
        return False
    if volunteer["_id"] == request["author_id"]:
        return False
    if not set(request["skills"]) & set(volunteer["skills"]):
        return False
    return language_fit(request, volunteer)[0]


def pending(volunteer):
    return volunteer.get("active_matches", 0) + volunteer.get("open_proposals", 0)


def has_room(volunteer):
    """Room for one more proposal: below capacity in active matches, and not already holding
    `PENDING_PER_SLOT` times capacity in open proposals plus active matches."""
    capacity = volunteer.get("max_active_matches", 0)
    return (capacity > 0 and volunteer.get("active_matches", 0) < capacity
            and pending(volunteer) < PENDING_PER_SLOT * capacity)


def eligible(request, volunteer):
    return has_room(volunteer) and fits(request, volunteer)


# ---- parts

def acceptance(stats):
    """Share of past proposals accepted, smoothed so a newcomer starts at 0.5."""
    stats = stats or {}
    accepted = stats.get("accepted", 0)
    asked = accepted + stats.get("declined", 0) + stats.get("expired", 0)
    return (accepted + 1) / (asked + 2)


def mean_answer_hours(stats):
    stats = stats or {}
    answered = stats.get("accepted", 0) + stats.get("declined", 0)
    if not answered:
        return None
    return stats.get("answer_seconds", 0) / answered / 3600


def responsiveness(stats):
    hours = mean_answer_hours(stats)
    if hours is None:
        return 0.5  # a newcomer: as if they answered within a day
    return 1.0 / (1.0 + hours / ANSWER_HOURS_SCALE)


def volunteer_parts(volunteer):
    capacity = volunteer.get("max_active_matches", 0)
    load = 1.0 - min(pending(volunteer) / (PENDING_PER_SLOT * capacity), 1.0) if capacity > 0 else 0.0
    stats = volunteer.get("stats")
    return {
        "availability": min(volunteer.get("availability_hours", 0), FULL_AVAILABILITY_HOURS) / FULL_AVAILABILITY_HOURS,
        "load": load,
        "verified": 1.0 if volunteer.get("verified") else 0.0,
        "acceptance": acceptance(stats),
        "responsiveness": responsiveness(stats),
    }


def volunteer_part(volunteer, urgency):
    """The weighted volunteer parts for a request of `urgency`: no request needed."""
    weights = WEIGHTS[urgency]
    parts = volunteer_parts(volunteer)
    return sum(weights[name] * parts[name] for name in VOLUNTEER_PARTS)


def skill_part(request, skills):
    wanted = request["skills"]
    return WEIGHTS[urgency_of(request)]["skills"] * (sum(1 for skill in wanted if skill in skills) / len(wanted))


def language_part(request, languages):
    wanted = request["languages"]
    if not wanted or "translation" in request["skills"]:
        spoken = 1.0
    else:
        spoken = sum(1 for language in wanted if language in languages) / len(wanted)
    return WEIGHTS[urgency_of(request)]["languages"] * spoken


def country_part(request, countries):
    return WEIGHTS[urgency_of(request)]["country"] * (1.0 if request["country"] in countries else 0.0)


def request_part(request, skills, languages, countries):
    """The weighted request parts for a volunteer with these skills, languages and countries
    (sets). Assumes the volunteer fits. (The index caches each of the three terms; the sum is
    taken in this order everywhere, so both give the very same float.)"""
    return skill_part(request, skills) + language_part(request, languages) + country_part(request, countries)


def value(request, volunteer):
    """The score of a volunteer who fits, unrounded (the index computes exactly the same sum)."""
    return (request_part(request, set(volunteer["skills"]), set(volunteer["languages"]),
                         set(volunteer.get("countries", ())))
            + volunteer_part(volunteer, urgency_of(request)))


def tiebreak(request_id, volunteer_id):
    return zlib.crc32(f"{request_id}:{volunteer_id}".encode())


# ---- explanation

def reasons(request, volunteer):
    covered = [skill for skill in request["skills"] if skill in volunteer["skills"]]
    out = [f"Has the skills asked for: {', '.join(covered)}"
           + ("" if len(covered) == len(request["skills"]) else f" ({len(covered)} of {len(request['skills'])})")]
    shared = [language for language in request["languages"] if language in volunteer["languages"]]
    if shared:
        out.append(f"Speaks {', '.join(shared)}")
    if request["country"] in volunteer.get("countries", ()):
        out.append(f"Knows {request['country']}")
    hours = volunteer.get("availability_hours", 0)
    if hours:
        out.append(f"Offers {hours} hours a month")
    if volunteer.get("verified"):
        out.append("Verified by a moderator")
    capacity = volunteer.get("max_active_matches", 0)
    busy = volunteer.get("active_matches", 0)
    out.append(f"Has room: helping with {busy} of up to {capacity}")
    stats = volunteer.get("stats") or {}
    asked = stats.get("accepted", 0) + stats.get("declined", 0) + stats.get("expired", 0)
    if asked:
        out.append(f"Accepted {stats.get('accepted', 0)} of {asked} past proposals")
    hours_to_answer = mean_answer_hours(stats)
    if hours_to_answer is not None:
        quick = "within the hour" if hours_to_answer < 1 else f"within {round(hours_to_answer)} hours"
        urgent = urgency_of(request) in ("high", "critical")
        out.append(f"Usually answers {quick}" + (", and this need is urgent" if urgent else ""))
    return out


def score(request, volunteer):
    """(score, reasons) for a volunteer who fits."""
    return round(value(request, volunteer), 4), reasons(request, volunteer)


def rank(request, volunteers, k, exclude=()):
    """The best `k` eligible volunteers by a full scan, best first: the reference the candidate
    index must agree with exactly (tests and the benchmark check it)."""
    scored = []
    for volunteer in volunteers:
        if volunteer["_id"] in exclude or not eligible(request, volunteer):
            continue
        scored.append((-value(request, volunteer), tiebreak(request["_id"], volunteer["_id"]), volunteer))
    scored.sort(key=lambda item: item[:2])
    return [(volunteer, *score(request, volunteer)) for _, _, volunteer in scored[:k]]
