"""The HTTP surface: `POST /slack/events` into Bolt, `GET /healthz` (200 only with a reachable database)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot.app import PacekeeperApp
from storage.db import is_reachable


def create_web_app(app: PacekeeperApp) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
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
