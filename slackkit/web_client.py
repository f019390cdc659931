"""The Web API client: slack_sdk's AsyncWebClient with slack_sdk's own retry handlers."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from slackkit.pacing import Pacer, PausingRateLimitHandler
from slackkit.settings import Settings


def _web_logger() -> logging.Logger:
    """slack-sdk formats every request's whole payload for a debug line when its logger's own level
    is NOTSET (it tests `logger.level`, not `isEnabledFor`): give it a level, INFO unless set."""
    logger = logging.getLogger("pacekeeper.slack_web")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    return logger


def make_web_client(
    settings: Settings, pacer: Pacer | None = None, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """With a pacer, a 429 on any call also pauses the paced fan-out (see bot.pacing). With a
    session, every call reuses its connections (slack-sdk otherwise opens one per call)."""
    rate_limit = PausingRateLimitHandler(pacer) if pacer else AsyncRateLimitErrorRetryHandler(max_retry_count=5)
    return AsyncWebClient(
        logger=_web_logger(),
        token=settings.bot_token,
        base_url=settings.api_url,
        timeout=settings.slack_timeout,
        session=session,
        retry_handlers=[
            # Only a connection that was never made is safe to retry blindly; after a timeout or a
            # dropped connection Slack may have acted on the call, and the outbox reconciles instead.
            AsyncConnectionErrorRetryHandler(max_retry_count=2, error_types=[aiohttp.ClientConnectorError]),
            rate_limit,
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )
