import pytest
from cryptography.fernet import Fernet

from services.common.errors import ValidationFailed
from services.common.schemas import load_or_fail
from services.profiles import accounts
from services.profiles.schemas import NewAccount


def test_passwords_are_hashed_with_argon2_and_verified():
    passwords = accounts.PasswordWork(1, 0)
    stored = passwords.hash("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert passwords.matches(stored, "correct horse battery")
    assert not passwords.matches(stored, "wrong horse battery")
    assert not passwords.matches(None, "not-a-real-password")


def test_password_work_runs_a_bounded_number_at_once_and_refuses_the_rest_at_once():
    """Each argon2 computation holds 64 MiB: a burst of wrong passwords runs `at_once` of them,
    `waiting` more wait for a turn, and the rest are refused without holding a worker."""
    import eventlet
    from services.common.errors import TooManyRequests

    passwords = accounts.PasswordWork(at_once=2, waiting=3, reserved=0)
    stored = passwords.hash("correct horse battery")
    outcomes = []

    def attempt():
        try:
            outcomes.append(passwords.matches(stored, "wrong horse battery"))
        except TooManyRequests as refused:
            outcomes.append(refused.fields["retry_after"])

    pool = eventlet.GreenPool()
    for _ in range(20):
        pool.spawn(attempt)
    pool.waitall()
    assert sorted(outcomes, key=str) == [1] * 15 + [False] * 5
    assert passwords.busiest == 5 and passwords.admitted == 0
    assert passwords.matches(stored, "correct horse battery")  # the burst over, all is as before
    assert accounts.HASH_MEMORY_MIB == 64


def test_a_flood_of_wrong_passwords_leaves_clean_sign_ins_their_share_and_checks_each_account_once_at_a_time():
    """The attack: a few hundred addresses guessing at once fill every place of the bounded work,
    and everyone's sign-in is refused. Clean sign-ins (an account and a source without recent
    failures) keep `reserved` places the guessing cannot take."""
    import eventlet
    from services.common.errors import TooManyRequests

    passwords = accounts.PasswordWork(at_once=2, waiting=4, reserved=2)
    stored = passwords.hash("correct horse battery")
    outcomes = {"guess": [], "clean": []}

    def attempt(kind, n):
        try:
            outcomes[kind].append(passwords.matches(stored, "correct horse battery" if kind == "clean" else "guess",
                                                    clean=kind == "clean", holder=f"{kind}-{n}"))
        except TooManyRequests:
            outcomes[kind].append("refused")

    pool = eventlet.GreenPool()
    for n in range(40):
        pool.spawn(attempt, "guess", n)
    for n in range(2):  # arriving while the guesses hold every place they may
        pool.spawn(attempt, "clean", n)
    pool.waitall()
    assert outcomes["clean"] == [True, True]
    assert outcomes["guess"].count(False) == 4 and outcomes["guess"].count("refused") == 36
    # One account's password is checked once at a time, whoever asks (a burst at one account
    # holds one place, not all).
    holder_outcomes = []

    def same_account():
        try:
            holder_outcomes.append(passwords.matches(stored, "guess", holder="one-account"))
        except TooManyRequests:
            holder_outcomes.append("refused")

    for _ in range(5):
        pool.spawn(same_account)
    pool.waitall()
    assert sorted(holder_outcomes, key=str) == [False] + ["refused"] * 4


def test_only_the_hash_of_a_session_token_is_kept():
    token, stored_id = accounts.new_session_token()
    assert token not in stored_id and stored_id == accounts.token_id(token)


def test_contact_details_are_sealed_at_rest():
    vault = accounts.ContactVault(Fernet.generate_key())
    sealed = vault.seal("mina@example.org")
    assert "mina" not in sealed
    assert vault.open(sealed) == "mina@example.org"
    assert accounts.ContactVault(Fernet.generate_key()).open(sealed) is None  # wrong key
    with pytest.raises(ValueError):
        accounts.ContactVault("")


def test_profile_events_carry_no_contact_details():
    account = {"_id": "a1", "handle": "mina", "role": "volunteer", "status": "active", "verified": False,
               "version": 1, "email_sealed": "sealed", "password_hash": "h", "profile": dict(accounts.EMPTY_PROFILE)}
    data = accounts.profile_event_data(account)
    assert "email_sealed" not in data and "password_hash" not in data


def test_new_account_errors_name_each_field():
    with pytest.raises(ValidationFailed) as caught:
        load_or_fail(NewAccount(), {"handle": "a b", "password": "short", "role": "moderator", "phone": "1"})
    assert set(caught.value.fields) == {"handle", "password", "role", "phone"}


def test_password_hashing_leaves_the_event_loop_free():
    """While argon2 works, other green threads of the service keep running (it used to stall
    every other call of profiles for the whole hash)."""
    import eventlet

    ticks = []

    def tick():
        while True:
            ticks.append(1)
            eventlet.sleep(0.005)

    ticker = eventlet.spawn(tick)
    eventlet.sleep(0)
    passwords = accounts.PasswordWork(1, 0)
    stored = passwords.hash("correct horse battery")
    during_hash = len(ticks)
    assert passwords.matches(stored, "correct horse battery")
    assert not passwords.matches(stored, "wrong horse battery")
    assert not passwords.matches(None, "anything")
    ticker.kill()
    assert during_hash > 3, during_hash


def test_wrong_passwords_cost_a_growing_wait_never_a_lockout():
    from datetime import datetime, timedelta, timezone
    now = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    ago = lambda s: now - timedelta(seconds=s)  # noqa: E731
    assert accounts.sign_in_wait(9, ago(0), now, free=10, longest_s=900) == 0
    assert accounts.sign_in_wait(10, ago(0), now, free=10, longest_s=900) == 1
    assert accounts.sign_in_wait(13, ago(3), now, free=10, longest_s=900) == 5  # 8 s after the last, 3 gone
    assert accounts.sign_in_wait(13, ago(9), now, free=10, longest_s=900) == 0
    assert accounts.sign_in_wait(40, ago(0), now, free=10, longest_s=900) == 900  # bounded
    assert accounts.sign_in_wait(40, ago(900), now, free=10, longest_s=900) == 0  # and then it is over
