"""The profiles' use cases in milliseconds, over the in-memory stores (memory.py, held to the real
stores' contract): sign-up bounds, a held handle, throttled password checks, sessions, vetting."""
from datetime import datetime, timedelta, timezone

import pytest

from services.common.errors import (Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized, Unprocessable,
                                    ValidationFailed)
from services.common.flags import InMemoryFlagStore
from services.profiles import accounts, memory
from services.profiles.workflow import ProfileWorkflow

PASSWORD = "correct horse battery staple"


class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


class Plain:
    """Stands in for the vault and the sealer (what they do is tested apart: test_accounts.py)."""

    def seal(self, value):
        return None if value is None else f"sealed:{value}"

    def open(self, value):
        return None if value is None else value[len("sealed:"):]


class Passwords:
    """argon2 stands apart (test_accounts.py): here a password matches itself, and each check is seen."""

    def __init__(self):
        self.checks = []

    def hash(self, password):
        return "hash:" + password

    def matches(self, stored_hash, password, clean=False, holder=None):
        self.checks.append(clean)
        return stored_hash == "hash:" + password


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def work(clock):
    published = []
    workflow = ProfileWorkflow((memory.InMemoryAccountStore(clock), memory.InMemorySessionStore(),
                                memory.InMemoryAttemptStore(clock), InMemoryFlagStore(clock)), Passwords(), Plain(),
                               Plain(), "k" * 44, lambda event_type, payload: published.append(payload), clock,
                               {"SIGN_UP_LIMIT": 3, "LOGIN_MAX_FAILURES": 2, "LOGIN_SOURCE_MAX_FAILURES": 4,
                                "LOGIN_MAX_DELAY_S": 60})
    workflow.published = published
    return workflow


def signed_up(work, handle, role="volunteer", source=None):
    account = work.register({"handle": handle, "password": PASSWORD, "role": role}, source)
    return {"account_id": account["id"], "role": role, "handle": handle, "verified": False}


def test_sign_ups_are_bounded_per_source_and_a_deleted_handle_is_held_a_year(work, clock):
    for n in range(3):
        signed_up(work, f"person{n}", source="s1")
    with pytest.raises(TooManyRequests):
        signed_up(work, "one-too-many", source="s1")
    signed_up(work, "from-elsewhere", source="s2")
    leaving = signed_up(work, "leyla")
    work.delete_account(leaving, {"password": PASSWORD})
    assert [e["event_type"] for e in work.published][-1] == "profile_deleted"
    with pytest.raises(Conflict):
        signed_up(work, "LEYLA")  # a state taking over the handle of someone who just left
    clock.now += accounts.HANDLE_HELD + timedelta(days=1)
    assert signed_up(work, "leyla")


def test_wrong_passwords_slow_their_source_never_the_owner_and_clean_sign_ins_keep_their_share(work, clock):
    signed_up(work, "target")
    for _ in range(2):  # LOGIN_MAX_FAILURES free
        with pytest.raises(Unauthorized):
            work.login({"handle": "target", "password": "wrong guess"}, "guesser")
    with pytest.raises(TooManyRequests):
        work.login({"handle": "target", "password": PASSWORD}, "guesser")  # waits there now
    assert work.login({"handle": "target", "password": PASSWORD}, "owner-at-home")["token"]  # never locked out
    # The guesser's address waits at any handle once it failed LOGIN_SOURCE_MAX_FAILURES times anywhere.
    for handle in ("another", "third"):
        signed_up(work, handle)
    clock.now += timedelta(minutes=2)
    for _ in range(2):
        with pytest.raises(Unauthorized):
            work.login({"handle": "another", "password": "wrong"}, "guesser")
    with pytest.raises(TooManyRequests):
        work.login({"handle": "third", "password": "wrong"}, "guesser")
    # Only a sign-in of an account and a source without recent failures is clean.
    passwords = work.passwords
    passwords.checks.clear()
    work.login({"handle": "third", "password": PASSWORD}, "fresh-source")
    with pytest.raises(Unauthorized):
        work.login({"handle": "third", "password": "wrong"}, "fresh-source")
    with pytest.raises(Unauthorized):
        work.login({"handle": "third", "password": "wrong"}, "fresh-source-2")
    with pytest.raises(Unauthorized):
        work.login({"handle": "nobody-here", "password": "wrong"}, "fresh-source-3")
    # Clean, clean (its first failure), then not: the account failed lately; a handle that does
    # not exist never is.
    assert passwords.checks == [True, True, False, False]


