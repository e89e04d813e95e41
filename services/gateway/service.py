"""gateway: the public HTTP API and the web pages. A thin adapter: parse, authenticate, call a
service over RPC.

API routes live in `routes/`, one module per area; the pages in `web/` (server-rendered HTML
forms over the same services); the SMS provider's webhook and the mail relay's in `intake/`. This class only puts them together. (The route classes are reached
through their modules so that `nameko run` finds one service here, not many.)
"""
from .intake import mail, sms
from .routes import accounts, campaigns, matches, moderation, notify, ops, requests, search
from .web import campaign_pages, check_in_pages, match_pages, people_pages, public, request_pages, staff_pages


class GatewayService(accounts.AccountRoutes, requests.RequestRoutes, search.SearchRoutes,
                     matches.MatchRoutes, notify.NotifyRoutes, moderation.ModerationRoutes, ops.OpsRoutes,
                     campaigns.CampaignRoutes,
                     public.PublicPages, request_pages.RequestPages, people_pages.PeoplePages,
                     match_pages.MatchPages, staff_pages.StaffPages, campaign_pages.CampaignPages,
                     check_in_pages.CheckInPages, sms.SmsIntake, mail.MailIntake):
    name = "gateway"
