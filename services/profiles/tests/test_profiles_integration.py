"""profiles against the real broker and database: the outbox publishes, even after a crash."""
from nameko.events import event_handler
from nameko.testing.services import entrypoint_hook, entrypoint_waiter

from services.common.store import outbox
from services.common.bus.events import make_event
from services.profiles import accounts
from services.profiles.service import ProfilesService
from tests.support import opened, sealed_to, wait_until

RECEIVED = []


class Listener:
    """Stands in for any consumer of profile events."""
    name = "listener"

    @event_handler("profiles", "profile_registered")
    def registered(self, payload):
        RECEIVED.append(payload)


def test_registering_publishes_an_event_without_contact_details(container_factory, config, db_for):
    RECEIVED.clear()
    listener = container_factory(Listener, config)
    listener.start()
    profiles = container_factory(ProfilesService, config)
    profiles.start()

    with entrypoint_waiter(listener, "registered"):
        with entrypoint_hook(profiles, "register") as register:
            account = opened(register(sealed_to("profiles", {"handle": "nima-law", "password": "correct horse battery",
                                                             "role": "volunteer", "email": "nima@example.org"})),
                             "profiles", "register")

    (event,) = RECEIVED
    assert event["data"]["profile_id"] == account["id"]
    assert "nima@example.org" not in repr(event)
    stored = db_for("profiles").accounts.find_one({"_id": account["id"]})
    assert stored[outbox.OUTBOX] == []  # published, so no longer pending
    assert "nima@example.org" not in repr(stored)  # sealed at rest
    assert stored["password_hash"].startswith("$argon2id$")


def test_events_left_pending_by_a_crash_are_published_on_restart(container_factory, config, db_for):
    RECEIVED.clear()
    # The state of a process that wrote an account and died before publishing its event.
    account = {"_id": "a-crashed", "handle": "leyla", "handle_key": "leyla", "role": "volunteer",
               "password_hash": accounts.PasswordWork(1, 0).hash("correct horse battery"), "email_sealed": None,
               "status": "active", "verified": False, "profile": dict(accounts.EMPTY_PROFILE), "version": 1}
    event = make_event("profiles", "profile_registered", accounts.profile_event_data(account))
    outbox.insert_with_events(db_for("profiles").accounts, account, [event])

    listener = container_factory(Listener, config)
    listener.start()
    with entrypoint_waiter(listener, "registered", timeout=15):
        container_factory(ProfilesService, config).start()  # its relay timer finds the pending event

    assert [e["event_id"] for e in RECEIVED] == [event["event_id"]]
    wait_until(lambda: db_for("profiles").accounts.find_one({"_id": "a-crashed"})[outbox.OUTBOX] == [],
               message="the outbox to be emptied")
    wait_until(lambda: db_for("profiles").accounts.count_documents({outbox.FLAG: True}) == 0,
               message="the pending flag to be cleared")


def test_a_taken_handle_is_a_conflict_whatever_its_case(container_factory, config):
    from services.common.errors import Conflict
    import pytest

    profiles = container_factory(ProfilesService, config)
    profiles.start()
    with entrypoint_hook(profiles, "register") as register:
        register(sealed_to("profiles", {"handle": "Mina", "password": "correct horse battery", "role": "activist"}))
        with pytest.raises(Conflict) as caught:
            register(sealed_to("profiles", {"handle": "mina", "password": "correct horse battery", "role": "activist"}))
    assert caught.value.fields == {"handle": "That handle is taken."}


def test_a_deleted_accounts_handle_is_held_a_year_then_freed(db_for):
    """On the real store: the tombstone keeps only a keyed hash of the handle, which refuses a new
    account with it until the hold has passed, and then lets go of it in one write."""
    import pytest
    from datetime import timedelta

    from services.common.bus.events import utcnow
    from services.common.errors import Conflict
    from services.profiles import storage

    db = db_for("profiles")
    storage.prepare(db)
    now = utcnow()
    held = accounts.held_handle_key("k" * 44, accounts.handle_key("Nima-Law"))
    assert "nima" not in held.lower()
    grave = accounts.tombstone({"_id": "gone-1", "version": 3}, now, held)
    db.accounts.insert_one(grave)
    with pytest.raises(Conflict):
        storage.AccountStore(db).check_handle_free(held, now + timedelta(days=364))
    storage.AccountStore(db).check_handle_free(held, now + accounts.HANDLE_HELD + timedelta(seconds=1))
    released = db.accounts.find_one({"_id": "gone-1"})
    assert released["handle_key"] == "deleted:gone-1" and "held_until" not in released
    storage.AccountStore(db).check_handle_free(held, now)  # nothing holds it any more
