"""Telling an outage (a server down or restarting) from a failure that is the work's own.

An event handler waits out an outage instead of spending the event's deliveries on it
(consumer.py); the gateway answers 503 "try again" instead of 500 (gateway/http.py).
"""
import itertools
import logging
import socket

import eventlet

import elastic_transport
import pymongo.errors
from kombu.exceptions import OperationalError

# What a call raises when its server cannot be reached or is not ready: pymongo's network errors
# and "no server" (ConnectionFailure covers AutoReconnect, NetworkTimeout and
# ServerSelectionTimeoutError), the index client's connection errors and timeouts, the broker
# client's, and plain socket errors.
OUTAGE_TYPES = (pymongo.errors.ConnectionFailure, elastic_transport.ConnectionError,
                elastic_transport.ConnectionTimeout, OperationalError, ConnectionError, socket.timeout)
# Elasticsearch's answers while it is starting or overloaded: its shards not yet assigned, the
# cluster blocked during recovery, too many requests.
OUTAGE_STATUSES = (429, 502, 503, 504)
# The same, by name, for an error that crossed RPC (nameko's RemoteError carries the type name).
OUTAGE_NAMES = frozenset({"ConnectionFailure", "AutoReconnect", "NetworkTimeout", "ServerSelectionTimeoutError",
                          "ConnectionError", "ConnectionTimeout", "OperationalError", "ConnectionRefusedError",
                          "ConnectionResetError", "BrokenPipeError", "timeout", "TimeoutError"})

MAX_PAUSE_S = 15.0

log = logging.getLogger(__name__)


def is_outage(exc):
    if isinstance(exc, OUTAGE_TYPES):
        return True
    if getattr(exc, "outage", False) is True:  # says so itself (search's bulk.ItemFailed)
        return True
    if isinstance(exc, elastic_transport.ApiError):
        return getattr(exc.meta, "status", None) in OUTAGE_STATUSES
    return False


def is_remote_outage(exc_type):
    """`exc_type`: the name of an exception raised in another service (nameko's RemoteError)."""
    return exc_type in OUTAGE_NAMES


def pauses(first=0.5, most=MAX_PAUSE_S):
    """0.5, 1, 2, 4... seconds, then `most` for as long as it lasts."""
    return (min(first * 2 ** n, most) for n in itertools.count())


def through_outage(write, what):
    """Run `write` until it succeeds, waiting out an outage. For the write that records what has
    already happened outside (an email handed over, a webhook delivered): given up, the item
    would look undone after its lease, and be done a second time."""
    waits = pauses()
    while True:
        try:
            return write()
        except Exception as exc:
            if not is_outage(exc):
                raise
            pause = next(waits)
            log.warning("recording %s waits %.1f s for a server: %s", what, pause, type(exc).__name__)
            eventlet.sleep(pause)
