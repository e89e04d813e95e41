"""A person using the web pages with a plain HTTP client: cookies kept, forms posted with their
CSRF token, as a browser without JavaScript does."""
import re
from html.parser import HTMLParser

import requests

PASSWORD = "correct horse battery staple"


class WebVisitor:
    def __init__(self, platform, lang=None):
        self.base = platform.url
        self.http = requests.Session()
        self.handle = None
        self.get("/" + (f"?lang={lang}" if lang else ""))  # the CSRF (and language) cookies

    def get(self, path, **kwargs):
        return self.http.get(self.base + path, timeout=30, **kwargs)

    def post(self, path, data=None, follow=True, **kwargs):
        form = dict(data or {}, csrf=self.http.cookies.get("csrf", ""))
        return self.http.post(self.base + path, data=form, timeout=30, allow_redirects=follow, **kwargs)

    def sign_up(self, handle, role):
        response = self.post("/signup", {"handle": handle, "password": PASSWORD, "password2": PASSWORD, "role": role})
        assert response.status_code == 200 and "done=signed_up" in response.url, response.text[-2000:]
        self.handle = handle
        return self

    def sign_in(self, handle, password=PASSWORD):
        response = self.post("/login", {"handle": handle, "password": password})
        assert response.status_code == 200 and "done=signed_in" in response.url
        self.handle = handle
        return self


def field_errors(html):
    """{field: message} shown next to the fields of a page."""
    return dict(re.findall(r'class="field-error" id="([a-z_0-9]+)-error">([^<]*)<', html))


class _Refs(HTMLParser):
    """Every URL a page makes the browser fetch or offers to follow."""

    ATTRS = {"href", "src", "action", "srcset", "data", "poster", "formaction", "xlink:href"}

    def __init__(self):
        super().__init__()
        self.urls = []
        self.text = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "title"):
            self._skip += 1
        self.urls += [value for name, value in attrs if name in self.ATTRS and value]
        self.urls += re.findall(r"url\(([^)]*)\)", dict(attrs).get("style") or "")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "title"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def references(html):
    parser = _Refs()
    parser.feed(html)
    return parser.urls


def visible_text(html):
    parser = _Refs()
    parser.feed(html)
    return " ".join(parser.text)
