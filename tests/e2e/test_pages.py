"""The web pages over plain HTTP, as a browser without JavaScript uses them: headers, cookies,
CSRF, sign-in redirects, languages, errors next to fields, and no reference to any other host.
(The whole journey in a real browser is tests/browser.)"""
import re
import uuid
from urllib.parse import urlparse

import pytest
import requests

from services.gateway.web.i18n import LANGUAGES
from tests.e2e.web import WebVisitor, field_errors, references, visible_text
from tests.support import operator_command, wait_until

PAGE_BUDGET = 100 * 1024  # a page with its assets (DESIGN: usable on a slow, filtered connection)


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def people(platform):
    """An activist with a public need, a volunteer who can help with it, a moderator and an analyst."""
    from nameko.standalone.rpc import ClusterRpcProxy

    activist = WebVisitor(platform).sign_up(unique("family"), "activist")
    volunteer = WebVisitor(platform).sign_up(unique("press"), "volunteer")
    assert volunteer.post("/me/profile", {"skills": ["press", "writing"], "languages": ["fa", "en"],
                                          "countries": ["IR"], "bio": "Reporter on prisoners' rights.",
                                          "availability_hours": "6", "max_active_matches": "3"}).status_code == 200
    response = activist.post("/requests/new", {
        "title": "An op-ed about my father's hunger strike", "body": "We need a journalist to help publish "
        "an op-ed about a hunger strike in Evin prison, in English and Persian.", "skills": ["press"],
        "languages": ["fa"], "country": "IR", "urgency": "high", "visibility": "public"})
    assert "done=posted" in response.url
    request_id = urlparse(response.url).path.rsplit("/", 1)[1]
    staff = {}
    for role in ("moderator", "analyst"):
        visitor = WebVisitor(platform).sign_up(unique(role[:4]), "volunteer")
        with ClusterRpcProxy(platform.config, timeout=20) as rpc:
            rpc.profiles.grant_role(operator_command({"handle": visitor.handle, "role": role}, platform.config))
        staff[role] = visitor.sign_in(visitor.handle)  # a new session carries the new role
    return {"activist": activist, "volunteer": volunteer, "request_id": request_id, **staff}


def pages_of(people):
    request_path = f"/requests/{people['request_id']}"
    return {
        None: ["/", "/signup", "/login", "/search", "/volunteers", request_path],
        "activist": ["/requests/new", "/matches", "/notifications", "/me/profile", "/me/check-in", request_path,
                     "/search"],
        "volunteer": ["/matches", "/notifications", "/me/profile", request_path, "/volunteers"],
        "moderator": ["/moderation", "/notifications", "/me/profile"],
        "analyst": ["/analytics", "/me/profile"],
    }


def test_every_page_is_served_safely_and_references_no_other_host(platform, people):
    stylesheet = WebVisitor(platform).get("/static/style.css")
    assert stylesheet.status_code == 200 and stylesheet.headers["Content-Type"].startswith("text/css")
    assert "url(" not in stylesheet.text and "@import" not in stylesheet.text  # no font or image from anywhere
    for role, paths in pages_of(people).items():
        visitor = people[role] if role else WebVisitor(platform)
        for path in paths:
            for lang in LANGUAGES:
                response = visitor.get(path + ("&" if "?" in path else "?") + f"lang={lang}")
                assert response.status_code == 200, (role, path, lang, response.text[-1500:])
                html = response.text
                for url in references(html):
                    parsed = urlparse(url)
                    # Only this host: relative URLs, no scheme, no network location, no data: or javascript:.
                    assert not parsed.scheme and not parsed.netloc and not url.startswith("//"), (path, url)
                # One script, this site's own: the quick exit's Escape key (static/exit.js).
                assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/exit.js" defer>']
                assert " style=" not in html and "<img" not in html
                assert '<a class="quick-exit" id="quick-exit" href="/leave"' in html
                headers = response.headers
                assert headers["Cache-Control"] == "no-store"
                csp = headers["Content-Security-Policy"]
                assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
                assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Content-Type-Options"] == "nosniff"
                assert headers["X-Frame-Options"] == "DENY"
                assert f'<html lang="{lang}" dir="{LANGUAGES[lang]}">' in html
                assert len(response.content) + len(stylesheet.content) < PAGE_BUDGET, (path, len(response.content))


