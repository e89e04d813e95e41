"""profiles: accounts, sessions, profiles, vetting. Publishes profile_* events through its outbox."""
import logging
import math
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from services.common.bus.rpc import rpc
from nameko.timer import timer

from services.common import flags
from services.common.store import outbox
from services.common.errors import DomainError, Forbidden, NotFound, TooManyRequests, Unauthorized, Unprocessable
from services.common.bus.events import make_event, utcnow
from services.common.flags import Flag, ModerationNote
from services.common.store.mongo import ServiceDatabase, ping
from services.common.schemas import load_or_fail, require_role, trusted_viewer
from services.common.trust.sealing import Sealer
from services.common.bus.topology import ReliableEventDispatcher
from services.common.trust.keyring import ReplyCall, ViewerAudience, keyring, sealed_reply

from . import accounts, storage
from .schemas import (Credentials, EmailChange, NewAccount, PasswordChange, PasswordConfirmation, ProfileInput,
                      RoleGrant, repeated_language)

log = logging.getLogger(__name__)
SOURCE = "profiles"


class Vault(DependencyProvider):
    """The contact-details vault, keyed from configuration (CONTACT_KEY)."""

    def setup(self):
        self.vault = accounts.ContactVault(self.container.config.get("CONTACT_KEY"))

    def get_dependency(self, worker_ctx):
        return self.vault


class Passwords(DependencyProvider):
    """Password hashing and checking, bounded for the whole process (accounts.PasswordWork)."""

    def setup(self):
        self.work = accounts.PasswordWork.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.work


class NotifySealer(DependencyProvider):
    """Seals contact details so that only notify can read them (NOTIFY_PUBLIC_KEY)."""

    def setup(self):
        self.sealer = Sealer(self.container.config.get("NOTIFY_PUBLIC_KEY"))

    def get_dependency(self, worker_ctx):
        return self.sealer


def _event_for(account, event_type="profile_updated"):
    return [make_event(SOURCE, event_type, accounts.profile_event_data(account))]


def _token(sealed):
    token = keyring().open(SOURCE, sealed, field="token")
    if not isinstance(token, str) or not token:
        raise Unauthorized("The session is missing or has expired; sign in again.")
    return token


def _moderator(viewer):
    return require_role(viewer, "moderator", "Only moderators can do this.")


