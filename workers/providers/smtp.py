"""SMTP delivery with aiosmtplib, errors sorted into permanent (5xx) and temporary (4xx, network)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from gateway.config import SmtpConfig


class MailError(Exception):
    """A failed delivery attempt; ``permanent`` for 5xx answers (a bounce), else retry later."""

    def __init__(self, message: str, *, code: int | None, permanent: bool) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


class MailSender(Protocol):
    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None: ...


def _classify(code: int | None, text: str) -> MailError:
    return MailError(text, code=code, permanent=code is not None and 500 <= code < 600)


class SmtpMailSender:
    def __init__(self, cfg: SmtpConfig) -> None:
        self._cfg = cfg

    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        cfg = self._cfg
        try:
            await aiosmtplib.send(
                message,
                sender=sender,
                recipients=[recipient],
                hostname=cfg.host,
                port=cfg.port,
                username=cfg.username or None,
                password=cfg.password or None,
                start_tls=cfg.starttls,
                timeout=cfg.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            raise _classify(first.code, f"recipient refused: {first.code} {first.message}") from None
        except aiosmtplib.SMTPResponseException as exc:
            raise _classify(exc.code, f"SMTP {exc.code} {exc.message}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailError(f"SMTP unavailable: {exc}", code=None, permanent=False) from None
