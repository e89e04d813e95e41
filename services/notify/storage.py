"""The notify database: in-app notifications."""
import pymongo
from pymongo.errors import DuplicateKeyError

NOTIFICATIONS = "notifications"


def prepare(db):
    db[NOTIFICATIONS].create_index([("recipient_id", pymongo.ASCENDING), ("created_at", pymongo.DESCENDING)])


def insert_notification(db, notification):
    try:
        db[NOTIFICATIONS].insert_one(notification)
        return True
    except DuplicateKeyError:
        return False


def notifications_for(db, recipient_id, limit):
    cursor = db[NOTIFICATIONS].find({"recipient_id": recipient_id}).sort("created_at", -1).limit(limit)
    unread = db[NOTIFICATIONS].count_documents({"recipient_id": recipient_id, "read": False})
    return list(cursor), unread


def ping(db):
    db.command("ping")
    return True
