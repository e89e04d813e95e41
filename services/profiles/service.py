"""profiles: accounts, sessions and profiles. Publishes profile_* events through its outbox."""
import logging

from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc
from nameko.timer import timer

from services.common import outbox
from services.common.errors import DomainError, NotFound, Unauthorized
from services.common.events import make_event, utcnow
from services.common.mongo import ServiceDatabase
from services.common.schemas import load_or_fail
from services.common.sealing import Sealer

from . import accounts, storage
from .schemas import Credentials, NewAccount, ProfileInput

log = logging.getLogger(__name__)
SOURCE = "profiles"


class Vault(DependencyProvider):
    """The contact-details vault, keyed from configuration (CONTACT_KEY)."""

    def setup(self):
        self.vault = accounts.ContactVault(self.container.config.get("CONTACT_KEY"))

    def get_dependency(self, worker_ctx):
        return self.vault


class NotifySealer(DependencyProvider):
    """Seals contact details so that only notify can read them (NOTIFY_PUBLIC_KEY)."""

    def setup(self):
        self.sealer = Sealer(self.container.config.get("NOTIFY_PUBLIC_KEY"))

    def get_dependency(self, worker_ctx):
        return self.sealer


class ProfilesService:
    name = SOURCE

    db = ServiceDatabase(prepare=storage.prepare)
    dispatch = EventDispatcher()
    vault = Vault()
    sealer = NotifySealer()
    config = Config()

    def _publish(self, account_id):
        outbox.flush(self.db[storage.ACCOUNTS], account_id, self.dispatch)

    @rpc(expected_exceptions=DomainError)
    def register(self, payload):
        data = load_or_fail(NewAccount(), payload)
        now = utcnow()
        account = {
            "_id": accounts.new_id(),
            "handle": data["handle"],
            "handle_key": accounts.handle_key(data["handle"]),
            "password_hash": accounts.hash_password(data["password"]),
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
        event = make_event(SOURCE, "profile_registered", accounts.profile_event_data(account))
        storage.insert_account(self.db, account, [event])
        self._publish(account["_id"])
        return accounts.public_account(account, self.vault)

    @rpc(expected_exceptions=DomainError)
    def login(self, payload):
        data = load_or_fail(Credentials(), payload)
        account = storage.find_account_by_handle_key(self.db, accounts.handle_key(data["handle"]))
        stored_hash = account["password_hash"] if account and account["status"] == "active" else None
        if not accounts.password_matches(stored_hash, data["password"]):
            raise Unauthorized("Wrong handle or password.")
        token, session_id = accounts.new_session_token()
        expires_at = accounts.session_expiry(int(self.config.get("SESSION_TTL_S", 86400)))
        storage.insert_session(self.db, {
            "_id": session_id, "account_id": account["_id"], "created_at": utcnow(), "expires_at": expires_at,
        })
        return {"token": token, "expires_at": expires_at.isoformat(), "account_id": account["_id"]}

    @rpc(expected_exceptions=DomainError)
    def resolve_session(self, token):
        """Bearer token -> viewer {account_id, role, handle}. Raises Unauthorized."""
        session = storage.find_session(self.db, accounts.token_id(token or ""))
        if session is None or session["expires_at"] < utcnow():
            raise Unauthorized("The session is missing or has expired; sign in again.")
        account = storage.find_account(self.db, session["account_id"])
        if account is None or account["status"] != "active":
            raise Unauthorized("The account is not active.")
        return {"account_id": account["_id"], "role": account["role"], "handle": account["handle"]}

    @rpc(expected_exceptions=DomainError)
    def logout(self, token):
        storage.delete_session(self.db, accounts.token_id(token or ""))
        return True

    @rpc(expected_exceptions=DomainError)
    def get_me(self, account_id):
        account = storage.find_account(self.db, account_id)
        if account is None:
            raise NotFound("No such account.")
        return accounts.public_account(account, self.vault)

    @rpc(expected_exceptions=DomainError)
    def update_profile(self, account_id, payload):
        profile = load_or_fail(ProfileInput(), payload)

        def events(updated):
            return [make_event(SOURCE, "profile_updated", accounts.profile_event_data(updated))]

        account = storage.update_profile(self.db, account_id, profile, events)
        if account is None:
            raise NotFound("No such account.")
        self._publish(account_id)
        return accounts.public_account(account, self.vault)

    @rpc
    def health(self):
        return {"database": storage.ping(self.db)}

    @timer(interval=5)
    def relay_pending_events(self):
        outbox.flush_pending(self.db[storage.ACCOUNTS], self.dispatch)

    @timer(interval=600)
    def sweep_sessions(self):
        storage.purge_expired_sessions(self.db)
