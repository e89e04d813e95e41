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


# Open flags read to decide whether one was raised by someone else: the first of these is enough,
# and one account raises at most `limit` an hour.
FLAGS_READ = 25


def raise_flag(db, target_type, target_id, reporter_id, reason, limit=20):
    """A flag, unless the reporter raised `limit` in the last hour: a flood of flags from one
    account (a troll, or an agent burying a real report) must not fill the moderators' queue."""
    since = utcnow() - timedelta(hours=1)
    if sum(1 for f in db[FLAGS].find({"reporter_id": reporter_id}, {"created_at": 1}) if f["created_at"] >= since) >= limit:
        raise TooManyRequests("You have reported a lot in the last hour; try again later.")
    flag = {"_id": uuid.uuid4().hex, "target_type": target_type, "target_id": target_id,
            "reporter_id": reporter_id, "reason": reason, "status": "open", "created_at": utcnow()}
    db[FLAGS].insert_one(flag)
    return {"id": flag["_id"], "status": "open"}


def open_flags(db, limit=200):
    """The queue, oldest first, as moderators see it (not who raised each flag)."""
    return [{"id": f["_id"], "target_type": f["target_type"], "target_id": f["target_id"], "reason": f["reason"],
             "created_at": f["created_at"].isoformat()}
            for f in db[FLAGS].find({"status": "open"}).sort("created_at", 1).limit(limit)]


def is_open(db, target_id, other_than=None):
    """Whether someone's flag on this target waits for a moderator (two equalities, pushed down).
    `other_than`: a flag that account raised does not count (a moderator's own flag must not open
    what it would let them read)."""
    found = db[FLAGS].find({"target_id": target_id, "status": "open"}, {"reporter_id": 1}).limit(FLAGS_READ)
    return any(flag.get("reporter_id") != other_than or other_than is None for flag in found)


def resolve(db, target_id, outcome):
    db[FLAGS].update_many({"target_id": target_id, "status": "open"},
                          {"$set": {"status": "resolved", "outcome": outcome, "resolved_at": utcnow()}})


def forget_person(db, account_id):
    """A deleted person's flags go: those they raised, and those about them."""
    # Two equality deletes, which indexes serve, rather than one `$or`, which scans.
    db[FLAGS].delete_many({"reporter_id": account_id})
    db[FLAGS].delete_many({"target_id": account_id})


def forget_target(db, target_id):
    """Flags about something that is gone with its author (a request): what others wrote about
    it goes too."""
    db[FLAGS].delete_many({"target_id": target_id})
