"""The email intake's rules, without servers: where the command is read, the answering address
(what only an email to the writer shows), and the relay's signature."""
from services.gateway.intake import mail


def test_the_command_is_read_from_the_subject_or_else_the_body_and_quoted_replies_are_ignored():
    assert mail.written("SAY 4821", "the 14th, at nine\n\n> earlier") == "SAY 4821\nthe 14th, at nine"
    assert mail.written("Re: A message for you", "YES 4821\n\nOn Monday, someone wrote:\n> A need") == "YES 4821"
    assert mail.written("RE: Fwd: READ 4821", "") == "READ 4821"
    assert mail.written("Hello", "نیاز ۲ IR وکیلی برای برادرم") == "نیاز ۲ IR وکیلی برای برادرم"
    assert mail.written("", "> only a quote") == ""


def test_an_answering_address_is_the_writers_own_and_nobody_elses():
    key, other_key = b"k" * 32, b"o" * 32
    mine = mail.answering_address(key, "act@allies.example", "someone@example.org")
    assert mine == mail.answering_address(key, "act@allies.example", "SomeOne@Example.org")  # case does not matter
    assert mine.startswith("act+") and mine.endswith("@allies.example") and len(mine.split("+")[1].split("@")[0]) == 16
    assert mine != mail.answering_address(key, "act@allies.example", "someone-else@example.org")
    assert mine != mail.answering_address(other_key, "act@allies.example", "someone@example.org")


def test_only_the_relays_signature_is_taken():
    body = b'{"from": "a@example.org"}'
    signed = mail.signature("token", body)
    assert mail.is_signed("token", body, signed)
    assert not mail.is_signed("token", body + b" ", signed)
    assert not mail.is_signed("other", body, signed)
    assert not mail.is_signed("", body, mail.signature("", body))  # no token configured: nothing is taken
    assert not mail.is_signed("token", body, None)
