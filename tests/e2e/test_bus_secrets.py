"""No secret crosses the bus in clear, and nobody on the bus can act as someone else (DESIGN,
"Secrets never cross the bus in clear").

RabbitMQ's firehose (tracing on the platform's vhost: every message published and every message
delivered is copied to `amq.rabbitmq.trace`) records everything the broker carried during a whole
journey: sign-up, sign-in, an email added, a moderator's vetting, a private request, a proposal,
the volunteer's yes, the author's confirmation, messages both ways, reading them, a campaign with
details for its owners only and a signature with an email, and deleting both accounts. None of the
canaries planted in passwords, emails, session tokens, the private request's text, the messages,
the campaign's owners-only details and the supporter's email may appear in any of it: RPC or
event, request or reply.
"""
import uuid

import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy

from services.campaigns import supporters
from services.common.errors import Forbidden
from services.common.trust.keyring import Keyring, new_keys
from tests.e2e.platform import Client
from tests.support import marker, opened, operator_command, signed_viewer, wait_until


def canary(kind):
    return f"canary{kind}{marker()}"


class Firehose:
    """Every message the broker carries on one vhost while it is open, as text."""

    def __init__(self, platform):
        self.platform = platform
        self.connection = Connection(platform.amqp_uri)
        self.queue = Queue(f"firehose-{uuid.uuid4().hex[:8]}", exchange=Exchange("amq.rabbitmq.trace", type="topic",
                                                                                   passive=True),
                           routing_key="#", durable=False, auto_delete=False)
        self.messages = []

    def __enter__(self):
        self.channel = self.connection.channel()
        self.queue(self.channel).declare()
        self.platform.rabbit_manager._put("vhosts", self.platform.vhost, json={"tracing": True})
        return self

    def drain(self):
        bound = self.queue(self.channel)
        while True:
            message = bound.get(no_ack=True)
            if message is None:
                return self.messages
            body = message.body if isinstance(message.body, bytes) else message.body.encode()
            self.messages.append((message.delivery_info.get("routing_key", ""),
                                  body.decode("utf-8", "replace") + repr(message.headers)))

    def __exit__(self, *exc):
        self.platform.rabbit_manager._put("vhosts", self.platform.vhost, json={"tracing": False})
        self.queue(self.channel).delete()
        self.connection.close()


