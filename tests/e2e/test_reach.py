"""Reach when the web is blocked or cut (DESIGN): the gateway as a Tor onion service, and the quick
exit on every page. The onion service starts from the project's own script (scripts/onion.sh) and
keeps its address across a restart (the keys are the address). No Tor network is reachable from
this machine, so what is checked is what can be without one: that the address tor will publish is
the one its keys make, and that every page tells Tor Browser of it. Public pages are cacheable by
mirrors (nothing private ever is) and light."""
import base64
import hashlib
import os
import re
import signal
import smtplib
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
import requests

from services.common.refs import short_ref
from services.common.store import mongo
from services.gateway.intake import twilio
from services.notify.tests.sink import SmtpSink, free_port
from services.notify.tests.sms_provider import SmsProvider
from tests.e2e.api import matches, unique
from tests.e2e.traces import EventTap
from tests.e2e.web import WebVisitor
from tests.support import start_process, wait_until

ROOT = Path(__file__).resolve().parents[2]
ONION = "vtwvjlj35vjvorwjy3x5ivz5tr6qu6tyzvvu5wufd5kvjmceufrhucqd.onion"
# The SMS provider is played by a local server speaking its REST API (services/notify/tests/
# sms_provider.py), started with this module and stopped by the `provider` fixture below.
PROVIDER = SmsProvider()
SMTP_PORT = free_port()
PUBLIC_URL = "https://allies.example"
PLATFORM_OVERRIDES = {"ONION_ADDRESS": ONION, "PUBLIC_URL": PUBLIC_URL, "SMS_API_BASE": PROVIDER.url,
                      "SMS_ACCOUNT_SID": PROVIDER.account_sid, "SMS_AUTH_TOKEN": PROVIDER.auth_token,
                      "SMS_FROM": "+15005550006",
                      # A text the provider did not take (a dropped connection under load) is tried
                      # again in half a second, not thirty: the waits below stay short.
                      "TEXT_RETRY_BASE_S": 0.5,
                      # Emails (the email channel's answers) go to this module's SMTP sink.
                      "SMTP_PORT": SMTP_PORT, "EMAIL_RETRY_BASE_S": 0.5}


def run_tor(folder, target="127.0.0.1:9"):
    return start_process([str(ROOT / "scripts" / "onion.sh"), "run", str(folder), target],
                         stdout=open(folder.parent / "tor.log", "ab"), stderr=open(folder.parent / "tor.log", "ab"))


def stop(process):
    os.kill(process.pid, signal.SIGTERM)  # `run` execs tor: this pid is tor's
    process.wait(timeout=30)


def address_of(folder):
    hostname = folder / "onion" / "hostname"
    return hostname.read_text().strip() if hostname.exists() and hostname.stat().st_size else None


def v3_address(public_key_file):
    """The onion address (rend-spec-v3, 6.) of an hs_ed25519_public_key file: base32 of the key,
    a two-byte checksum and the version."""
    key = public_key_file.read_bytes()[-32:]  # after the file's 32-byte header
    version = b"\x03"
    checksum = hashlib.sha3_256(b".onion checksum" + key + version).digest()[:2]
    return base64.b32encode(key + checksum + version).decode().lower() + ".onion"


def test_tor_writes_the_onion_address_its_keys_make_and_keeps_it_across_a_restart(tmp_path):
    folder = tmp_path / "tor"
    first = run_tor(folder)
    try:
        address = wait_until(lambda: address_of(folder), timeout=60, message="tor's hostname file")
    finally:
        stop(first)
    assert address == v3_address(folder / "onion" / "hs_ed25519_public_key")
    assert oct((folder / "onion").stat().st_mode & 0o777) == "0o700"  # the keys are nobody else's

    second = run_tor(folder)
    try:
        wait_until(lambda: "Bootstrapped" in (tmp_path / "tor.log").read_text().split("Read configuration")[-1],
                   timeout=60, message="tor started again")
        assert address_of(folder) == address
    finally:
        stop(second)


def test_every_page_names_its_onion_address_and_the_api_does_not_need_to(platform):
    visitor = WebVisitor(platform)
    for path in ("/", "/campaigns", "/login?next=/matches"):
        assert visitor.get(path).headers["Onion-Location"] == f"http://{ONION}{path}"
    assert "Onion-Location" not in requests.get(platform.url + "/api/skills", timeout=10).headers
    # Someone already on the onion service is not sent there again.
    assert "Onion-Location" not in requests.get(platform.url + "/", headers={"Host": ONION}, timeout=10).headers


