"""The one error handler: logs with a short id and tells the person on the right surface."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from slackkit.context import Deps
from slackkit.surfaces import tell

log = logging.getLogger("pacekeeper.errors")


async def handle_error(error: Exception, body: dict[str, Any], context: AsyncBoltContext) -> None:
    error_id = uuid.uuid4().hex[:8]
    kind = body.get("type") or body.get("command") or "request"
    log.error("error %s while handling %s: %r", error_id, kind, error, exc_info=error)
    user = body.get("user")
    user_id = body.get("user_id") or (user.get("id") if isinstance(user, dict) else None)
    deps: Deps | None = context.get("deps")  # absent when Bolt failed before our first middleware
    if deps is None or not isinstance(user_id, str) or body.get("type") == "event_callback":
        return
    text = f"Sorry, something went wrong on our side; please try again. If it happens again, quote ref {error_id}."
    try:
        await tell(deps, body=body, user_id=user_id, text=text)
    except Exception:  # the error surface itself failed: the log line above is all we can do
        log.exception("error %s: could not tell %s", error_id, user_id)


def register(app: AsyncApp) -> None:
    app.error(handle_error)
