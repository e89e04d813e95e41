"""What a webhook may carry, and its signature: plain functions, no I/O."""
import json
from datetime import datetime, timezone

import pytest

from services.common.bus.events import make_event, parse_event
from services.notify import webhooks
from services.notify.tests.receiver import Receiver

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def event(source, event_type, data):
    payload = make_event(source, event_type, data, occurred_at=NOW)
    return parse_event(source, event_type, payload)


def request_data(**overrides):
    data = {"request_id": "r1", "author_id": "activist-1", "title": "Lawyer for an asylum claim",
            "body": "Our family needs advice.", "skills": ["legal"], "languages": ["fa"], "country": "IR",
            "urgency": "high", "visibility": "public", "status": "open", "hidden": False,
            "created_at": NOW, "version": 1}
    return {**data, **overrides}


def profile_data(**overrides):
    data = {"profile_id": "p1", "handle": "nima-law", "role": "volunteer", "status": "active",
            "skills": ["legal"], "languages": ["fa"], "countries": ["IR"], "bio": "Asylum lawyer.",
            "availability_hours": 5, "max_active_matches": 2, "verified": True,
            "contact_sealed": "c2VhbGVk", "version": 1}
    return {**data, **overrides}


def test_a_public_request_goes_out_without_its_author():
    body = json.loads(webhooks.body_for(event("requests", "request_created", request_data())))
    assert body["event_type"] == "request_created"
    assert body["data"]["title"] == "Lawyer for an asylum claim"
    assert "author_id" not in body["data"]


@pytest.mark.parametrize("overrides", [{"visibility": "volunteers"}, {"visibility": "private", "title": None,
                                                                     "body": None}, {"hidden": True}])
def test_nothing_of_a_request_that_is_not_public_goes_out(overrides):
    # Not its text, nor its skills, country, urgency, status or times (found in review).
    assert webhooks.body_for(event("requests", "request_updated", request_data(**overrides))) is None
    removal = json.loads(webhooks.removal_body_for(event("requests", "request_updated", request_data(**overrides))))
    assert removal["data"] == {"request_id": request_data()["request_id"], "public": False}


def test_a_volunteer_profile_goes_out_without_contact_or_bio_and_an_activist_not_at_all():
    body = webhooks.body_for(event("profiles", "profile_registered", profile_data()))
    assert "contact_sealed" not in body and "c2VhbGVk" not in body and "Asylum lawyer" not in body
    assert json.loads(body)["data"]["handle"] == "nima-law"
    assert webhooks.body_for(event("profiles", "profile_registered", profile_data(role="activist"))) is None


def test_a_match_goes_out_without_the_people_in_it():
    data = {"match_id": "m1", "request_id": "r1", "volunteer_id": "v1", "author_id": "a1", "status": "accepted",
            "score": 0.8, "reasons": ["Speaks fa"], "proposed_at": NOW, "version": 2}
    body = json.loads(webhooks.body_for(event("matching", "match_accepted", data)))
    assert set(body["data"]) == {"match_id", "request_id", "status", "proposed_at"}


def test_message_events_are_never_deliverable():
    data = {"match_id": "m1", "message_id": "x", "sender_id": "v1", "sent_at": NOW}
    assert webhooks.body_for(event("notify", "message_sent", data)) is None
    assert "message_sent" not in webhooks.DELIVERABLE


def test_a_signature_verifies_and_a_tampered_body_or_old_timestamp_does_not():
    body = webhooks.body_for(event("requests", "request_created", request_data()))
    headers = webhooks.headers_for("s3cret-shared-with-org", body, "d1", "request_created", now=1000)
    assert webhooks.verify("s3cret-shared-with-org", headers, body, now=1010)
    assert not webhooks.verify("s3cret-shared-with-org", headers, body.replace("asylum", "asylun"), now=1010)
    assert not webhooks.verify("another-secret-entirely", headers, body, now=1010)
    assert not webhooks.verify("s3cret-shared-with-org", {**headers, "X-Allies-Timestamp": "1001"}, body, now=1010)
    assert not webhooks.verify("s3cret-shared-with-org", headers, body, now=1000 + webhooks.MAX_SKEW_S + 1)


def test_delivery_ids_are_deterministic_per_event_and_webhook():
    assert webhooks.delivery_id("e1", "w1") == webhooks.delivery_id("e1", "w1")
    assert webhooks.delivery_id("e1", "w1") != webhooks.delivery_id("e1", "w2")


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.5", "169.254.169.254", "::1", "fd00::1"])
def test_internal_destinations_are_refused_unless_allowed(address):
    with pytest.raises(webhooks.Refused):
        webhooks.check_destination({"93.184.216.34", address}, allow_private=False)
    webhooks.check_destination({address}, allow_private=True)


def test_public_destinations_are_allowed():
    webhooks.check_destination({"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"}, allow_private=False)


# ---- DNS rebinding: the connection goes to the address that was checked


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.stop()


def rebinding_dns(monkeypatch, first, then):
    """A hostile resolver: `first` for the first question, `then` for every later one."""
    import socket
    real, asked = socket.getaddrinfo, []

    def answer(host, port, *args, **kwargs):
        if host != "hooks.rebind.test":
            return real(host, port, *args, **kwargs)
        asked.append(host)
        address = first if len(asked) == 1 else then
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", answer)
    return asked


def test_a_webhook_connects_to_the_address_it_checked_not_to_a_second_answer(monkeypatch, receiver):
    # Checked: loopback (allowed in this run); a second lookup would give an address nothing answers on.
    asked = rebinding_dns(monkeypatch, first="127.0.0.1", then="10.255.255.1")
    status = webhooks.post_to_checked_address(f"http://hooks.rebind.test:{receiver.port}/in?x=1", b'{"a": 1}',
                                              {"Content-Type": "application/json"}, timeout_s=3, allow_private=True)
    assert status == 204 and len(asked) == 1
    [(headers, body)] = receiver.received
    assert (headers["Host"], receiver.paths, body) == (f"hooks.rebind.test:{receiver.port}", ["/in?x=1"], b'{"a": 1}')


def test_a_public_answer_then_loopback_never_reaches_loopback(monkeypatch, receiver):
    """The attack: the check sees a public address, the connection would be sent to 127.0.0.1."""
    asked = rebinding_dns(monkeypatch, first="192.0.2.10", then="127.0.0.1")  # TEST-NET-1: not global either
    with pytest.raises(webhooks.Refused):
        webhooks.post_to_checked_address(f"http://hooks.rebind.test:{receiver.port}/", b"{}", {}, 1, allow_private=False)
    asked.clear()
    monkeypatch.setattr(webhooks, "check_destination", lambda addresses, allow_private: None)  # as if it were public
    with pytest.raises(Exception):  # nothing answers at the checked address within the timeout
        webhooks.post_to_checked_address(f"http://hooks.rebind.test:{receiver.port}/", b"{}", {}, 1, allow_private=False)
    assert receiver.received == [] and len(asked) == 1
