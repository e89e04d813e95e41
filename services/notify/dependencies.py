"""notify's nameko dependencies: keys and clients built once from configuration, injected."""
from nameko.extensions import DependencyProvider

from services.common.trust.sealing import Opener

from . import mail, messages, retry, texts, webhooks


class MessageCipher(DependencyProvider):
    """The MultiFernet of MESSAGE_KEYS (message text and webhook secrets at rest)."""

    def setup(self):
        self.cipher = messages.cipher_from_config(self.container.config.get("MESSAGE_KEYS"))

    def get_dependency(self, worker_ctx):
        return self.cipher


class ContactOpener(DependencyProvider):
    """Opens contact_sealed with NOTIFY_PRIVATE_KEY: the only place an address exists in clear,
    for the moment of sending."""

    def setup(self):
        self.opener = Opener(self.container.config.get("NOTIFY_PRIVATE_KEY"))

    def get_dependency(self, worker_ctx):
        return self.opener


class SmtpMailer(DependencyProvider):
    def setup(self):
        config = self.container.config
        self.mailer = mail.Mailer(config.get("SMTP_HOST", "127.0.0.1"), config.get("SMTP_PORT", 8025),
                                  config.get("SMTP_FROM", "Notifications <no-reply@notifications.invalid>"),
                                  retry.setting(config, "SMTP_TIMEOUT_S"),
                                  starttls=bool(config.get("SMTP_STARTTLS", False)),
                                  username=config.get("SMTP_USER") or None,
                                  password=config.get("SMTP_PASSWORD") or None)

    def get_dependency(self, worker_ctx):
        return self.mailer


class WebhookPoster(DependencyProvider):
    """POSTs a signed body; never follows redirects (a redirect could point anywhere)."""

    def setup(self):
        config = self.container.config
        self.timeout_s = float(config.get("WEBHOOK_TIMEOUT_S") or 5)
        # Only for local runs and tests, whose receivers listen on 127.0.0.1.
        self.allow_private = str(config.get("WEBHOOK_ALLOW_PRIVATE") or "").lower() in ("1", "true", "yes")

    def get_dependency(self, worker_ctx):
        def post(url, body, headers):
            # To the address that was checked, not to whatever the name resolves to a moment later.
            return webhooks.post_to_checked_address(url, body.encode(), headers, self.timeout_s, self.allow_private)
        return post


class TextSender(DependencyProvider):
    """The SMS provider's REST client (texts.py), from SMS_API_BASE, SMS_ACCOUNT_SID, SMS_AUTH_TOKEN
    and SMS_FROM; without them every text is refused as undeliverable, and nothing is sent."""

    def setup(self):
        config = self.container.config
        self.sms = texts.SmsProvider(config.get("SMS_API_BASE"), config.get("SMS_ACCOUNT_SID"),
                                     config.get("SMS_AUTH_TOKEN"), config.get("SMS_FROM"),
                                     retry.setting(config, "SMS_TIMEOUT_S"))

    def get_dependency(self, worker_ctx):
        return self.sms
