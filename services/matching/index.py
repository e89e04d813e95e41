"""The candidate index: who could help with a request, found without scanning every volunteer.

An in-process inverted index over the volunteers who can take a proposal now (active, with room):

    (skill, language)          -> bucket -> {slot}   every such volunteer
    (skill, language, country) -> bucket -> {slot}   those of them who know the country

where a "skill" key is also each pair of the volunteer's skills ("legal&press"), so a need for
two skills reads those who have both first, and bounds those who have one at half the skill part;
and a "language" key is likewise also each pair of the volunteer's languages ("en&fa"), so a need
(not a translation) in two languages reads those who speak both first, and bounds those who speak
one at half the language part (see `_skill_sources` and `_language_sources`).

A volunteer's *bucket* is their precomputed volunteer part of the score (hours, load, verified,
acceptance, responsiveness; see scoring.py), cut into `buckets` equal steps. Every list bucket
therefore has an upper bound on the score of anyone in it: the bucket's top plus the most the
request parts can add (skills and languages, plus the country for a country list). `top` visits
the buckets of the lists that can hold an eligible volunteer, best bound first, scores each
volunteer exactly with the same functions as `scoring.rank`, and stops when the next bound is
below the k-th best score found. The result is exactly `scoring.rank`'s (tests check it), but
only the few best buckets are read, so the cost barely grows with the number of volunteers.

A translation need wants every language of the request, so only the single-language lists of
its rarest language are read (anyone fluent in all of them is in those). A need without
languages reads every single-language list of its skills.

The index is rebuilt from the matching database at start (`CandidateIndexProvider`) and kept up
to date by the handlers that change a volunteer (`put`, `remove`), and by `sync`, which re-reads
the volunteers written since the last sync so that several replicas of the service agree.
Everything here is plain Python and runs in one green thread at a time: no locks needed.
"""
import gc
import heapq
import logging
from array import array
from datetime import timedelta

from nameko.extensions import DependencyProvider

from services.common.store import due, mongo
from services.common.config import database_name
from services.common.bus.events import utcnow

from . import scoring

log = logging.getLogger(__name__)

EPSILON = 1e-9
NO_LANGUAGE = ""  # the key of a volunteer who named no language
# Distinct weight profiles: low and normal weigh the same.
PROFILES = {"low": "normal", "normal": "normal", "high": "high", "critical": "critical"}
STATS = ("accepted", "declined", "expired", "answer_seconds")


def skill_keys(skills):
    """Each skill, then each pair of skills ("legal&press"): the pair lists let a need for two
    skills find those who have both without reading everyone who has one."""
    ordered = sorted(skills)
    return ordered + [f"{a}&{b}" for i, a in enumerate(ordered) for b in ordered[i + 1:]]


def language_keys(languages):
    """Each language, then each pair of languages ("en&fa"), as for skills; NO_LANGUAGE if none."""
    return skill_keys(languages) if languages else [NO_LANGUAGE]


def _sources(wanted):
    """(key, most of `wanted` a volunteer in its lists can cover, as a share), single keys first.

    Whoever has two or more of the wanted values is in a pair list, bounded at all of them; the
    lists of a single value then only hold, among the unseen, people who have exactly one of them,
    which is 1/len(wanted). (With three or more wanted, the pair bound is loose but never low.)"""
    distinct = set(wanted)
    keys = skill_keys(distinct)
    # (A value repeated in `wanted` counts as often in the score: bound it as often.)
    return ([(key, wanted.count(key) / len(wanted)) for key in keys[:len(distinct)]]
            + [(key, 1.0) for key in keys[len(distinct):]])


