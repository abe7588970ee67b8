"""What a job needs: the process's services, the two providers and the compiled templates, kept in
the arq context."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.services import Services
from workers.providers.smtp import MailSender
from workers.providers.twilio_sms import SmsProvider
from workers.templating import TemplateCache


@dataclass(frozen=True)
class Deps:
    services: Services
    sms: SmsProvider
    mail: MailSender
    templates: TemplateCache = field(default_factory=TemplateCache)

    @property
    def attempt_stale_ms(self) -> int:
        """An SMS attempt with no outcome after this long cannot still be in flight."""
        return int((2 * self.services.config.twilio.timeout + 5) * 1000)
