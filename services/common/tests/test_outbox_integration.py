"""The outbox against the real MongoDB-wire server: every event out at least once, flags cleared."""
from services.common.store import outbox
from services.common.bus.events import make_event


def event(n):
    return make_event("profiles", "profile_deactivated", {"profile_id": f"p{n}", "handle": f"h{n}", "role": "volunteer",
                                                          "status": "deactivated", "skills": [], "languages": [],
                                                          "countries": [], "bio": "", "availability_hours": 0,
                                                          "max_active_matches": 1, "verified": False,
                                                          "contact_sealed": None, "version": 2})


def pending(db):
    return [d["_id"] for d in db.things.find({outbox.FLAG: True})]


def setup(db_for):
    db = db_for("outbox")
    outbox.prepare(db)
    outbox.index(db.things)
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
    assert pending(db) == []


def test_a_redelivered_batch_skips_what_exists(db_for):
    db, things, sent, dispatch = setup(db_for)
    things.insert_one({"_id": "t0", "group": "g1", "version": 1})
    documents = [{"_id": f"t{n}", "group": "g1", "version": 1} for n in range(2)]
    events_of = {d["_id"]: [event(n)] for n, d in enumerate(documents)}

    token, inserted = outbox.insert_many_with_events(things, documents, events_of)
    outbox.publish_inserted(things, token, inserted, events_of, {"group": "g1"}, dispatch)

    assert inserted == ["t1"]
    assert sent == [events_of["t1"][0]["event_id"]]
    assert pending(db) == []


def test_a_crash_before_publishing_leaves_flags_the_timer_follows(db_for):
    db, things, sent, dispatch = setup(db_for)
    documents = [{"_id": f"t{n}", "group": "g1", "version": 1} for n in range(3)]
    events_of = {d["_id"]: [event(n)] for n, d in enumerate(documents)}
    outbox.insert_many_with_events(things, documents, events_of)  # ... and the process died here

    assert outbox.flush_pending(things, dispatch) == 3
    assert sorted(sent) == sorted(e[0]["event_id"] for e in events_of.values())
    assert pending(db) == []
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
    assert pending(db) == []


def test_one_write_one_read_one_clear(db_for):
    db, things, sent, dispatch = setup(db_for)
    first, second = event(1), event(2)
    outbox.insert_with_events(things, {"_id": "t1", "version": 1}, [first])
    assert pending(db) == ["t1"]
    assert outbox.update_one_with_events(things, {"_id": "t1", "version": 1}, {"$set": {"version": 2}}, [second])

    assert outbox.flush(things, "t1", dispatch) == 2
    assert sent == [first["event_id"], second["event_id"]]
    stored = things.find_one({"_id": "t1"})
    assert stored[outbox.OUTBOX] == [] and outbox.FLAG not in stored and outbox.TOKEN not in stored
    assert outbox.flush(things, "t1", dispatch) == 0 and outbox.flush_pending(things, dispatch) == 0
    assert outbox.strip(stored) == {"_id": "t1", "version": 2}


def test_a_write_between_a_flush_read_and_its_clear_keeps_its_events(db_for):
    db, things, sent, dispatch = setup(db_for)
    first, later = event(1), event(2)
    outbox.insert_with_events(things, {"_id": "t1", "version": 1}, [first])

    def dispatch_while_another_writes(event_type, payload):
        dispatch(event_type, payload)
        if payload["event_id"] == first["event_id"]:  # another writer lands before our clear
            outbox.update_one_with_events(things, {"_id": "t1"}, {"$set": {"version": 2}}, [later])

    assert outbox.flush(things, "t1", dispatch_while_another_writes) == 1
    assert pending(db) == ["t1"]  # not cleared: the later write's token is not the one read
    assert outbox.flush_pending(things, dispatch) == 2  # what the timer (or that writer) does
    assert sent == [first["event_id"], first["event_id"], later["event_id"]]
    assert pending(db) == []


def test_the_earlier_versions_markers_become_flags_once(db_for):
    db = db_for("outbox")
    old = event(1)
    db.things.insert_one({"_id": "t1", "version": 1, outbox.OUTBOX: [old], outbox.TOKEN: "k1"})  # never flushed
    db.things.insert_one({"_id": "t2", "version": 1, outbox.OUTBOX: [], outbox.TOKEN: "k2"})  # flushed, marker left
    db[outbox.OLD_MARKERS].insert_many([{"_id": f"things:{n}:k{n[1]}", "collection": "things", "doc_id": n}
                                        for n in ("t1", "t2")])
    outbox.prepare(db)
    outbox.index(db.things)

    assert outbox.OLD_MARKERS not in db.list_collection_names()
    assert pending(db) == ["t1"]
    sent = []
    assert outbox.flush_pending(db.things, lambda event_type, payload: sent.append(payload["event_id"])) == 1
    assert sent == [old["event_id"]] and pending(db) == []


def test_an_insert_is_published_from_memory_in_one_more_write(db_for):
    db, things, sent, dispatch = setup(db_for)
    first = event(1)
    inserted = outbox.insert_with_events(things, {"_id": "t1", "version": 1}, [first])
    outbox.publish(inserted, dispatch)

    assert sent == [first["event_id"]] and pending(db) == []
    assert things.find_one({"_id": "t1"})[outbox.OUTBOX] == []


def test_an_insert_changed_before_its_publish_leaves_the_outbox_to_that_change(db_for):
    db, things, sent, dispatch = setup(db_for)
    first, later = event(1), event(2)
    inserted = outbox.insert_with_events(things, {"_id": "t1", "version": 1}, [first])
    assert outbox.update_one_with_events(things, {"_id": "t1", "version": 1}, {"$set": {"version": 2}}, [later])
    outbox.publish(inserted, dispatch)

    assert pending(db) == ["t1"]  # the later write's events are not ours to clear
    outbox.flush(things, "t1", dispatch)
    assert sent == [first["event_id"], first["event_id"], later["event_id"]] and pending(db) == []
