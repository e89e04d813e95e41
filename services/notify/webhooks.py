"""Webhooks for organizations: what is sent (public fields only), how it is signed. No I/O.

A delivery body is `{"event_id", "event_type", "occurred_at", "data"}` where `data` is the
*public projection* of the event below: an allow-list per event type, so a field added to an
event later is never sent until someone adds it here on purpose. Never sent: contact_sealed,
the author or volunteer behind a match, an activist's profile, message metadata, scores and
reasons, bios, and anything at all about a request that is not public or is hidden, or about
its matches (a request that stops being public is announced once as `{"request_id", "public":
false}` to those who heard of it).

Signature: `X-Allies-Signature: sha256=<hex>` is HMAC-SHA256, keyed with the webhook's shared
secret, of `<X-Allies-Timestamp>.<raw body>`. The receiver recomputes it, compares in constant
time, and rejects a timestamp older than a few minutes, so a captured delivery cannot be
replayed later.
"""
import hashlib
import hmac
import ipaddress
import json
import socket
import time
import uuid
from urllib.parse import urlsplit

import certifi
import urllib3

_DELIVERY_NAMESPACE = uuid.UUID("a4b0c3e2-6f57-4c61-9d0e-5b7a1f2c8d93")

REQUEST_TYPES = ("request_created", "request_updated", "request_closed")
MATCH_TYPES = ("match_proposed", "match_accepted", "match_confirmed", "match_rejected", "match_declined",
               "match_expired", "match_withdrawn", "match_ended")
PROFILE_TYPES = ("profile_registered", "profile_updated", "profile_deactivated")
DELIVERABLE = REQUEST_TYPES + MATCH_TYPES + PROFILE_TYPES + ("profile_deleted",)

REQUEST_PUBLIC = ("request_id", "skills", "languages", "country", "urgency", "visibility", "status",
                  "created_at")
REQUEST_TEXT = ("title", "body")
MATCH_PUBLIC = ("match_id", "request_id", "status", "proposed_at")
VOLUNTEER_PUBLIC = ("profile_id", "handle", "status", "skills", "languages", "countries", "verified")

SIGNATURE_HEADER = "X-Allies-Signature"
TIMESTAMP_HEADER = "X-Allies-Timestamp"
MAX_SKEW_S = 300


def delivery_id(event_id, webhook_id):
    """Deterministic: a redelivered event makes no second delivery to the same webhook."""
    return uuid.uuid5(_DELIVERY_NAMESPACE, f"{event_id}:{webhook_id}").hex


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if hasattr(value, "isoformat") else value


def public_data(event_type, data):
    """The part of an event an outside organization may see; None if nothing of it may be sent.
    Nothing at all of a request that is not public or is hidden (notify also holds back the
    events of its matches: services/notify/service.py)."""
    if event_type in REQUEST_TYPES:
        if data["visibility"] != "public" or data["hidden"]:
            return None
        return {key: _iso(data[key]) for key in REQUEST_PUBLIC + REQUEST_TEXT}
    if event_type in MATCH_TYPES:
        return {key: _iso(data[key]) for key in MATCH_PUBLIC}
    if event_type in PROFILE_TYPES:
        # Activists, moderators and analysts are not announced to anyone outside.
        if data["role"] != "volunteer":
            return None
        return {key: data[key] for key in VOLUNTEER_PUBLIC}
    if event_type == "profile_deleted":
        # An id only, so a receiver that kept a volunteer's public profile can forget it too.
        return {"profile_id": data["profile_id"]}
    return None


def people_in(event):
    """Whose account a delivery is about (the body may not name them, but it is theirs: their
    profile, their request's text, a match they are in), so deleting the account deletes it."""
    data = event.data
    return [data[key] for key in ("profile_id", "author_id", "volunteer_id") if data.get(key)]


def removal_body_for(event):
    """A request that was public is no longer (hidden, made private, its author gone): its id
    alone, so a receiver that kept it can drop it."""
    return _body(event, {"request_id": event.data["request_id"], "public": False})


def body_for(event):
    """The exact bytes to sign and send for `event` (a parsed Event); None if nothing may go."""
    data = public_data(event.event_type, event.data)
    if data is None:
        return None
    return _body(event, data)


def _body(event, data):
    return json.dumps({
        "event_id": event.event_id,
        "event_type": event.event_type,
        "occurred_at": _iso(event.occurred_at),
        "data": data,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign(secret, timestamp, body):
    message = f"{timestamp}.".encode() + (body.encode() if isinstance(body, str) else body)
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def headers_for(secret, body, delivery, event_type, now=None):
    timestamp = str(int(now if now is not None else time.time()))
    return {
        "Content-Type": "application/json",
        "User-Agent": "Allies-Webhooks/1",
        "X-Allies-Event": event_type,
        "X-Allies-Delivery": delivery,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify(secret, headers, body, now=None, max_skew_s=MAX_SKEW_S):
    """What a receiver does (and what docs/notify.md shows): True only for a fresh, intact body."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > max_skew_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class Refused(Exception):
    """The destination is not allowed (an internal address): not worth retrying."""


def check_destination(addresses, allow_private):
    """Refuse to POST into our own network: a webhook URL must not become a way to reach the
    broker, the databases or cloud metadata. `addresses`: what the URL's host resolved to."""
    if allow_private:
        return
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not ip.is_global or ip.is_multicast:
            raise Refused("the webhook's host resolves to a non-public address")


def post_to_checked_address(url, body, headers, timeout_s, allow_private):
    """POST `body` to `url`, connecting to the very address that was checked.

    Resolving the host, checking the addresses, and then letting the HTTP client resolve it again
    would let a hostile DNS server answer a public address to the check and 127.0.0.1 (or the
    cloud's metadata address) to the connection (DNS rebinding). So the host is resolved once, every
    address it gives is checked, and the connection goes to the first of them, with the URL's host
    in the `Host` header and, over HTTPS, as the name the certificate must carry (SNI and
    verification against the CA bundle requests uses). Never follows a redirect. Returns the status."""
    parsed = urlsplit(url)
    https = parsed.scheme == "https"
    port = parsed.port or (443 if https else 80)
    infos = socket.getaddrinfo(parsed.hostname, port, proto=socket.IPPROTO_TCP)
    check_destination({info[4][0] for info in infos}, allow_private)
    address = infos[0][4][0]
    default_port = port == (443 if https else 80)
    host = f"[{parsed.hostname}]" if ":" in parsed.hostname else parsed.hostname
    if https:
        pool = urllib3.HTTPSConnectionPool(address, port, server_hostname=parsed.hostname,
                                           assert_hostname=parsed.hostname, cert_reqs="CERT_REQUIRED",
                                           ca_certs=certifi.where(), timeout=timeout_s, retries=False)
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout_s, retries=False)
    try:
        response = pool.urlopen("POST", (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else ""),
                                body=body, headers=dict(headers, Host=host if default_port else f"{host}:{port}"),
                                redirect=False, retries=False, preload_content=False)
        response.drain_conn()
        return response.status
    finally:
        pool.close()
