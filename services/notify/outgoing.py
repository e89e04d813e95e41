"""What leaves notify: notifications (inbox + email) and webhook deliveries.

Plain functions over the database and injected senders, so the service's entrypoints stay thin.
Everything here is safe to run twice (redeliveries, two replicas, a crash half-way): ids are
deterministic and a due email or delivery is claimed before it is sent.
"""
import logging
from datetime import timedelta

from services.common.bus.events import utcnow
from services.common.outage import through_outage

from . import mail, retry, storage, supporters, webhooks

log = logging.getLogger(__name__)

# Emails and webhook deliveries this process handed over and is still recording as sent (the
# database is away): its timers must not take them up again when their lease runs out, or they
# go out twice (the fault suite caught one email sent twice: its lease of 20 s ran out during a
# 20 s database outage while "sent" waited to be written). Another replica's timer is held off by
# the lease alone, so LEASE_S should outlast the outages the platform rides through.
RECORDING = set()


def _record_sent(item_ids, write, what):
    """`write` the record that `item_ids` went out, riding through an outage."""
    RECORDING.update(item_ids)
    try:
        through_outage(write, what)
    finally:
        RECORDING.difference_update(item_ids)


# ---- notifications

def notify(db, notification, now, config):
    """Put a notification in the inbox and queue its email according to the person's preference.

    Returns an email to try right away, already leased to the caller (`deliver_email`), or None.
    A new email is written leased, so the timer leaves it alone while the caller sends it (and
    sends it if the caller dies first); a redelivery's email is claimed, if it is still due."""
    # When it reached the inbox (`created_at` is when its cause happened): the notify hop's end.
    storage.insert_notification(db, dict(notification, stored_at=now))
    email = _instant_email(db, notification, now, config)
    if email is None or storage.add_instant_email(db, email):
        return email
    return storage.claim(db[storage.EMAILS], email["_id"], now, retry.setting(config, "LEASE_S"))


def _instant_email(db, notification, now, config, person=None):
    """The email a notification needs by the person's preference: a new instant one, leased to the
    caller (not yet written), or None (email off; a daily digest, which this adds it to).
    `person`: their document, if the caller just read it."""
    recipient = notification["recipient_id"]
    mode = storage.email_mode(db, recipient, person)
    if mode == "off" or (person is not None and not person.get("contact_sealed")):
        return None  # off, or no address to send to (as sending would find: nothing to write)
    if mode == "daily":
        slot = mail.digest_slot(now, retry.setting(config, "DIGEST_INTERVAL_S"))
        storage.add_to_digest(db, mail.digest_id(recipient, slot), recipient, notification["_id"], slot, now)
        return None
    return {"_id": mail.instant_id(notification["_id"]), "recipient_id": recipient, "kind": "notification",
            "notification_ids": [notification["_id"]], "request_id": notification.get("request_id"),
            "status": retry.PENDING, "attempts": 0,
            "next_attempt_at": now + timedelta(seconds=retry.setting(config, "LEASE_S")), "created_at": now}


def notify_proposals(db, notifications, now, config, mailer, opener):
    """`notify` for one batch's proposals, with its writes batched: the recipients' preference and
    contact read in one command, the notifications and their instant emails inserted in one command
    each, and each email sent with the contact already read. The lease protocol is `notify`'s: a
    new email is written leased to this worker; one already there (a redelivery) is claimed if
    due. A recipient whose deletion notify recorded (the contact's tombstone) gets nothing: the
    proposal came after they left (events of different queues keep no order)."""
    people = storage.people(db, [n["recipient_id"] for n in notifications])
    live = [n for n in notifications if not people[n["recipient_id"]].get("deleted")]
    storage.insert_new(db[storage.NOTIFICATIONS], [dict(n, stored_at=now) for n in live])
    instant = [email for email in (_instant_email(db, n, now, config, people[n["recipient_id"]]) for n in live)
               if email is not None]
    new = storage.insert_new(db[storage.EMAILS], instant)
    lease_s = retry.setting(config, "LEASE_S")
    sent = []

    def record_sent():
        # One write records the batch's emails sent (their request's emails, an indexed equality,
        # then these ids among that handful), as `deliver_email` records one.
        if sent:
            ids, request_id = list(sent), instant[0]["request_id"]
            sent.clear()
            _record_sent(ids, lambda: storage.mark_sent(db[storage.EMAILS], request_id, ids, now),
                         f"{len(ids)} emails of request {request_id} sent")

    for email in instant:
        held = email if email["_id"] in new else storage.claim(db[storage.EMAILS], email["_id"], now, lease_s)
        if held is not None and deliver_email(db, held, now, config, mailer, opener, preference_checked=True,
                                              sealed=people[email["recipient_id"]].get("contact_sealed"),
                                              record_sent=False) == retry.SENT:
            sent.append(email["_id"])
            RECORDING.add(email["_id"])  # this process's timer leaves it alone meanwhile
            if (utcnow() - now).total_seconds() > lease_s / 2:
                record_sent()  # a slow SMTP server: recorded before the leases run out
    record_sent()
    return [n["recipient_id"] for n in live]


def send_email(db, email_id, now, config, mailer, opener):
    """Try one due email. Returns what happened: sent, retry, failed, dropped, or None if it was
    not due or another worker has it. Logs ids only, never an address."""
    if email_id in RECORDING:
        return None
    email = storage.claim(db[storage.EMAILS], email_id, now, retry.setting(config, "LEASE_S"))
    if email is None:
        return None
    return deliver_email(db, email, now, config, mailer, opener)


_UNREAD = object()


