"""Accounts, sessions, profiles and the skill taxonomy."""

from services.common.flags import Flag
from services.common.taxonomy import SKILLS
from services.profiles.schemas import (CheckInSettings, Credentials, EmailChange, NewAccount, PasswordChange,
                                       PasswordConfirmation, ProfileInput)

from ..http import Sealed, api, bearer_token, call, http, read_json
from ..openapi import accepts
from .base import RoutesBase


class AccountRoutes(RoutesBase):
    @http("POST", "/api/accounts")
    @api
    @accepts(body=NewAccount)
    def create_account(self, request):
        """Sign up with a pseudonymous handle; the email is optional and sealed at rest."""
        source = self.rate_limit("sign_up", request)
        return 201, call(self.profiles.register, Sealed(read_json(request)), source)

    @http("POST", "/api/sessions")
    @api
    @accepts(body=Credentials)
    def create_session(self, request):
        """Sign in: returns a bearer token that expires."""
        source = self.rate_limit("sign_in", request)
        return call(self.profiles.login, Sealed(read_json(request)), source)

    @http("DELETE", "/api/sessions")
    @api
    def delete_session(self, request):
        """Sign out; `?everywhere=true` ends every session of the account."""
        everywhere = request.args.get("everywhere", "").lower() in ("1", "true", "yes")
        token = bearer_token(request)
        account_id = self._claims_of(token)["account_id"] if everywhere else None
        call(self.profiles.logout, Sealed(token), everywhere)
        self._revoked(account_id, token)
        return 204, None

    @http("GET", "/api/me")
    @api
    def me(self, request):
        """One's own account, with one's own email."""
        return call(self.profiles.get_me, self._viewer(request))

    @http("DELETE", "/api/me")
    @api
    @accepts(body=PasswordConfirmation)
    def delete_me(self, request):
        """Delete the account and everything the platform holds about the person. Body: {password}.
        Wrong passwords are throttled like sign-in."""
        viewer = self._viewer(request)
        source = self.rate_limit("sign_in", request)
        call(self.profiles.delete_account, viewer, Sealed(read_json(request)), source)
        self._revoked(viewer["claims"]["account_id"])
        return 204, None

    @http("PUT", "/api/me/password")
    @api
    @accepts(body=PasswordChange)
    def change_password(self, request):
        """Change one's password. Every session of the account ends (on every device: whoever had
        a copy of one is out); the answer is a new session for the one asking. Wrong passwords are
        throttled like sign-in."""
        viewer = self._viewer(request)
        source = self.rate_limit("sign_in", request)
        session = call(self.profiles.change_password, viewer,
                       Sealed(read_json(request)), source)
        self._revoked(viewer["claims"]["account_id"], bearer_token(request))
        return session

    @http("PUT", "/api/me/profile")
    @api
    @accepts(body=ProfileInput)
    def update_profile(self, request):
        """Set one's skills, languages (with levels), countries, bio and availability."""
        return call(self.profiles.update_profile, self._viewer(request), read_json(request))

    @http("PUT", "/api/me/email")
    @api
    @accepts(body=EmailChange)
    def change_email(self, request):
        """Change or remove (null) one's email."""
        return call(self.profiles.change_email, self._viewer(request),
                    Sealed(read_json(request)))

    @http("GET", "/api/me/check-in")
    @api
    def check_in_get(self, request):
        """One's check-in: the interval, whom it tells, when it is next due, whether it was missed.
        Never whether a duress password is set."""
        return call(self.profiles.get_check_in, self._viewer(request))

    @http("PUT", "/api/me/check-in")
    @api
    @accepts(body=CheckInSettings)
    def check_in_set(self, request):
        """Start or change a check-in: if `interval_hours` pass without one (web, SMS or email), the
        other side of each chosen conversation (`helpers`: match ids) and the other owners of each
        chosen campaign are told, once, with `message`. `duress_password`: signs in to an empty
        account and quietly does the same at once."""
        return call(self.profiles.set_check_in, self._viewer(request), Sealed(read_json(request)))

    @http("POST", "/api/me/check-in/now")
    @api
    def check_in_now(self, request):
        """I am fine: the next check-in is due an interval from now (and, after a missed one, those
        told are told that they checked in)."""
        return call(self.profiles.check_in, self._viewer(request))

    @http("DELETE", "/api/me/check-in")
    @api
    def check_in_stop(self, request):
        """Stop the check-in (and forget the duress password)."""
        call(self.profiles.stop_check_in, self._viewer(request))
        return 204, None

    @http("POST", "/api/me/channels/sms/code")
    @api
    def sms_link_code(self, request):
        """A one-time code (eight digits, for 15 minutes) to text as `LINK <code>` from the phone
        to use: that number then posts, answers and talks for this account, and is told by text.
        The number is never shown back, here or anywhere."""
        return 201, call(self.profiles.link_code, self._viewer(request))

    @http("GET", "/api/profiles/<string:account_id>")
    @api
    def get_profile(self, request, account_id):
        """A volunteer's public profile (others' only to moderators)."""
        return call(self.profiles.get_profile, self._viewer(request, required=False), account_id)

    @http("POST", "/api/profiles/<string:account_id>/flags")
    @api
    @accepts(body=Flag)
    def flag_profile(self, request, account_id):
        """Report a profile to the moderators."""
        return 201, call(self.profiles.flag_profile, self._viewer(request), account_id,
                         Sealed(read_json(request)))

    @http("GET", "/api/skills")
    @api
    def skills(self, request):
        """The skill taxonomy."""
        return {"items": [{"slug": slug, "label": label} for slug, label in SKILLS.items()]}