def test_a_password_change_ends_every_session_and_a_suspension_too(work):
    person = signed_up(work, "nima")
    first = work.login({"handle": "nima", "password": PASSWORD})["token"]
    second = work.login({"handle": "nima", "password": PASSWORD})["token"]
    fresh = work.change_password(person, {"current_password": PASSWORD, "new_password": "another long passphrase"})
    for token in (first, second):
        with pytest.raises(Unauthorized):
            work.resolve_session(token)
    assert work.resolve_session(fresh["token"])["handle"] == "nima"
    moderator = dict(signed_up(work, "mod", "activist"), role="moderator")
    with pytest.raises(Forbidden):
        work.suspend(moderator, moderator["account_id"])
    work.suspend(moderator, person["account_id"])
    with pytest.raises(Unauthorized):
        work.resolve_session(fresh["token"])


def test_only_moderators_vet_and_a_volunteers_profile_is_public(work):
    volunteer, activist = signed_up(work, "lawyer"), signed_up(work, "family", "activist")
    assert work.get_profile(None, volunteer["account_id"])["handle"] == "lawyer"
    with pytest.raises(Exception):
        work.get_profile(None, activist["account_id"])
    with pytest.raises(Forbidden):
        work.set_verified(volunteer, volunteer["account_id"])
    moderator = dict(signed_up(work, "mod", "activist"), role="moderator")
    assert work.set_verified(moderator, volunteer["account_id"])["verified"] is True
    assert work.published[-1]["data"]["verified"] is True


def test_a_number_gets_one_pseudonymous_account_found_by_a_keyed_hash_and_stop_forgets_it(work):
    number = "+989121234567"
    first = work.channel_session({"channel": "sms", "address": number})
    again = work.channel_session({"channel": "sms", "address": number})
    assert first["created"] and not again["created"] and first["account_id"] == again["account_id"]
    assert first["role"] == "activist" and first["handle"].startswith("sms-") and number[1:] not in first["handle"]
    stored = work.accounts.find(first["account_id"])
    assert number not in str({k: v for k, v in stored.items() if k != "channels_sealed"})  # only a keyed hash
    assert stored["channels_sealed"] == {"sms": f"sealed:{number}"}  # sealed to notify, to answer
    assert work.resolve_session(first["token"])["account_id"] == first["account_id"]
    registered = [e for e in work.published if e["event_type"] == "profile_registered"]
    assert len(registered) == 1 and registered[0]["data"]["sms_sealed"] == f"sealed:{number}"
    assert number not in str(registered).replace(f"sealed:{number}", "")  # never on the bus in clear
    with pytest.raises(Unauthorized):  # no password: the web is not this account's way in
        work.login({"handle": first["handle"], "password": "any password at all"})

    assert work.forget_channel({"channel": "sms", "address": number}) == {"forgotten": True}
    assert work.channel_session({"channel": "sms", "address": number})["account_id"] != first["account_id"]
    with pytest.raises(ValidationFailed) as error:
        work.channel_session({"channel": "sms", "address": "0912 123 4567"})
    assert "address" in error.value.fields


def test_a_code_from_the_web_links_a_number_once_and_the_number_then_acts_for_that_account(work, clock):
    volunteer = signed_up(work, "linker")
    number, stranger = "+989121110000", "+989121119999"
    with pytest.raises(NotFound):  # an unknown number that does not post a need makes no account
        work.channel_session({"channel": "sms", "address": number, "create": False})
    code = work.link_code(volunteer)["code"]
    assert len(code) == 8 and code.isdigit()
    assert code not in str(work.accounts.find(volunteer["account_id"]))  # only its keyed hash is kept
    with pytest.raises(ValidationFailed) as error:
        work.link_channel({"channel": "sms", "address": number, "code": "12ab"})
    assert "code" in error.value.fields
    assert work.link_channel({"channel": "sms", "address": number, "code": code}) == {
        "handle": "linker", "role": "volunteer"}
    with pytest.raises(NotFound):  # spent
        work.link_channel({"channel": "sms", "address": stranger, "code": code})
    session = work.channel_session({"channel": "sms", "address": number, "create": False})
    assert session["account_id"] == volunteer["account_id"] and not session["created"]
    updated = work.published[-1]
    assert updated["event_type"] == "profile_updated" and updated["data"]["sms_sealed"] == f"sealed:{number}"
    assert number not in str(work.published).replace(f"sealed:{number}", "")  # sealed to notify alone

    # A number already someone's is never moved quietly; STOP frees it, and notify hears of it.
    other = signed_up(work, "other")
    with pytest.raises(Conflict):
        work.link_channel({"channel": "sms", "address": number, "code": work.link_code(other)["code"]})
    assert work.forget_channel({"channel": "sms", "address": number}) == {"forgotten": True}
    assert work.published[-1]["data"]["sms_sealed"] is None
    assert work.forget_channel({"channel": "sms", "address": number}) == {"forgotten": False}
    # An expired code links nothing.
    late = work.link_code(other)["code"]
    clock.now += timedelta(minutes=16)
    with pytest.raises(NotFound):
        work.link_channel({"channel": "sms", "address": number, "code": late})


