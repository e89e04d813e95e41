"""What every route module shares: the RPC proxies and who the caller is."""
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy

from services.common.trust.keyring import keyring

from .. import sessions
from ..http import bearer_token, call, sealed


class RoutesBase:
    profiles = RpcProxy("profiles")
    requests = RpcProxy("requests")
    matching = RpcProxy("matching")
    notify = RpcProxy("notify")
    search = RpcProxy("search")
    campaigns = RpcProxy("campaigns")
    config = Config()

    def _viewer(self, request, required=True):
        """The caller, from their bearer token, as a viewer signed by the gateway for the services
        (services/common/trust/keyring.py): {claims: {account_id, role, handle, verified, expires_at},
        signature}. None if anonymous."""
        token = bearer_token(request, required)
        return self._viewer_of(token) if token else None

    def _viewer_of(self, token):
        """The viewer a session token stands for (the API's bearer token, a web page's cookie)."""
        return keyring().sign_viewer(self._claims_of(token))

    def _claims_of(self, token):
        """What profiles says the token stands for, from this process's cache when it asked a
        moment ago (services/gateway/sessions.py)."""
        sessions.configure(self.config)
        claims = sessions.CACHE.get(token)
        if claims is None:
            claims = call(self.profiles.resolve_session, sealed(self.profiles.resolve_session, token))
            sessions.CACHE.put(token, claims)
        return claims

    def _change_account(self, proxy_method, viewer, account_id, *args):
        """A moderator's change to an account's standing (suspension, verification), after which
        this process forgets the account's sessions, whose claims it changes."""
        result = call(proxy_method, viewer, account_id, *args)
        self._revoked(account_id)
        return result

    def _confirm(self, viewer, match_id):
        """The author's choice of a helper, with their decision signed by this gateway: the only
        proof requests and notify accept before showing a private text or opening a channel. It
        names the match's version the author decided on (read first), so it is worth nothing
        once the match has moved on (an end of the helper's access, say)."""
        version = call(self.matching.get_match, viewer, match_id)["version"]
        decision = keyring().sign_decision(str(match_id), viewer["claims"]["account_id"], version)
        return call(self.matching.confirm_match, viewer, match_id, decision)

    @staticmethod
    def _revoked(account_id=None, token=None):
        """After a change that ends or changes sessions (sign-out, deletion, suspension,
        verification): this process forgets them at once (other replicas within the cache's TTL)."""
        if token is not None:
            sessions.CACHE.forget_token(token)
        if account_id is not None:
            sessions.CACHE.forget_account(account_id)
