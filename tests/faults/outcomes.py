"""What became of the needs an author posted: counted straight from each service's store.

Shared by the fault suite (tests/faults/test_faults.py), which waits for every count to settle
after each fault, and the soak run (bench/soak.py), which reports them. Read-only.
"""
import collections
import uuid

import requests

from services.common.store import elastic, mongo
from services.common.config import database_name
from services.common.bus.topology import DEAD_LETTER_QUEUE
from services.search import indices


def post_need(author):
    """One legal need posted through the gateway, one try, as a person's browser would."""
    return requests.post(f"{author.url}/api/requests", timeout=15, headers={"Authorization": f"Bearer {author.token}"},
                         json={"title": f"Lawyer needed for a detained student #{uuid.uuid4().hex[:6]}",
                               "body": "A student was detained after a protest; the family needs advice on bail "
                                       "and appeal.",
                               "skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high",
                               "visibility": "public"})


def extra_copies(values):
    """How many values are repeats of one already seen."""
    return sum(n - 1 for n in collections.Counter(values).values())


class Outcomes:
    def __init__(self, platform, sink, top_k=1):
        self.platform, self.sink, self.top_k = platform, sink, top_k
        self.config = platform.config
        self.client = mongo.connect(self.config)
        self.es = elastic.connect(self.config)

    def close(self):
        self.client.close()
        self.es.close()

    def db(self, service):
        return self.client[database_name(self.config, service)]

    def volunteers_known(self):
        return self.db("matching")["volunteers"].count_documents({})

    def _indexed(self, request_ids):
        found = set()
        alias = indices.requests_alias(self.config["ES_INDEX_PREFIX"])
        for start in range(0, len(request_ids), 1000):
            docs = self.es.mget(index=alias, ids=request_ids[start:start + 1000], source=False)["docs"]
            found.update(doc["_id"] for doc in docs if doc.get("found"))
        return found

    def queues(self):
        return {q["name"]: q.get("messages", 0) for q in self.platform.rabbit_manager._get("queues", self.platform.vhost)}

    def count(self, author_id, accepted):
        """Counts, and `duplicated`: every repeat of anything that must happen once (a need
        stored twice, a volunteer proposed twice for one need, more than `top_k` proposals for a
        need, a proposal notified twice, an email with the same Message-ID sent twice)."""
        stored = [d["_id"] for d in self.db("requests")["requests"].find({"author_id": author_id}, {"_id": 1})]
        mine = set(stored)
        matches = [m for m in self.db("matching")["matches"].find({}, {"request_id": 1, "volunteer_id": 1})
                   if m["request_id"] in mine]
        match_ids = {m["_id"] for m in matches}
        notified = [n["match_id"] for n in self.db("notify")["notifications"].find(
            {"kind": "match_proposed"}, {"match_id": 1}) if n["match_id"] in match_ids]
        emailed = [message["Message-ID"] for message in self.sink.messages()]
        per_request = collections.Counter(m["request_id"] for m in matches)
        queues = self.queues()
        return {
            "accepted": len(accepted),
            "lost": len(set(accepted) - mine),
            "stored": len(mine),
            "indexed": len(self._indexed(sorted(mine))),
            "proposed": sum(1 for r in mine if per_request[r]),
            "proposals": len(match_ids),
            "notified": len(set(notified)),
            "emailed": len(set(emailed)),
            "duplicated": {
                "stored": extra_copies(stored),
                "proposals": extra_copies((m["request_id"], m["volunteer_id"]) for m in matches)
                + sum(max(0, n - self.top_k) for n in per_request.values()),
                "notified": extra_copies(notified),
                "emailed": extra_copies(emailed),
            },
            "dead_lettered": queues.get(DEAD_LETTER_QUEUE, 0),
            "queued": sum(n for name, n in queues.items() if name != DEAD_LETTER_QUEUE),
        }

    @staticmethod
    def settled(counts):
        """Everything accepted is stored, and everything stored indexed, proposed and notified
        in the app and by email (every volunteer here gets email at once), and the queues empty."""
        return (counts["lost"] == 0 and counts["indexed"] == counts["stored"] == counts["proposed"]
                and counts["notified"] == counts["proposals"] == counts["emailed"] and counts["queued"] == 0)
