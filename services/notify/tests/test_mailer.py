"""Mailer: STARTTLS before login before the message, and nothing of the address in its errors."""
import smtplib
from email.message import EmailMessage

import pytest

from services.notify.mail import Mailer


class RecordingSMTP:
    """A stand-in for smtplib.SMTP in this unit test of one class: it records the conversation."""

    calls = []
    fail_with = None

    def __init__(self, host, port, timeout):
        self.calls.append(("connect", host, port))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context):
        assert context.verify_mode.name == "CERT_REQUIRED"
        self.calls.append(("starttls",))

    def login(self, user, password):
        self.calls.append(("login", user))

    def send_message(self, message):
        if self.fail_with:
            raise self.fail_with
        self.calls.append(("send", message["To"]))


def message():
    msg = EmailMessage()
    msg["To"] = "nima@example.org"
    msg.set_content("A request fits your skills.")
    return msg


def test_a_relay_gets_starttls_then_login_then_the_message():
    RecordingSMTP.calls, RecordingSMTP.fail_with = [], None
    Mailer("relay.example", 587, "from@x", 5, starttls=True, username="allies", password="pw",
           smtp=RecordingSMTP).send(message())
    assert RecordingSMTP.calls == [("connect", "relay.example", 587), ("starttls",), ("login", "allies"),
                                   ("send", "nima@example.org")]


def test_the_local_sink_gets_plain_smtp():
    RecordingSMTP.calls, RecordingSMTP.fail_with = [], None
    Mailer("127.0.0.1", 8025, "from@x", 5, smtp=RecordingSMTP).send(message())
    assert [call[0] for call in RecordingSMTP.calls] == ["connect", "send"]


def test_a_failure_does_not_echo_the_address():
    RecordingSMTP.calls = []
    RecordingSMTP.fail_with = smtplib.SMTPDataError(451, b"try later, nima@example.org")
    with pytest.raises(ConnectionError) as caught:
        Mailer("127.0.0.1", 8025, "from@x", 5, smtp=RecordingSMTP).send(message())
    assert "nima" not in str(caught.value)


class GoodbyeFails(RecordingSMTP):
    """The server took the message (250), then the connection broke on QUIT."""

    def __exit__(self, *exc):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_a_message_the_server_took_is_not_a_failure_if_only_goodbye_fails():
    GoodbyeFails.calls, GoodbyeFails.fail_with = [], None
    Mailer("127.0.0.1", 8025, "from@x", 5, smtp=GoodbyeFails).send(message())  # sending again would double it
    assert GoodbyeFails.calls[-1] == ("send", "nima@example.org")


def test_a_message_the_server_did_not_take_is_still_a_failure():
    GoodbyeFails.calls, GoodbyeFails.fail_with = [], smtplib.SMTPServerDisconnected("closed during DATA")
    with pytest.raises(ConnectionError):
        Mailer("127.0.0.1", 8025, "from@x", 5, smtp=GoodbyeFails).send(message())
