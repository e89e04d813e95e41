"""Ids the services derive rather than draw, so that each names one thing whoever computes it."""
import uuid

_MATCH_NAMESPACE = uuid.UUID("6f1c2a44-5d0e-4f1b-9a7e-2c4d8b3e9f10")


def match_id_of(request_id, volunteer_id):
    """A match's id, from its request and volunteer: proposing the same volunteer for the same need
    twice finds the one match, and an author's signed decision names exactly it."""
    return uuid.uuid5(_MATCH_NAMESPACE, f"{request_id}:{volunteer_id}").hex
