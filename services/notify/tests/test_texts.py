"""Text messages: the provider's REST client against a local server speaking the provider's API
(sms_provider.py), and the queue's rules in the workflow over the in-memory stores: once per cause,
retried like emails, and the number and the words forgotten once settled."""
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, MultiFernet

from services.common.errors import ValidationFailed
from services.notify import memory, outgoing, retry, texts
from services.notify.mail import PermanentFailure
from services.notify.tests.sms_provider import SmsProvider
from services.notify.tests.test_workflow import CONFIG, Clock
from services.notify.workflow import NotifyWorkflow

NUMBER = "+989121234567"


@pytest.fixture
def provider():
    running = SmsProvider()
    yield running
    running.stop()


def client(provider, **overrides):
    settings = dict(api_base=provider.url, account_sid=provider.account_sid, auth_token=provider.auth_token,
                    from_number="+15005550006", timeout_s=5) | overrides
    return texts.SmsProvider(**settings)


def test_a_text_goes_through_the_providers_api_with_the_accounts_credentials(provider):
    client(provider).send(NUMBER, "HELP: write NEED, then a skill's number and what you need.")
    assert provider.messages == [{"To": NUMBER, "From": "+15005550006",
                                  "Body": "HELP: write NEED, then a skill's number and what you need."}]
    with pytest.raises(PermanentFailure):  # a wrong token is refused for good, not retried
        client(provider, auth_token="wrong").send(NUMBER, "x")
    assert provider.refused == 1
    provider.fail_first = provider.attempts + 1
    with pytest.raises(ConnectionError):  # the provider's 503: try again later
        client(provider).send(NUMBER, "x")
    with pytest.raises(PermanentFailure):
        client(provider, account_sid="").send(NUMBER, "x")  # not configured: nothing is sent


@pytest.fixture
def world(provider):
    stores, clock = memory.stores(), Clock()
    cipher = MultiFernet([Fernet(Fernet.generate_key())])
    out = outgoing.Outgoing(stores, CONFIG, None, None, cipher, None, sms=client(provider), clock=clock)
    work = NotifyWorkflow(stores, out, cipher, CONFIG, lambda *_: None, clock=clock)
    return work, stores, clock


def test_a_text_is_sent_once_per_cause_and_forgets_the_number_once_sent(world, provider):
    work, stores, _ = world
    assert work.send_text({"to": NUMBER, "body": "Received.", "key": "SM-in-1:0"}) == {"queued": True, "sent": True}
    assert work.send_text({"to": NUMBER, "body": "Received.", "key": "SM-in-1:0"}) == {"queued": True, "sent": False}
    assert provider.to(NUMBER) == ["Received."]
    [kept] = stores.texts.items.values()
    assert kept["status"] == retry.SENT and not set(texts.SEALED) & set(kept)
    assert NUMBER not in str(kept)


def test_a_text_the_provider_could_not_take_is_retried_later_and_kept_sealed_meanwhile(world, provider):
    work, stores, clock = world
    provider.fail_first = 1
    assert work.send_text({"to": NUMBER, "body": "Your need is posted.", "key": "SM-in-2:0"})["sent"] is False
    [waiting] = stores.texts.items.values()
    assert waiting["status"] == retry.PENDING and NUMBER not in str(waiting)  # encrypted while it waits
    work.send_due_texts()
    assert provider.to(NUMBER) == []  # not before its backoff
    clock.advance(retry.DEFAULTS["TEXT_RETRY_BASE_S"] + 1)
    work.send_due_texts()
    work.send_due_texts()
    assert provider.to(NUMBER) == ["Your need is posted."]


@pytest.mark.parametrize("body, field", [
    ({"to": "09121234567", "body": "x", "key": "SM-in-3:0"}, "to"),
    ({"to": NUMBER, "body": "", "key": "SM-in-3:0"}, "body"),
    ({"to": NUMBER, "body": "x" * 1601, "key": "SM-in-3:0"}, "body"),
    ({"to": NUMBER, "body": "x"}, "key"),
])
def test_a_bad_text_is_refused_by_its_field_and_nothing_is_queued(world, body, field):
    work, stores, _ = world
    with pytest.raises(ValidationFailed) as error:
        work.send_text(body)
    assert field in error.value.fields and stores.texts.items == {}


def test_a_refused_text_is_given_up_and_forgotten(world, provider):
    work, stores, clock = world
    provider.auth_token = "rotated"  # the provider refuses the credentials now
    assert work.send_text({"to": NUMBER, "body": "x", "key": "SM-in-4:0"})["sent"] is False
    [given_up] = stores.texts.items.values()
    assert given_up["status"] == retry.FAILED and not set(texts.SEALED) & set(given_up)
    clock.advance(timedelta(days=1).total_seconds())
    work.send_due_texts()
    assert provider.messages == []
