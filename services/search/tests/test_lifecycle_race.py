"""LifecycleStore's merges when another event of the same request creates the lifecycle at the
same moment (the upsert collides): the fact must still land, not be dropped."""
from datetime import datetime, timezone

from pymongo.errors import DuplicateKeyError

from services.search.lifecycles import LIFECYCLES, LifecycleStore


def store_over(collection):
    return LifecycleStore({LIFECYCLES: collection})


class CollidingCollection:
    """A stand-in for one collection (a unit test of one function): the first upsert loses the race
    to a concurrent writer that creates the document, as FerretDB reports it."""

    def __init__(self, created_by_other):
        self.doc = None
        self.created_by_other = created_by_other
        self.collided = False

    def update_one(self, condition, update, upsert=False):
        if upsert and not self.collided:
            self.collided = True
            self.doc = dict(self.created_by_other)
            raise DuplicateKeyError("E11000 duplicate key")
        if self._holds(condition):
            self.doc.update(update["$set"])
            self.doc["rev"] = self.doc.get("rev", 0) + update["$inc"]["rev"]
        return None

    def find_one_and_update(self, condition, update, upsert=False, return_document=None):
        """Before any upsert: nothing there yet, so nothing to update. An upsert (a request's first
        version tries one first) loses the race as `update_one`'s does."""
        if upsert and not self.collided:
            self.collided = True
            self.doc = dict(self.created_by_other)
            raise DuplicateKeyError("E11000 duplicate key")
        if self.doc is None or not self._holds(condition):
            return None
        self.update_one(condition, update)
        return dict(self.doc)

    def _holds(self, condition):
        for alternative in condition["$or"]:
            (field, test), = alternative.items()
            value = self.doc.get(field)
            if test is None and value is None:
                return True
            if isinstance(test, dict) and value is not None and (
                    ("$lt" in test and value < test["$lt"]) or ("$gt" in test and value > test["$gt"])):
                return True
        return False

    def find_one(self, query):
        return self.doc


def test_request_facts_land_even_when_a_proposal_created_the_lifecycle_first():
    moment = datetime(2026, 11, 1, tzinfo=timezone.utc)
    collection = CollidingCollection({"_id": "r1", "first_proposed_at": moment, "rev": 1})
    data = {"request_id": "r1", "skills": ["legal"], "country": "IR", "urgency": "high", "visibility": "public",
            "status": "open", "hidden": False, "created_at": moment, "version": 1}
    lifecycle = store_over(collection).merge_request(data)
    assert lifecycle["country"] == "IR" and lifecycle["version"] == 1 and lifecycle["rev"] == 2
    assert lifecycle["first_proposed_at"] == moment


def test_a_first_proposal_lands_even_when_the_request_created_the_lifecycle_first():
    moment = datetime(2026, 11, 1, tzinfo=timezone.utc)
    collection = CollidingCollection({"_id": "r1", "country": "IR", "version": 1, "rev": 1})
    lifecycle = store_over(collection).merge_time("r1", "first_proposed_at", moment)
    assert lifecycle["first_proposed_at"] == moment and lifecycle["country"] == "IR"
