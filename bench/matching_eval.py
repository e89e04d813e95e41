"""`python -m bench matching-eval`: does matching propose the right people? Known by construction.

A background of synthetic volunteers (bench/matching.py) who know none of the evaluation
countries. For each evaluation request, planted volunteers are added to the candidate index,
the top 5 are computed, and the planted are removed again:

- 5 *best*: every skill and every language asked for, know the country, verified, offer 10-40
  hours, accepted most past proposals and answered within hours. These are the right answer.
- decoys that must lose to them, each excellent in everything but one thing:
  - *wrong skill*: none of the skills asked for (must never be proposed);
  - *wrong language*: no language asked for, or for a translation only one of its two languages
    (must never be proposed);
  - *partial skills*: one of two skills asked for; *partial languages*: one of two languages;
  - *no country*: does not know the country;
  - *busy*: as good as the best but already helping at capacity or holding many open proposals;
  - *unreliable*: declined or let expire most past proposals.

Reported: precision@5 (share of the 5 proposed that are among the 5 best), how many proposals
went to a wrong-skill or a wrong-language volunteer (checked independently of scoring.py, target
0), and whether the index agreed with the full scan on every request.

    python -m bench matching-eval [--requests 300] [--background 20000]
"""
import argparse
import random

from services.common.taxonomy import SKILLS as TAXONOMY
from services.matching import scoring
from services.matching.index import CandidateIndex

from ._synthetic import Synthetic

EVAL_COUNTRIES = ("IR", "SY", "RU", "SA", "CN", "KP", "CU", "BY")
SKILLS = sorted(TAXONOMY)
LANGUAGES = ("fa", "ar", "ru", "zh", "ko", "es", "be", "en", "de", "fr")


def background(count, seed):
    data = Synthetic(seed)
    pool = []
    for n in range(count):
        volunteer = data.volunteer(n)
        volunteer["countries"] = [c for c in volunteer["countries"] if c not in EVAL_COUNTRIES]
        pool.append(volunteer)
    return pool


def eval_request(rng, n):
    country = rng.choice(EVAL_COUNTRIES)
    if rng.random() < 0.3:
        skills = ["translation"]
        languages = [rng.choice(("fa", "ar", "ru", "zh", "ko")), rng.choice(("en", "de", "fr"))]
    else:
        skills = rng.sample([s for s in SKILLS if s != "translation"], rng.choice((1, 2)))
        languages = rng.sample(LANGUAGES, rng.choice((1, 2)))
    return {"_id": f"eval-{n}", "author_id": f"author-{n}", "skills": skills, "languages": languages,
            "country": country, "urgency": rng.choice(scoring.URGENCIES)}


def planted(rng, request, n):
    """(kind, volunteer) for one request: the 5 best and the decoys."""
    other_skills = [s for s in SKILLS if s not in request["skills"]]
    other_languages = [lang for lang in LANGUAGES if lang not in request["languages"]]

    def person(kind, i, **changes):
        base = {"_id": f"{request['_id']}-{kind}-{i}", "role": "volunteer", "status": "active",
                "skills": list(request["skills"]), "languages": list(request["languages"]),
                "countries": [request["country"]], "availability_hours": rng.choice((10, 20, 40)),
                "max_active_matches": 3, "verified": True, "active_matches": 0, "open_proposals": 0,
                "stats": {"accepted": 4, "declined": 1, "expired": 0, "answer_seconds": 5 * rng.randint(600, 6 * 3600)}}
        return kind, base | changes

    perfect = {"availability_hours": 40, "stats": {"accepted": 20, "declined": 0, "expired": 0, "answer_seconds": 20 * 60}}
    out = [person("best", i) for i in range(5)]
    for i in range(5):
        out.append(person("wrong-skill", i, skills=rng.sample(other_skills, 2), **perfect))
        wrong_languages = ([request["languages"][1]] if "translation" in request["skills"]
                           else rng.sample(other_languages, 2))
        out.append(person("wrong-language", i, languages=wrong_languages, **perfect))
        out.append(person("no-country", i, countries=[], **perfect))
        out.append(person("busy", i, active_matches=2, open_proposals=3, **perfect))
        out.append(person("unreliable", i, stats={"accepted": 1, "declined": 6, "expired": 5,
                                                 "answer_seconds": 7 * 48 * 3600}))
        if len(request["skills"]) == 2:
            out.append(person("partial-skills", i, skills=[request["skills"][i % 2]], **perfect))
        if len(request["languages"]) == 2 and "translation" not in request["skills"]:
            out.append(person("partial-languages", i, languages=[request["languages"][i % 2]], **perfect))
    return out


def wrong_skill(request, volunteer):
    return not any(skill in volunteer["skills"] for skill in request["skills"])


def wrong_language(request, volunteer):
    wanted, spoken = request["languages"], volunteer["languages"]
    if "translation" in request["skills"]:
        return not all(language in spoken for language in wanted)
    return bool(wanted) and not any(language in spoken for language in wanted)


def evaluate(requests=300, background_size=20000, k=5, seed=11):
    rng = random.Random(seed)
    pool = background(background_size, seed)
    index = CandidateIndex().build(pool)
    hits = proposals = wrong_skills = wrong_languages = agree = 0
    lost_to = {}
    for n in range(requests):
        request = eval_request(rng, n)
        people = planted(rng, request, n)
        kinds = {volunteer["_id"]: kind for kind, volunteer in people}
        for _, volunteer in people:
            index.put(volunteer)
        top = index.top(request, k)
        everyone = pool + [volunteer for _, volunteer in people]
        agree += [v["_id"] for v, _, _ in top] == [v["_id"] for v, _, _ in scoring.rank(request, everyone, k)]
        for volunteer, _, _ in top:
            proposals += 1
            kind = kinds.get(volunteer["_id"], "background")
            hits += kind == "best"
            if kind != "best":
                lost_to[kind] = lost_to.get(kind, 0) + 1
            wrong_skills += wrong_skill(request, volunteer)
            wrong_languages += wrong_language(request, volunteer)
        for _, volunteer in people:
            index.remove(volunteer["_id"])
    return {"requests": requests, "background": background_size, "precision_at_5": hits / proposals,
            "wrong_skill": wrong_skills, "wrong_language": wrong_languages, "proposals": proposals,
            "agree": agree, "lost_to": lost_to}


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench matching-eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--background", type=int, default=20000)
    args = parser.parse_args(argv)
    result = evaluate(args.requests, args.background)
    print(f"\nmatching quality: {result['requests']} requests, {result['background']:,} background volunteers, "
          f"5 best + decoys planted per request")
    print(f"  precision@5                 {result['precision_at_5']:.3f}")
    print(f"  wrong-skill proposals       {result['wrong_skill']} of {result['proposals']}")
    print(f"  wrong-language proposals    {result['wrong_language']} of {result['proposals']}")
    print(f"  index == full scan          {result['agree']} of {result['requests']} requests")
    if result["lost_to"]:
        print(f"  places lost to              {result['lost_to']}")
    ok = (result["wrong_skill"] == 0 and result["wrong_language"] == 0 and result["agree"] == result["requests"])
    return 0 if ok else 1
