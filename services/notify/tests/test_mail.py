"""Email wording, digest periods and retry timing: plain functions, no I/O."""
from datetime import datetime, timedelta, timezone

from services.notify import mail, retry

NOW = datetime(2025, 3, 1, 12, 30, tzinfo=timezone.utc)


def test_an_email_says_only_that_there_is_something_and_links_back():
    email = {"_id": "e1", "kind": "notification", "notification_ids": ["n1"]}
    message = mail.compose(email, "nima@example.org", "Notes <no-reply@mail.example>", "https://help.example")
    body = message.get_content()
    assert "https://help.example/notifications" in body
    assert "nima" not in body and "nima" not in message["Subject"]
    assert message["Message-ID"] == "<e1@mail.example>"
    # Nothing names the platform: not the subject, the body or any header.
    assert "allies" not in message.as_string().lower()
    assert message["Subject"] == "You have a new notification"
    assert mail.compose(email, "n@example.org", "x@mail.example", "https://help.example/", "Update")["Subject"] == "Update"


def test_a_digest_counts_without_detail():
    email = {"_id": "e2", "kind": "digest", "notification_ids": ["n1", "n2", "n3"]}
    message = mail.compose(email, "a@example.org", "x@allies.invalid", "https://allies.example/")
    assert message["Subject"] == "3 new notifications"


def test_daily_digests_close_at_midnight_utc_and_ids_follow_the_period():
    assert mail.digest_slot(NOW, 86400) == datetime(2025, 3, 2, tzinfo=timezone.utc)
    assert mail.digest_id("p1", mail.digest_slot(NOW, 86400)) == mail.digest_id(
        "p1", mail.digest_slot(NOW + timedelta(hours=5), 86400))
    assert mail.digest_id("p1", mail.digest_slot(NOW, 86400)) != mail.digest_id(
        "p1", mail.digest_slot(NOW + timedelta(hours=12), 86400))


def test_backoff_doubles_up_to_a_ceiling_then_gives_up():
    assert [retry.backoff_s(n, 30, 3600) for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]
    config = {"EMAIL_RETRY_BASE_S": 10, "EMAIL_MAX_ATTEMPTS": 3}
    first = retry.after_failure({"attempts": 0}, NOW, config, "EMAIL")
    assert first == {"attempts": 1, "next_attempt_at": NOW + timedelta(seconds=10)}
    assert retry.after_failure({"attempts": 1}, NOW, config, "EMAIL")["next_attempt_at"] == NOW + timedelta(seconds=20)
    assert retry.after_failure({"attempts": 2}, NOW, config, "EMAIL")["status"] == retry.FAILED


def test_reminders_come_the_configured_time_before_expiry():
    assert retry.remind_at(NOW, {}) == NOW + timedelta(hours=48)
    assert retry.remind_at(NOW, {"MATCH_EXPIRY_S": 100, "EXPIRY_REMINDER_BEFORE_S": 40}) == NOW + timedelta(seconds=60)
    assert retry.remind_at(NOW, {"MATCH_EXPIRY_S": 10, "EXPIRY_REMINDER_BEFORE_S": 40}) == NOW


def test_a_supporter_is_asked_to_confirm_and_can_withdraw_from_the_first_email():
    email = {"_id": "e3", "kind": "supporter_confirm", "supporter_id": "s1", "campaign_id": "c1"}
    message = mail.compose(email, "sara@example.org", "x@mail.example", "https://help.example/", token="abc.def")
    body = message.get_content()
    assert "https://help.example/supporters/abc.def/confirm" in body
    assert "https://help.example/supporters/abc.def/withdraw" in body
    assert "c1" not in body  # nothing says which campaign before the address is confirmed
    assert "List-Unsubscribe" not in message and "allies" not in message.as_string().lower()


def test_news_for_a_supporter_links_the_campaign_and_says_how_to_stop_or_withdraw():
    email = {"_id": "e4", "kind": "campaign_news", "supporter_id": "s1", "campaign_id": "c1"}
    message = mail.compose(email, "sara@example.org", "x@mail.example", "https://help.example", token="abc.def")
    body = message.get_content()
    assert "https://help.example/campaigns/c1" in body
    assert "https://help.example/supporters/abc.def/stop" in body
    assert "https://help.example/supporters/abc.def/withdraw" in body
    assert message["List-Unsubscribe"] == "<https://help.example/supporters/abc.def/stop>"
    assert message["Subject"] == "News you asked for" and "notification" not in body
