"""What leaves notify: notifications (inbox + email) and webhook deliveries.

One object, built with its ports (the stores, the settings, the mailer, the contact opener, the
webhook cipher and poster), so the workflow says only what to send. Everything here is safe to run
twice (redeliveries, two replicas, a crash half-way): ids are deterministic and a due email or
delivery is claimed before it is sent.
"""
import json
import logging
from datetime import timedelta

from services.common.bus.events import utcnow
from services.common.outage import through_outage

from . import inbox, mail, retry, supporters, texts, webhooks

log = logging.getLogger(__name__)

PUBLIC, REMOVED = "public", "removed"
# The subject of what the email channel sends unasked (a proposal, a new line): plain, naming nothing.
CHANNEL_SUBJECT = "A message for you"

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


def email_mode(person):
    """A person's email preference, from their document."""
    return person.get("email", "instant")


_UNREAD = object()


class Outgoing:
    def __init__(self, stores, config, mailer, opener, cipher, post, sms=None, clock=utcnow):
        self.stores, self.config, self.clock = stores, config, clock
        self.mailer, self.opener, self.cipher, self.post, self.sms = mailer, opener, cipher, post, sms
        self.lease_s = retry.setting(config, "LEASE_S")

    def _take(self, queue, item_id, now):
        """A due item of the store named `queue` (emails, texts, deliveries), leased to this worker;
        None when this process is still recording it sent (RECORDING: no store is asked), it is not
        due, or another worker has it."""
        if item_id in RECORDING:
            return None
        return getattr(self.stores, queue).claim(item_id, now, self.lease_s)

    # ---- notifications

    def tell(self, notification, now, message=None):
        """Into the inbox, by email as the person's preference says (sent at once if instant), and
        by text if they linked a number (`message`: words the text carries after its own, a
        check-in's). Their document is read once, for all three."""
        recipient = notification["recipient_id"]
        if recipient is None:
            return  # they deleted their account
        person = self.stores.people.many([recipient])[recipient]
        email = self._queue(notification, now, person)
        if email is not None:
            self._deliver_email(email, now, preference_checked=True, sealed=person.get("contact_sealed"))
        self._text_person(person, f"note:{notification['_id']}", inbox.text_of(notification, message), now)

    def _queue(self, notification, now, person):
        """The notification in the inbox, and its email queued. Returns an email to try right away,
        already leased to the caller, or None. A new email is written leased, so the timer leaves
        it alone while the caller sends it (and sends it if the caller dies first); a redelivery's
        email is claimed, if it is still due."""
        # When it reached the inbox (`created_at` is when its cause happened): the notify hop's end.
        self.stores.inbox.add(dict(notification, stored_at=now))
        email = self._instant_email(notification, now, person)
        if email is None or self.stores.emails.add(email):
            return email
        return self.stores.emails.claim(email["_id"], now, self.lease_s)

    def tell_of_line(self, recipient, match_id, message_id, now):
        """A new line in a conversation, told by text to the other side if they linked a number
        (the web shows it anyway; an inbox or email per line would bury everything else). The
        words themselves are not texted: `READ` fetches them, so a locked phone's preview shows
        none."""
        person = self.stores.people.many([recipient])[recipient]
        self._text_person(person, f"line:{message_id}", inbox.line_text(match_id), now)

    def _text_person(self, person, key, body, now):
        """What a person who uses a text channel is told there: a text to their linked number, and
        an email to the address they write from (the email intake), if they have them."""
        if person.get("deleted") or body is None:
            return
        if person.get("sms_sealed"):
            number = self.opener.open(person["sms_sealed"])
            if number:
                self.text(key, number, body, now)
        if person.get("mail_sealed"):
            channel = json.loads(self.opener.open(person["mail_sealed"]) or "{}")
            if channel.get("address"):
                self.reply_email(key, channel["address"], channel["reply_to"], CHANNEL_SUBJECT, body, now)

    def reply_email(self, key, to, reply_to, subject, body, now):
        """An email on the email channel (an answer to what someone wrote, or what a phone would be
        texted), queued once per `key` with everything in it encrypted while it waits, leased to
        this worker and tried at once; retried from the timer like any email."""
        seal = lambda text: self.cipher.encrypt(text.encode()).decode()  # noqa: E731
        email = {"_id": mail.reply_id(key), "kind": "reply", "recipient_id": None, "to_sealed": seal(to),
                 "reply_to_sealed": seal(reply_to), "subject_sealed": seal(subject), "body_sealed": seal(body),
                 "status": retry.PENDING, "attempts": 0, "next_attempt_at": now + timedelta(seconds=self.lease_s),
                 "created_at": now}
        if not self.stores.emails.add(email):
            return None  # asked before (a redelivery): it went, or its retries are under way
        return self._deliver_email(email, now)

    def _instant_email(self, notification, now, person=None):
        """The email a notification needs by the person's preference: a new instant one, leased to
        the caller (not yet written), or None (email off; a daily digest, which this adds it to).
        `person`: their document, if the caller just read it."""
        recipient = notification["recipient_id"]
        mode = self.stores.people.email_mode(recipient) if person is None else email_mode(person)
        if mode == "off" or (person is not None and not person.get("contact_sealed")):
            return None  # off, or no address to send to (as sending would find: nothing to write)
        if mode == "daily":
            slot = mail.digest_slot(now, retry.setting(self.config, "DIGEST_INTERVAL_S"))
            self.stores.emails.add_to_digest(mail.digest_id(recipient, slot), recipient, notification["_id"], slot, now)
            return None
        return {"_id": mail.instant_id(notification["_id"]), "recipient_id": recipient, "kind": "notification",
                "notification_ids": [notification["_id"]], "request_id": notification.get("request_id"),
                "status": retry.PENDING, "attempts": 0, "next_attempt_at": now + timedelta(seconds=self.lease_s),
                "created_at": now}

    def _deliver_reply(self, email, now, record_sent=True):
        """An email of the email channel: everything in it was sealed with this service's cipher
        and is forgotten once it went out or was given up."""
        emails, email_id = self.stores.emails, email["_id"]
        fields = {name: self.cipher.decrypt(email[name].encode()).decode() for name in mail.REPLY_SEALED}
        message = mail.compose_reply(email_id, fields["to_sealed"], fields["reply_to_sealed"], fields["subject_sealed"],
                                     fields["body_sealed"], self.mailer.from_address)
        return self._hand_over(emails, email, lambda: self.mailer.send(message), now, "EMAIL", record_sent,
                               forget=mail.REPLY_SEALED)

    def _hand_over(self, queue, item, send, now, prefix, record_sent=True, forget=()):
        """`send()` an email or a text this worker holds the lease of, and settle it in `queue`:
        sent, given up (refused for good, or out of attempts), or due again with backoff
        (retry.py, `prefix`'s settings). `forget`: the sealed fields dropped once it is settled for
        good. `record_sent=False`: the caller records it sent (a batch). Logs ids only."""
        item_id, what = item["_id"], "text" if prefix == "TEXT" else "email"
        try:
            send()
        except mail.PermanentFailure:
            log.warning("%s %s refused by the %s; giving up", what, item_id,
                        "SMS provider" if what == "text" else "SMTP server")
            queue.settle(item_id, {"status": retry.FAILED, "failed_at": now, "reason": "refused"}, forget=forget)
            return retry.FAILED
        except Exception as exc:  # noqa: BLE001 - any failure to hand over: try again later
            update = retry.after_failure(item, now, self.config, prefix)
            log.warning("%s %s not sent (%s); attempt %d", what, item_id, type(exc).__name__, update["attempts"])
            queue.settle(item_id, update, forget=forget if update.get("status") == retry.FAILED else ())
            return update.get("status", "retry")
        # Handed over: recording it must not fail with the database restarting, or it would go out
        # again when its lease runs out.
        if record_sent:
            _record_sent([item_id], lambda: queue.settle(item_id, {
                "status": retry.SENT, "sent_at": now, "attempts": item.get("attempts", 0) + 1}, forget=forget),
                f"{what} {item_id} sent")
        return retry.SENT

    def tell_proposals(self, notifications, now):
        """`tell` for one batch's proposals, with its writes batched: the recipients' preference and
        contact read in one command, the notifications and their instant emails inserted in one
        command each, and each email sent with the contact already read. A recipient whose
        deletion notify recorded (the tombstone) gets nothing: the proposal came after they left
        (events of different queues keep no order). Returns who was told."""
        people = self.stores.people.many([n["recipient_id"] for n in notifications])
        live = [n for n in notifications if not people[n["recipient_id"]].get("deleted")]
        for notification in live:
            self._text_person(people[notification["recipient_id"]], f"note:{notification['_id']}",
                              inbox.text_of(notification), now)
        self.stores.inbox.add_many([dict(n, stored_at=now) for n in live])
        instant = [email for email in (self._instant_email(n, now, people[n["recipient_id"]]) for n in live)
                   if email is not None]
        new = self.stores.emails.add_new(instant)
        sent = []

        def record_sent():
            # One write records the batch's emails sent, as `_deliver_email` records one.
            if sent:
                ids, request_id = list(sent), instant[0]["request_id"]
                sent.clear()
                _record_sent(ids, lambda: self.stores.emails.mark_sent(request_id, ids, now),
                             f"{len(ids)} emails of request {request_id} sent")

        for email in instant:
            held = email if email["_id"] in new else self.stores.emails.claim(email["_id"], now, self.lease_s)
            if held is not None and self._deliver_email(held, now, preference_checked=True,
                                                        sealed=people[email["recipient_id"]].get("contact_sealed"),
                                                        record_sent=False) == retry.SENT:
                sent.append(email["_id"])
                RECORDING.add(email["_id"])  # this process's timer leaves it alone meanwhile
                if (self.clock() - now).total_seconds() > self.lease_s / 2:
                    record_sent()  # a slow SMTP server: recorded before the leases run out
        record_sent()
        return [n["recipient_id"] for n in live]

    def send_email(self, email_id, now):
        """Try one due email. Returns what happened: sent, retry, failed, dropped, or None if it was
        not due or another worker has it. Logs ids only, never an address."""
        email = self._take("emails", email_id, now)
        return None if email is None else self._deliver_email(email, now)

    def _deliver_email(self, email, now, preference_checked=False, sealed=_UNREAD, record_sent=True):
        """Send an email this worker holds the lease of. `preference_checked`: the person's email
        preference was read a moment ago, so it is not read again; `sealed`: their sealed contact,
        read a moment ago (None: they have none); `record_sent=False`: the caller records it sent,
        with others of its batch, before its lease runs out."""
        emails, email_id, token = self.stores.emails, email["_id"], None
        if email["kind"] == "reply":
            return self._deliver_reply(email, now, record_sent)
        if email["kind"] in mail.SUPPORTER_KINDS:
            # A campaign supporter (no account, no preference): their own document says whether this
            # may still go (not after they stopped or withdrew, nor news while the campaign is paused).
            sealed_pair = supporters.sealed_for(self.stores.supporters, email)
            if sealed_pair is None:
                emails.settle(email_id, {"status": retry.DROPPED, "reason": "supporter"})
                return retry.DROPPED
            sealed, token = sealed_pair[0], self.opener.open(sealed_pair[1])
        elif not preference_checked and self.stores.people.email_mode(email["recipient_id"]) == "off":
            emails.settle(email_id, {"status": retry.DROPPED, "reason": "preference"})
            return retry.DROPPED
        if sealed is _UNREAD:
            sealed = self.stores.people.sealed_contact(email["recipient_id"])
        address = self.opener.open(sealed)
        if not address:
            emails.settle(email_id, {"status": retry.DROPPED, "reason": "no-contact"})
            return retry.DROPPED
        message = mail.compose(email, address, self.mailer.from_address, self.config.get("PUBLIC_URL") or "",
                               self.config.get("EMAIL_SUBJECT") or mail.DEFAULT_SUBJECT, token=token)
        return self._hand_over(emails, email, lambda: self.mailer.send(message), now, "EMAIL", record_sent)

    # ---- text messages

    def text(self, key, to, body, now):
        """Queue a text (once per `key`) and try it at once; what happened (as send_email)."""
        if not self.stores.texts.add(texts.pending_text(key, to, body, self.cipher, now)):
            return None  # asked before (a redelivery): it went, or its retries are under way
        return self.send_text(texts.text_id(key), now)

    def send_text(self, text_id, now):
        """Try one due text. The number and the words are opened only now, and forgotten once it
        went out or was given up."""
        item = self._take("texts", text_id, now)
        if item is None:
            return None
        to = self.cipher.decrypt(item["to_sealed"].encode()).decode()
        body = self.cipher.decrypt(item["body_sealed"].encode()).decode()
        return self._hand_over(self.stores.texts, item, lambda: self.sms.send(to, body), now, "TEXT",
                               forget=texts.SEALED)

    # ---- webhooks

    def publish(self, event, now, kind=PUBLIC, hooks=None):
        """One delivery per webhook subscribed to this event type (`hooks`, if the caller just read
        them), with the public body fixed now (`REMOVED`: only that a request they heard of is no
        longer public), each tried at once."""
        for delivery_id in self._fan_out(event, now, kind, hooks):
            self.deliver(delivery_id, now)

    def _fan_out(self, event, now, kind, hooks):
        body = webhooks.body_for(event) if kind == PUBLIC else webhooks.removal_body_for(event)
        if body is None:
            return []
        created = []
        for hook in self.stores.webhooks.subscribed(event.event_type) if hooks is None else hooks:
            delivery_id = webhooks.delivery_id(event.event_id, hook["_id"])
            self.stores.deliveries.add({
                "_id": delivery_id, "webhook_id": hook["_id"], "event_id": event.event_id,
                "event_type": event.event_type, "body": body, "status": retry.PENDING, "attempts": 0,
                "next_attempt_at": now, "created_at": now, "about": webhooks.people_in(event)})
            created.append(delivery_id)
        return created

    def deliver(self, delivery_id, now):
        """Try one due webhook delivery; returns sent, retry, failed, dropped or None (as send_email)."""
        delivery = self._take("deliveries", delivery_id, now)
        if delivery is None:
            return None
        deliveries = self.stores.deliveries
        hook = self.stores.webhooks.find(delivery["webhook_id"])
        if hook is None:
            deliveries.settle(delivery_id, {"status": retry.DROPPED, "reason": "webhook deleted"})
            return retry.DROPPED
        secret = self.cipher.decrypt(hook["secret_sealed"].encode()).decode()
        headers = webhooks.headers_for(secret, delivery["body"], delivery_id, delivery["event_type"], now.timestamp())
        try:
            status = self.post(hook["url"], delivery["body"], headers)
        except webhooks.Refused:
            log.warning("webhook delivery %s refused: the destination is not a public address", delivery_id)
            deliveries.settle(delivery_id, {"status": retry.FAILED, "failed_at": now, "reason": "destination"})
            return retry.FAILED
        except Exception as exc:  # noqa: BLE001 - unreachable, timeout, ...: try again later
            status, failure = None, type(exc).__name__
        else:
            failure = f"HTTP {status}"
        if status is not None and 200 <= status < 300:
            _record_sent([delivery_id], lambda: deliveries.settle(delivery_id, {
                "status": retry.SENT, "sent_at": now, "attempts": delivery.get("attempts", 0) + 1}),
                f"webhook delivery {delivery_id} made")
            return retry.SENT
        update = retry.after_failure(delivery, now, self.config, "WEBHOOK")
        update["last_failure"] = failure
        log.warning("webhook delivery %s failed (%s); attempt %d", delivery_id, failure, update["attempts"])
        deliveries.settle(delivery_id, update)
        return update.get("status", "retry")