def test_the_quick_exit_ends_the_session_forgets_the_site_and_shows_a_page_that_names_nothing(platform):
    visitor = WebVisitor(platform).sign_up(unique("leaver"), "activist")
    assert visitor.get("/me/profile").url.endswith("/me/profile")  # signed in
    page = visitor.get("/matches")
    assert '<a class="quick-exit" id="quick-exit" href="/leave"' in page.text
    session = visitor.http.cookies.get("session")
    assert session

    left = visitor.get("/leave")
    assert left.status_code == 200
    assert left.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert left.headers["Cache-Control"] == "no-store"
    assert "Allies" not in left.text and "<a " not in left.text and "<form" not in left.text
    assert "<title>New Tab</title>" in left.text
    assert not visitor.http.cookies.get("session") and not visitor.http.cookies.get("csrf")
    # The session itself is over, not only its cookie: the token no longer signs anyone in.
    again = requests.get(platform.url + "/me/profile", cookies={"session": session}, timeout=10, allow_redirects=False)
    assert again.status_code == 303 and "/login" in again.headers["Location"]
    # One tap, whoever taps it: without a session it leaves all the same.
    assert WebVisitor(platform).get("/leave").headers["Clear-Site-Data"]


PUBLIC_PAGE_BUDGET = 60 * 1024  # a public page's first load with all it needs (the bound)


def first_visit(platform, path, **headers):
    """A request as a mirror, a cache or a first-time visitor makes it: no cookie at all."""
    return requests.get(platform.url + path, headers=headers, timeout=20)


def test_public_campaigns_and_needs_are_cacheable_by_mirrors_and_nothing_private_is(platform, person):
    family = person(unique("family"), "activist")
    campaign = family.call("POST", "/api/campaigns", {
        "title": "Free the two doctors", "language": "fa", "prisoner_country": "IR", "detained_on": "2026-03-01",
        "story": "Two doctors held since spring for treating wounded protesters. Write to them.",
        "prisoner": {"name": "Dr. Example Person"}, "consent": {"name": "public"}}).json()
    quiet = family.call("POST", "/api/campaigns", {
        "title": "A quiet campaign", "language": "fa", "prisoner_country": "IR", "mode": "quiet",
        "story": "Only those with the link find this one; nobody lists it."}).json()
    need = family.call("POST", "/api/requests", {
        "title": "A lawyer for an appeal", "body": "The hearing is next month.", "languages": ["en"],
        "country": "IR", "urgency": "high", "visibility": "public", "skills": ["legal"]}).json()
    private = family.call("POST", "/api/requests", {
        "title": "Someone to talk to", "body": "Only for the helper I choose.", "languages": ["en"],
        "country": "IR", "urgency": "normal", "visibility": "private", "skills": ["counseling"]}).json()

    for path in (f"/campaigns/{campaign['id']}", f"/requests/{need['id']}"):
        page = first_visit(platform, path + "?lang=fa")
        assert page.status_code == 200, path
        assert page.headers["Cache-Control"] == "public, max-age=60" and page.headers["Vary"] == "Cookie"
        assert "Set-Cookie" not in page.headers and 'name="csrf"' not in page.text  # one copy for everyone
        etag = page.headers["ETag"]
        again = first_visit(platform, path + "?lang=fa", **{"If-None-Match": etag})
        assert again.status_code == 304 and not again.content
        assert first_visit(platform, path + "?lang=en").headers["ETag"] != etag
    signing = first_visit(platform, f"/campaigns/{campaign['id']}")
    assert f'href="/campaigns/{campaign["id"]}/sign?lang=en"' in signing.text  # the form is a page of its own
    form = first_visit(platform, f"/campaigns/{campaign['id']}/sign")
    assert form.headers["Cache-Control"] == "no-store" and 'name="csrf"' in form.text

    # Never cached: a quiet campaign, a private need, and any page of someone signed in.
    assert first_visit(platform, f"/campaigns/{quiet['id']}").headers["Cache-Control"] == "no-store"
    assert first_visit(platform, f"/requests/{private['id']}").headers["Cache-Control"] == "no-store"
    reader = WebVisitor(platform).sign_up(unique("reader"), "volunteer")
    for path in (f"/campaigns/{campaign['id']}", f"/requests/{need['id']}"):
        assert reader.get(path).headers["Cache-Control"] == "no-store"
    # Paused: gone from the page at once (and from caches within their minute).
    family.call("PATCH", f"/api/campaigns/{campaign['id']}", {"mode": "paused"})
    assert first_visit(platform, f"/campaigns/{campaign['id']}").headers["Cache-Control"] == "no-store"


def test_a_public_pages_first_load_with_everything_it_needs_stays_under_60_kb(platform, person):
    """Measured as a first visit loads it: the page, then each stylesheet and script it names."""
    family = person(unique("family"), "activist")
    campaign = family.call("POST", "/api/campaigns", {
        "title": "Free the two doctors", "language": "fa", "prisoner_country": "IR",
        "story": "Two doctors held since spring for treating wounded protesters. Write to them. " * 20}).json()
    need = family.call("POST", "/api/requests", {
        "title": "A lawyer for an appeal", "body": "The hearing is next month. " * 40, "languages": ["en"],
        "country": "IR", "urgency": "high", "visibility": "public", "skills": ["legal"]}).json()
    weights = {}
    for path in ("/", "/campaigns", f"/campaigns/{campaign['id']}", f"/requests/{need['id']}", "/search"):
        for lang in ("en", "fa", "zh"):
            page = first_visit(platform, f"{path}?lang={lang}")
            assert page.status_code == 200, path
            assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
            assert sorted(assets) == ["/static/exit.js", "/static/style.css"]
            weight = len(page.content) + sum(len(first_visit(platform, asset).content) for asset in assets)
            weights[(path, lang)] = weight
    assert max(weights.values()) < PUBLIC_PAGE_BUDGET, weights


@pytest.fixture(scope="module", autouse=True)
def provider():
    yield PROVIDER
    PROVIDER.stop()


def text(platform, number, body, sid=None, token=None, tamper=None):
    """What the provider posts when `number` texts `body`: signed as the provider signs."""
    form = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": PROVIDER.account_sid, "From": number,
            "To": "+15005550006", "Body": body, "NumMedia": "0"}
    signature = twilio.signature(token or PROVIDER.auth_token, PUBLIC_URL + "/api/intake/sms", form)
    if tamper:
        form.update(tamper)
    return requests.post(platform.url + "/api/intake/sms", data=form, headers={twilio.SIGNATURE_HEADER: signature},
                         timeout=20)


def texts_to(platform, number, count, message):
    """The first `count` texts sent to `number`; on a timeout, what notify logged of texts (ids and
    reasons only: it logs no number) says why."""
    try:
        return wait_until(lambda: len(PROVIDER.to(number)) >= count and PROVIDER.to(number), timeout=45,
                          message=message)[:count]
    except AssertionError as exc:
        log = Path(platform.log_dir) / "notify.log"
        lines = [line for line in log.read_text(errors="replace").splitlines() if "text" in line] if log.exists() else []
        raise AssertionError(f"{exc}; {len(PROVIDER.to(number))} sent; notify: {lines[-5:]}") from None


def told(number, expect, after=0, what=None):
    """The first text to `number`, from its `after`-th on, that holds `expect`. Texts come at least
    once: one retried after a lost answer may come twice, so a test looks for what it expects
    among what came, not at a position."""
    return wait_until(lambda: next((m for m in PROVIDER.to(number)[after:] if expect in m), None), timeout=45,
                      message=what or f"a text with {expect!r}")


def said(platform, number, body, expect):
    """`number` texts `body`; the answer that holds `expect`."""
    before = len(PROVIDER.to(number))
    assert text(platform, number, body).status_code == 200
    return told(number, expect, before, f"the answer to {body!r}")


def a_number():
    return "+98912" + str(uuid.uuid4().int)[:7]


def test_a_text_not_signed_by_the_provider_is_refused_and_changes_nothing(platform):
    number = a_number()
    for response in (text(platform, number, "NEED 2 a lawyer for an appeal", token="not-the-token"),
                     text(platform, number, "HELP", tamper={"Body": "NEED 2 a lawyer for an appeal"}),
                     requests.post(platform.url + "/api/intake/sms", data={"From": number, "Body": "HELP"}, timeout=20)):
        assert response.status_code == 403, response.text
    time.sleep(1)
    assert PROVIDER.to(number) == []  # nothing was answered, so nothing was done