class CandidateIndex:
    def __init__(self, buckets=64):
        self.buckets = buckets
        self.width = scoring.MAX_VOLUNTEER_PART / buckets
        self.slot_of = {}
        self.ids = []
        self.skills = []
        self.languages = []
        self.countries = []
        self.raw = []  # (hours, capacity, verified, active, open, accepted, declined, expired, answer_s)
        self.bucket = array("i")
        self.vpart = {profile: array("d") for profile in set(PROFILES.values())}
        self.free = []
        # Volunteer id -> `touched_at` of the document this process last indexed, for the last
        # minute or so: `sync` need not re-read what this very process wrote.
        self.recent_puts = {}
        self.lists = {}   # key -> {bucket: set(slot)}
        self.sizes = {}   # key -> number of slots
        self.skill_languages = {}  # skill key -> {single language: None}
        self._interned = {}

    def __len__(self):
        return len(self.slot_of)

    def __contains__(self, volunteer_id):
        return volunteer_id in self.slot_of

    def _intern(self, values):
        values = frozenset(values)
        return self._interned.setdefault(values, values)

    @staticmethod
    def _keys(skills, languages, countries):
        for skill in skill_keys(skills):
            for language in language_keys(languages):
                yield skill, language
                for country in countries:
                    yield skill, language, country

    # ---- changes

    def build(self, volunteers):
        # Millions of small long-lived objects: the cyclic GC would rescan them over and over.
        enabled = gc.isenabled()
        gc.disable()
        try:
            for volunteer in volunteers:
                self.put(volunteer)
        finally:
            if enabled:
                gc.enable()
        return self

    def put(self, volunteer):
        """Insert or update a volunteer from their read-model document. Returns True if indexed
        (only volunteers who could take a proposal now are)."""
        volunteer_id = volunteer["_id"]
        self.recent_puts[volunteer_id] = volunteer.get("touched_at")
        self.remove(volunteer_id)
        if (volunteer.get("deleted") or volunteer.get("status") != "active" or volunteer.get("role") != "volunteer"
                or not volunteer.get("skills") or not scoring.has_room(volunteer)):
            return False
        parts = {profile: scoring.volunteer_part(volunteer, profile) for profile in self.vpart}
        bucket = min(int(max(parts.values()) / self.width), self.buckets - 1)
        stats = volunteer.get("stats") or {}
        record = (volunteer.get("availability_hours", 0), volunteer.get("max_active_matches", 0),
                  bool(volunteer.get("verified")), volunteer.get("active_matches", 0),
                  volunteer.get("open_proposals", 0)) + tuple(stats.get(name, 0) for name in STATS)
        skills = self._intern(volunteer["skills"])
        languages = self._intern(volunteer["languages"])
        countries = self._intern(volunteer.get("countries", ()))
        if self.free:
            slot = self.free.pop()
            self.ids[slot], self.skills[slot], self.languages[slot] = volunteer_id, skills, languages
            self.countries[slot], self.raw[slot], self.bucket[slot] = countries, record, bucket
            for profile, value in parts.items():
                self.vpart[profile][slot] = value
        else:
            slot = len(self.ids)
            self.ids.append(volunteer_id)
            self.skills.append(skills)
            self.languages.append(languages)
            self.countries.append(countries)
            self.raw.append(record)
            self.bucket.append(bucket)
            for profile, value in parts.items():
                self.vpart[profile].append(value)
        self.slot_of[volunteer_id] = slot
        for key in self._keys(skills, languages, countries):
            self.lists.setdefault(key, {}).setdefault(bucket, set()).add(slot)
            self.sizes[key] = self.sizes.get(key, 0) + 1
            if len(key) == 2 and "&" not in key[1]:
                self.skill_languages.setdefault(key[0], {})[key[1]] = None
        return True

    def remove(self, volunteer_id):
        slot = self.slot_of.pop(volunteer_id, None)
        if slot is None:
            return False
        bucket = self.bucket[slot]
        for key in self._keys(self.skills[slot], self.languages[slot], self.countries[slot]):
            by_bucket = self.lists[key]
            members = by_bucket[bucket]
            members.discard(slot)
            if not members:
                del by_bucket[bucket]
                if not by_bucket:
                    del self.lists[key]
            self.sizes[key] -= 1
            if not self.sizes[key]:
                del self.sizes[key]
        self.ids[slot] = self.skills[slot] = self.languages[slot] = self.countries[slot] = self.raw[slot] = None
        self.free.append(slot)
        return True

    # ---- queries

    def volunteer(self, slot):
        """A volunteer as a scoring dict, rebuilt from the index."""
        hours, capacity, verified, active, open_, *stats = self.raw[slot]
        return {"_id": self.ids[slot], "role": "volunteer", "status": "active",
                "skills": sorted(self.skills[slot]), "languages": sorted(self.languages[slot]),
                "countries": sorted(self.countries[slot]), "availability_hours": hours,
                "max_active_matches": capacity, "verified": verified, "active_matches": active,
                "open_proposals": open_, "stats": dict(zip(STATS, stats))}

    def _language_sources(self, request, skill_key):
        """(language key, most of the language part a volunteer in its lists can earn, as a share)."""
        wanted = request["languages"]
        if not wanted:
            return [(language, 1.0) for language in self.skill_languages.get(skill_key, ())]
        if "translation" in request["skills"]:
            # Everyone who speaks all the languages is in the lists of the rarest one; the
            # language part of whoever fits is whole.
            return [(min(wanted, key=lambda language: sum(self.sizes.get((s, language), 0)
                                                          for s in request["skills"])), 1.0)]
        return _sources(wanted)

    @staticmethod
    def _skill_sources(request):
        """(skill key, most of the skills a volunteer in its lists can cover, as a share)."""
        return _sources(request["skills"])

    def _entries(self, request):
        """(upper bound, members) of every bucket that may hold an eligible volunteer."""
        weights = scoring.WEIGHTS[scoring.urgency_of(request)]
        width = self.width
        entries = []
        for skill, cover in self._skill_sources(request):
            for language, spoken in self._language_sources(request, skill):
                general = weights["skills"] * cover + weights["languages"] * spoken + EPSILON
                local = general + weights["country"]
                for key, bonus in (((skill, language), general), ((skill, language, request["country"]), local)):
                    for bucket, members in self.lists.get(key, {}).items():
                        entries.append(((bucket + 1) * width + bonus, members))
        entries.sort(key=lambda entry: entry[0], reverse=True)
        return entries

    def top_slots(self, request, k, exclude=()):
        """[(value, slot)] of the best `k` eligible volunteers, best first, and how many were scored."""
        request_id, author = request["_id"], request["author_id"]
        wanted = frozenset(request["languages"])
        all_languages = bool(wanted) and "translation" in request["skills"]
        vpart = self.vpart[PROFILES[scoring.urgency_of(request)]]
        ids, skills, languages, countries = self.ids, self.skills, self.languages, self.countries
        skill_part, language_part, country_part = scoring.skill_part, scoring.language_part, scoring.country_part
        tiebreak = scoring.tiebreak
        # Unverified volunteers are skipped, not scored: nobody a moderator did not vet is asked.
        verified_only = scoring.needs_verified(request)
        raw = self.raw
        heap, seen = [], set()
        by_skills, by_languages, by_countries = {}, {}, {}
        for bound, members in self._entries(request):
            if len(heap) >= k and bound < heap[0][0]:
                break
            for slot in members:
                if slot in seen:
                    continue
                seen.add(slot)
                volunteer_id = ids[slot]
                if volunteer_id == author or volunteer_id in exclude:
                    continue
                if verified_only and not raw[slot][2]:
                    continue
                spoken = languages[slot]
                if all_languages and not wanted <= spoken:
                    continue
                # Volunteers share interned sets, so each term is computed once per distinct set.
                has = skills[slot]
                part_s = by_skills.get(has)
                if part_s is None:
                    part_s = by_skills[has] = skill_part(request, has)
                part_l = by_languages.get(spoken)
                if part_l is None:
                    part_l = by_languages[spoken] = language_part(request, spoken)
                knows = countries[slot]
                part_c = by_countries.get(knows)
                if part_c is None:
                    part_c = by_countries[knows] = country_part(request, knows)
                total = part_s + part_l + part_c + vpart[slot]
                if len(heap) < k:
                    heapq.heappush(heap, (total, -tiebreak(request_id, volunteer_id), slot))
                elif total >= heap[0][0]:
                    item = (total, -tiebreak(request_id, volunteer_id), slot)
                    if item > heap[0]:
                        heapq.heapreplace(heap, item)
        return [(total, slot) for total, _, slot in sorted(heap, reverse=True)], len(seen)

    def top(self, request, k, exclude=()):
        """The best `k` eligible volunteers as `scoring.rank` gives them: [(volunteer, score, reasons)]."""
        if k <= 0:
            return []
        best, _ = self.top_slots(request, k, exclude)
        out = []
        for _, slot in best:
            volunteer = self.volunteer(slot)
            out.append((volunteer, *scoring.score(request, volunteer)))
        return out

    # ---- keeping replicas in step

    def sync(self, collection, since):
        """Re-read the volunteers another process touched since `since`. Returns how many it read."""
        count = 0
        # By the minute they were touched in, which an index serves (a range on `touched_at` scans);
        # first only when, then whole documents for the changes this process did not make itself.
        for minute in due.slots_between(since, utcnow()):
            for stub in collection.find({"touched_slot": minute}, {"touched_at": 1}):
                if stub["touched_at"] >= since and self.recent_puts.get(stub["_id"]) != stub["touched_at"]:
                    document = collection.find_one({"_id": stub["_id"]})
                    if document is not None:
                        self.put(document)
                        count += 1
        self.recent_puts = {vid: at for vid, at in self.recent_puts.items() if at is not None and at >= since}
        return count


