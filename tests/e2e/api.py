"""Small helpers the end-to-end tests share, over the gateway's API."""
import uuid


def unique(handle):
    """A handle no other test (nor an earlier run against the same stack) has taken."""
    return f"{handle}-{uuid.uuid4().hex[:6]}"


def matches(client, request_id, status=None):
    """The client's matches of one request (in one status, if given), as the API lists them."""
    return [m for m in client.call("GET", "/api/matches").json()["items"]
            if m["request_id"] == request_id and (status is None or m["status"] == status)]