def test_help_comes_back_in_the_language_it_was_asked_in(platform):
    english, persian = a_number(), a_number()
    assert text(platform, english, "help").status_code == 200
    assert text(platform, persian, "راهنما").status_code == 200
    [help_en] = texts_to(platform, english, 1, "the help in English")
    [help_fa] = texts_to(platform, persian, 1, "the help in Persian")
    assert "NEED 2" in help_en and "2 Legal advice and representation" in help_en
    assert "نیاز ۲" in help_fa and "توقف" in help_fa


def test_a_need_by_sms_is_posted_once_privately_for_a_pseudonym_and_the_number_goes_nowhere(platform, person):
    number, sid = a_number(), "SM" + uuid.uuid4().hex
    with EventTap(platform.config, uuid.uuid4().hex[:8]) as tap:  # every event on the bus meanwhile
        assert text(platform, number, "NEED 2 a lawyer for my brother's appeal next month", sid=sid).status_code == 200
        assert text(platform, number, "NEED 2 a lawyer for my brother's appeal next month", sid=sid).status_code == 200
        [posted] = texts_to(platform, number, 1, "the answer")
        events = wait_until(lambda: [b for b in tap.drain() if "request_created" in b] and tap.bodies,
                            message="the need's events")
    assert "Your need is posted" in posted
    assert [b for b in events if "profile_registered" in b]  # the pseudonym's account was announced ...
    assert not [b for b in events if number in b or number[1:] in b]  # ... and the number is on no event
    client = mongo.connect(platform.config)
    try:
        prefix = platform.config["DB_PREFIX"]
        [author] = client[f"{prefix}_profiles"].accounts.find({"handle": {"$regex": "^sms-"}})
        [need] = client[f"{prefix}_requests"].requests.find({"author_id": author["_id"]})  # once, for two posts
        everything = " ".join(str(list(client[f"{prefix}_{name}"][collection].find()))
                              for name in ("requests", "profiles", "matching", "search")
                              for collection in client[f"{prefix}_{name}"].list_collection_names())
    finally:
        client.close()
    assert (need["visibility"], need["skills"], need["country"], need["languages"]) == ("private", ["legal"], "IR", ["en"])
    assert author["role"] == "activist" and author["password_hash"] is None
    assert number not in everything and number[1:] not in everything  # sealed and keyed only
    logs = " ".join(path.read_text(errors="replace") for path in Path(platform.log_dir).glob("*.log"))
    assert number[1:] not in logs  # no service logged it
    # The need exists once, private: a stranger finds nothing, an anonymous search neither.
    found = requests.get(platform.url + "/api/search/requests", params={"q": "brother's appeal"}, timeout=20).json()
    assert not [r for r in found["items"] if "brother" in r.get("title", "")]
    # The number is on no page, in no search, and the pseudonym says nothing of it.
    volunteers = requests.get(platform.url + "/api/search/volunteers", timeout=20).text
    assert number not in volunteers and number[1:] not in volunteers
    # Short or skill-less: never a guess; the help comes back instead.
    said(platform, number, "NEED a lawyer", "NEED 2")
    said(platform, number, "STOP", "forgotten")
    # The provider's repeated delivery of one message was answered once (the answer is keyed by it).
    assert len([m for m in PROVIDER.to(number) if "Your need is posted" in m]) == 1


def ref_in(message):
    return re.search(r"\((\d{4})\)", message).group(1)


