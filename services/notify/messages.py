"""Private messages between a matched activist and volunteer: who may read, and the text at rest.

Text is stored only as a Fernet token (AES-128-CBC + HMAC-SHA256, the `cryptography` package)
made with the first of MESSAGE_KEYS; every key in the list can decrypt, so keys rotate without
downtime (docs/notify.md). The message id is sealed in with the text and checked on the way
out, so a token copied onto another message (or another conversation) does not decrypt there.
"""
from cryptography.fernet import InvalidToken

from services.common.trust.textseal import fernet_keys

from services.common.errors import Conflict, Forbidden, NotFound


def cipher_from_config(value):
    """MESSAGE_KEYS ("k1,k2,...", current first) -> MultiFernet. Refuses to run without a key."""
    return fernet_keys(value, "MESSAGE_KEYS")


def seal(cipher, message_id, text):
    return cipher.encrypt(f"{message_id}\n{text}".encode()).decode()


def open_text(cipher, message_id, token):
    """The text, or None if there is none (deleted) or it is not this message's."""
    if not token:
        return None
    try:
        plain = cipher.decrypt(token.encode()).decode()
    except InvalidToken:
        return None
    bound_id, _, text = plain.partition("\n")
    return text if bound_id == message_id else None


def rotate(cipher, token):
    """The same text under the current key (a no-op for a token already under it, bar the nonce)."""
    return cipher.rotate(token.encode()).decode()


def channel_for(channel, proposal, viewer_id, sending=False):
    """Who may use a match's conversation.

    The two matched people, once the author confirmed the volunteer (DESIGN, "Trust"). Before
    that there is no conversation (409 for the two of them: they know the match exists). Anyone
    else gets 404, exactly as for a match that does not exist, so they learn nothing. Once the
    helper's access ended, nobody sends, and only the author still reads what was said (403).
    """
    if channel and viewer_id in (channel["volunteer_id"], channel["author_id"]):
        if channel.get("ended_at") and (sending or viewer_id != channel["author_id"]):
            raise Forbidden("This conversation has ended: the author ended the helper's access.")
        return channel
    if proposal and viewer_id in (proposal["volunteer_id"], proposal["author_id"]):
        raise Conflict("There is no conversation until the author confirms the volunteer.")
    raise NotFound("No such conversation.")


def view(message, cipher, viewer_id):
    deleted = message.get("deleted", False)
    return {
        "id": message["_id"],
        "match_id": message["match_id"],
        "sender_id": message["sender_id"],
        "mine": message["sender_id"] == viewer_id,
        "sent_at": message["sent_at"].isoformat(),
        # A tombstone keeps the conversation's shape when its sender deleted their account.
        "deleted": deleted,
        "text": None if deleted else open_text(cipher, message["_id"], message.get("ciphertext")),
    }
