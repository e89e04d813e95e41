"""What every route module shares: the RPC proxies and who the caller is."""
from nameko.rpc import RpcProxy

from services.common.trust import keyring

from ..http import bearer_token, call, sealed


class RoutesBase:
    profiles = RpcProxy("profiles")
    requests = RpcProxy("requests")
    matching = RpcProxy("matching")
    notify = RpcProxy("notify")
    search = RpcProxy("search")

    def _viewer(self, request, required=True):
        """The caller, from their bearer token, as a viewer signed by the gateway for the services
        (services/common/trust.py): {claims: {account_id, role, handle, verified, expires_at},
        signature}. None if anonymous."""
        token = bearer_token(request, required)
        if not token:
            return None
        claims = call(self.profiles.resolve_session, sealed(self.profiles.resolve_session, token))
        return keyring().sign_viewer(claims)