def test_a_volunteer_and_an_activist_go_the_whole_way_by_sms_alone(platform, person, appoint):
    """Post, be proposed, say yes, be confirmed, exchange lines: every step a signed text in, every
    answer a text out through the provider's REST API (the transcript in docs/reach.md)."""
    helper, family = a_number(), a_number()
    lawyer = person(unique("sms-lawyer"), "volunteer")
    # A need by text is private: only volunteers a moderator vetted are proposed for it.
    moderator = appoint(person(unique("sms-mod"), "activist"), "moderator").sign_in_again()
    assert moderator.call("POST", f"/api/moderation/accounts/{lawyer.account['id']}/verify").status_code == 200
    assert lawyer.call("PUT", "/api/me/profile", {"skills": ["legal"], "languages": ["en"], "countries": ["IR"],
                                                  "availability_hours": 10, "max_active_matches": 3}).status_code == 200
    # An unknown number that does not post a need is told how to link, and no account is made.
    said(platform, helper, "YES 1234", "LINK")
    # The volunteer links the phone with a one-time code from the web (the page gives one too).
    page = WebVisitor(platform).sign_up(unique("page-linker"), "volunteer").post("/me/sms-code")
    assert re.search(r"<strong>LINK \d{8}</strong>", page.text)
    code = lawyer.call("POST", "/api/me/channels/sms/code").json()["code"]
    said(platform, helper, "LINK 00000000", "wrong or has expired")
    said(platform, helper, f"LINK {code}", lawyer.account["handle"])
    said(platform, helper, f"LINK {code}", "wrong or has expired")  # spent: it links nothing twice

    before = len(PROVIDER.to(helper))
    said(platform, family, "NEED 2 a lawyer for my brother's appeal next month", "Your need is posted")
    proposal = told(helper, "A need fits your skills", before, "the proposal, by text")
    ref = ref_in(proposal)
    assert "brother" not in proposal  # no request text is pushed

    summary = said(platform, helper, f"READ {ref}", "Legal advice")
    assert "IR" in summary and "brother" not in summary  # private until chosen
    before = len(PROVIDER.to(family))
    said(platform, helper, f"YES {ref}", "will decide")
    told(family, f"CONFIRM {ref}", before, "the offer, by text")
    offers = said(platform, family, "OFFERS", f"{ref}: {lawyer.account['handle']}")
    assert "Legal advice" in offers
    before = len(PROVIDER.to(helper))
    said(platform, family, f"CONFIRM {ref}", f"You chose {lawyer.account['handle']}")
    told(helper, f"chosen to help ({ref})", before, "chosen, by text")

    before = len(PROVIDER.to(family))
    said(platform, helper, f"SAY {ref} I can take the case. When is the hearing?", f"Sent to {ref}.")
    assert told(family, "A new line", before) == f"A new line in {ref}. READ {ref} to read it."
    assert said(platform, family, f"READ {ref}", "They:") == "They: I can take the case. When is the hearing?"
    before = len(PROVIDER.to(helper))
    said(platform, family, "SAY the 14th, at nine", f"Sent to {ref}.")  # the one conversation
    told(helper, "A new line", before)
    assert said(platform, helper, "READ", "You:") == (
        "You: I can take the case. When is the hearing?\nThey: the 14th, at nine")
    said(platform, family, "OK", "No check-in is set")  # a check-in by text, though none is set
    # The web shows the same conversation: one platform, two ways in.
    [match] = [m for m in lawyer.call("GET", "/api/matches").json()["items"] if m["status"] == "confirmed"]
    lines = lawyer.call("GET", f"/api/matches/{match['id']}/messages").json()["items"]
    assert [line["text"] for line in lines] == ["I can take the case. When is the hearing?", "the 14th, at nine"]


def linked_helper(platform, person, appoint):
    """A vetted lawyer (English, Iran) whose phone is linked: told by text as well as on the web."""
    lawyer = person(unique("checkin-lawyer"), "volunteer")
    assert lawyer.call("PUT", "/api/me/profile", {"skills": ["legal"], "languages": ["en"], "countries": ["IR"],
                                                  "availability_hours": 10, "max_active_matches": 3}).status_code == 200
    moderator = appoint(person(unique("checkin-mod"), "activist"), "moderator").sign_in_again()
    assert moderator.call("POST", f"/api/moderation/accounts/{lawyer.account['id']}/verify").status_code == 200
    lawyer.number = a_number()
    said(platform, lawyer.number, "LINK " + lawyer.call("POST", "/api/me/channels/sms/code").json()["code"],
         "now linked")
    return lawyer


