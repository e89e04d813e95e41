"""apply_if_newer against the real MongoDB-wire server."""
import threading

from services.common.bus.readmodel import CREATED, UPDATED, apply_if_newer


def test_newer_applies_older_and_repeated_do_not(db_for):
    collection = db_for("readmodel")["things"]
    assert apply_if_newer(collection, "p1", {"$set": {"skills": ["press"]}}, 2) == CREATED
    assert not apply_if_newer(collection, "p1", {"$set": {"skills": ["legal"]}}, 1)   # older, late
    assert not apply_if_newer(collection, "p1", {"$set": {"skills": ["press"]}}, 2)   # repeated
    assert apply_if_newer(collection, "p1", {"$set": {"skills": ["art"]}, "$unset": {"bio": ""}}, 3) == UPDATED
    assert collection.find_one({"_id": "p1"}) == {"_id": "p1", "skills": ["art"], "version": 3}


def test_when_two_versions_race_to_create_the_document_the_newest_wins(db_for):
    collection = db_for("readmodel")["things"]
    for attempt in range(20):
        doc_id = f"race-{attempt}"
        barrier = threading.Barrier(2)

        def write(version):
            barrier.wait()
            apply_if_newer(collection, doc_id, {"$set": {"seen": version}}, version)

        writers = [threading.Thread(target=write, args=(version,)) for version in (1, 2)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        assert collection.find_one({"_id": doc_id})["version"] == 2, attempt
