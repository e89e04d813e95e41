"""What every route module shares: the RPC proxies and who the caller is."""
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy

from services.common.trust import keyring

from ..http import bearer_token, call, sealed


class RoutesBase:
    profiles = RpcProxy("profiles")
    requests = RpcProxy("requests")
    matching = RpcProxy("matching")
    notify = RpcProxy("notify")
    search = RpcProxy("search")
    config = Config()

    def _viewer(self, request, required=True):
        """The caller, from their bearer token, as a viewer signed by the gateway for the services
        (services/common/trust.py): {claims: {account_id, role, handle, verified, expires_at},
        signature}. None if anonymous."""
        token = bearer_token(request, required)
        return self._viewer_of(token) if token else None

    def _viewer_of(self, token):
        """The viewer a session token stands for (the API's bearer token, a web page's cookie)."""
        claims = call(self.profiles.resolve_session, sealed(self.profiles.resolve_session, token))
        return keyring().sign_viewer(claims)
