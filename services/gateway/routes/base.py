"""What every route module shares: the RPC proxies and who the caller is."""
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy

from services.common.trust.keyring import keyring

from services.campaigns.schemas import CampaignListQuery
from services.common.schemas import load_or_fail
from services.common.observed import Observed

from .. import sessions
from ..http import Sealed, bearer_token, call
from ..ratelimit import RateLimiter


class RoutesBase(Observed):
    """What every route and page module uses, declared here (the composed GatewayService adds
    nothing a mixin relies on): the services, the config, rate limits, who the caller is."""
    profiles = RpcProxy("profiles")
    requests = RpcProxy("requests")
    matching = RpcProxy("matching")
    notify = RpcProxy("notify")
    search = RpcProxy("search")
    campaigns = RpcProxy("campaigns")
    config = Config()
    rate_limit = RateLimiter()

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
            claims = call(self.profiles.resolve_session, Sealed(token))
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

    def find_campaigns(self, query):
        """Listed campaigns (the API's list and the /campaigns page), or with words (`q`) search's
        answer in the list's shape. The query is checked here whichever way it goes, so a bad field
        is refused with or without words."""
        query = load_or_fail(CampaignListQuery(), query)
        words = (query.pop("q") or "").strip()
        if not words:
            return call(self.campaigns.list_campaigns, {key: value for key, value in query.items() if value is not None})
        return call(self.search.search_campaigns, dict(
            {key: query[key] for key in ("country", "prisoner_status") if query.get(key)},
            q=words, size=min(query["limit"], 100)))