def test_a_whole_journey_leaves_no_secret_in_anything_the_broker_carried(platform, person, appoint):
    lawyer_password, family_password = canary("pass"), canary("pass")
    lawyer_email, family_email, new_email = (f"{canary('mail')}@example.org" for _ in range(3))
    private_text, message_text, reply_text = canary("private"), canary("message"), canary("reply")
    # A campaign's details the family kept for themselves, and a supporter's email.
    prisoner_name, family_names, supporter_email = canary("prisoner"), canary("family"), f"{canary('sign')}@example.org"
    letter_text = f"We think of you every day and we will not forget you. {canary('letter')}"
    wall_text = f"We wait for you at home. {canary('wall')}"
    moderator = appoint(person(f"mod-{uuid.uuid4().hex[:6]}", "activist"), "moderator").sign_in_again()

    with Firehose(platform) as firehose:
        lawyer = person(f"lawyer-{uuid.uuid4().hex[:6]}", "volunteer", email=lawyer_email, password=lawyer_password)
        family = person(f"family-{uuid.uuid4().hex[:6]}", "activist", email=family_email, password=family_password)
        assert family.call("PUT", "/api/me/email", {"email": new_email}).status_code == 200
        assert family.call("GET", "/api/me").json()["email"] == new_email  # the reply carries it, sealed
        assert moderator.call("POST", f"/api/moderation/accounts/{lawyer.account['id']}/verify").ok
        assert lawyer.call("PUT", "/api/me/profile", {"skills": ["legal"], "languages": ["tg"]}).ok
        need = {"title": f"Asylum case {private_text}", "body": f"Details for the helper only {private_text}",
                "skills": ["legal"], "languages": ["tg"], "country": "TJ", "visibility": "private"}
        response = family.call("POST", "/api/requests", need)
        assert response.status_code == 201 and private_text in response.json()["title"]
        request_id = response.json()["id"]

        match = wait_until(lambda: lawyer.call("GET", "/api/matches").json()["items"], message="a proposal")[0]
        assert lawyer.call("POST", f"/api/matches/{match['id']}/accept").status_code == 200
        assert family.call("POST", f"/api/matches/{match['id']}/confirm").status_code == 200
        wait_until(lambda: family.call("POST", f"/api/matches/{match['id']}/messages",
                                       {"text": message_text}).status_code == 201, message="the channel to open")
        assert lawyer.call("POST", f"/api/matches/{match['id']}/messages", {"text": reply_text}).status_code == 201
        assert [m["text"] for m in family.call("GET", f"/api/matches/{match['id']}/messages").json()["items"]] == [
            message_text, reply_text]
        wait_until(lambda: lawyer.call("GET", f"/api/requests/{request_id}").status_code == 200,
                   message="the helper to read the request")
        assert private_text in lawyer.call("GET", f"/api/requests/{request_id}").json()["body"]
        campaign = family.call("POST", "/api/campaigns", {
            "title": "Free the teacher", "story": "A teacher held for a poem. Sign, write, speak.", "language": "tg",
            "prisoner_country": "TJ", "prisoner": {"name": prisoner_name, "family_names": family_names},
            "consent": {"name": "owners", "family_names": "owners"}})
        assert campaign.status_code == 201 and campaign.json()["prisoner"]["name"] == prisoner_name
        signed = lawyer.call("POST", f"/api/campaigns/{campaign.json()['id']}/signatures",
                             {"country": "DE", "email": supporter_email})
        assert signed.status_code == 202
        # The supporter's link (emailed by notify): the token, made as campaigns makes it, acts.
        key = platform.config["SIGNATURE_KEY"].encode()
        link = supporters.token(key, supporters.signature_id(key, campaign.json()["id"], supporter_email))
        wait_until(lambda: Client(platform).call("POST", f"/api/supporters/{link}/confirm").status_code == 200,
                   message="the supporter's link to work")
        assert family.call("GET", f"/api/campaigns/{campaign.json()['id']}").json()["prisoner"]["family_names"] == \
            family_names
        # A letter: written, read by a moderator, approved (in another language: a translation need
        # goes out), read by the family and printed.
        letter = lawyer.call("POST", f"/api/campaigns/{campaign.json()['id']}/letters",
                             {"text": letter_text, "language": "en"})
        assert letter.status_code == 201
        assert letter_text in str(moderator.call("GET", "/api/moderation/letters", limit=200).json())
        assert moderator.call("POST", f"/api/moderation/letters/{letter.json()['id']}/approve").status_code == 200
        assert family.call("GET", f"/api/campaigns/{campaign.json()['id']}/letters").json()["items"][0]["text"] == \
            letter_text
        assert family.call("GET", f"/api/campaigns/{campaign.json()['id']}/bundle.pdf").status_code == 200
        # The family's wall post, read by a moderator; a co-owner's one-time code, made and used.
        post = family.call("POST", f"/api/campaigns/{campaign.json()['id']}/wall", {"text": wall_text})
        assert post.status_code == 201 and wall_text in str(moderator.call("GET", "/api/moderation/wall").json())
        # What people say when they report, promise, dispute or configure: sealed too.
        flag_reason, pledge_text, dispute_note = canary("flag"), f"An article {canary('pledge')}", canary("dispute")
        webhook_secret = canary("hooksecret")
        assert lawyer.call("POST", f"/api/requests/{request_id}/flags", {"reason": flag_reason}).status_code == 201
        assert lawyer.call("POST", f"/api/profiles/{family.account['id']}/flags",
                           {"reason": flag_reason}).status_code in (201, 404)
        assert lawyer.call("POST", f"/api/campaigns/{campaign.json()['id']}/pledges",
                           {"action": pledge_text, "kind": "press"}).status_code == 201
        assert moderator.call("POST", f"/api/moderation/campaigns/{campaign.json()['id']}/disputed",
                              {"disputed": False, "note": dispute_note}).status_code == 200
        # (No DNS here: notify may refuse the receiver's host; the secret has crossed the bus either way.)
        assert moderator.call("POST", "/api/webhooks", {"url": "https://receiver.example.org/hook",
                                                        "secret": webhook_secret,
                                                        "event_types": ["request_created"]}).status_code in (201, 400)
        code = family.call("POST", f"/api/campaigns/{campaign.json()['id']}/owner-invitations").json()["code"]
        assert lawyer.call("POST", f"/api/campaigns/{campaign.json()['id']}/owners", {"code": code}).status_code == 200
        tokens = [lawyer.token, family.token]
        assert family.call("DELETE", "/api/me", {"password": family_password}).status_code == 204
        assert lawyer.call("DELETE", "/api/me", {"password": lawyer_password}).status_code == 204
        carried = wait_until(lambda: [m for m in firehose.drain() if "profile_deleted" in m[1]] and firehose.messages,
                             message="the deletions on the bus")

    rpc = [text for key, text in carried if "nameko-rpc" in key or "rpc-" in key]
    assert len(carried) > 100 and len(rpc) > 50, (len(carried), len(rpc))  # it did record the journey
    # A control: what may travel in clear (a public handle, in events and RPCs) is found, so the
    # search below looks at the bodies themselves.
    assert [key for key, text in carried if lawyer.account["handle"] in text]
    secrets = {"password": (lawyer_password, family_password),
               "email": (lawyer_email, family_email, new_email),
               "private request text": (private_text,), "message text": (message_text, reply_text),
               "session token": tuple(tokens),
               "prisoner's details kept for the owners": (prisoner_name, family_names),
               "supporter's email": (supporter_email,), "supporter's link": (link.split(".")[1],), "letter of support": (letter_text,),
               "family's wall post": (wall_text,), "co-owner's code": (code,),
               "reporter's reason": (flag_reason,), "pledge": (pledge_text,), "dispute note": (dispute_note,),
               "webhook secret": (webhook_secret,)}
    for kind, values in secrets.items():
        for value in values:
            found = [key for key, text in carried if value in text]
            assert not found, f"a {kind} crossed the bus in clear: {found[:5]}"


