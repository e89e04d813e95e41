"""Account rules as plain Python: password hashing, session tokens, sealed contact details.

Nothing here touches the network; the service wires it to storage and the bus.
"""
import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

from argon2 import PasswordHasher
from eventlet import tpool
from eventlet.semaphore import Semaphore
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

from services.common.errors import TooManyRequests
from services.common.bus.events import utcnow

_hasher = PasswordHasher()  # argon2id with the library's vetted defaults

# Verifying against this keeps a login for an unknown handle as slow as one for a known handle,
# so response time does not reveal which handles exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

EMPTY_PROFILE = {
    "skills": [], "languages": [], "countries": [], "bio": "",
    "availability_hours": 0, "max_active_matches": 3,
}


def new_id():
    return uuid.uuid4().hex


def handle_key(handle):
    """Handles are unique regardless of case."""
    return handle.strip().lower()


def attempt_key(secret, handle_key):
    """What sign-in throttling stores instead of the handle: a keyed hash that cannot be turned
    back into the handle without the server's key, and is forgotten with the account."""
    return hmac.new(secret.encode(), handle_key.encode(), hashlib.sha256).hexdigest()


def attempt_ids(handle_key, source):
    """The records one failure counts in: the account from that source, the account from anywhere,
    and the source at any account (none for a caller without a source)."""
    ids = {"pair": f"{handle_key}:{source or '-'}", "account": f"{handle_key}:*"}
    if source:
        ids["source"] = f"*:{source}"
    return ids


def sign_in_wait(failures, last_failure, now, free, longest_s):
    """Seconds a source must still wait before trying a handle again after `failures` wrong
    passwords from it: none for the first `free`, then 1, 2, 4... seconds after the last, at most
    `longest_s`. A delay, never a lockout, and per source: volunteer handles are public, and
    whoever guesses wrong from one address must not keep the owner out from another."""
    if failures < free or last_failure is None:
        return 0
    delay = min(float(longest_s), 2.0 ** (failures - free))
    return max(0.0, delay - (now - last_failure).total_seconds())


def _verify(stored_hash, password):
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# Each argon2 computation holds HASH_MEMORY_MIB of memory (the library's default memory cost) for
# its duration. Unbounded, a burst of wrong passwords (from many addresses, past the gateway's
# per-address limit) would run as many at once as there are workers and threads, past the pod's
# memory limit, and hold every worker of profiles while sessions wait to be resolved.
HASH_MEMORY_MIB = _hasher.memory_cost // 1024


class PasswordWork:
    """Password hashing and checking. argon2 takes a good part of a second of CPU by design: on the
    service's eventlet loop it would stall every other call of profiles (every signed-in request
    resolves its session here) for that long, so it runs in eventlet's pool of OS threads
    (argon2-cffi releases the GIL). And it is bounded: at most `at_once` computations run together and at
    most `waiting` more wait for a turn; a call beyond that is refused at once (429, try again in a
    second) rather than holding a worker. (Greenthreads share one OS thread: the counters need no lock.)

    That bound must not become everyone's lock-out: `reserved` of those places are kept for clean
    sign-ins (an existing account and a source, neither with recent failures: what the caller
    decides), which a flood of wrong passwords from a few hundred addresses cannot take; and one
    account's password is checked once at a time (`holder`), whoever asks."""

    def __init__(self, at_once, waiting, reserved=2):
        self.at_once = max(1, int(at_once))
        self.limit = self.at_once + max(0, int(waiting))
        self.reserved = min(max(0, int(reserved)), self.limit - 1)
        self._turns = Semaphore(self.at_once)
        self._holders = set()
        self.admitted = 0
        self.busiest = 0  # the most admitted at once since start: what a test can read

    @classmethod
    def from_config(cls, config):
        return cls(config.get("PASSWORD_WORK_AT_ONCE", 2), config.get("PASSWORD_WORK_WAITING", 4),
                   config.get("PASSWORD_WORK_RESERVED", 2))

    def _run(self, function, *args, clean=False, holder=None):
        room = self.limit if clean else self.limit - self.reserved
        if self.admitted >= room or (holder is not None and holder in self._holders):
            raise TooManyRequests("Too many password checks at once; try again in a second.", {"retry_after": 1})
        self.admitted += 1
        self.busiest = max(self.busiest, self.admitted)
        if holder is not None:
            self._holders.add(holder)
        try:
            with self._turns:
                return tpool.execute(function, *args)
        finally:
            self.admitted -= 1
            self._holders.discard(holder)

    def hash(self, password):
        return self._run(_hasher.hash, password)

    def matches(self, stored_hash, password, clean=False, holder=None):
        """`clean`: a sign-in that may use the reserved places; `holder`: whose password it is."""
        return self._run(_verify, stored_hash, password, clean=clean, holder=holder)


def new_session_token():
    """(token for the client, id to store). Only the hash is stored: a database leak gives no
    usable tokens."""
    token = secrets.token_urlsafe(32)
    return token, token_id(token)


def token_id(token):
    return hashlib.sha256(token.encode()).hexdigest()


def session_expiry(ttl_seconds):
    return utcnow() + timedelta(seconds=ttl_seconds)


class ContactVault:
    """Seals contact details at rest with a key from configuration (Fernet: AES-128-CBC + HMAC)."""

    def __init__(self, key):
        if not key:
            raise ValueError("CONTACT_KEY is not configured")
        self._fernet = Fernet(key)

    def seal(self, value):
        return None if value is None else self._fernet.encrypt(value.encode()).decode()

    def open(self, sealed):
        if sealed is None:
            return None
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None


