"""What every route module shares: the RPC proxies and who the caller is."""
from nameko.rpc import RpcProxy

from ..http import bearer_token, call


class RoutesBase:
    profiles = RpcProxy("profiles")
    requests = RpcProxy("requests")
    matching = RpcProxy("matching")
    notify = RpcProxy("notify")
    search = RpcProxy("search")

    def _viewer(self, request, required=True):
        """The caller as {account_id, role, handle, verified}, from their bearer token; None if anonymous."""
        token = bearer_token(request, required)
        return call(self.profiles.resolve_session, token) if token else None
