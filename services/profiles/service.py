"""profiles: accounts, sessions, profiles, vetting. Publishes profile_* events through its outbox.

A thin adapter, as matching's: the use cases are plain code in workflow.py over the stores of
storage.py. This class checks the viewer's signature and the operator's, opens what arrived sealed
to this service (passwords, emails, tokens), seals replies to the gateway, and hands each call and
tick to the workflow.
"""
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.common import flags
from services.common.bus.events import utcnow
from services.common.bus.rpc import rpc
from services.common.bus.topology import ReliableEventDispatcher
from services.common.errors import DomainError, Unauthorized
from services.common.schemas import trusted_viewer
from services.common.store.mongo import ServiceDatabase, ping
from services.common.trust.keyring import ReplyCall, ViewerAudience, keyring, sealed_reply
from services.common.trust.sealing import Sealer
from services.common.observed import Observed

from . import accounts, storage
from .workflow import SETTINGS, SOURCE, ProfileWorkflow


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


def _opened(payload):
    """What the gateway sealed to this service (a password, an email)."""
    return keyring().open(SOURCE, payload)


def _token(sealed):
    """A session token, sealed to profiles: it is a credential."""
    token = keyring().open(SOURCE, sealed, field="token")
    if not isinstance(token, str) or not token:
        raise Unauthorized("The session is missing or has expired; sign in again.")
    return token


class ProfilesService(Observed):
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
    def work(self):
        return ProfileWorkflow(
            (storage.AccountStore(self.db), storage.SessionStore(self.db), storage.AttemptStore(self.db),
             flags.FlagStore(self.db)), self.passwords, self.vault, self.sealer, self.config["CONTACT_KEY"],
            self.dispatch, utcnow, {key: self.config.get(key) for key in SETTINGS})

    # ---- accounts and sessions

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def register(self, payload, source=None):
        return self.work.register(_opened(payload), source)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def login(self, payload, source=None):
        return self.work.login(_opened(payload), source)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def channel_session(self, payload):
        return self.work.channel_session(_opened(payload))

    @rpc(expected_exceptions=DomainError)
    def forget_channel(self, payload):
        return self.work.forget_channel(_opened(payload))

    @rpc(expected_exceptions=DomainError)
    def set_check_in(self, viewer, payload):
        return self.work.set_check_in(trusted_viewer(viewer), _opened(payload))

    @rpc(expected_exceptions=DomainError)
    def get_check_in(self, viewer):
        return self.work.get_check_in(trusted_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    def stop_check_in(self, viewer):
        return self.work.stop_check_in(trusted_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    def check_in(self, viewer):
        return self.work.check_in(trusted_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    def link_channel(self, payload):
        return self.work.link_channel(_opened(payload))

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()  # the code links a number to the account: it is a secret on the bus
    def link_code(self, viewer):
        return self.work.link_code(trusted_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    def resolve_session(self, sealed_token):
        return self.work.resolve_session(_token(sealed_token))

    @rpc(expected_exceptions=DomainError)
    def logout(self, sealed_token, everywhere=False):
        return self.work.logout(_token(sealed_token), everywhere)

    # ---- one's own account

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def get_me(self, viewer):
        return self.work.get_me(trusted_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def update_profile(self, viewer, payload):
        return self.work.update_profile(trusted_viewer(viewer), payload)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def change_email(self, viewer, payload):
        return self.work.change_email(trusted_viewer(viewer), _opened(payload))

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def change_password(self, viewer, payload, source=None):
        return self.work.change_password(trusted_viewer(viewer), _opened(payload), source)

    @rpc(expected_exceptions=DomainError)
    def delete_account(self, viewer, payload, source=None):
        return self.work.delete_account(trusted_viewer(viewer), _opened(payload), source)

    # ---- other people's profiles

    @rpc(expected_exceptions=DomainError)
    def get_profile(self, viewer, account_id):
        return self.work.get_profile(trusted_viewer(viewer) if viewer else None, account_id)

    @rpc(expected_exceptions=DomainError)
    def profile_by_handle(self, viewer, handle):
        return self.work.profile_by_handle(trusted_viewer(viewer) if viewer else None, handle)

    @rpc(expected_exceptions=DomainError)
    def flag_profile(self, viewer, account_id, payload):
        return self.work.flag_profile(trusted_viewer(viewer), account_id, _opened(payload))  # what a reporter says

    # ---- moderation

    @rpc(expected_exceptions=DomainError)
    def flagged_profiles(self, viewer):
        return self.work.flagged_profiles(trusted_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    def suspend(self, viewer, account_id, payload=None):
        return self.work.suspend(trusted_viewer(viewer), account_id, payload)

    @rpc(expected_exceptions=DomainError)
    def reinstate(self, viewer, account_id):
        return self.work.reinstate(trusted_viewer(viewer), account_id)

    @rpc(expected_exceptions=DomainError)
    def set_verified(self, viewer, account_id, verified=True):
        return self.work.set_verified(trusted_viewer(viewer), account_id, verified)

    @rpc(expected_exceptions=DomainError)
    def dismiss_profile_flags(self, viewer, account_id):
        return self.work.dismiss_profile_flags(trusted_viewer(viewer), account_id)

    @rpc(expected_exceptions=DomainError)
    def grant_role(self, command):
        """Appoint a moderator or analyst. Not reachable over HTTP, and refused unless signed with
        the operator's key (no service or gateway holds it): operators run
        `python -m services.profiles.admin grant-role HANDLE ROLE`."""
        return self.work.grant_role(keyring().verify_command(command))

    # ---- for rebuilding other services' views (search), paged by id

    @rpc(expected_exceptions=DomainError)
    def export_profiles(self, command):
        """A page of every profile, for rebuilding search: `command` signed by the operator
        (`{action: "export_profiles", after_id, limit}`: services/search/rebuild.py signs each)."""
        return self.work.export_profiles(*keyring().export_page(command, "export_profiles"))

    @rpc
    def health(self):
        return {"database": ping(self.db)}

    @timer(interval=5)
    def relay_pending_events(self):
        self.work.relay_pending()

    @timer(interval=5)
    def tell_missed_check_ins(self):
        self.work.tell_missed_check_ins()

    @timer(interval=600)
    def sweep_sessions(self):
        self.work.sweep()
