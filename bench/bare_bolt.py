"""The baseline for bench/approval_clicks.py and bench/bursts.py: a Bolt AsyncApp over aiohttp that
only acks (a button, the /measure command, the App Home event)."""

from __future__ import annotations

import argparse

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--signing-secret", required=True)
    args = parser.parse_args()
    app = AsyncApp(signing_secret=args.signing_secret, client=AsyncWebClient(token=args.token, base_url=args.api_url))

    @app.action("gate.approve")
    async def ack_only(ack):  # type: ignore[no-untyped-def]
        await ack()

    @app.command("/measure")
    async def ack_command(ack):  # type: ignore[no-untyped-def]
        await ack()

    @app.event("app_home_opened")
    async def ack_event(ack):  # type: ignore[no-untyped-def]
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    # the same listen queue as `python -m bot serve` (bot/serve.py), so the two are compared fairly
    web.run_app(web_app, host="127.0.0.1", port=args.port, access_log=None, print=None, backlog=1024)


if __name__ == "__main__":
    main()