class ProfilesService:
    name = SOURCE

    db = ServiceDatabase(prepare=storage.prepare)
    reply_call = ReplyCall()  # what sealed replies are bound to (services/common/trust/keyring.py)
    viewer_audience = ViewerAudience()  # a signed viewer counts only in the call it was signed for
    dispatch = ReliableEventDispatcher()
    vault = Vault()
    sealer = NotifySealer()
    passwords = Passwords()
    config = Config()

    @property
    def flag_store(self):
        return flags.FlagStore(self.db)

    def _publish(self, account_id):
        outbox.flush(self.db[storage.ACCOUNTS], account_id, self.dispatch)

    def _update(self, account_id, change):
        account = storage.update_account(self.db, account_id, change, _event_for)
        if account is None:
            raise NotFound("No such account.")
        self._publish(account_id)
        return account

    # ---- accounts and sessions

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def register(self, payload, source=None):
        """`payload` sealed to profiles (a password, an email); the reply sealed to the gateway.
        `source`: the gateway's opaque key for the caller's address: SIGN_UP_LIMIT sign-ups an hour
        from one, counted here, so the bound holds across gateway replicas."""
        data = load_or_fail(NewAccount(), keyring().open(SOURCE, payload))
        if source is not None:
            limit = int(self.config.get("SIGN_UP_LIMIT", 5))
            if storage.count_sign_up(self.db, str(source)[:64], 3600) > limit:
                raise TooManyRequests(f"At most {limit} accounts an hour are made from one address; try again later.",
                                      {"retry_after": 3600})
        now = utcnow()
        key = accounts.handle_key(data["handle"])
        storage.check_handle_free(self.db, accounts.held_handle_key(self.config["CONTACT_KEY"], key), now)
        account = {
            "_id": accounts.new_id(),
            "handle": data["handle"],
            "handle_key": key,
            "password_hash": self.passwords.hash(data["password"]),
            "role": data["role"],
            "email_sealed": self.vault.seal(data["email"]),
            "contact_sealed": self.sealer.seal(data["email"]),
            "status": "active",
            "verified": False,
            "profile": dict(accounts.EMPTY_PROFILE),
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        outbox.publish(storage.insert_account(self.db, account, _event_for(account, "profile_registered")), self.dispatch)
        return accounts.owner_view(account, self.vault)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def login(self, payload, source=None):
        """`payload` sealed to profiles; the reply (a session token) sealed to the gateway.
        `source`: the gateway's opaque key for the caller's address (never the address itself)."""
        data = load_or_fail(Credentials(), keyring().open(SOURCE, payload))
        key = accounts.handle_key(data["handle"])
        found = self._throttle(key, source)
        account = storage.find_account_by_handle_key(self.db, key)
        active = account is not None and account["status"] == "active"
        # A clean sign-in (an account and a source without recent failures) keeps a share of the
        # password work that guessing cannot take.
        clean = active and found["account"][0] == 0 and found["source"][0] == 0
        if not self._password_is(key, account["password_hash"] if active else None, data["password"], source,
                                 clean=clean):
            raise Unauthorized("Wrong handle or password.")
        return self._new_session(account)

    def _new_session(self, account):
        token, session_id = accounts.new_session_token()
        expires_at = accounts.session_expiry(int(self.config.get("SESSION_TTL_S", 86400)))
        storage.insert_session(self.db, {"_id": session_id, "account_id": account["_id"],
                                         "created_at": utcnow(), "expires_at": expires_at})
        return {"token": token, "expires_at": expires_at.isoformat(), "account_id": account["_id"],
                "role": account["role"]}

    # Every password check (sign-in, a password change, deletion) is throttled the same way: wrong
    # passwords delay their source's next try at that account (LOGIN_MAX_FAILURES free), and at any
    # account (LOGIN_SOURCE_MAX_FAILURES free: a guesser cannot spread over many handles), never the
    # owner's from elsewhere (accounts.sign_in_wait). The records are in this service's store:
    # shared by every gateway replica.

    def _attempts(self, handle_key, source):
        return (accounts.attempt_key(self.config["CONTACT_KEY"], handle_key), str(source)[:64] if source else None,
                int(self.config.get("LOGIN_WINDOW_S", 900)))

    def _throttle(self, handle_key, source):
        """429 while the source must wait; else what failed lately (storage.failures)."""
        attempts, source, window = self._attempts(handle_key, source)
        found = storage.failures(self.db, attempts, source, window)
        now, longest = utcnow(), int(self.config.get("LOGIN_MAX_DELAY_S", 900))
        wait = max(accounts.sign_in_wait(*found["pair"], now, int(self.config.get("LOGIN_MAX_FAILURES", 10)), longest),
                   accounts.sign_in_wait(*found["source"], now, int(self.config.get("LOGIN_SOURCE_MAX_FAILURES", 30)),
                                         longest))
        if wait:
            raise TooManyRequests(f"Too many wrong passwords from here; try again in "
                                  f"{math.ceil(wait)} seconds.", {"retry_after": math.ceil(wait)})
        return found

    def _password_is(self, handle_key, stored_hash, password, source, clean=False):
        attempts, source, window = self._attempts(handle_key, source)
        if not self.passwords.matches(stored_hash, password, clean=clean, holder=attempts):
            storage.record_failure(self.db, attempts, source, window)
            return False
        storage.clear_failures(self.db, attempts, source)
        return True

    def _own_password(self, account_id, password, source, field="password"):
        """The signed-in person's account, once `password` is shown to be theirs (throttled)."""
        account = storage.find_account(self.db, account_id)
        if account is None:
            raise NotFound("No such account.")
        self._throttle(account["handle_key"], source)
        if not self._password_is(account["handle_key"], account["password_hash"], password, source):
            raise Unauthorized("Wrong password.", {field: "Wrong password."})
        return account

    @rpc(expected_exceptions=DomainError)
    def resolve_session(self, sealed_token):
        """Bearer token (sealed to profiles: it is a credential) -> viewer {account_id, role,
        handle, verified}, for the gateway to sign. Raises Unauthorized."""
        token = _token(sealed_token)
        session = storage.find_session(self.db, accounts.token_id(token))
        if session is None or session["expires_at"] < utcnow():
            raise Unauthorized("The session is missing or has expired; sign in again.")
        account = storage.find_account(self.db, session["account_id"])
        if account is None or account["status"] != "active":
            raise Unauthorized("The account is not active.")
        return {"account_id": account["_id"], "role": account["role"], "handle": account["handle"],
                "verified": bool(account.get("verified"))}

    @rpc(expected_exceptions=DomainError)
    def logout(self, sealed_token, everywhere=False):
        session = storage.find_session(self.db, accounts.token_id(_token(sealed_token)))
        if session is None:
            raise Unauthorized("The session is missing or has expired.")
        if everywhere:
            storage.delete_sessions_of(self.db, session["account_id"])
        else:
            storage.delete_session(self.db, session["_id"])
        return True

    # ---- one's own account

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def get_me(self, viewer):
        account = storage.find_account(self.db, trusted_viewer(viewer)["account_id"])
        if account is None:
            raise NotFound("No such account.")
        return accounts.owner_view(account, self.vault)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def update_profile(self, viewer, payload):
        account_id = trusted_viewer(viewer)["account_id"]
        profile = load_or_fail(ProfileInput(), payload)
        repeated = repeated_language(profile)
        if repeated:
            raise Unprocessable("Some fields are not valid.", repeated)
        return accounts.owner_view(self._update(account_id, lambda _: {"profile": profile}), self.vault)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def change_email(self, viewer, payload):
        """`payload` sealed to profiles."""
        account_id = trusted_viewer(viewer)["account_id"]
        email = load_or_fail(EmailChange(), keyring().open(SOURCE, payload))["email"]
        account = self._update(account_id, lambda _: {"email_sealed": self.vault.seal(email),
                                                      "contact_sealed": self.sealer.seal(email)})
        return accounts.owner_view(account, self.vault)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def change_password(self, viewer, payload, source=None):
        """A new password (`payload` sealed to profiles: {current_password, new_password}). Every
        session of the account ends, the one asking included, and a new session is returned
        (sealed to the gateway): whoever had a copy of a session, or the old password, is out."""
        account_id = trusted_viewer(viewer)["account_id"]
        data = load_or_fail(PasswordChange(), keyring().open(SOURCE, payload))
        account = self._own_password(account_id, data["current_password"], source, field="current_password")
        new_hash = self.passwords.hash(data["new_password"])
        storage.set_password_hash(self.db, account_id, new_hash)
        storage.delete_sessions_of(self.db, account_id)
        return self._new_session(account)

    @rpc(expected_exceptions=DomainError)
    def delete_account(self, viewer, payload, source=None):
        """Forget a person. Their password (sealed to profiles) confirms it is them (throttled like
        sign-in). Every other service forgets them on `profile_deleted`."""
        account_id = trusted_viewer(viewer)["account_id"]
        password = load_or_fail(PasswordConfirmation(), keyring().open(SOURCE, payload))["password"]
        account = self._own_password(account_id, password, source)
        grave = accounts.tombstone(account, utcnow(),
                                   accounts.held_handle_key(self.config["CONTACT_KEY"], account["handle_key"]))
        event = make_event(SOURCE, "profile_deleted", {"profile_id": account_id, "version": grave["version"]})
        storage.replace_with_tombstone(self.db, account, grave, [event])
        storage.delete_sessions_of(self.db, account_id)
        self.flag_store.forget_person(account_id)
        storage.clear_failures(self.db, accounts.attempt_key(self.config["CONTACT_KEY"], account["handle_key"]))
        self._publish(account_id)
        return True

    # ---- other people's profiles

    @rpc(expected_exceptions=DomainError)
    def get_profile(self, viewer, account_id):
        """Volunteers' profiles are public; anyone else's only to moderators."""
        viewer = trusted_viewer(viewer) if viewer else None
        account = storage.find_account(self.db, account_id)
        is_moderator = viewer is not None and viewer["role"] == "moderator"
        if account is None or not (is_moderator or (account["role"] == "volunteer" and account["status"] == "active")):
            raise NotFound("No such profile.")
        return accounts.moderator_view(account) if is_moderator else accounts.public_view(account)

    @rpc(expected_exceptions=DomainError)
    def profile_by_handle(self, viewer, handle):
        """As `get_profile`, found by handle: the directory and the pages name people by handle."""
        account = storage.find_account_by_handle_key(self.db, accounts.handle_key(str(handle)[:64]))
        if account is None or account["status"] == "deleted":
            raise NotFound("No such profile.")
        return self.get_profile(viewer, account["_id"])

    @rpc(expected_exceptions=DomainError)
    def flag_profile(self, viewer, account_id, payload):
        viewer = trusted_viewer(viewer)
        reason = load_or_fail(Flag(), keyring().open(SOURCE, payload))["reason"]  # sealed: what a reporter says
        if storage.find_account(self.db, account_id) is None:
            raise NotFound("No such profile.")
        return self.flag_store.raise_flag("profile", account_id, viewer["account_id"], reason,
                                int(self.config.get("FLAG_LIMIT", 20)))

    # ---- moderation

    @rpc(expected_exceptions=DomainError)
    def flagged_profiles(self, viewer):
        _moderator(viewer)
        return self.flag_store.open_flags()

    @rpc(expected_exceptions=DomainError)
    def suspend(self, viewer, account_id, payload=None):
        moderator = _moderator(viewer)
        load_or_fail(ModerationNote(), payload or {})
        if account_id == moderator["account_id"]:
            raise Forbidden("Moderators cannot suspend themselves.")
        account = self._update(account_id, lambda _: {"status": "suspended"})
        storage.delete_sessions_of(self.db, account_id)
        self.flag_store.resolve(account_id, "suspended")
        return accounts.moderator_view(account)

    @rpc(expected_exceptions=DomainError)
    def reinstate(self, viewer, account_id):
        _moderator(viewer)
        return accounts.moderator_view(self._update(account_id, lambda _: {"status": "active"}))

    @rpc(expected_exceptions=DomainError)
    def set_verified(self, viewer, account_id, verified=True):
        _moderator(viewer)
        account = storage.find_account(self.db, account_id)
        if account is None or account["role"] != "volunteer":
            raise NotFound("No such volunteer.")
        account = self._update(account_id, lambda _: {"verified": bool(verified)})
        self.flag_store.resolve(account_id, "verified" if verified else "unverified")
        return accounts.moderator_view(account)

    @rpc(expected_exceptions=DomainError)
    def dismiss_profile_flags(self, viewer, account_id):
        _moderator(viewer)
        self.flag_store.resolve(account_id, "dismissed")
        return True

    @rpc(expected_exceptions=DomainError)
    def grant_role(self, command):
        """Appoint a moderator or analyst. Not reachable over HTTP, and refused unless signed with
        the operator's key (no service or gateway holds it): operators run
        `python -m services.profiles.admin grant-role HANDLE ROLE`."""
        data = load_or_fail(RoleGrant(), keyring().verify_command(command))
        account = storage.find_account_by_handle_key(self.db, accounts.handle_key(data["handle"]))
        if account is None or account["status"] == "deleted":
            raise NotFound("No such account.", {"handle": "No such account."})
        account = self._update(account["_id"], lambda _: {"role": data["role"]})
        return {"id": account["_id"], "handle": account["handle"], "role": account["role"]}

    # ---- for rebuilding other services' views (search), paged by id

    @rpc(expected_exceptions=DomainError)
    def export_profiles(self, command):
        """A page of every profile, for rebuilding search: `command` signed by the operator
        (`{action: "export_profiles", after_id, limit}`: services/search/rebuild.py signs each)."""
        after_id, limit = keyring().export_page(command, "export_profiles")
        page = storage.export_page(self.db, after_id, limit)
        # Contact details never leave through an export, not even sealed.
        return [dict(accounts.profile_event_data(a), contact_sealed=None) for a in page]

    @rpc
    def health(self):
        return {"database": ping(self.db)}

    @timer(interval=5)
    def relay_pending_events(self):
        outbox.flush_pending(self.db[storage.ACCOUNTS], self.dispatch)

    @timer(interval=600)
    def sweep_sessions(self):
        storage.purge_expired_sessions(self.db)
        storage.purge_stale_attempts(self.db, int(self.config.get("LOGIN_WINDOW_S", 900)))
