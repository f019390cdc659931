"""Configuration from the environment (or `.env`, loaded by the entry point only).

`Settings.from_env` validates everything up front so that a bad value stops start-up with one
line that names the setting and says how to fix it, instead of failing on the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from slackkit.redact import redact

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///pacekeeper.db"
SANDBOX_TOKEN = "xoxb-sandbox-token"
SANDBOX_SIGNING_SECRET = "sandbox-signing-secret"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line meant for the operator."""


@dataclass(frozen=True)
class Settings:
    bot_token: str = field(repr=False)  # secrets stay out of every repr (and so out of log lines)
    signing_secret: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 3000
    admin_user_ids: frozenset[str] = field(default_factory=frozenset)
    sandbox: bool = False
    sandbox_port: int = 3001
    reminder_after: timedelta = timedelta(hours=24)
    overdue_after: timedelta = timedelta(hours=48)
    send_concurrency: int = 8
    after_ack_limit: int = 8  # listener runs doing their work after the ack at once (docs/deployment.md)
    approval_reminder_after: timedelta = timedelta(hours=24)
    approval_report_after: timedelta = timedelta(days=3)
    send_rate: float = 20.0  # chat.postMessage per second in fan-outs (prompts, digests)
    slack_timeout: int = 30  # seconds a Web API call may take; then its outcome is unknown (the outbox reconciles)
    outbox_lease: timedelta = timedelta(minutes=5)  # a message claimed by a process that then died is in doubt after
    outbox_retention: timedelta = timedelta(days=90)  # sent messages nothing can update any more are pruned after
    api_rate: float = 10.0  # requests per second one API token may make (docs/api.md)
    api_burst: int = 40  # requests one API token may make at once before api_rate applies

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        token = _get(env, "SLACK_BOT_TOKEN")
        app_token = _get(env, "SLACK_APP_TOKEN")
        sandbox = token is None
        if app_token is not None and not app_token.startswith("xapp-"):
            raise SettingsError(
                "SLACK_APP_TOKEN must be an app-level token starting with 'xapp-' (Basic Information > "
                "App-Level Tokens, scope connections:write); unset it to receive requests over HTTP"
            )
        if sandbox:
            if app_token is not None:
                raise SettingsError("SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not: set both, or neither")
            token, secret = SANDBOX_TOKEN, SANDBOX_SIGNING_SECRET
        else:
            if token is None or not token.startswith("xoxb-"):
                raise SettingsError(
                    "SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-' "
                    "(Slack app settings > OAuth & Permissions); unset it to run the local sandbox"
                )
            # Socket Mode requests are not signed; over HTTP every request must be.
            given = _get(env, "SLACK_SIGNING_SECRET") or ("" if app_token else None)
            if given is None:
                raise SettingsError(
                    "SLACK_SIGNING_SECRET is missing: copy it from Slack app settings > Basic Information "
                    "into the environment or .env"
                )
            secret = given
        host = _get(env, "HOST") or "127.0.0.1"
        sandbox_port = _port(env, "SANDBOX_PORT", 3001)
        sandbox_api = f"http://{host}:{sandbox_port}/api/"  # the sandbox's Slack stand-in
        return cls(
            bot_token=token,
            signing_secret=secret,
            app_token=app_token,
            api_url=_url(env, "SLACK_API_URL", sandbox_api if sandbox else DEFAULT_SLACK_API_URL),
            database_url=_database_url(env),
            host=host,
            port=_port(env, "PORT", 3000),
            admin_user_ids=_user_ids(env, "PACEKEEPER_ADMINS"),
            sandbox=sandbox,
            sandbox_port=sandbox_port,
            reminder_after=_hours(env, "CHECKIN_REMINDER_HOURS", 24),
            overdue_after=_hours(env, "CHECKIN_OVERDUE_HOURS", 48),
            approval_reminder_after=_hours(env, "APPROVAL_REMINDER_HOURS", 24),
            approval_report_after=_hours(env, "APPROVAL_REPORT_HOURS", 72),
            send_rate=_positive(env, "SLACK_SEND_RATE", 20.0),
            after_ack_limit=max(1, int(_positive(env, "AFTER_ACK_LIMIT", 8.0))),
            slack_timeout=int(_positive(env, "SLACK_TIMEOUT_SECONDS", 30.0, " of seconds")),
            outbox_lease=timedelta(seconds=_positive(env, "OUTBOX_LEASE_SECONDS", 300.0, " of seconds")),
            outbox_retention=timedelta(days=_positive(env, "PACEKEEPER_OUTBOX_DAYS", 90.0, " of days")),
            api_rate=_positive(env, "API_RATE", 10.0),
            api_burst=max(1, int(_positive(env, "API_BURST", 40.0))),
        )


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = _get(env, name) or default
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(f"{name} must be an http(s) URL such as {default}, got {redact(value)!r}")
    return value if value.endswith("/") else value + "/"


def _database_url(env: Mapping[str, str]) -> str:
    value = _get(env, "DATABASE_URL") or DEFAULT_DATABASE_URL
    if value.startswith("postgres://"):
        value = "postgresql+psycopg://" + value.removeprefix("postgres://")
    elif value.startswith("postgresql://"):
        value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
    if not (value.startswith("sqlite:///") or value.startswith("postgresql+psycopg://")):
        raise SettingsError(
            "DATABASE_URL must be sqlite:///path/to/file.db or postgresql://user@host:5432/dbname, "
            f"got {redact(value)!r}"
        )
    return value


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingsError(f"{name} must be a port number between 1 and 65535, got {raw!r}")
    return int(raw)


def _positive(env: Mapping[str, str], name: str, default: float, unit: str = "") -> float:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise SettingsError(f"{name} must be a positive number{unit}, got {raw!r}")
    return value


def _hours(env: Mapping[str, str], name: str, default: int) -> timedelta:
    return timedelta(hours=_positive(env, name, default, " of hours"))


def _user_ids(env: Mapping[str, str], name: str) -> frozenset[str]:
    raw = _get(env, name) or ""
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    bad = [i for i in ids if not (i[:1] in ("U", "W") and i.isalnum() and i.isupper())]
    if bad:
        raise SettingsError(
            f"{name} must be a comma-separated list of Slack user ids like U012ABCDEF, got {', '.join(bad)}"
        )
    return frozenset(ids)