def test_no_page_shows_an_english_sentence_to_a_persian_reader(platform, people):
    """What a template forgot to mark for translation shows up as Latin words on a Persian page.
    Allowed: what people wrote (handles, the request), and names that are not translated."""
    allowed = {"CSV", "Tor", "Ctrl", "English"}
    for role, paths in pages_of(people).items():
        visitor = people[role] if role else WebVisitor(platform)
        for path in paths:
            text = visible_text(visitor.get(path, params={"lang": "fa"}).text)
            text = re.sub(r"An op-ed about my father's hunger strike|We need a journalist[^<]*Persian\.", " ", text)
            text = text.replace("Reporter on prisoners' rights.", " ")
            words = {w for w in re.findall(r"[A-Za-z][A-Za-z']{2,}", text)} - allowed
            words = {w for w in words if not any(w in people[r].handle for r in people if hasattr(people[r], "handle"))}
            assert not words, (role, path, sorted(words))


def test_a_page_for_signed_in_people_sends_others_to_sign_in_and_back(platform, people):
    visitor = WebVisitor(platform)
    response = visitor.get("/matches", allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"] == "/login?next=%2Fmatches"
    back = visitor.post("/login", {"handle": people["volunteer"].handle, "password": "correct horse battery staple",
                                   "next": "/matches"})
    assert urlparse(back.url).path == "/matches"
    # Only a path of this site is a place to go back to: no open redirect.
    elsewhere = WebVisitor(platform).post("/login", {"handle": people["volunteer"].handle,
                                                     "password": "correct horse battery staple",
                                                     "next": "//evil.example/phish"}, follow=False)
    assert elsewhere.headers["Location"].startswith("/?")
    # A tab (or a newline) that browsers and werkzeug drop would make "/\t/evil.example" another site.
    for target in ("/\t/evil.example", "/\n/evil.example"):
        tabbed = WebVisitor(platform).post("/login", {"handle": people["volunteer"].handle,
                                                      "password": "correct horse battery staple",
                                                      "next": target}, follow=False)
        assert tabbed.status_code == 303 and tabbed.headers["Location"].startswith("/?done=signed_in"), target
    # A page for another role says so, and changes nothing.
    assert people["volunteer"].get("/moderation").status_code == 403
    assert people["activist"].get("/analytics").status_code == 403


def test_session_and_csrf_cookies_are_strict_and_a_form_without_its_token_changes_nothing(platform, people):
    visitor = WebVisitor(platform)
    handle = unique("nocsrf")
    forged = visitor.http.post(platform.url + "/signup", data={"handle": handle, "password": "x" * 12,
                                                               "password2": "x" * 12, "role": "activist",
                                                               "csrf": "guessed"}, timeout=30)
    assert forged.status_code == 403
    assert WebVisitor(platform).post("/login", {"handle": handle, "password": "x" * 12}).status_code == 401
    response = WebVisitor(platform).post("/signup", {"handle": handle, "password": "x" * 12, "password2": "x" * 12,
                                                     "role": "activist"}, follow=False)
    session = next(c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Secure" not in session
    assert "Max-Age" not in session and "Expires" not in session  # ends with the browser
    assert "Strict-Transport-Security" not in response.headers  # meaningless over plain HTTP
    # Behind the TLS-ending Ingress, the cookies are Secure and named __Host- (a browser takes them
    # only from HTTPS, for this host), and browsers are told to use nothing but HTTPS.
    tls = {"X-Forwarded-Proto": "https"}
    first = requests.get(platform.url + "/login", headers=tls, timeout=30)
    assert first.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    csrf = first.cookies.get("__Host-csrf")
    over_tls = requests.post(platform.url + "/login", data={"handle": handle, "password": "x" * 12, "csrf": csrf},
                             cookies={"__Host-csrf": csrf}, headers=tls, allow_redirects=False, timeout=30)
    set_cookies = over_tls.raw.headers.getlist("Set-Cookie")
    assert over_tls.status_code == 303 and {c.split("=")[0] for c in set_cookies} == {"__Host-session", "__Host-csrf"}
    assert all("Secure" in c and "Path=/" in c and "Domain" not in c for c in set_cookies)
    # A csrf cookie planted over plain HTTP (no prefix) is not read over TLS: the form changes nothing.
    planted = requests.post(platform.url + "/login", data={"handle": handle, "password": "x" * 12, "csrf": "planted"},
                            cookies={"csrf": "planted"}, headers=tls, allow_redirects=False, timeout=30)
    assert planted.status_code == 403
    # Signing out ends the session on the server, not only in the browser.
    signed_in = WebVisitor(platform).sign_in(handle, "x" * 12)
    token = signed_in.http.cookies.get("session")
    signed_in.post("/logout")
    stolen = WebVisitor(platform)
    stolen.http.cookies.set("session", token)
    assert stolen.get("/matches", allow_redirects=False).status_code == 303


def test_a_password_changed_on_the_profile_page_signs_out_every_other_browser(platform):
    handle = unique("pw")
    here = WebVisitor(platform, lang="fa").sign_up(handle, "activist")
    elsewhere = WebVisitor(platform).sign_in(handle)
    wrong = here.post("/me/password", {"current_password": "not it", "new_password": "a new horse battery",
                                       "new_password2": "a new horse battery"})
    assert wrong.status_code == 401 and field_errors(wrong.text) == {"current_password": "گذرواژه نادرست است."}
    differ = here.post("/me/password", {"current_password": "correct horse battery staple",
                                        "new_password": "a new horse battery", "new_password2": "another"})
    assert differ.status_code == 400 and "new_password2" in field_errors(differ.text)
    changed = here.post("/me/password", {"current_password": "correct horse battery staple",
                                         "new_password": "a new horse battery", "new_password2": "a new horse battery"})
    assert changed.status_code == 200 and "done=password_changed" in changed.url
    assert here.get("/me/profile", allow_redirects=False).status_code == 200  # this browser stays signed in
    assert elsewhere.get("/me/profile", allow_redirects=False).status_code == 303  # the other is out
    WebVisitor(platform).sign_in(handle, "a new horse battery")


def test_bad_input_is_named_next_to_its_field_in_the_readers_language_and_changes_nothing(platform, people):
    activist = people["activist"]
    before = activist.get("/matches").text.count('class="card"')
    response = activist.post("/requests/new?lang=fa", {"title": "x", "body": "short", "country": "", "urgency": "normal",
                                                       "visibility": "public"})
    assert response.status_code == 400
    errors = field_errors(response.text)
    assert set(errors) >= {"title", "body", "skills", "languages", "country"}
    assert errors["title"] == "عنوانی ۵ تا ۲۰۰ نویسه‌ای بنویسید."
    assert re.search(r'id="title"[^>]*aria-describedby="[^"]*title-error"[^>]*aria-invalid="true"', response.text)
    assert 'value="x"' in response.text  # what was typed stays in the form
    assert activist.get("/matches").text.count('class="card"') == before
    # Text that may identify someone is a step of its own: warned, then published only when confirmed.
    need = {"title": "Letters for a prisoner", "body": "Write to his mother at +98 912 345 6789 to send letters.",
            "skills": ["writing"], "languages": ["fa"], "country": "IR", "urgency": "normal", "visibility": "public"}
    warned = activist.post("/requests/new", need)
    assert warned.status_code == 422 and 'name="confirm_public"' in warned.text
    assert activist.get("/matches").text.count('class="card"') == before
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', warned.text).group(1)
    confirmed = activist.post("/requests/new", dict(need, confirm_public="on", idempotency_key=key))
    assert "done=posted" in confirmed.url
    # The form sent twice (a double click, a resend after a timeout) posts the need once.
    again = activist.post("/requests/new", dict(need, confirm_public="on", idempotency_key=key))
    assert again.url == confirmed.url


def test_the_language_is_chosen_once_and_remembered(platform):
    visitor = WebVisitor(platform, lang="ar")
    page = visitor.get("/search")
    assert '<html lang="ar" dir="rtl">' in page.text and page.headers["Content-Language"] == "ar"
    assert "ابحث عن الطلبات" in page.text
    assert '<html lang="en" dir="ltr">' in WebVisitor(platform).get("/search").text
    assert '<html lang="zh" dir="ltr">' in visitor.get("/search?lang=zh").text
    assert '<html lang="zh" dir="ltr">' in visitor.get("/").text
    assert '<html lang="zh" dir="ltr">' in visitor.get("/?lang=xx").text  # an unknown language changes nothing


def test_a_need_found_offered_confirmed_and_talked_about_through_the_pages(platform, people):
    """The trust rules hold on the pages: the author sees who said yes, chooses, and only then do
    the two talk; nobody else reads the conversation."""
    activist, volunteer = people["activist"], people["volunteer"]
    request_id = people["request_id"]
    wait_until(lambda: request_id in volunteer.get("/search", params={"q": "hunger strike"}).text, timeout=30,
               message="the need is searchable")
    assert "done=offered" in volunteer.post(f"/requests/{request_id}/offer").url
    page = activist.get("/matches").text
    assert volunteer.handle in page and "Reporter on prisoners" in page
    match_id = re.search(r'/matches/([0-9a-f]+)/confirm', page).group(1)
    assert volunteer.post(f"/matches/{match_id}/confirm").status_code == 404  # the author's choice only
    assert "done=confirmed" in activist.post(f"/matches/{match_id}/confirm").url
    assert "done=sent" in activist.post(f"/matches/{match_id}/messages", {"text": "Thank you. Can we use Signal?"}).url
    assert "Thank you. Can we use Signal?" in volunteer.get(f"/matches/{match_id}").text
    stranger = WebVisitor(platform).sign_up(unique("agent"), "volunteer")
    assert stranger.get(f"/matches/{match_id}").status_code == 404
    assert stranger.post(f"/matches/{match_id}/messages", {"text": "hello"}).status_code in (403, 404, 409)
    assert "Can we use Signal" not in stranger.get(f"/matches/{match_id}").text
    # The author ends the helper's access from the conversation: the helper reads it no more.
    assert f'action="/matches/{match_id}/end"' in activist.get(f"/matches/{match_id}").text
    assert f'action="/matches/{match_id}/end"' not in volunteer.get(f"/matches/{match_id}").text
    assert volunteer.post(f"/matches/{match_id}/end").status_code == 404  # the author's choice only
    assert "done=ended" in activist.post(f"/matches/{match_id}/end").url
    wait_until(lambda: "Can we use Signal" not in volunteer.get(f"/matches/{match_id}").text, timeout=30,
               message="the helper to lose the conversation")
    assert f'action="/matches/{match_id}/messages"' not in volunteer.get(f"/matches/{match_id}").text
    assert "Can we use Signal" in activist.get(f"/matches/{match_id}").text  # the author keeps what was said


def test_an_author_invites_a_volunteer_found_in_the_directory(platform, people):
    activist = people["activist"]
    writer = WebVisitor(platform).sign_up(unique("poet"), "volunteer")
    writer.post("/me/profile", {"skills": ["writing", "art"], "languages": ["fa"], "bio": "Songwriter."})
    listed = f"<bdi>{writer.handle}</bdi>"
    directory = wait_until(lambda: (lambda html: listed in html and html)(
        activist.get("/volunteers", params={"q": writer.handle}).text), timeout=30, message="listed")
    card = directory[directory.index(listed):]
    form = re.search(r'<form method="post" action="/volunteers/invite".*?</form>', card, re.S)
    assert form, card[:3000]
    form = form.group(0)
    handle = re.search(r'name="handle" value="([^"]*)"', form).group(1)
    request_id = re.search(r'<option value="([0-9a-f]+)"', form).group(1)
    assert handle == writer.handle
    invited = activist.post("/volunteers/invite", {"handle": handle, "request_id": request_id})
    assert "done=invited" in invited.url
    assert "/matches/" in writer.get("/matches").text  # it reaches them as a proposal
