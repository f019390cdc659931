"""Secrets never leave the process in words: tokens, the signing secret and passwords inside URLs
are masked in every log line (`install_log_redaction`) and in every message built from a setting."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "***"
_TOKEN = re.compile(r"\b(xox[abposre]|xapp)-[A-Za-z0-9-]+")
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)(?P<password>[^@\s/]+)@")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with Slack tokens, the password of any URL in it and each of `secrets` masked."""
    masked = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", text)
    masked = _TOKEN.sub(lambda m: f"{m[1]}-{MASK}", masked)
    for secret in secrets:
        if secret and len(secret) >= 4:
            masked = masked.replace(secret, MASK)
    return masked


class RedactingFilter(logging.Filter):
    """Formats each record's message once and masks it; arguments and the exception text too."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


def install_log_redaction(secrets: Iterable[str] = ()) -> RedactingFilter:
    """Put the filter on every handler of the root logger (where every library's records end up)."""
    redacting = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redacting)
    return redacting
