"""Synthetic volunteers and needs with realistic skews (skills, languages, countries, urgency),
shared by the matching benchmarks (matching.py, matching_eval.py)."""
import random

SKILL_WEIGHTS = {"legal": 14, "press": 12, "translation": 14, "tech": 10, "digital-security": 8, "pr": 7,
                 "policy": 5, "art": 6, "writing": 8, "counseling": 5, "research": 6, "fundraising": 3,
                 "medical": 4}
# Roughly how often volunteers speak them: English is everywhere, Persian and Arabic common.
LANGUAGE_WEIGHTS = {"en": 60, "fa": 10, "ar": 10, "ru": 8, "es": 8, "fr": 8, "de": 7, "tr": 4, "zh": 4, "ko": 2,
                    "pt": 4, "it": 3, "nl": 2, "uk": 3, "ku": 2, "ps": 1, "ur": 2, "hi": 2, "sw": 1, "he": 1,
                    "pl": 2, "sv": 1, "ja": 1, "vi": 1, "az": 1, "hy": 1, "ka": 1, "be": 1, "am": 1, "ti": 1}
COUNTRY_WEIGHTS = {"IR": 10, "SY": 6, "RU": 8, "SA": 4, "CN": 6, "KP": 1, "CU": 2, "BY": 3, "US": 10, "DE": 8,
                   "GB": 8, "FR": 6, "TR": 4, "EG": 3, "VE": 2, "NI": 1, "ER": 1, "MM": 2, "AF": 3, "IQ": 3,
                   "UA": 4, "CA": 4, "SE": 2, "NL": 2, "AE": 2}
URGENCY_WEIGHTS = {"low": 2, "normal": 5, "high": 2, "critical": 1}


def _picker(weights, rng):
    names, cum = list(weights), []
    total = 0
    for name in names:
        total += weights[name]
        cum.append(total)

    def pick(count):
        chosen = []
        while len(chosen) < count:
            value = rng.choices(names, cum_weights=cum)[0]
            if value not in chosen:
                chosen.append(value)
        return chosen
    return pick


class Synthetic:
    """Seeded volunteers and requests shaped like SCENARIOS.md: a few skills and languages each."""

    def __init__(self, seed=7):
        self.rng = random.Random(seed)
        self.skills = _picker(SKILL_WEIGHTS, self.rng)
        self.languages = _picker(LANGUAGE_WEIGHTS, self.rng)
        self.countries = _picker(COUNTRY_WEIGHTS, self.rng)
        self._shared = {}

    def _share(self, values):
        # Volunteers with the same skills share one list, as in the read model after interning.
        values = tuple(sorted(values))
        return self._shared.setdefault(values, list(values))

    def volunteer(self, n):
        rng = self.rng
        capacity = rng.choice((1, 2, 3, 3, 3, 5))
        asked = rng.choice((0, 0, 0, 1, 2, 5, 10))
        accepted = rng.randint(0, asked)
        declined = rng.randint(0, asked - accepted)
        stats = {"accepted": accepted, "declined": declined, "expired": asked - accepted - declined,
                 "answer_seconds": (accepted + declined) * rng.randint(60, 72 * 3600)}
        active = rng.choice((0, 0, 0, 1)) if capacity > 1 else 0
        return {"_id": f"v{n:07d}", "role": "volunteer", "status": "active",
                "skills": self._share(self.skills(rng.choice((1, 1, 2, 2, 3)))),
                "languages": self._share(self.languages(rng.choice((1, 2, 2, 2, 3)))),
                "countries": self._share(self.countries(rng.choice((0, 1, 1, 2)))),
                "availability_hours": rng.choice((0, 2, 5, 5, 10, 10, 20, 40)), "max_active_matches": capacity,
                "verified": rng.random() < 0.15, "active_matches": active,
                "open_proposals": rng.choice((0, 0, 0, 1, 2)), "stats": stats}

    def volunteers(self, count):
        return [self.volunteer(n) for n in range(count)]

    def request(self, n):
        rng = self.rng
        if rng.random() < 0.15:  # a translation need: fa -> en and the like, wants both languages
            skills = ["translation"] + (self.skills(2)[1:] if rng.random() < 0.3 else [])
            languages = [rng.choice(("fa", "ar", "ru", "zh", "tr", "ku")), rng.choice(("en", "de", "fr"))]
        else:
            skills = self.skills(rng.choice((1, 1, 2)))
            languages = self.languages(rng.choice((1, 1, 2)))
        return {"_id": f"r{n}", "author_id": f"activist-{n}", "skills": list(dict.fromkeys(skills)),
                "languages": list(dict.fromkeys(languages)), "country": self.countries(1)[0],
                "urgency": _picker(URGENCY_WEIGHTS, rng)(1)[0]}
