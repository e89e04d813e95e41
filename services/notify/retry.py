"""Trying again: settings, exponential backoff, and what a failed attempt changes. No I/O.

Pending emails, webhook deliveries and texts share these mechanics: an item is `pending` with a
`next_attempt_at`; a worker claims it (a lease), tries, and then marks it `sent`, or schedules the
next try twice as far away as the last, or gives up (`failed`) after the last allowed attempt.
"""
from datetime import timedelta

PENDING, SENT, FAILED, DROPPED = "pending", "sent", "failed", "dropped"

DEFAULTS = {
    "EMAIL_RETRY_BASE_S": 30.0,     # first retry after 30 s, then 60, 120, ...
    "EMAIL_RETRY_MAX_S": 3600.0,    # ... never more than an hour apart
    "EMAIL_MAX_ATTEMPTS": 12,       # then give up (about 8 hours of trying)
    "WEBHOOK_RETRY_BASE_S": 30.0,
    "WEBHOOK_RETRY_MAX_S": 3600.0,
    "WEBHOOK_MAX_ATTEMPTS": 12,
    "TEXT_RETRY_BASE_S": 30.0,      # text messages (texts.py): as emails
    "TEXT_RETRY_MAX_S": 3600.0,
    "TEXT_MAX_ATTEMPTS": 12,
    "SMS_TIMEOUT_S": 10.0,
    "LEASE_S": 60.0,                # a claimed item is not picked again for this long
    "DIGEST_INTERVAL_S": 86400,     # daily digests go out at 00:00 UTC
    "SMTP_TIMEOUT_S": 10.0,
    "EXPIRY_REMINDER_BEFORE_S": 86400,  # remind a volunteer a day before a proposal expires
    "MATCH_EXPIRY_S": 72 * 3600,    # matching's setting (same key, same default)
}


def setting(config, key):
    value = config.get(key)
    return type(DEFAULTS[key])(DEFAULTS[key] if value in (None, "") else value)


def backoff_s(attempts, base_s, max_s):
    """The wait before the next try, after `attempts` (>= 1) failed ones."""
    return min(base_s * (2 ** (attempts - 1)), max_s)


def after_failure(item, now, config, prefix):
    """The fields to set on an item whose attempt just failed: a later try, or giving up.

    `prefix` is "EMAIL", "WEBHOOK" or "TEXT" (which settings apply)."""
    attempts = item.get("attempts", 0) + 1
    if attempts >= setting(config, f"{prefix}_MAX_ATTEMPTS"):
        return {"status": FAILED, "attempts": attempts, "failed_at": now}
    wait = backoff_s(attempts, setting(config, f"{prefix}_RETRY_BASE_S"), setting(config, f"{prefix}_RETRY_MAX_S"))
    return {"attempts": attempts, "next_attempt_at": now + timedelta(seconds=wait)}


def remind_at(proposed_at, config):
    """When to remind a volunteer of a proposal: the configured time before it expires (at once
    if that is already past)."""
    before = setting(config, "EXPIRY_REMINDER_BEFORE_S")
    return proposed_at + timedelta(seconds=max(setting(config, "MATCH_EXPIRY_S") - before, 0))
