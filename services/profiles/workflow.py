"""The profiles' use cases, as plain code over injected stores (no nameko, no I/O of its own):
accounts, sessions, profiles, vetting. The viewer arrives checked and payloads opened
(service.py); the rules are accounts.py's; the stores are storage.py's AccountStore,
SessionStore and AttemptStore and the flags store (and their in-memory twins, memory.py and
flags.InMemoryFlagStore, held to the same contract tests).

Every password check (sign-in, a password change, deletion) is throttled the same way: wrong
passwords delay their source's next try at that account (`max_failures` free), and at any account
(`source_max_failures` free: a guesser cannot spread over many handles), never the owner's from
elsewhere (accounts.sign_in_wait). The records are in this service's store: shared by every
gateway replica.
"""
import json
import math
from datetime import timedelta

from services.common.bus.events import make_event
from services.common.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized, Unprocessable
from services.common.flags import Flag, ModerationNote
from services.common.schemas import holds_role, load_or_fail

from . import accounts
from .schemas import (ChannelAddress, ChannelLink, CheckInSettings, Credentials, EmailChange, NewAccount, PasswordChange, PasswordConfirmation, ProfileInput,
                      RoleGrant, repeated_language)

SOURCE = "profiles"
# What the workflow is told by configuration, with these defaults (config.yaml documents each).
SETTINGS = {"SIGN_UP_LIMIT": 5, "SESSION_TTL_S": 86400, "LOGIN_WINDOW_S": 900, "LOGIN_MAX_DELAY_S": 900,
            "LOGIN_MAX_FAILURES": 10, "LOGIN_SOURCE_MAX_FAILURES": 30, "FLAG_LIMIT": 20}


def _event_for(account, event_type="profile_updated"):
    return [make_event(SOURCE, event_type, accounts.profile_event_data(account))]


def _moderator(viewer):
    return holds_role(viewer, "moderator", "Only moderators can do this.")


