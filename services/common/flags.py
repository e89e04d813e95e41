"""Reports to the moderators ("flags"), kept by the service that owns the flagged thing.

profiles keeps flags on profiles and requests keeps flags on requests, each in its own database;
the gateway merges the two queues for moderators. A flag's reason is seen by moderators only.
"""
import uuid
from datetime import timedelta

from marshmallow import fields, validate

from services.common.errors import TooManyRequests
from services.common.bus.events import utcnow
from services.common.schemas import StrictSchema

FLAGS = "flags"


class Flag(StrictSchema):
    """A report: why this should be looked at."""
    reason = fields.String(required=True, validate=validate.Length(min=3, max=1000))


class ModerationNote(StrictSchema):
    """A moderator's note on an action (kept out of events)."""
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


def prepare(db):
    db[FLAGS].create_index("target_id")
    db[FLAGS].create_index("status")
    db[FLAGS].create_index("reporter_id")
    db[FLAGS].create_index([("reporter_id", 1), ("created_at", -1)])  # a reporter's last hour


# Open flags read to decide whether one was raised by someone else: the first of these is enough,
# and one account raises at most `limit` an hour.
FLAGS_READ = 25


def _new_flag(target_type, target_id, reporter_id, reason, now):
    return {"_id": uuid.uuid4().hex, "target_type": target_type, "target_id": target_id,
            "reporter_id": reporter_id, "reason": reason, "status": "open", "created_at": now}


def _queue_view(flag):
    """A flag as moderators see it in the queue (not who raised it)."""
    return {"id": flag["_id"], "target_type": flag["target_type"], "target_id": flag["target_id"],
            "reason": flag["reason"], "created_at": flag["created_at"].isoformat()}


def _too_many():
    return TooManyRequests("You have reported a lot in the last hour; try again later.")


class FlagStore:
    """A service's flags (profiles': on profiles; requests': on requests), in its own database."""

    def __init__(self, db):
        self.flags = db[FLAGS]

    def raise_flag(self, target_type, target_id, reporter_id, reason, limit=20):
        """A flag, unless the reporter raised `limit` in the last hour: a flood of flags from one
        account (a troll, or an agent burying a real report) must not fill the moderators' queue."""
        now = utcnow()
        # The last hour's flags only, and no more than `limit` of them: what this reads does not
        # grow with every flag the reporter ever raised.
        recent = {"reporter_id": reporter_id, "created_at": {"$gte": now - timedelta(hours=1)}}
        if self.flags.count_documents(recent, limit=limit) >= limit:
            raise _too_many()
        flag = _new_flag(target_type, target_id, reporter_id, reason, now)
        self.flags.insert_one(flag)
        return {"id": flag["_id"], "status": "open"}

    def open_flags(self, limit=200):
        """The queue, oldest first."""
        return [_queue_view(f) for f in self.flags.find({"status": "open"}).sort("created_at", 1).limit(limit)]

    def is_open(self, target_id, other_than=None):
        """Whether someone's flag on this target waits for a moderator (two equalities, pushed
        down). `other_than`: a flag that account raised does not count (a moderator's own flag must
        not open what it would let them read)."""
        found = self.flags.find({"target_id": target_id, "status": "open"}, {"reporter_id": 1}).limit(FLAGS_READ)
        return any(other_than is None or flag.get("reporter_id") != other_than for flag in found)

    def resolve(self, target_id, outcome):
        self.flags.update_many({"target_id": target_id, "status": "open"},
                               {"$set": {"status": "resolved", "outcome": outcome, "resolved_at": utcnow()}})

    def forget_person(self, account_id):
        """A deleted person's flags go: those they raised, and those about them."""
        # Two equality deletes, which indexes serve, rather than one `$or`, which scans.
        self.flags.delete_many({"reporter_id": account_id})
        self.flags.delete_many({"target_id": account_id})

    def forget_target(self, target_id):
        """Flags about something that is gone with its author (a request): what others wrote about
        it goes too."""
        self.flags.delete_many({"target_id": target_id})


class InMemoryFlagStore:
    """FlagStore's twin for the workflows' tests, held to the same contract
    (services/common/tests/test_flags_contract.py)."""

    def __init__(self, clock=utcnow):
        self.flags, self.clock = {}, clock

    def raise_flag(self, target_type, target_id, reporter_id, reason, limit=20):
        now = self.clock()
        if sum(1 for f in self.flags.values() if f["reporter_id"] == reporter_id
               and f["created_at"] >= now - timedelta(hours=1)) >= limit:
            raise _too_many()
        flag = _new_flag(target_type, target_id, reporter_id, reason, now)
        self.flags[flag["_id"]] = flag
        return {"id": flag["_id"], "status": "open"}

    def open_flags(self, limit=200):
        return [_queue_view(f) for f in sorted((f for f in self.flags.values() if f["status"] == "open"),
                                               key=lambda f: f["created_at"])][:limit]

    def is_open(self, target_id, other_than=None):
        return any(f["target_id"] == target_id and f["status"] == "open"
                   and (other_than is None or f["reporter_id"] != other_than) for f in self.flags.values())

    def resolve(self, target_id, outcome):
        for flag in self.flags.values():
            if flag["target_id"] == target_id and flag["status"] == "open":
                flag.update(status="resolved", outcome=outcome, resolved_at=self.clock())

    def forget_person(self, account_id):
        self.flags = {k: f for k, f in self.flags.items() if account_id not in (f["reporter_id"], f["target_id"])}

    def forget_target(self, target_id):
        self.flags = {k: f for k, f in self.flags.items() if f["target_id"] != target_id}