def deliver_email(db, email, now, config, mailer, opener, preference_checked=False, sealed=_UNREAD, record_sent=True):
    """Send an email this worker holds the lease of. `preference_checked`: the person's email
    preference was read a moment ago (by `notify`), so it is not read again; `sealed`: their
    sealed contact, read a moment ago (None: they have none); `record_sent=False`: the caller
    records it sent, with others of its batch, before its lease runs out."""
    email_id = email["_id"]
    emails = db[storage.EMAILS]
    token = None
    if email["kind"] in mail.SUPPORTER_KINDS:
        # A campaign supporter (no account, no preference): their own document says whether this
        # may still go (not after they stopped or withdrew, nor news while the campaign is paused).
        sealed_pair = supporters.sealed_for(db, email)
        if sealed_pair is None:
            storage.settle(emails, email_id, {"status": retry.DROPPED, "reason": "supporter"})
            return retry.DROPPED
        sealed, token = sealed_pair[0], opener.open(sealed_pair[1])
    elif not preference_checked and storage.email_mode(db, email["recipient_id"]) == "off":
        storage.settle(emails, email_id, {"status": retry.DROPPED, "reason": "preference"})
        return retry.DROPPED
    if sealed is _UNREAD:
        sealed = storage.sealed_contact(db, email["recipient_id"])
    address = opener.open(sealed)
    if not address:
        storage.settle(emails, email_id, {"status": retry.DROPPED, "reason": "no-contact"})
        return retry.DROPPED
    message = mail.compose(email, address, mailer.from_address, config.get("PUBLIC_URL") or "",
                           config.get("EMAIL_SUBJECT") or mail.DEFAULT_SUBJECT, token=token)
    try:
        mailer.send(message)
    except mail.PermanentFailure:
        log.warning("email %s refused by the SMTP server; giving up", email_id)
        storage.settle(emails, email_id, {"status": retry.FAILED, "failed_at": now, "reason": "refused"})
        return retry.FAILED
    except Exception as exc:  # noqa: BLE001 - any failure to hand over: try again later
        update = retry.after_failure(email, now, config, "EMAIL")
        log.warning("email %s not sent (%s); attempt %d", email_id, type(exc).__name__, update["attempts"])
        storage.settle(emails, email_id, update)
        return update.get("status", "retry")
    # Handed over: recording it must not fail with the database restarting, or the email would
    # be sent again when its lease runs out.
    if not record_sent:
        return retry.SENT
    _record_sent([email_id], lambda: storage.settle(emails, email_id, {"status": retry.SENT, "sent_at": now,
                                                                     "attempts": email.get("attempts", 0) + 1}),
                 f"email {email_id} sent")
    return retry.SENT


# ---- webhooks

PUBLIC, REMOVED = "public", "removed"


def fan_out(db, event, now, kind=PUBLIC, hooks=None):
    """One delivery per webhook subscribed to this event type (`hooks`, if the caller just read
    them), with the public body fixed now (`REMOVED`: only that a request they heard of is no
    longer public). Returns the ids of deliveries to try right away."""
    body = webhooks.body_for(event) if kind == PUBLIC else webhooks.removal_body_for(event)
    if body is None:
        return []
    created = []
    for hook in storage.webhooks(db, event.event_type) if hooks is None else hooks:
        delivery_id = webhooks.delivery_id(event.event_id, hook["_id"])
        storage.insert_once(db[storage.DELIVERIES], {
            "_id": delivery_id, "webhook_id": hook["_id"], "event_id": event.event_id,
            "event_type": event.event_type, "body": body, "status": retry.PENDING, "attempts": 0,
            "next_attempt_at": now, "created_at": now, "about": webhooks.people_in(event),
        })
        created.append(delivery_id)
    return created


def deliver(db, delivery_id, now, config, cipher, post):
    """Try one due webhook delivery; returns sent, retry, failed, dropped or None (as send_email)."""
    if delivery_id in RECORDING:
        return None
    deliveries = db[storage.DELIVERIES]
    delivery = storage.claim(deliveries, delivery_id, now, retry.setting(config, "LEASE_S"))
    if delivery is None:
        return None
    hook = storage.webhook(db, delivery["webhook_id"])
    if hook is None:
        storage.settle(deliveries, delivery_id, {"status": retry.DROPPED, "reason": "webhook deleted"})
        return retry.DROPPED
    secret = cipher.decrypt(hook["secret_sealed"].encode()).decode()
    headers = webhooks.headers_for(secret, delivery["body"], delivery_id, delivery["event_type"], now.timestamp())
    try:
        status = post(hook["url"], delivery["body"], headers)
    except webhooks.Refused:
        log.warning("webhook delivery %s refused: the destination is not a public address", delivery_id)
        storage.settle(deliveries, delivery_id, {"status": retry.FAILED, "failed_at": now, "reason": "destination"})
        return retry.FAILED
    except Exception as exc:  # noqa: BLE001 - unreachable, timeout, ...: try again later
        status, failure = None, type(exc).__name__
    else:
        failure = f"HTTP {status}"
    if status is not None and 200 <= status < 300:
        _record_sent([delivery_id], lambda: storage.settle(deliveries, delivery_id, {
            "status": retry.SENT, "sent_at": now, "attempts": delivery.get("attempts", 0) + 1}),
            f"webhook delivery {delivery_id} made")
        return retry.SENT
    update = retry.after_failure(delivery, now, config, "WEBHOOK")
    update["last_failure"] = failure
    log.warning("webhook delivery %s failed (%s); attempt %d", delivery_id, failure, update["attempts"])
    storage.settle(deliveries, delivery_id, update)
    return update.get("status", "retry")
