"""Item 7 of the security issue: secrets (tokens, the signing secret, passwords inside URLs) are
masked in every message and log line."""

from __future__ import annotations

import logging

import pytest

from slackkit.redact import RedactingFilter, redact
from slackkit.settings import Settings
from tests.bot.test_main import clean_env, run_bot


def test_a_configuration_error_does_not_print_the_database_password() -> None:
    result = run_bot("serve", env=clean_env(DATABASE_URL="mysql://pk:Hunter2@db/pk"))
    assert result.returncode == 2
    assert "Hunter2" not in result.stderr + result.stdout
    assert "'mysql://pk:***@db/pk'" in result.stderr  # still says which value was wrong


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgresql+psycopg://pk:Hunter2@db:5432/pk", "postgresql+psycopg://pk:***@db:5432/pk"),
        ("got 'mysql://pk:p%40ss@db/pk'", "got 'mysql://pk:***@db/pk'"),
        ("token xoxb-123-456-abcDEF used", "token xoxb-*** used"),
        ("xapp-1-A0-123-abc and xoxp-9", "xapp-*** and xoxp-***"),
        ("sqlite:///pacekeeper.db", "sqlite:///pacekeeper.db"),
        ("https://hooks.slack.com/commands/T0/1/abc", "https://hooks.slack.com/commands/T0/1/abc"),
        ("postgresql://postgres@127.0.0.1:5432/x", "postgresql://postgres@127.0.0.1:5432/x"),
    ],
)
def test_redact_masks_tokens_and_url_passwords_only(text: str, masked: str) -> None:
    assert redact(text) == masked


def test_the_log_filter_masks_messages_arguments_and_tracebacks() -> None:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(RedactingFilter(["the-signing-secret"]))
    logger = logging.getLogger("tests.secrets")
    logger.addHandler(handler)
    try:
        logger.warning("connecting to %s with %s", "postgresql://u:Hunter2@h/db", "xoxb-1-2-3")
        try:
            raise RuntimeError("signed with the-signing-secret")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = "\n".join(records)
    assert "Hunter2" not in text and "xoxb-1-2-3" not in text and "the-signing-secret" not in text
    assert "postgresql://u:***@h/db" in text and "RuntimeError: signed with ***" in text


def test_settings_never_show_their_secrets_in_a_repr() -> None:
    settings = Settings(bot_token="xoxb-secret-token", signing_secret="shh-secret", app_token="xapp-secret")
    assert "secret" not in repr(settings)