# Languages someone speaks at least this well are the ones they can be matched on.
MATCHABLE_LEVELS = ("conversational", "fluent", "native")


def matchable_languages(profile):
    return [entry["code"] for entry in profile["languages"] if entry["level"] in MATCHABLE_LEVELS]


def profile_event_data(account):
    """The public facts of an account, as the contract lets them travel. No email (only sealed
    for notify), no password."""
    profile = account["profile"]
    return {
        "profile_id": account["_id"],
        "handle": account["handle"],
        "role": account["role"],
        "status": account["status"],
        "skills": profile["skills"],
        "languages": matchable_languages(profile),
        "countries": profile["countries"],
        "bio": profile["bio"],
        "availability_hours": profile["availability_hours"],
        "max_active_matches": profile["max_active_matches"],
        "verified": account["verified"],
        "contact_sealed": account.get("contact_sealed"),
        # The number they text from, sealed to notify (which texts them); None without one.
        "sms_sealed": (account.get("channels_sealed") or {}).get("sms"),
        # The email address they write from and the address to answer at, sealed to notify (JSON).
        "mail_sealed": (account.get("channels_sealed") or {}).get("email"),
        "version": account["version"],
    }


def owner_view(account, vault):
    """The account as its owner sees it, with their own email."""
    return {
        "id": account["_id"],
        "handle": account["handle"],
        "role": account["role"],
        "status": account["status"],
        "verified": account["verified"],
        "profile": dict(account["profile"]),
        "email": vault.open(account.get("email_sealed")),
        "created_at": account["created_at"].isoformat(),
    }


def public_view(account):
    """What anyone may see of a volunteer: no email, no dates that help to identify them."""
    profile = account["profile"]
    return {
        "id": account["_id"],
        "handle": account["handle"],
        "role": account["role"],
        "verified": account["verified"],
        "skills": profile["skills"],
        "languages": profile["languages"],
        "countries": profile["countries"],
        "bio": profile["bio"],
        "availability_hours": profile["availability_hours"],
    }


def moderator_view(account):
    return public_view(account) | {"status": account["status"], "created_at": account["created_at"].isoformat()}


# A deleted account's handle stays taken this long: a state that takes over a known activist's
# handle the day they delete their account could pose as them to everyone who knew it.
HANDLE_HELD = timedelta(days=365)


def channel_key(secret, channel, address):
    """What finds the account a phone number (or another channel's address) writes for: a keyed
    hash of it, never the number. The number is the channel, not the identity."""
    return f"{channel}:" + hmac.new(secret.encode(), f"channel\n{channel}\n{address}".encode(),
                                   hashlib.sha256).hexdigest()


def check_in_view(account):
    """A check-in as its owner sees it (never the duress password, nor whether one is set: a
    coerced person may be made to show this page)."""
    check_in = account.get("check_in")
    if not check_in:
        return {"enabled": False}
    return {"enabled": True, "interval_hours": check_in["interval_s"] // 3600, "helpers": check_in["helpers"],
            "campaigns": check_in["campaigns"], "due_at": check_in["due_at"].isoformat() if check_in.get("due_at") else None,
            "missed_at": check_in["missed_at"].isoformat() if check_in.get("missed_at") else None}


def decoy_of(account, now):
    """The empty account a duress password signs in to: the same handle, role and vetting seen
    from outside, nothing else (no profile, no needs, no matches: other services know no such id).
    It publishes no event, so no other service ever hears of it."""
    return {"_id": new_id(), "handle": account["handle"], "handle_key": f"decoy:{account['_id']}",
            "password_hash": None, "role": account["role"], "email_sealed": None, "contact_sealed": None,
            "status": "active", "verified": account.get("verified", False), "profile": dict(EMPTY_PROFILE),
            "decoy_of": account["_id"], "version": 1, "created_at": account["created_at"], "updated_at": now}


LINK_CODE_TTL = timedelta(minutes=15)
LINK_CODE_DIGITS = 8


def new_link_code():
    """A one-time code the web gives, to link a number by texting it (`LINK 12345678`): digits
    only, as every phone's keypad and script has them."""
    return "".join(secrets.choice("0123456789") for _ in range(LINK_CODE_DIGITS))


def link_code_key(secret, code):
    """What is kept of a link code: a keyed hash (a stolen database does not link a number)."""
    return hmac.new(secret.encode(), f"link code\n{code}".encode(), hashlib.sha256).hexdigest()


def pseudonym(channel):
    """The handle of an account made for a channel (`sms-k7q2x9mb`): says nothing of the number."""
    return f"{channel}-" + "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(8))


def held_handle_key(secret, handle_key):
    """What keeps a deleted account's handle taken: a keyed hash of it (not the handle), unique
    like a live handle_key, so nobody signs up with it while it is held."""
    return "held:" + hmac.new(secret.encode(), f"held-handle\n{handle_key}".encode(), hashlib.sha256).hexdigest()


def tombstone(account, now, held_key):
    """What is left of a deleted account: its id and version, so a late event cannot resurrect it,
    and `held_key` (held_handle_key) until HANDLE_HELD has passed. No handle, no hash, no contact
    details, no profile."""
    return {
        "_id": account["_id"],
        "handle_key": held_key,
        "held_until": now + HANDLE_HELD,
        "status": "deleted",
        "version": account["version"] + 1,
        "deleted_at": now,
    }
