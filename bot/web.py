"""The HTTP surface: `POST /slack/events` into Bolt, `GET /healthz` (200 only with a reachable database),
and the API for ERP and BI tools under `/api/v1/` (commands/api, with its own bearer tokens).

Every request to `/slack/events` passes `checked_request` before Bolt sees any of it: the headers
must be well formed, the body valid UTF-8, the timestamp recent and the signature right (401
otherwise), and a signed body must parse as Slack sends it (400 otherwise). Nothing of a request -
its `response_url`, its user, its text - is read before that, so a forged or malformed request is
answered with a status and one log line, and causes no outgoing call and no write.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.app import PacekeeperApp
from commands.api.app import create_api_app
from storage.db import is_reachable

log = logging.getLogger("pacekeeper.http")
FORM = "application/x-www-form-urlencoded"
MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; a larger body is not Slack
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class Refused(Exception):
    """A request answered with `status` and nothing else (no listener runs)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def create_web_app(app: PacekeeperApp) -> web.Application:
    secret = app.deps.settings.signing_secret
    verifier = SignatureVerifier(secret) if secret else None

    async def slack_events(request: web.Request) -> web.Response:
        assert verifier is not None  # the route exists only with a signing secret
        with app.acking:  # listeners' work after their ack waits for this one (bot/app.py AfterAck)
            try:
                bolt_request = await checked_request(request, verifier=verifier)
            except Refused as refused:
                log.warning("refused a request to /slack/events (%d): %s", refused.status, refused.reason)
                return web.json_response({"ok": False, "error": refused.reason}, status=refused.status)
            bolt_response = await app.async_dispatch(bolt_request)
            return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        if await asyncio.to_thread(is_reachable, app.deps.engine):
            return web.json_response({"ok": True})
        return web.json_response({"ok": False, "error": "database unreachable"}, status=503)

    web_app = web.Application(client_max_size=MAX_BODY)
    # Socket Mode without a signing secret: HTTP requests could not be verified, so none are taken.
    if secret:
        web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)
    web_app.add_subapp("/api/v1/", create_api_app(app.deps))  # for ERP and BI tools: docs/api.md
    return web_app


async def checked_request(request: web.Request, *, verifier: SignatureVerifier) -> AsyncBoltRequest:
    """The request as Bolt takes it, once it is known to come from Slack and to parse; else Refused."""
    try:
        raw_bytes = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, "body too large") from None
    raw = verified_text(
        raw_bytes,
        timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
        signature=request.headers.get("X-Slack-Signature", ""),
        verifier=verifier,
    )
    content_type = request.content_type
    fields = parse_body(raw, content_type=content_type)
    bolt_request = AsyncBoltRequest(body=raw, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
    if content_type == FORM and "payload" not in fields and "payload" in raw:
        # Bolt takes a form body for an interaction whenever the text `payload` appears anywhere in
        # it, so `/measure list payload-team` reached no listener. Such a body is given to Bolt by its
        # fields; the raw body is kept as sent, so Bolt verifies its signature again.
        bolt_request.body = fields
        bolt_request.context = build_async_context(AsyncBoltContext({}), fields)
    return bolt_request


def verified_text(body: bytes, *, timestamp: str, signature: str, verifier: SignatureVerifier) -> str:
    """The body as text, once its headers are well formed (slack-sdk's verifier raises on a timestamp
    that is not an integer) and slack-sdk's SignatureVerifier accepts it: fresh (5 minutes) and
    signed with our secret, compared in constant time. Refused(401) otherwise."""
    if not TIMESTAMP.fullmatch(timestamp) or not SIGNATURE.fullmatch(signature):
        raise Refused(401, "missing or malformed signature headers")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(401, "body is not UTF-8") from None
    if not verifier.is_valid(body=text, timestamp=timestamp, signature=signature):
        raise Refused(401, "invalid or stale signature")
    return text


def parse_body(raw: str, *, content_type: str) -> dict[str, object]:
    """The body's fields as Slack sends them (a form, its `payload` a JSON object, or a JSON object);
    Refused(400) for anything else. Bolt parses it again; this only makes sure that cannot fail."""
    if content_type == FORM and raw.startswith("{"):  # Bolt would read it as JSON; Slack never sends that
        raise Refused(400, "a form body that is not URL-encoded")
    if content_type == FORM:
        try:
            fields: dict[str, object] = dict(parse_qsl(raw, keep_blank_values=True, strict_parsing=bool(raw)))
        except ValueError:
            raise Refused(400, "malformed form body") from None
        if "payload" in fields:
            check_shape(_json_object(str(fields["payload"])))
        return fields
    if content_type == "application/json":
        return check_shape(_json_object(raw))
    raise Refused(400, f"unsupported content type {content_type[:40]!r}")


# The fields Bolt and the listeners read from an interaction or event envelope, with the type Slack
# documents for each: a signed body whose fields have other types is not one Slack sent.
OBJECT_FIELDS = ("event", "view", "user", "container", "message", "channel", "state", "submission")
LIST_FIELDS = ("actions", "authorizations", "response_urls")
OPTIONAL_OBJECT_FIELDS = ("team", "enterprise", "function_data", "bot_access_token")


def check_shape(body: dict[str, object]) -> dict[str, object]:
    """Refused(400) unless the envelope's fields have the types Slack sends (recursively for the view,
    its state and the actions), so that no listener or Bolt internals meet a list where an object is."""
    for name, value in body.items():
        if name == "type" and not isinstance(value, str):
            raise Refused(400, "type is not a string")
        if name in OBJECT_FIELDS and not isinstance(value, dict):
            raise Refused(400, f"{name} is not an object")
        if name in LIST_FIELDS and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            raise Refused(400, f"{name} is not a list of objects")
        if name in OPTIONAL_OBJECT_FIELDS and value is not None and not isinstance(value, (dict, str)):
            raise Refused(400, f"{name} is not an object")
    if body.get("type") in ("block_actions", "interactive_message"):
        actions = body.get("actions")
        if actions == []:
            raise Refused(400, "an action payload without actions")
        if isinstance(actions, list) and not all(isinstance(a.get("action_id", ""), str) for a in actions):
            raise Refused(400, "an action whose action_id is not a string")
        if (
            body.get("type") == "block_actions"
            and isinstance(actions, list)
            and any("action_id" not in a for a in actions)
        ):
            raise Refused(400, "a block action without an action_id")
    view = body.get("view")
    if isinstance(view, dict):
        check_shape({k: v for k, v in view.items() if k in ("state", "type")})
        values = (view.get("state") or {}).get("values", {})
        if not (isinstance(values, dict) and all(isinstance(v, dict) for v in values.values())):
            raise Refused(400, "view.state.values is not an object of objects")
    return body


def _json_object(raw: str) -> dict[str, object]:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise Refused(400, "malformed JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, "JSON body is not an object")
    return value
