"""notify against the real broker and database: at-least-once delivery handled idempotently."""
from datetime import datetime, timezone

from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_hook, entrypoint_waiter

from services.common.events import make_event
from services.notify.service import NotifyService

VOLUNTEER = {"account_id": "vol-1", "role": "volunteer", "handle": "nima"}


def proposal(volunteer_id="vol-1"):
    return make_event("matching", "match_proposed", {
        "match_id": "m1", "request_id": "r1", "volunteer_id": volunteer_id, "author_id": "a1",
        "status": "proposed", "score": 0.9, "reasons": ["Has the skills asked for: legal"],
        "proposed_at": datetime.now(timezone.utc), "version": 1,
    })


def test_a_redelivered_event_makes_one_notification(container_factory, config, db_for):
    container = container_factory(NotifyService, config)
    container.start()
    dispatch = event_dispatcher(config)
    event = proposal()

    for _ in range(3):  # the same event, delivered three times
        with entrypoint_waiter(container, "on_match_proposed"):
            dispatch("matching", "match_proposed", event)

    assert db_for("notify").notifications.count_documents({"recipient_id": "vol-1"}) == 1
    with entrypoint_hook(container, "list_notifications") as list_notifications:
        inbox = list_notifications(VOLUNTEER)
    assert inbox["unread"] == 1
    assert inbox["items"][0]["match_id"] == "m1"


def test_an_invalid_event_is_dropped_and_the_next_one_still_handled(container_factory, config, db_for):
    container = container_factory(NotifyService, config)
    container.start()
    dispatch = event_dispatcher(config)
    broken = dict(proposal(), data={"match_id": "m1"})  # missing required fields

    with entrypoint_waiter(container, "on_match_proposed"):
        dispatch("matching", "match_proposed", broken)
    with entrypoint_waiter(container, "on_match_proposed"):
        dispatch("matching", "match_proposed", proposal("vol-2"))

    notifications = db_for("notify").notifications
    assert notifications.count_documents({}) == 1
    assert notifications.find_one()["recipient_id"] == "vol-2"
