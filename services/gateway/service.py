"""gateway: the public HTTP API. A thin adapter: parse, authenticate, call a service over RPC.

Routes live in `routes/`, one module per area; this class only puts them together. (The route
classes are reached through their modules so that `nameko run` finds one service here, not six.)
"""
from .routes import accounts, matches, moderation, notify, ops, requests, search


class GatewayService(accounts.AccountRoutes, requests.RequestRoutes, search.SearchRoutes,
                     matches.MatchRoutes, notify.NotifyRoutes, moderation.ModerationRoutes, ops.OpsRoutes):
    name = "gateway"