def test_a_missed_check_in_is_told_once_a_check_in_after_says_so_and_the_timer_reads_only_what_is_due(work, clock):
    family = signed_up(work, "careful", "activist")
    with pytest.raises(Unprocessable) as error:
        work.set_check_in(family, {"interval_hours": 24, "message": "If you read this, call my sister."})
    assert "helpers" in error.value.fields  # someone must be told
    with pytest.raises(ValidationFailed) as error:
        work.set_check_in(family, {"interval_hours": 24 * 29, "helpers": ["m1"], "message": "x"})
    assert "interval_hours" in error.value.fields
    shown = work.set_check_in(family, {"interval_hours": 24, "helpers": ["m1"], "campaigns": ["c1"],
                                       "message": "If you read this, call my sister."})
    assert shown["enabled"] and shown["due_at"] == (clock.now + timedelta(hours=24)).isoformat()
    assert "call my sister" not in str(work.accounts.find(family["account_id"])).replace(
        "sealed:If you read this, call my sister.", "")  # sealed to notify alone

    clock.now += timedelta(hours=23)
    work.check_in(family)  # in time: due a day from now
    clock.now += timedelta(hours=23)
    work.tell_missed_check_ins()
    assert not [e for e in work.published if e["event_type"].startswith("check_in")]
    clock.now += timedelta(hours=2)
    work.tell_missed_check_ins()
    work.tell_missed_check_ins()  # once
    [missed] = [e for e in work.published if e["event_type"] == "check_in_missed"]
    assert missed["data"]["helpers"] == ["m1"] and missed["data"]["campaigns"] == ["c1"]
    assert missed["data"]["message_sealed"] == "sealed:If you read this, call my sister."
    assert work.get_check_in(family)["missed_at"]
    assert work.accounts.walk_due_check_ins(clock.now, lambda due: None) == 0  # no longer due

    work.check_in(family)  # back: those told are told so, once
    work.check_in(family)
    [resumed] = [e for e in work.published if e["event_type"] == "check_in_resumed"]
    assert "message_sealed" not in resumed["data"] or resumed["data"]["message_sealed"] is None
    assert not work.get_check_in(family)["missed_at"]
    work.stop_check_in(family)
    assert work.get_check_in(family) == {"enabled": False}
    with pytest.raises(NotFound):
        work.check_in(family)


def test_the_duress_password_opens_an_empty_account_with_the_same_face_and_tells_at_once(work, clock):
    family = signed_up(work, "pressed", "activist")
    with pytest.raises(Unprocessable) as error:
        work.set_check_in(family, {"interval_hours": 72, "helpers": ["m1"], "message": "They took me.",
                                   "duress_password": PASSWORD})
    assert "duress_password" in error.value.fields  # never the real password
    work.set_check_in(family, {"interval_hours": 72, "helpers": ["m1"], "message": "They took me.",
                               "duress_password": "the other password, for them"})
    assert "duress" not in str(work.get_check_in(family))  # the page never says one is set

    forced = work.login({"handle": "pressed", "password": "the other password, for them"})
    seen = work.resolve_session(forced["token"])
    assert seen["handle"] == "pressed" and seen["role"] == "activist" and seen["account_id"] != family["account_id"]
    assert work.get_me(seen)["handle"] == "pressed"
    [missed] = [e for e in work.published if e["event_type"] == "check_in_missed"]
    assert missed["data"]["profile_id"] == family["account_id"] and missed["data"]["helpers"] == ["m1"]
    # From the empty account, a check-in changes nothing; the real one still counts as missed.
    assert work.check_in(seen) == {"enabled": False} and work.get_check_in(family)["missed_at"]
    assert work.get_check_in(seen) == {"enabled": False}
    # The empty account is nobody: no event ever named it, and exports leave it out.
    assert seen["account_id"] not in str(work.published)
    assert seen["account_id"] not in [a["_id"] for a in work.accounts.export_page(None, 100)]
    # The real password still opens the real account; a wrong one is still wrong.
    assert work.login({"handle": "pressed", "password": PASSWORD})["account_id"] == family["account_id"]
    with pytest.raises(Unauthorized):
        work.login({"handle": "pressed", "password": "neither of the two"})
    # Deleting the account ends the empty one and its sessions too.
    work.delete_account(family, {"password": PASSWORD})
    with pytest.raises(Unauthorized):
        work.resolve_session(forced["token"])
