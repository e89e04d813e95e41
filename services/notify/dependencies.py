"""notify's nameko dependencies: keys and clients built once from configuration, injected."""
import requests
from nameko.extensions import DependencyProvider

from services.common.sealing import Opener

from . import mail, messages, retry


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
                                  config.get("SMTP_FROM", "Allies <no-reply@allies.invalid>"),
                                  retry.setting(config, "SMTP_TIMEOUT_S"))

    def get_dependency(self, worker_ctx):
        return self.mailer


class WebhookPoster(DependencyProvider):
    """POSTs a signed body; never follows redirects (a redirect could point anywhere)."""

    def setup(self):
        self.timeout_s = float(self.container.config.get("WEBHOOK_TIMEOUT_S") or 5)

    def get_dependency(self, worker_ctx):
        def post(url, body, headers):
            response = requests.post(url, data=body.encode(), headers=headers, timeout=self.timeout_s,
                                     allow_redirects=False)
            return response.status_code
        return post