@pytest.fixture
def bus(platform):
    with ClusterRpcProxy(platform.config, timeout=20) as rpc:
        yield rpc


def test_a_forged_unsigned_or_expired_viewer_is_refused(platform, person, bus):
    family = person(f"family-{uuid.uuid4().hex[:6]}", "activist")
    request_id = family.call("POST", "/api/requests", {
        "title": "A private need", "body": "Only for the helper the family chooses.", "skills": ["legal"],
        "languages": ["fa"], "country": "IR", "visibility": "private"}).json()["id"]
    claims = {"account_id": family.account["id"], "role": "moderator", "handle": "x", "verified": True}
    stranger_keys = Keyring(new_keys())  # someone on the bus with keys of their own making
    own_signature = Keyring(platform.config).sign_viewer(claims)
    forgeries = {
        "unsigned": claims,
        "signed with another key": stranger_keys.sign_viewer(claims),
        "expired": Keyring(platform.config).sign_viewer(claims, ttl_s=-1),
        "claims changed after signing": dict(own_signature, claims=dict(own_signature["claims"], role="analyst")),
    }
    for what, viewer in forgeries.items():
        with pytest.raises(Forbidden):
            bus.requests.get_request(viewer, request_id)
        with pytest.raises(Forbidden):
            bus.matching.list_matches(viewer)
    # The same call with a viewer the gateway signed goes through: the refusals were the signature's.
    author = signed_viewer(family.account["id"], "activist", config=platform.config)
    assert bus.requests.get_request(author, request_id)


def test_a_viewer_copied_off_the_bus_counts_only_in_the_call_it_was_signed_for(platform, person, bus):
    """The gateway signs the caller's viewer for each call (`aud`: service.method); a copy replayed
    by whoever reads the bus acts for no one in another method or service."""
    family = person(f"family-{uuid.uuid4().hex[:6]}", "activist")
    request_id = family.call("POST", "/api/requests", {
        "title": "A private need", "body": "Only for the helper the family chooses.", "skills": ["legal"],
        "languages": ["fa"], "country": "IR", "visibility": "private"}).json()["id"]
    ring = Keyring(platform.config)
    resolved = ring.sign_viewer({"account_id": family.account["id"], "role": "activist",
                                 "handle": family.account["handle"], "verified": False})
    copied = ring.for_call(resolved, "requests", "get_request")  # as it crossed the bus
    assert opened(bus.requests.get_request(copied, request_id), "requests", "get_request", platform.config)["id"] == request_id
    with pytest.raises(Forbidden):
        bus.requests.close_request(copied, request_id)
    with pytest.raises(Forbidden):
        bus.matching.list_matches(copied)
    with pytest.raises(Forbidden):  # the gateway's own, before it signs it for a call, counts nowhere
        bus.requests.get_request(resolved, request_id)
    assert family.call("GET", f"/api/requests/{request_id}").json()["status"] == "open"


def test_only_the_operator_appoints_a_role(platform, person, bus):
    someone = person(f"someone-{uuid.uuid4().hex[:6]}", "activist")
    grant = {"handle": someone.account["handle"], "role": "moderator"}
    for forged in (grant, Keyring(platform.config).sign_viewer(grant), Keyring(new_keys()).sign_command(grant)):
        with pytest.raises(Forbidden):
            bus.profiles.grant_role(forged)
    assert someone.call("GET", "/api/me").json()["role"] == "activist"
    assert bus.profiles.grant_role(operator_command(grant, platform.config))["role"] == "moderator"


def test_the_exports_hand_out_nothing_without_the_operators_signature(platform, person, bus):
    """The export RPCs page through whole tables (for rebuilding search): no pod may ask for them."""
    someone = person(f"exported-{uuid.uuid4().hex[:6]}", "volunteer")
    for service, action in (("profiles", "export_profiles"), ("requests", "export_requests")):
        export = getattr(getattr(bus, service), action)
        page = {"action": action, "after_id": None, "limit": 10}
        other = "export_requests" if action == "export_profiles" else "export_profiles"
        for forged in (page, Keyring(new_keys()).sign_command(page), Keyring(platform.config).sign_viewer(page),
                       operator_command(dict(page, action=other), platform.config)):
            with pytest.raises(Forbidden):
                export(forged)
    exported = bus.profiles.export_profiles(operator_command({"action": "export_profiles", "after_id": None,
                                                              "limit": 1000}, platform.config))
    assert someone.account["id"] in {p["profile_id"] for p in exported}