def test_a_coerced_sign_in_with_the_duress_password_shows_an_empty_account_and_tells_the_helper_at_once(
        platform, person, appoint):
    lawyer = linked_helper(platform, person, appoint)
    family = person(unique("checkin-family"), "activist")
    need = family.call("POST", "/api/requests", {
        "title": "A lawyer for my brother", "body": "Held since March.", "skills": ["legal"], "languages": ["en"],
        "country": "IR", "urgency": "high", "visibility": "private"}).json()["id"]
    [proposal] = wait_until(lambda: matches(lawyer, need, "proposed"), message="the proposal")
    assert lawyer.call("POST", f"/api/matches/{proposal['id']}/accept").status_code == 200
    assert family.call("POST", f"/api/matches/{proposal['id']}/confirm").status_code == 200
    bad = family.call("PUT", "/api/me/check-in", {"interval_hours": 0, "helpers": [proposal["id"]], "message": "x"})
    assert bad.status_code == 400 and "interval_hours" in bad.text
    set_up = family.call("PUT", "/api/me/check-in", {
        "interval_hours": 48, "helpers": [proposal["id"]], "message": "They took me. Call my sister Leila.",
        "duress_password": "a password only for them"})
    assert set_up.status_code == 200 and set_up.json()["enabled"] and "duress" not in set_up.text
    texts_before = len(PROVIDER.to(lawyer.number))

    # The attack: someone forces the activist to sign in, and they give the duress password.
    forced = requests.post(platform.url + "/api/sessions", json={"handle": family.account["handle"],
                                                                 "password": "a password only for them"}, timeout=20)
    assert forced.status_code == 200
    coercer = {"Authorization": f"Bearer {forced.json()['token']}"}
    seen = requests.get(platform.url + "/api/me", headers=coercer, timeout=20).json()
    assert seen["handle"] == family.account["handle"] and seen["role"] == "activist"
    assert requests.get(platform.url + "/api/matches", headers=coercer, timeout=20).json()["items"] == []
    assert requests.get(platform.url + "/api/me/requests", headers=coercer, timeout=20).json()["items"] == []
    assert requests.get(platform.url + f"/api/requests/{need}", headers=coercer, timeout=20).status_code == 404
    assert requests.get(platform.url + "/api/me/check-in", headers=coercer, timeout=20).json() == {"enabled": False}
    assert requests.get(platform.url + f"/api/matches/{proposal['id']}/messages", headers=coercer,
                        timeout=20).status_code == 404
    # ... while the helper is told at once, with the message, on the web and by text.
    notified = wait_until(lambda: [n for n in lawyer.call("GET", "/api/notifications").json()["items"]
                                   if n["kind"] == "check_in_missed"], message="the helper told")
    assert notified[0]["message"] == "They took me. Call my sister Leila."
    texted = told(lawyer.number, "did not check in", texts_before, "the helper texted")
    assert texted.endswith("Their message: They took me. Call my sister Leila.")
    # A "check-in" the coercer makes from the empty account changes nothing.
    assert requests.post(platform.url + "/api/me/check-in/now", headers=coercer, timeout=20).status_code == 200
    assert family.call("GET", "/api/me/check-in").json()["missed_at"]

    # Free again, the activist checks in: the helper is told they are back.
    assert family.call("POST", "/api/me/check-in/now").status_code == 200
    wait_until(lambda: [n for n in lawyer.call("GET", "/api/notifications").json()["items"]
                        if n["kind"] == "check_in_resumed"], message="the helper told of the return")
    assert not family.call("GET", "/api/me/check-in").json()["missed_at"]


# ---- needs and answers by email

INTAKE = "act@allies.example"


@pytest.fixture(scope="module")
def sink(tmp_path_factory):
    running = SmtpSink(tmp_path_factory.mktemp("reach-mail"), port=SMTP_PORT).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def relay(platform, tmp_path_factory):
    """The project's inbound mail relay (services/mailin), started and stopped here by its pid."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("mailin") / "mailin.log", "ab")
    process = start_process([sys.executable, "-m", "services.mailin.relay"], stdout=subprocess.PIPE, stderr=log,
                            cwd=str(ROOT), env=dict(os.environ, PYTHONPATH=str(ROOT), MAIL_INTAKE_PORT=str(port),
                                                    MAIL_INTAKE_TOKEN=platform.config["MAIL_INTAKE_TOKEN"],
                                                    MAIL_INTAKE_ADDRESS=INTAKE,
                                                    MAIL_INTAKE_URL=platform.url + "/api/intake/email"))
    assert process.stdout.readline().decode().startswith("ready")
    yield port
    os.kill(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    process.stdout.close()


def write(relay_port, sender, to, subject, body=""):
    """An email, handed to the relay over SMTP as any mail server would."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content(body or "\n")
    with smtplib.SMTP("127.0.0.1", relay_port, timeout=30) as client:
        client.send_message(message)


def mailed(sink, address, expect, after=0, what=None):
    """(Reply-To, text) of the first email to `address`, from its `after`-th on, holding `expect`
    (at least once, as texts: a position is not looked at)."""
    def found():
        for message in sink.to(address)[after:]:
            if expect in message.get_content():
                return message["Reply-To"], message.get_content().strip()
        return None
    return wait_until(found, timeout=45, message=what or f"an email with {expect!r}")


