from __future__ import annotations

from datetime import timedelta

import pytest

from slackkit.settings import Settings, SettingsError


def test_no_token_means_the_sandbox_with_sqlite_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.sandbox and not settings.socket_mode
    assert settings.database_url.startswith("sqlite:///") and settings.port == 3000


def test_production_settings() -> None:
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_APP_TOKEN": "xapp-1",
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "DATABASE_URL": "postgres://u@h/db",
            "PORT": "8080",
            "PACEKEEPER_ADMINS": "U012, W034",
            "CHECKIN_REMINDER_HOURS": "12",
        }
    )
    assert not settings.sandbox and settings.socket_mode
    assert settings.api_url == "http://127.0.0.1:9/api/"
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.admin_user_ids == {"U012", "W034"} and settings.port == 8080
    assert settings.reminder_after == timedelta(hours=12)


def test_secrets_are_not_in_error_messages() -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxp-very-secret"})
    assert "very-secret" not in str(error.value)


def test_socket_mode_needs_no_signing_secret_but_http_does() -> None:
    assert Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}).socket_mode
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"})