class CandidateIndexProvider(DependencyProvider):
    """Injects the service's `CandidateIndex`, built from its own volunteers read model at start."""

    SYNC_OVERLAP = timedelta(seconds=30)  # re-read a margin: clocks and in-flight writes

    def __init__(self, collection="volunteers"):
        self.collection = collection
        self.index = None
        self.synced_at = None

    def start(self):
        config = self.container.config
        client = mongo.connect(config)
        try:
            started = utcnow()
            self.index = CandidateIndex(buckets=int(config.get("MATCH_INDEX_BUCKETS", 64)))
            self.index.build(client[database_name(config, self.container.service_name)][self.collection]
                             .find({"deleted": {"$ne": True}}))
            self.synced_at = started
            gc.freeze()  # what exists now lives as long as the process: keep it out of GC passes
            log.info("candidate index: %d volunteers can take proposals", len(self.index))
        finally:
            client.close()

    def sync(self, collection):
        started = utcnow()
        self.index.sync(collection, self.synced_at - self.SYNC_OVERLAP)
        self.synced_at = started

    def get_dependency(self, worker_ctx):
        return IndexHandle(self)


class IndexHandle:
    """What a worker sees: the index, plus `sync`."""

    def __init__(self, provider):
        self._provider = provider

    def __getattr__(self, name):
        return getattr(self._provider.index, name)

    def sync(self, collection):
        self._provider.sync(collection)
