"""How a web page is served: language, session cookie, CSRF, rendering, and the errors as pages.

Every page route is `@http(method, path)` then `@page(...)`; the handler gets the HTTP request and
a `Page` (who is signed in, in which language, the form) and returns `page.render(...)` or
`page.redirect(...)`. Pages are plain HTML forms: POST, then a redirect to a GET (no JavaScript).

The session is the same token the API hands out (profiles issues and expires it), kept in an
`HttpOnly`, `SameSite=Strict` cookie, `Secure` behind TLS. Every POST carries a CSRF token equal
to a random cookie of its own (double submit; SameSite=Strict already keeps other sites' forms out).
"""
import functools
import hashlib
import hmac
import logging
import re
import secrets
import unicodedata
from urllib.parse import urlencode, urlsplit

import jinja2
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import redirect as werkzeug_redirect
from werkzeug.wrappers import Response

from services.common.errors import ConfirmationRequired, DomainError, Forbidden, Unauthorized, ValidationFailed

from ..http import MAX_BODY_BYTES, PayloadTooLarge, over_tls
from . import i18n
from .messages import DONE, ERRORS, FIELD_ERRORS

log = logging.getLogger(__name__)

TEMPLATES = jinja2.FileSystemLoader(str(i18n.Path(__file__).parent / "templates"))
SESSION_COOKIE = "session"
CSRF_COOKIE = "csrf"
LANG_COOKIE = "lang"
# Over TLS every cookie is named `__Host-...`: a browser takes such a cookie only when it is Secure,
# for Path=/ and no Domain, so a network observer cannot plant one over plain HTTP (a planted `csrf`
# would otherwise pass the double submit in browsers without schemeful same-site). Over TLS the
# plain names are not read at all.
HOST_PREFIX = "__Host-"


def cookie_name(name, secure):
    return HOST_PREFIX + name if secure else name


# Pages send one script, this site's own (static/exit.js: the quick exit's Escape key; everything
# works without it), no inline script, and take styles and images from this host only. SVG charts
# are inline markup styled by presentation attributes, which the policy does not govern.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")


class CsrfFailed(DomainError):
    status = 403
    code = "csrf"


@functools.lru_cache(maxsize=None)
def environment(lang):
    """One Jinja environment per language: each has its own catalog installed, so concurrent
    pages in different languages never share a translation."""
    env = jinja2.Environment(loader=TEMPLATES, autoescape=True, extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)
    return env


def is_secure(request, config):
    """Whether the visitor reached us over TLS: directly, or through the Ingress that ends TLS
    (its X-Forwarded-Proto can only make a cookie stricter, never looser)."""
    setting = str(config.get("WEB_SECURE_COOKIES", "auto")).lower()
    if setting in ("always", "true"):
        return True
    if setting in ("never", "false"):
        return False
    return over_tls(request.environ)


# How long mirrors and caches may serve a public page without asking again.
PUBLIC_MAX_AGE_S = 60
ONION = re.compile(r"[a-z2-7]{56}\.onion")


def onion_location(address, request):
    """Where this page is as an onion service (Tor Browser offers to go there), or None: no onion
    address configured, a malformed one, or the visitor is on it already."""
    if not address or not ONION.fullmatch(address) or request.host.split(":")[0].endswith(".onion"):
        return None
    return f"http://{address}{request.full_path.rstrip('?')}"


