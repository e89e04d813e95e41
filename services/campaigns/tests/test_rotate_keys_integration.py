"""campaigns' text keys rotate (services/common/ops/rotate_keys.py) on the real store: what is
said about the prisoner and their timeline, letters and translations, wall posts."""
from datetime import datetime, timezone

from cryptography.fernet import Fernet

from services.campaigns import rotate_keys, storage

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


def test_rotation_moves_everything_sealed_to_the_new_key(db_for):
    db = db_for("campaigns")
    storage.prepare(db)
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    text = storage.TextAtRest(old)
    campaigns = storage.CampaignStore(db, text)
    campaign = {"_id": "c" * 32, "title": "Free them", "mode": "public", "owners": ["o"], "version": 1,
                "created_at": NOW, "timeline_sealed": text.seal("c" * 32 + ":timeline", [{"kind": "detained"}])}
    campaigns.insert(campaign, {"name": "Dr. Example Person"})
    letters = storage.LetterStore(db, text)
    letters.insert({"_id": "l" * 32, "campaign_id": "c" * 32, "status": "approved", "created_at": NOW},
                   "We think of you every day.")
    db[storage.LETTERS].update_one({"_id": "l" * 32}, {"$set": {"translator_id": "t"}})
    assert letters.translate("l" * 32, "t", "Translated words of support.", NOW)
    storage.WallStore(db, text).insert({"_id": "w" * 32, "campaign_id": "c" * 32, "status": "approved",
                                        "created_at": NOW}, "We wait for you at home.")

    assert rotate_keys.rotate(db, f"{new},{old}") == {"rotated": 5, "unreadable": 0, "remaining": 0}
    only_new = storage.TextAtRest(new)
    found, prisoner = storage.CampaignStore(db, only_new).find("c" * 32)
    assert prisoner == {"name": "Dr. Example Person"}
    assert storage.CampaignStore(db, only_new).timeline(found) == [{"kind": "detained"}]
    letter = storage.LetterStore(db, only_new).find("l" * 32)
    assert (letter["text"], letter["translation"]) == ("We think of you every day.", "Translated words of support.")
    assert storage.WallStore(db, only_new).find("w" * 32)["text"] == "We wait for you at home."
    assert rotate_keys.rotate(db, f"{new},{old}") == {"rotated": 0, "unreadable": 0, "remaining": 0}
