"""HTTP plumbing for the gateway: JSON in and out, the one error format, bearer tokens.

`api` wraps every route so that handlers return plain data (or `(status, data)`) and raise
`DomainError`s; this module turns both into responses.
"""
import functools
import hashlib
import json
import logging
import socket
import uuid

import eventlet
from nameko.exceptions import RemoteError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer
from werkzeug.wrappers import Response

from services.common.errors import DomainError, Unauthorized, ValidationFailed
from services.common.outage import is_outage, is_remote_outage
from services.common.trust import keyring as trust

log = logging.getLogger(__name__)


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


MAX_BODY_BYTES = 64 * 1024


class NoDelayWebServer(WebServer):
    """nameko's web server with Nagle's algorithm off, and the security headers on every response.

    eventlet writes a response's headers and body in separate sends; with Nagle on, the body
    waits for the client's delayed ACK of the headers (40 ms on Linux) on every kept-alive
    connection. Measured on a 19 KB search response: 64 ms with Nagle, 26 ms on a fresh socket.
    Accepted sockets inherit TCP_NODELAY from the listening one on Linux.
    """

    def get_wsgi_server(self, sock, wsgi_app, *args, **kwargs):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server = super().get_wsgi_server(sock, wsgi_app, *args, **kwargs)
        # A client that sends nothing, or trickles a request in, must not hold a connection (and a
        # green thread) forever: every read and write gives up after HTTP_TIMEOUT_S (nameko sets
        # it on each accepted socket), and so does waiting for a kept-alive connection's next request.
        timeout = float(self.container.config.get("HTTP_TIMEOUT_S") or 30)
        server.socket_timeout = timeout
        server.keepalive = timeout
        # eventlet refuses a request line over 8 KB (414). Every query the document allows fits in
        # far less as text, but percent-encoded (up to 12 bytes a character) a 1,000-character
        # cursor does not: the limit matches the body's instead, so what is valid is served.
        server.url_length_limit = MAX_BODY_BYTES
        return server

    def get_wsgi_app(self):
        return with_security_headers(json_errors_for_api(super().get_wsgi_app()))