class Page:
    """One page view: who is asking, in which language, and how to answer."""

    def __init__(self, routes, request):
        self.routes = routes
        self.request = request
        self.config = routes.config
        self.secure = is_secure(request, self.config)
        self.lang = i18n.choose(request.args.get("lang"), self.cookie(LANG_COOKIE))
        self.fmt = i18n.Formatter(self.lang)
        self.gettext = i18n.translations(self.lang).gettext
        self.csrf_sent = self.cookie(CSRF_COOKIE)
        self.csrf = self.csrf_sent or secrets.token_urlsafe(32)
        self.token = self.cookie(SESSION_COOKIE)
        self.viewer = None  # signed, for the services
        self.cookies = []   # (name, value, max_age) to set on the response
        self.cacheable = False  # see public()

    def cookie(self, name):
        """A cookie of ours as this scheme names it (cookie_name)."""
        return self.request.cookies.get(cookie_name(name, self.secure))

    # ---- who

    @property
    def me(self):
        """The signed-in person's claims (account_id, role, handle, verified), or None."""
        return self.viewer["claims"] if self.viewer else None

    def sign_in(self, token):
        self.token = token
        self.viewer = self.routes._viewer_of(token)
        self.cookies.append((SESSION_COOKIE, token, None))
        # A new session gets a new CSRF token: one planted before sign-in is worth nothing after.
        self.csrf = secrets.token_urlsafe(32)

    def sign_out(self):
        self.token = self.viewer = None
        self.cookies.append((SESSION_COOKIE, "", 0))

    def forget_everything(self):
        """Every cookie of ours goes, the session first (the quick exit)."""
        self.sign_out()
        self.csrf = self.csrf_sent = None
        self.cookies.append((CSRF_COOKIE, "", 0))

    def public(self):
        """Let mirrors and caches keep this view of a public campaign or need, when the request
        carries no cookie at all (a mirror, a cache, a first visit): it then sets no cookie and
        holds no form token, so that one copy serves everyone (its forms are links to pages of
        their own). Anyone with a session, or any cookie of ours, gets `no-store` as on every page."""
        self.cacheable = self.request.method == "GET" and not self.request.cookies and not self.cookies
        return self.cacheable

    # ---- answers

    def render(self, template, status=200, **context):
        env = environment(self.lang)
        done = self.request.args.get("done")
        html = env.get_template(template).render(
            page=self, me=self.me, lang=self.lang, dir=i18n.LANGUAGES[self.lang], fmt=self.fmt,
            languages=i18n.ENDONYMS, csrf=None if self.cacheable else self.csrf, path=self.request.path,
            cacheable=self.cacheable,
            done=DONE.get(done), errors=context.pop("errors", {}), error=context.pop("error", None),
            **context)
        return self._finish(Response(html, status=status, mimetype="text/html"))

    def redirect(self, location, done=None):
        if done:
            assert done in DONE, done
            location += ("&" if "?" in location else "?") + urlencode({"done": done})
        return self._finish(werkzeug_redirect(location, code=303))

    def error(self, exc):
        """A refusal as a page: in the reader's words, with the status the API would give."""
        code = getattr(exc, "code", "internal")
        status = getattr(exc, "status", 500)
        return self.render("error.html", status=status, error=ERRORS.get(code, ERRORS["internal"]))

    def submit(self, send):
        """A form's call, `send()`: (None, its result); or, when the service refuses what was typed,
        (how to show the form again, None): `{"status": 400, "errors": {field: message}}`, or for
        text that may identify someone `{"status": 422, "warnings": [field, ...]}` (a step of its
        own: the author reads what was found, then edits or confirms with the box that appears)."""
        try:
            return None, send()
        except ValidationFailed as exc:
            return {"status": 400, "errors": self.field_errors(exc)}, None
        except ConfirmationRequired as exc:
            return {"status": 422, "warnings": sorted(exc.fields or {})}, None

    def field_errors(self, exc):
        """A refusal's fields, each with a message in the reader's language: the service's own
        where the catalog has it (or the page is in English), else what the field expects."""
        errors = {}
        for name, message in (exc.fields or {}).items():
            name = name.split(".")[0]  # "skills.0" is about the skills
            translated = self.gettext(message)
            if self.lang != i18n.DEFAULT and translated == message and name in FIELD_ERRORS:
                translated = self.gettext(FIELD_ERRORS[name])
            errors[name] = translated
        return errors

    def _finish(self, response):
        if self.cacheable and response.status_code == 200:
            return self._cached(response)

        def set_cookie(name, value, max_age=None):
            response.set_cookie(cookie_name(name, self.secure), value, max_age=max_age, path="/", httponly=True,
                                samesite="Strict", secure=self.secure)

        if self.request.args.get("lang") in i18n.LANGUAGES:
            set_cookie(LANG_COOKIE, self.lang, max_age=365 * 86400)
        if self.csrf_sent != self.csrf:
            set_cookie(CSRF_COOKIE, self.csrf)
        for name, value, max_age in self.cookies:
            # A session cookie (no max_age) ends with the browser: nothing left on a seized laptop.
            set_cookie(name, value, max_age)
        response.headers["Cache-Control"] = "no-store"
        return self._common(response)

    def _common(self, response):
        response.headers["Content-Security-Policy"] = PAGE_CSP
        response.headers["Content-Language"] = self.lang
        onion = onion_location(self.config.get("ONION_ADDRESS"), self.request)
        if onion:
            response.headers["Onion-Location"] = onion
        return response

    def _cached(self, response):
        """A public page as mirrors and caches may keep it: for a short while (what changes, such as
        a campaign paused, is gone from them within a minute), validated by its ETag, and only for
        visitors whose requests carry no cookie (Vary: Cookie; a signed-in reader never gets it)."""
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE_S}"
        response.headers["Vary"] = "Cookie"
        response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
        response.make_conditional(self.request)  # 304 to an If-None-Match that matches
        return self._common(response)


def page(signed_in=False, roles=None):
    """Wraps a page handler: language, session, CSRF on POST, sign-in and role checks, errors."""
    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(self, request, *args, **kwargs):
            view = Page(self, request)
            try:
                request.max_content_length = MAX_BODY_BYTES
                if request.method == "POST":
                    sent = request.form.get("csrf", "")
                    cookie = view.csrf_sent or ""
                    if not (cookie and hmac.compare_digest(sent.encode(), cookie.encode())):
                        raise CsrfFailed("The form's CSRF token does not match.")
                if view.token:
                    try:
                        view.viewer = self._viewer_of(view.token)
                    except Unauthorized:
                        view.sign_out()  # expired or ended elsewhere
                if signed_in and not view.me:
                    return view.redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))
                if roles and view.me["role"] not in roles:
                    return view.error(Forbidden("Not for this role."))
                return handler(self, request, view, *args, **kwargs)
            except RequestEntityTooLarge:
                return view.error(PayloadTooLarge("The body is too large."))
            except ValidationFailed as exc:
                return view.render("error.html", status=exc.status, error=ERRORS["validation_failed"],
                                   errors=view.field_errors(exc))
            except DomainError as exc:
                return view.error(exc)
            except Exception:
                log.exception("unhandled error in page %s", handler.__name__)
                return view.render("error.html", status=500, error=ERRORS["internal"])
        return wrapper
    return decorate


def safe_next(target):
    """Where to go after signing in: a path on this site only (no open redirect).

    Browsers and werkzeug drop tabs and newlines from a URL and read a backslash as a slash, so
    `/\t/evil.example` becomes `//evil.example`, another site: a target with any whitespace,
    control character or backslash is refused, and what is left must parse with no scheme and no
    host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" or ch == "\\" for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target
