"""The outbox against the real MongoDB-wire server: every event out at least once, markers cleared."""
from services.common import outbox
from services.common.events import make_event


def event(n):
    return make_event("profiles", "profile_deactivated", {"profile_id": f"p{n}", "handle": f"h{n}", "role": "volunteer",
                                                          "status": "deactivated", "skills": [], "languages": [],
                                                          "countries": [], "bio": "", "availability_hours": 0,
                                                          "max_active_matches": 1, "verified": False,
                                                          "contact_sealed": None, "version": 2})


def setup(db_for):
    db = db_for("outbox")
    outbox.prepare(db)
    sent = []
    return db, db.things, sent, lambda event_type, payload: sent.append(payload["event_id"])


def test_a_batch_is_published_from_memory_and_cleared_in_one_write(db_for):
    db, things, sent, dispatch = setup(db_for)
    documents = [{"_id": f"t{n}", "group": "g1", "version": 1} for n in range(3)]
    events_of = {d["_id"]: [event(n)] for n, d in enumerate(documents)}

    token, inserted = outbox.insert_many_with_events(things, documents, events_of)
    outbox.publish_inserted(things, token, inserted, events_of, {"group": "g1"}, dispatch)

    assert sent == [events_of[f"t{n}"][0]["event_id"] for n in range(3)]
    assert all(t[outbox.OUTBOX] == [] for t in things.find())
    assert db[outbox.PENDING].count_documents({}) == 0


def test_a_redelivered_batch_skips_what_exists(db_for):
    db, things, sent, dispatch = setup(db_for)
    things.insert_one({"_id": "t0", "group": "g1", "version": 1})
    documents = [{"_id": f"t{n}", "group": "g1", "version": 1} for n in range(2)]
    events_of = {d["_id"]: [event(n)] for n, d in enumerate(documents)}

    token, inserted = outbox.insert_many_with_events(things, documents, events_of)
    outbox.publish_inserted(things, token, inserted, events_of, {"group": "g1"}, dispatch)

    assert inserted == ["t1"]
    assert sent == [events_of["t1"][0]["event_id"]]
    assert db[outbox.PENDING].count_documents({}) == 0


def test_a_crash_before_publishing_leaves_markers_the_timer_follows(db_for):
    db, things, sent, dispatch = setup(db_for)
    documents = [{"_id": f"t{n}", "group": "g1", "version": 1} for n in range(3)]
    events_of = {d["_id"]: [event(n)] for n, d in enumerate(documents)}
    outbox.insert_many_with_events(things, documents, events_of)  # ... and the process died here

    assert outbox.flush_pending(things, dispatch) == 3
    assert sorted(sent) == sorted(e[0]["event_id"] for e in events_of.values())
    assert db[outbox.PENDING].count_documents({}) == 0
    assert outbox.flush_pending(things, dispatch) == 0  # nothing twice


def test_a_document_another_writer_changed_keeps_its_events_for_that_writer(db_for):
    db, things, sent, dispatch = setup(db_for)
    documents = [{"_id": f"t{n}", "group": "g1", "version": 1} for n in range(2)]
    events_of = {d["_id"]: [event(n)] for n, d in enumerate(documents)}
    token, inserted = outbox.insert_many_with_events(things, documents, events_of)
    later = event(9)
    assert outbox.update_one_with_events(things, {"_id": "t1", "version": 1}, {"$set": {"version": 2}}, [later])

    outbox.publish_inserted(things, token, inserted, events_of, {"group": "g1"}, dispatch)
    assert len(things.find_one({"_id": "t1"})[outbox.OUTBOX]) == 2  # not cleared: not ours alone

    outbox.flush(things, "t1", dispatch)  # what the other writer does next
    assert sent.count(events_of["t1"][0]["event_id"]) == 2  # at least once: twice here
    assert later["event_id"] in sent
    assert things.find_one({"_id": "t1"})[outbox.OUTBOX] == []
    assert db[outbox.PENDING].count_documents({}) == 0