# On every response, whatever produced it (a route, werkzeug's own 404, an error): no sniffing a
# type, no referrer leaking a request's URL to another site, no framing (clickjacking), and no
# script, style or fetch from anywhere unless a page says otherwise (DESIGN, "Web pages").
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def json_errors_for_api(app):
    """WSGI middleware: a path under /api that no route serves (404) or a method it does not take
    (405) answers in the contract's JSON error format, not werkzeug's HTML page."""
    def wrapped(environ, start_response):
        if not environ.get("PATH_INFO", "").startswith("/api/"):
            return app(environ, start_response)
        replaced = {}

        def start(status, headers, exc_info=None):
            content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "")
            if status[:3] in ("404", "405") and "json" not in content_type:
                replaced.update(status=status, allow=[(k, v) for k, v in headers if k.lower() == "allow"])
                return lambda data: None  # werkzeug's HTML body is dropped below
            return start_response(status, headers, exc_info)

        body = app(environ, start)
        if not replaced:
            return body
        if hasattr(body, "close"):
            body.close()
        code, message = (("not_found", "There is no such path in the API.") if replaced["status"][:3] == "404"
                         else ("method_not_allowed", "This path does not take that method."))
        payload = json.dumps({"error": {"code": code, "message": message}}).encode()
        start_response(replaced["status"], [("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
                                            ("Cache-Control", "no-store")] + replaced["allow"])
        return [payload]
    return wrapped


# Over TLS (directly or behind the Ingress that ends it), browsers are told to use nothing else for
# two years, subdomains included: a network observer cannot downgrade a later visit to plain HTTP.
HSTS = {"Strict-Transport-Security": "max-age=63072000; includeSubDomains"}


def over_tls(environ):
    return (environ.get("wsgi.url_scheme") == "https"
            or environ.get("HTTP_X_FORWARDED_PROTO", "").lower() == "https")


def with_security_headers(app):
    """WSGI middleware adding SECURITY_HEADERS (and HSTS over TLS) to every response that does not
    set its own."""
    def wrapped(environ, start_response):
        def start(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            extra = {**SECURITY_HEADERS, **HSTS} if over_tls(environ) else SECURITY_HEADERS
            headers = list(headers) + [(k, v) for k, v in extra.items() if k.lower() not in present]
            return start_response(status, headers, exc_info)
        return app(environ, start)
    return wrapped


class HttpEntrypoint(HttpRequestHandler):
    server = NoDelayWebServer()


# The gateway's route decorator: `@http("GET", "/api/...")`, as nameko's, on the server above.
http = HttpEntrypoint.decorator


def json_response(status, data, headers=None):
    body = "" if data is None else json.dumps(data, ensure_ascii=False)
    response = Response(body, status=status, mimetype="application/json", headers=headers)
    # Nothing a person sees here should linger in a shared or seized device's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def read_json(request):
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    raw = request.get_data(cache=False, as_text=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ValidationFailed("The body is not valid JSON.", {"_body": "Not valid JSON."}) from None
    except RecursionError:  # '[' * 60000: the parser's own stack gives out
        raise ValidationFailed("The body is nested too deeply.", {"_body": f"At most {MAX_DEPTH} levels."}) from None
    if _depth(body) > MAX_DEPTH:
        raise ValidationFailed("The body is nested too deeply.", {"_body": f"At most {MAX_DEPTH} levels."})
    return body


MAX_DEPTH = 16  # no body of the API goes deeper than 3; nothing legitimate comes near this


def _depth(value):
    """How deeply `value` nests lists and objects, without recursion (it may be deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def bearer_token(request, required=True):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if required:
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <token>'.")
    return None


class Sealed:
    """An argument that `call` seals to the service it calls (a password, an email, a text): what
    must not cross the bus in clear, with the service named once, by the call."""

    def __init__(self, data):
        self.data = data


def call(proxy_method, *args, timeout=10):
    """An RPC call that gives up after `timeout` seconds with a 503 instead of hanging. Each
    `Sealed(data)` argument travels sealed to the service called. A reply sealed to the gateway is
    opened here, and only if the service called sealed it for this very call
    (services/common/trust/keyring.py: a fresh value travels with each call as context data).
    `proxy_method` may also be an asynchronous call's `result` (health): no sealed reply opens then."""
    context = getattr(proxy_method, "worker_ctx", None)
    service = getattr(proxy_method, "service_name", "a service")
    args = [sealed(proxy_method, arg.data) if isinstance(arg, Sealed) else arg for arg in args]
    if context is not None:  # the caller's viewer, signed for this call only (trust.Keyring.for_call)
        args = [trust.keyring().for_call(arg, service, proxy_method.method_name) for arg in args]
    reply_call = trust.new_reply_call() if context is not None else None
    if context is not None:
        context.data[trust.REPLY_CALL] = reply_call
    try:
        with eventlet.Timeout(timeout):
            result = proxy_method(*args)
    except eventlet.Timeout:
        raise ServiceUnavailable("A service did not answer in time; try again shortly.") from None
    except RemoteError as exc:
        # The service is up but a server behind it is not (its database restarting): the person
        # may try again, and the operator needs one line, not a traceback per request.
        if not is_remote_outage(exc.exc_type):
            raise
        log.warning("%s: a server behind it is unreachable (%s)", service, exc.exc_type)
        raise ServiceUnavailable("A service is briefly unavailable; try again shortly.") from None
    except Exception as exc:
        if not is_outage(exc):  # the broker itself unreachable
            raise
        log.warning("the message broker is unreachable (%s)", type(exc).__name__)
        raise ServiceUnavailable("A service is briefly unavailable; try again shortly.") from None
    finally:
        if context is not None:
            context.data.pop(trust.REPLY_CALL, None)
    if isinstance(result, dict) and len(result) == 1 and set(result) & {"sealed", "sealed_reply"}:
        try:
            if reply_call is None:
                raise trust.UnboundReply(f"{service}: a sealed reply to a call that was not bound")
            return trust.keyring().open_reply(service, proxy_method.method_name, reply_call, result)
        except trust.UnboundReply as exc:
            # Not this service's answer to this call: a copied reply, or a pod that should not
            # seal at all. Nothing of it reaches the client.
            log.error("refused a sealed reply: %s", exc)
            raise ServiceUnavailable("A service gave an answer that cannot be trusted; try again shortly.") from None
    return result


IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_SCHEMA = {"type": "string", "maxLength": 255}


def idempotency_key(value):
    """The client's `Idempotency-Key` (a header, or a form's hidden field) as services get it:
    its SHA-256, so what a client chose never travels or is stored as such. None when absent or
    blank; longer than 255 characters is refused, naming the header."""
    if value is None or not value.strip():
        return None
    if len(value) > 255:
        raise ValidationFailed("The idempotency key is too long.",
                               {IDEMPOTENCY_HEADER: "At most 255 characters (a UUID, say)."})
    return hashlib.sha256(value.encode()).hexdigest()


def call_key(value):
    """The key a creating RPC carries: the client's (`idempotency_key`), or one made for this call
    when the client sent none. Either way the call message the broker delivers again after a
    restart lost its reply (services/common/bus/rpc.py) finds what the first delivery stored, instead
    of storing it twice; only a client's own retry needs the client's key."""
    return idempotency_key(value) or hashlib.sha256(uuid.uuid4().bytes).hexdigest()


def sealed(proxy_method, data):
    """`data` sealed to the service `proxy_method` belongs to: only that service can open it."""
    return trust.keyring().seal(proxy_method.service_name, data)


def api(handler):
    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        try:
            bad = {name: "Must not contain a NUL character." for name, value in kwargs.items() if "\x00" in str(value)}
            if bad:  # an id with a NUL names nothing, and the store could not even look it up
                raise ValidationFailed("Some fields are not valid.", bad)
            result = handler(self, request, *args, **kwargs)
        except DomainError as exc:
            return json_response(exc.status, exc.to_dict())
        except Exception:
            # Log the failure, not the request: bodies and headers may hold what must not leak.
            log.exception("unhandled error in %s", handler.__name__)
            return json_response(500, {"error": {"code": "internal", "message": "Something went wrong."}})
        status, data = result if isinstance(result, tuple) else (200, result)
        return json_response(status, data)

    return wrapper