class ProfileWorkflow:
    """`stores`: (accounts, sessions, attempts, flags); `passwords`: accounts.PasswordWork (bounded,
    process-wide); `vault`: the contact vault at rest; `sealer`: seals contacts to notify;
    `secret`: the key of the keyed hashes kept instead of handles (CONTACT_KEY); `settings`:
    SETTINGS' keys; `dispatch(event_type, payload)` publishes; `clock()` is now."""

    def __init__(self, stores, passwords, vault, sealer, secret, dispatch, clock, settings=None):
        self.accounts, self.sessions, self.attempts, self.flags = stores
        self.passwords, self.vault, self.sealer, self.secret = passwords, vault, sealer, secret
        self.dispatch, self.clock = dispatch, clock
        self.settings = {key: int((settings or {}).get(key) or default) for key, default in SETTINGS.items()}

    def _update(self, account_id, change):
        account = self.accounts.update(account_id, change, _event_for)
        if account is None:
            raise NotFound("No such account.")
        self.accounts.flush(account_id, self.dispatch)
        return account

    # ---- accounts and sessions

    def register(self, payload, source=None):
        """A new account. `source`: the gateway's opaque key for the caller's address:
        SIGN_UP_LIMIT sign-ups an hour from one, counted here, so the bound holds across gateway
        replicas. A deleted account's handle stays taken a year (accounts.HANDLE_HELD)."""
        data = load_or_fail(NewAccount(), payload)
        if source is not None:
            limit = self.settings["SIGN_UP_LIMIT"]
            if self.attempts.count_sign_up(str(source)[:64], 3600) > limit:
                raise TooManyRequests(f"At most {limit} accounts an hour are made from one address; try again later.",
                                      {"retry_after": 3600})
        now = self.clock()
        key = accounts.handle_key(data["handle"])
        self.accounts.check_handle_free(accounts.held_handle_key(self.secret, key), now)
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
        self.accounts.publish(self.accounts.insert(account, _event_for(account, "profile_registered")), self.dispatch)
        return accounts.owner_view(account, self.vault)

    def login(self, payload, source=None):
        """A session for the right handle and password. `source`: the gateway's opaque key for the
        caller's address (never the address itself)."""
        data = load_or_fail(Credentials(), payload)
        key = accounts.handle_key(data["handle"])
        found = self._throttle(key, source)
        account = self.accounts.find_by_handle_key(key)
        active = account is not None and account["status"] == "active"
        # A clean sign-in (an account and a source without recent failures) keeps a share of the
        # password work that guessing cannot take.
        clean = active and found["account"][0] == 0 and found["source"][0] == 0
        if not self._password_is(key, account["password_hash"] if active else None, data["password"], source,
                                 clean=clean):
            if active and account.get("duress_hash") and self.passwords.matches(account["duress_hash"], data["password"]):
                return self._under_duress(account, key, source)
            raise Unauthorized("Wrong handle or password.")
        return self._new_session(account)

    def _under_duress(self, account, handle_key, source):
        """The duress password: the people the check-in names are told now, as if it had been
        missed, and the session is the empty account's. Nothing in the answer differs from a
        sign-in (the coercer sees a session, an account, the same handle)."""
        attempts, source, _ = self._attempts(handle_key, source)
        self.attempts.clear_failures(attempts, source)  # the failure just recorded was not one
        check_in = account.get("check_in") or {}
        if check_in.get("due_at") is not None:
            self._tell_missed(account, check_in["due_at"])
        decoy = self.accounts.find(account["decoy_id"]) if account.get("decoy_id") else None
        return self._new_session(decoy if decoy is not None else account)

    def channel_session(self, payload):
        """A session for whoever writes from a channel's address (a phone number by SMS): the
        account it is linked to, or a new pseudonymous activist account made for it. Only a keyed
        hash of the number finds the account; the number itself is kept sealed to notify alone (to
        answer), and travels nowhere else. Such an account has no password: the web is for those
        who made their account there and link a number to it (`link_channel`), the number for the
        rest. Without `create`, an unknown number is NotFound (only a need makes an account)."""
        data = load_or_fail(ChannelAddress(), payload)
        key = accounts.channel_key(self.secret, data["channel"], data["address"])
        account = self.accounts.find_by_channel_key(key)
        created = account is None
        if created and not data["create"]:
            raise NotFound("This number is linked to no account.")
        if created:
            now = self.clock()
            handle = accounts.pseudonym(data["channel"])
            account = {
                "_id": accounts.new_id(), "handle": handle, "handle_key": accounts.handle_key(handle),
                "password_hash": None, "role": "activist", "email_sealed": None, "contact_sealed": None,
                "channel_keys": [key], "channels_sealed": {data["channel"]: self._sealed_channel(data)},
                "status": "active", "verified": False, "profile": dict(accounts.EMPTY_PROFILE), "version": 1,
                "created_at": now, "updated_at": now}
            self.accounts.publish(self.accounts.insert(account, _event_for(account, "profile_registered")),
                                  self.dispatch)
        elif account["status"] != "active":
            raise Forbidden("This account cannot act now.")
        return dict(self._new_session(account), handle=account["handle"], created=created)

    def forget_channel(self, payload):
        """STOP: the address is unlinked from its account (its keyed hash and sealed form go, and
        notify, told by the profile's event, forgets the number too)."""
        data = load_or_fail(ChannelAddress(), payload)
        key = accounts.channel_key(self.secret, data["channel"], data["address"])
        account = self.accounts.find_by_channel_key(key)
        if account is None:
            return {"forgotten": False}
        self._update(account["_id"], lambda current: {
            "channel_keys": [k for k in current.get("channel_keys", []) if k != key],
            "channels_sealed": {c: v for c, v in (current.get("channels_sealed") or {}).items() if c != data["channel"]}})
        return {"forgotten": True}

    def _sealed_channel(self, data):
        """What notify needs to answer on a channel, sealed to it: a number; or an address and the
        address to be answered at (JSON)."""
        if data["channel"] == "sms":
            return self.sealer.seal(data["address"])
        return self.sealer.seal(json.dumps({"address": data["address"], "reply_to": data["reply_to"]}))

    def link_code(self, viewer):
        """A one-time code for the signed-in person to text (`LINK <code>`) from the number they
        want to use: the number is then theirs to post, answer and talk by, and notify texts them.
        A new code replaces the last; it lasts LINK_CODE_TTL."""
        code, expires_at = accounts.new_link_code(), self.clock() + accounts.LINK_CODE_TTL
        self.accounts.set_link_code(viewer["account_id"], accounts.link_code_key(self.secret, code), expires_at)
        return {"code": code, "expires_at": expires_at.isoformat()}

    def link_channel(self, payload):
        """`LINK <code>` from an address: linked to the code's account, once (the code is spent).
        A number already linked elsewhere must be unlinked first (STOP): it is never moved quietly."""
        data = load_or_fail(ChannelLink(), payload)
        account = self.accounts.find_by_link_code(accounts.link_code_key(self.secret, data["code"]), self.clock())
        if account is None:
            raise NotFound("No such code, or it has expired.", {"code": "No such code, or it has expired."})
        key = accounts.channel_key(self.secret, data["channel"], data["address"])
        holder = self.accounts.find_by_channel_key(key)
        if holder is not None and holder["_id"] != account["_id"]:
            raise Conflict("This number is linked to another account.", {"address": "Linked to another account."})
        sealed = self._sealed_channel(data)
        self._update(account["_id"], lambda current: {
            "channel_keys": [k for k in current.get("channel_keys", []) if not k.startswith(f"{data['channel']}:")] + [key],
            "channels_sealed": dict(current.get("channels_sealed") or {}, **{data["channel"]: sealed}),
            "link_code_key": None, "link_code_expires_at": None})
        return {"handle": account["handle"], "role": account["role"]}

    # ---- the check-in

    def set_check_in(self, viewer, payload):
        """Start or change the check-in: due `interval_hours` from now. A duress password, if given,
        is hashed like a password and opens an empty account (made once)."""
        data = load_or_fail(CheckInSettings(), payload)
        if not data["helpers"] and not data["campaigns"]:
            raise Unprocessable("Choose at least one helper or campaign to tell.",
                                {"helpers": "Choose at least one helper or campaign to tell."})
        account = self._own_account(viewer)
        now = self.clock()
        check_in = {"interval_s": data["interval_hours"] * 3600, "due_at": now + timedelta(hours=data["interval_hours"]),
                    "missed_at": None, "helpers": data["helpers"], "campaigns": data["campaigns"],
                    "message_sealed": self.sealer.seal(data["message"]), "set_at": now}
        duress_hash = decoy_id = None
        if data["duress_password"]:
            if self.passwords.matches(account["password_hash"], data["duress_password"]):
                raise Unprocessable("The duress password must differ from your password.",
                                    {"duress_password": "Must differ from your password."})
            duress_hash = self.passwords.hash(data["duress_password"])
            decoy_id = account.get("decoy_id")
            if not decoy_id or self.accounts.find(decoy_id) is None:
                decoy = accounts.decoy_of(account, now)
                self.accounts.insert_decoy(decoy)
                decoy_id = decoy["_id"]
        self.accounts.set_check_in(account["_id"], check_in, duress_hash, decoy_id)
        return accounts.check_in_view(dict(account, check_in=check_in))

    def get_check_in(self, viewer):
        return accounts.check_in_view(self._own_account(viewer))

    def stop_check_in(self, viewer):
        account = self._own_account(viewer)
        if not account.get("decoy_of"):
            self.accounts.set_check_in(account["_id"], None)
        return {"enabled": False}

    def check_in(self, viewer):
        """I am fine: the next check-in is due an interval from now. After a missed one, the people
        told are told again that they checked in. From the duress password's empty account it
        changes nothing (and says what a real check-in would)."""
        account = self._own_account(viewer)
        if account.get("decoy_of"):
            return {"enabled": False}
        check_in = account.get("check_in")
        if not check_in:
            raise NotFound("No check-in is set.")
        now = self.clock()
        due_at = now + timedelta(seconds=check_in["interval_s"])
        resumed = make_event(SOURCE, "check_in_resumed", {
            "profile_id": account["_id"], "helpers": check_in["helpers"], "campaigns": check_in["campaigns"],
            "at": now})
        if self.accounts.checked_in(account["_id"], due_at, [resumed]):
            self.accounts.flush(account["_id"], self.dispatch)
        return accounts.check_in_view(dict(account, check_in=dict(check_in, due_at=due_at, missed_at=None)))

    def tell_missed_check_ins(self):
        """The timer: check-ins whose time passed, a bounded page of them; each told once."""
        def tell(due):
            for account in due:
                self._tell_missed(account, account["check_in"]["due_at"])

        self.accounts.walk_due_check_ins(self.clock(), tell)

    def _tell_missed(self, account, due_at):
        check_in = account["check_in"]
        now = self.clock()
        missed = make_event(SOURCE, "check_in_missed", {
            "profile_id": account["_id"], "helpers": check_in["helpers"], "campaigns": check_in["campaigns"],
            "message_sealed": check_in["message_sealed"], "at": now})
        if self.accounts.check_in_missed(account["_id"], due_at, now, [missed]):
            self.accounts.flush(account["_id"], self.dispatch)

    def _own_account(self, viewer):
        account = self.accounts.find(viewer["account_id"])
        if account is None:
            raise NotFound("No such account.")
        return account

    def _new_session(self, account):
        token, session_id = accounts.new_session_token()
        expires_at = self.clock() + timedelta(seconds=self.settings["SESSION_TTL_S"])
        self.sessions.insert({"_id": session_id, "account_id": account["_id"], "created_at": self.clock(),
                              "expires_at": expires_at})
        return {"token": token, "expires_at": expires_at.isoformat(), "account_id": account["_id"],
                "role": account["role"]}

    def _attempts(self, handle_key, source):
        return (accounts.attempt_key(self.secret, handle_key), str(source)[:64] if source else None,
                self.settings["LOGIN_WINDOW_S"])

    def _throttle(self, handle_key, source):
        """429 while the source must wait; else what failed lately (AttemptStore.failures)."""
        attempts, source, window = self._attempts(handle_key, source)
        found = self.attempts.failures(attempts, source, window)
        now, longest = self.clock(), self.settings["LOGIN_MAX_DELAY_S"]
        wait = max(accounts.sign_in_wait(*found["pair"], now, self.settings["LOGIN_MAX_FAILURES"], longest),
                   accounts.sign_in_wait(*found["source"], now, self.settings["LOGIN_SOURCE_MAX_FAILURES"], longest))
        if wait:
            raise TooManyRequests(f"Too many wrong passwords from here; try again in "
                                  f"{math.ceil(wait)} seconds.", {"retry_after": math.ceil(wait)})
        return found

    def _password_is(self, handle_key, stored_hash, password, source, clean=False):
        attempts, source, window = self._attempts(handle_key, source)
        if not self.passwords.matches(stored_hash, password, clean=clean, holder=attempts):
            self.attempts.record_failure(attempts, source, window)
            return False
        self.attempts.clear_failures(attempts, source)
        return True

    def _own_password(self, account_id, password, source, field="password"):
        """The signed-in person's account, once `password` is shown to be theirs (throttled)."""
        account = self.accounts.find(account_id)
        if account is None:
            raise NotFound("No such account.")
        self._throttle(account["handle_key"], source)
        if not self._password_is(account["handle_key"], account["password_hash"], password, source):
            raise Unauthorized("Wrong password.", {field: "Wrong password."})
        return account

    def resolve_session(self, token):
        """A session token -> viewer {account_id, role, handle, verified}, for the gateway to sign."""
        session = self.sessions.find(accounts.token_id(token))
        if session is None or session["expires_at"] < self.clock():
            raise Unauthorized("The session is missing or has expired; sign in again.")
        account = self.accounts.find(session["account_id"])
        if account is None or account["status"] != "active":
            raise Unauthorized("The account is not active.")
        return {"account_id": account["_id"], "role": account["role"], "handle": account["handle"],
                "verified": bool(account.get("verified"))}

    def logout(self, token, everywhere=False):
        session = self.sessions.find(accounts.token_id(token))
        if session is None:
            raise Unauthorized("The session is missing or has expired.")
        if everywhere:
            self.sessions.delete_of(session["account_id"])
        else:
            self.sessions.delete(session["_id"])
        return True

    # ---- one's own account

    def get_me(self, viewer):
        account = self.accounts.find(viewer["account_id"])
        if account is None:
            raise NotFound("No such account.")
        return accounts.owner_view(account, self.vault)

    def update_profile(self, viewer, payload):
        profile = load_or_fail(ProfileInput(), payload)
        repeated = repeated_language(profile)
        if repeated:
            raise Unprocessable("Some fields are not valid.", repeated)
        return accounts.owner_view(self._update(viewer["account_id"], lambda _: {"profile": profile}), self.vault)

    def change_email(self, viewer, payload):
        email = load_or_fail(EmailChange(), payload)["email"]
        account = self._update(viewer["account_id"], lambda _: {"email_sealed": self.vault.seal(email),
                                                                "contact_sealed": self.sealer.seal(email)})
        return accounts.owner_view(account, self.vault)

    def change_password(self, viewer, payload, source=None):
        """A new password ({current_password, new_password}). Every session of the account ends,
        the one asking included, and a new session is returned: whoever had a copy of a session, or
        the old password, is out."""
        data = load_or_fail(PasswordChange(), payload)
        account = self._own_password(viewer["account_id"], data["current_password"], source, field="current_password")
        self.accounts.set_password_hash(account["_id"], self.passwords.hash(data["new_password"]))
        self.sessions.delete_of(account["_id"])
        return self._new_session(account)

    def delete_account(self, viewer, payload, source=None):
        """Forget a person. Their password confirms it is them (throttled like sign-in). Every other
        service forgets them on `profile_deleted`; the handle stays held a year."""
        password = load_or_fail(PasswordConfirmation(), payload)["password"]
        account = self._own_password(viewer["account_id"], password, source)
        grave = accounts.tombstone(account, self.clock(), accounts.held_handle_key(self.secret, account["handle_key"]))
        event = make_event(SOURCE, "profile_deleted", {"profile_id": account["_id"], "version": grave["version"]})
        self.accounts.replace_with_tombstone(account, grave, [event])
        self.sessions.delete_of(account["_id"])
        if account.get("decoy_id"):  # the duress password's empty account goes too, with its sessions
            self.accounts.delete_decoy(account["decoy_id"])
            self.sessions.delete_of(account["decoy_id"])
        self.flags.forget_person(account["_id"])
        self.attempts.clear_failures(accounts.attempt_key(self.secret, account["handle_key"]))
        self.accounts.flush(account["_id"], self.dispatch)
        return True

    # ---- other people's profiles

    def get_profile(self, viewer, account_id):
        """Volunteers' profiles are public; anyone else's only to moderators."""
        account = self.accounts.find(account_id)
        is_moderator = viewer is not None and viewer["role"] == "moderator"
        if account is None or not (is_moderator or (account["role"] == "volunteer" and account["status"] == "active")):
            raise NotFound("No such profile.")
        return accounts.moderator_view(account) if is_moderator else accounts.public_view(account)

    def profile_by_handle(self, viewer, handle):
        """As `get_profile`, found by handle: the directory and the pages name people by handle."""
        account = self.accounts.find_by_handle_key(accounts.handle_key(str(handle)[:64]))
        if account is None or account["status"] == "deleted":
            raise NotFound("No such profile.")
        return self.get_profile(viewer, account["_id"])

    def flag_profile(self, viewer, account_id, payload):
        reason = load_or_fail(Flag(), payload)["reason"]
        if self.accounts.find(account_id) is None:
            raise NotFound("No such profile.")
        return self.flags.raise_flag("profile", account_id, viewer["account_id"], reason, self.settings["FLAG_LIMIT"])

    # ---- moderation

    def flagged_profiles(self, viewer):
        _moderator(viewer)
        return self.flags.open_flags()

    def suspend(self, viewer, account_id, payload=None):
        moderator = _moderator(viewer)
        load_or_fail(ModerationNote(), payload or {})
        if account_id == moderator["account_id"]:
            raise Forbidden("Moderators cannot suspend themselves.")
        account = self._update(account_id, lambda _: {"status": "suspended"})
        self.sessions.delete_of(account_id)
        self.flags.resolve(account_id, "suspended")
        return accounts.moderator_view(account)

    def reinstate(self, viewer, account_id):
        _moderator(viewer)
        return accounts.moderator_view(self._update(account_id, lambda _: {"status": "active"}))

    def set_verified(self, viewer, account_id, verified=True):
        _moderator(viewer)
        account = self.accounts.find(account_id)
        if account is None or account["role"] != "volunteer":
            raise NotFound("No such volunteer.")
        account = self._update(account_id, lambda _: {"verified": bool(verified)})
        self.flags.resolve(account_id, "verified" if verified else "unverified")
        return accounts.moderator_view(account)

    def dismiss_profile_flags(self, viewer, account_id):
        _moderator(viewer)
        self.flags.resolve(account_id, "dismissed")
        return True

    def grant_role(self, command):
        """Appoint a moderator or analyst (`command`: the operator's, its signature checked)."""
        data = load_or_fail(RoleGrant(), command)
        account = self.accounts.find_by_handle_key(accounts.handle_key(data["handle"]))
        if account is None or account["status"] == "deleted":
            raise NotFound("No such account.", {"handle": "No such account."})
        account = self._update(account["_id"], lambda _: {"role": data["role"]})
        return {"id": account["_id"], "handle": account["handle"], "role": account["role"]}

    # ---- for rebuilding other services' views (search), paged by id

    def export_profiles(self, after_id, limit):
        # Contact details never leave through an export, not even sealed: nor a number or address.
        return [dict(accounts.profile_event_data(a), contact_sealed=None, sms_sealed=None, mail_sealed=None)
                for a in self.accounts.export_page(after_id, limit)]

    # ---- timers

    def relay_pending(self):
        self.accounts.flush_pending(self.dispatch)

    def sweep(self):
        """Expired sessions and stale sign-in records go (FerretDB has no TTL indexes)."""
        self.sessions.purge_expired(self.clock())
        self.attempts.purge_stale(self.settings["LOGIN_WINDOW_S"])
