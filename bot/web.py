"""The HTTP surface: `POST /slack/events` into Bolt, `GET /healthz` (200 only with a reachable database)."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import PacekeeperApp
from storage.db import is_reachable


def create_web_app(app: PacekeeperApp) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await app.async_dispatch(reparse_form(await to_bolt_request(request)))
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        if await asyncio.to_thread(is_reachable, app.deps.engine):
            return web.json_response({"ok": True})
        return web.json_response({"ok": False, "error": "database unreachable"}, status=503)

    web_app = web.Application()
    # Socket Mode without a signing secret: HTTP requests could not be verified, so none are taken.
    if app.deps.settings.signing_secret:
        web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)
    return web_app


FORM = "application/x-www-form-urlencoded"


def reparse_form(request: AsyncBoltRequest) -> AsyncBoltRequest:
    """Bolt takes a form body for an interaction whenever the text `payload` appears anywhere in it, so
    `/measure list payload-team` reached no listener (404, "dispatch_failed" for the person). Only such
    a body, with no `payload` field, is read again by its fields; the raw body is kept as sent, so
    Bolt verifies its signature."""
    raw = request.raw_body
    if request.content_type != FORM or "payload" not in raw or raw.startswith("{"):
        return request
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in fields:  # a real interaction: Bolt read it right
        return request
    request.body = fields
    request.context = build_async_context(AsyncBoltContext({}), fields)
    return request
