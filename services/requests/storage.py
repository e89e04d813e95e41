"""The requests database: one document per request, with its outbox."""
from services.common import outbox

REQUESTS = "requests"


def prepare(db):
    db[REQUESTS].create_index("author_id")
    db[REQUESTS].create_index("status")


def insert_request(db, request, events):
    db[REQUESTS].insert_one(dict(request, **{outbox.OUTBOX: list(events)}))


def find_request(db, request_id):
    return outbox.strip(db[REQUESTS].find_one({"_id": request_id}))


def ping(db):
    db.command("ping")
    return True