def wrote(sink, relay_port, sender, to, subject, body, expect):
    """`sender` writes to `to`; the answer that holds `expect`."""
    before = len(sink.to(sender))
    write(relay_port, sender, to, subject, body)
    return mailed(sink, sender, expect, before, f"the answer to {subject!r}")


def test_a_volunteer_and_an_activist_go_the_whole_way_by_email_and_a_forged_sender_does_nothing(
        platform, person, appoint, sink, relay):
    helper, family = f"lawyer-{uuid.uuid4().hex[:8]}@example.org", f"family-{uuid.uuid4().hex[:8]}@example.net"
    lawyer = person(unique("mail-lawyer"), "volunteer")
    assert lawyer.call("PUT", "/api/me/profile", {"skills": ["legal"], "languages": ["en"], "countries": ["IR"],
                                                  "availability_hours": 10, "max_active_matches": 3}).status_code == 200
    moderator = appoint(person(unique("mail-mod"), "activist"), "moderator").sign_in_again()
    assert moderator.call("POST", f"/api/moderation/accounts/{lawyer.account['id']}/verify").status_code == 200

    # A first email, to the plain address: the help, from the writer's own answering address.
    code = lawyer.call("POST", "/api/me/channels/sms/code").json()["code"]
    answer_at, first = wrote(sink, relay, helper, INTAKE, f"LINK {code}", "", "Nothing was done")
    assert "NEED" in first and re.fullmatch(r"act\+[a-z2-7]{16}@allies\.example", answer_at)
    assert "This address is now linked" in wrote(sink, relay, helper, answer_at, f"LINK {code}", "",
                                                 lawyer.account["handle"])[1]

    family_at, _ = wrote(sink, relay, family, INTAKE, "NEED 2 IR a lawyer for my brother's appeal", "", "Nothing was done")
    before = len(sink.to(helper))
    wrote(sink, relay, family, family_at, "Re: your message", "NEED 2 IR a lawyer for my brother's appeal\n\n> quoted",
          "Your need is posted")
    reply_to, proposal = mailed(sink, helper, "A need fits your skills", before, "the proposal")
    ref = ref_in(proposal)
    assert reply_to == answer_at and "brother" not in proposal
    before = len(sink.to(family))
    wrote(sink, relay, helper, answer_at, "Re: A message for you", f"YES {ref}\n\nOn Monday, someone wrote:\n> A need",
          "will decide")
    mailed(sink, family, f"CONFIRM {ref}", before, "the offer")

    # The attack: someone writes "from" the family's address. Without its answering address,
    # nothing is done (the help goes to the real owner's mailbox, who did not ask for it).
    wrote(sink, relay, family, INTAKE, f"CONFIRM {ref}", "", "Nothing was done")
    wrote(sink, relay, family, answer_at, f"CONFIRM {ref}", "", "Nothing was done")  # another's answering address
    [offer] = [m for m in lawyer.call("GET", "/api/matches").json()["items"] if short_ref(m["id"]) == ref]
    assert offer["status"] == "accepted"  # not confirmed by a forged sender

    _, offers = wrote(sink, relay, family, family_at, "OFFERS", "", f"{ref}: {lawyer.account['handle']}")
    before = len(sink.to(helper))
    wrote(sink, relay, family, family_at, f"CONFIRM {ref}", "", f"You chose {lawyer.account['handle']}")
    mailed(sink, helper, f"chosen to help ({ref})", before, "chosen")
    before = len(sink.to(family))
    wrote(sink, relay, helper, answer_at, f"SAY {ref}", "I can take the case. When is the hearing?", f"Sent to {ref}.")
    assert mailed(sink, family, "A new line", before)[1] == f"A new line in {ref}. READ {ref} to read it."
    assert wrote(sink, relay, family, family_at, f"READ {ref}", "", "They:")[1] == (
        "They: I can take the case. When is the hearing?")
    # The addresses are in no store in clear, sealed and keyed only.
    client = mongo.connect(platform.config)
    try:
        prefix = platform.config["DB_PREFIX"]
        everything = " ".join(str(list(client[f"{prefix}_{name}"][collection].find()))
                              for name in ("requests", "profiles", "matching", "search", "notify")
                              for collection in client[f"{prefix}_{name}"].list_collection_names())
    finally:
        client.close()
    assert helper not in everything and family not in everything
