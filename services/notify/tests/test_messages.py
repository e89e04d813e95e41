"""Message text at rest and who may read it: plain functions, no I/O."""
from datetime import datetime, timezone

import pytest
from cryptography.fernet import Fernet

from services.common.errors import Conflict, NotFound
from services.notify import messages

PAIR = {"_id": "m1", "volunteer_id": "vol", "author_id": "act", "request_id": "r1"}


def test_text_is_not_in_the_stored_token_and_opens_only_for_its_own_message():
    cipher = messages.cipher_from_config(Fernet.generate_key().decode())
    token = messages.seal(cipher, "msg-1", "My brother is held in Evin prison")
    assert "Evin" not in token
    assert messages.open_text(cipher, "msg-1", token) == "My brother is held in Evin prison"
    assert messages.open_text(cipher, "msg-2", token) is None  # copied onto another message
    assert messages.open_text(cipher, "msg-1", None) is None


def test_rotation_keeps_old_text_readable_and_moves_it_to_the_new_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = messages.seal(messages.cipher_from_config(old), "msg-1", "hello")
    rotated_cipher = messages.cipher_from_config(f"{new},{old}")
    assert messages.open_text(rotated_cipher, "msg-1", token) == "hello"
    rotated = messages.rotate(rotated_cipher, token)
    assert messages.open_text(messages.cipher_from_config(new), "msg-1", rotated) == "hello"
    assert messages.open_text(messages.cipher_from_config(old), "msg-1", rotated) is None


def test_no_keys_means_no_service():
    with pytest.raises(ValueError):
        messages.cipher_from_config("")


def test_only_the_two_matched_people_have_a_conversation():
    assert messages.channel_for(PAIR, None, "vol") is PAIR
    assert messages.channel_for(PAIR, None, "act") is PAIR
    with pytest.raises(NotFound):
        messages.channel_for(PAIR, None, "someone-else")
    with pytest.raises(Conflict):  # proposed, not yet accepted: no channel, and they know why
        messages.channel_for(None, PAIR, "act")
    with pytest.raises(NotFound):  # a stranger learns nothing about a proposal either
        messages.channel_for(None, PAIR, "someone-else")
    with pytest.raises(NotFound):
        messages.channel_for(None, None, "vol")


def test_a_tombstone_shows_no_text():
    cipher = messages.cipher_from_config(Fernet.generate_key().decode())
    stored = {"_id": "x", "match_id": "m1", "sender_id": "act", "deleted": True,
              "sent_at": datetime(2025, 1, 1, tzinfo=timezone.utc)}
    view = messages.view(stored, cipher, "vol")
    assert view["text"] is None and view["deleted"] is True and view["mine"] is False
