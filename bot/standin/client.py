"""Sends the bot what Slack would: signed slash commands, block_actions, view_submissions, events.

Payloads are shaped as Slack documents them; signatures come from slack_sdk's SignatureVerifier.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.standin.records import TEAM_ID
from bot.standin.server import SlackStandIn

JsonDict = dict[str, Any]
API_APP_ID = "A0PACEKEEPER"


@dataclass
class Reply:
    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


class SignedClient:
    def __init__(self, *, bot_url: str, signing_secret: str, standin: SlackStandIn) -> None:
        self.bot_url = bot_url.rstrip("/")
        self.standin = standin
        self._verifier = SignatureVerifier(signing_secret)
        self._counter = itertools.count(1)

    # ---- transport ----------------------------------------------------------------------------
    async def post(
        self,
        body: str,
        *,
        content_type: str,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        timestamp = int(time.time()) if timestamp is None else timestamp
        signature = signature or str(self._verifier.generate_signature(timestamp=str(timestamp), body=body))
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        connector = aiohttp.TCPConnector(force_close=True)
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.post(f"{self.bot_url}/slack/events", data=body.encode(), headers=all_headers) as response,
        ):
            return Reply(response.status, await response.text())

    async def post_form(self, fields: Mapping[str, str], **kwargs: Any) -> Reply:
        return await self.post(urlencode(fields), content_type="application/x-www-form-urlencoded", **kwargs)

    async def post_payload(self, payload: JsonDict, **kwargs: Any) -> Reply:
        return await self.post_form({"payload": json.dumps(payload)}, **kwargs)

    # ---- what people do -----------------------------------------------------------------------
    def trigger_id(self, user_id: str) -> str:
        return f"{next(self._counter)}.{uuid.uuid4().hex[:12]}.{user_id}"

    def command_fields(
        self, user_id: str, text: str, *, command: str = "/measure", channel: str = "C0GENERAL"
    ) -> dict[str, str]:
        return {
            "token": "legacy-unused",
            "team_id": TEAM_ID,
            "team_domain": "sandbox",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": self._user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.standin.new_response_url(user_id),
            "trigger_id": self.trigger_id(user_id),
        }

    async def command(self, user_id: str, text: str, **kwargs: Any) -> Reply:
        return await self.post_form(self.command_fields(user_id, text, **kwargs))

    async def click(
        self,
        user_id: str,
        action_id: str,
        value: str,
        *,
        message: Mapping[str, Any] | None = None,
        view: Mapping[str, Any] | None = None,
        block_id: str = "actions",
        menu: bool = False,
    ) -> Reply:
        """A button click on a message (channel + ts + response_url) or inside a view; with menu=True,
        the choice of an overflow menu's option whose value is `value` (Slack sends `selected_option`)."""
        payload: JsonDict = {
            **self._interaction("block_actions", user_id),
            "trigger_id": self.trigger_id(user_id),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        if menu:
            option = {"text": {"type": "plain_text", "text": value[:20]}, "value": value}
            payload["actions"] = [{"type": "overflow", "action_id": action_id, "block_id": block_id,
                                   "selected_option": option, "action_ts": f"{time.time():.6f}"}]  # fmt: skip
        if message is not None:
            channel = message["channel"]
            payload["container"] = {"type": "message", "message_ts": message["ts"], "channel_id": channel}
            payload["channel"] = {"id": channel, "name": channel}
            payload["message"] = {
                "ts": message["ts"],
                "text": message.get("text", ""),
                "blocks": message.get("blocks", []),
            }
            payload["response_url"] = self.standin.new_response_url(user_id)
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = dict(view)
        return await self.post_payload(payload)

    async def submit(self, user_id: str, view: Mapping[str, Any], values: Mapping[str, Any]) -> Reply:
        """Submit `view` with `values` keyed by block_id; each is shaped by its element's type."""
        state = {"values": _state_values(view, values)}
        payload = {
            **self._interaction("view_submission", user_id),
            "trigger_id": self.trigger_id(user_id),
            "view": {**view, "type": "modal", "state": state},
            "response_urls": [],
        }
        return await self.post_payload(payload)

    async def options(self, user_id: str, view: Mapping[str, Any], block_id: str, value: str) -> Reply:
        """What Slack sends while a person types into an external select of `view` (block_suggestion);
        the bot's inputs all carry the action id `value` (messages/ids.INPUT)."""
        payload = {
            **self._interaction("block_suggestion", user_id),
            "container": {"type": "view", "view_id": view.get("id", "V0")},
            "action_id": INPUT_ACTION,
            "block_id": block_id,
            "value": value,
            "view": dict(view),
        }
        return await self.post_payload(payload)

    async def event(self, event: JsonDict, *, event_id: str | None = None, retry_num: int | None = None) -> Reply:
        envelope = {
            "token": "legacy-unused",
            "team_id": TEAM_ID,
            "api_app_id": API_APP_ID,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": "U0PACEBOT", "is_bot": True}],
            "event": event,
        }
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else None
        return await self.post(json.dumps(envelope), content_type="application/json", headers=headers)

    async def open_home(self, user_id: str) -> Reply:
        return await self.event({"type": "app_home_opened", "user": user_id, "channel": "D" + user_id, "tab": "home"})

    def _interaction(self, kind: str, user_id: str) -> JsonDict:
        """What every interaction payload begins with: its type, the team, the user, the app."""
        return {
            "type": kind, "team": {"id": TEAM_ID, "domain": "sandbox"},
            "user": {"id": user_id, "name": self._user_name(user_id), "team_id": TEAM_ID},
            "api_app_id": API_APP_ID, "token": "legacy-unused",
        }  # fmt: skip

    def _user_name(self, user_id: str) -> str:
        user = self.standin.state.users.get(user_id)
        return user["name"] if user else user_id.lower()


INPUT_ACTION = "value"  # the action id of every input the bot's views hold


def _state_values(view: Mapping[str, Any], values: Mapping[str, Any]) -> JsonDict:
    elements = {
        block["block_id"]: block["element"]
        for block in view.get("blocks", [])
        if block.get("type") == "input" and "block_id" in block
    }
    unknown = set(values) - set(elements)
    if unknown:
        raise KeyError(f"the view has no input blocks {sorted(unknown)}")
    state: JsonDict = {}
    for block_id, element in elements.items():
        value = values.get(block_id)
        state[block_id] = {element["action_id"]: _element_state(element, value)}
    return state


def _element_state(element: Mapping[str, Any], value: Any) -> JsonDict:
    kind = element["type"]
    if kind == "plain_text_input":
        return {"type": kind, "value": value}
    if kind in ("static_select", "external_select", "radio_buttons"):
        option = _option(element, value) if value is not None else None
        return {"type": kind, "selected_option": option}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": list(value or [])}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    if kind == "timepicker":
        return {"type": kind, "selected_time": value}
    if kind == "checkboxes":
        return {"type": kind, "selected_options": [_option(element, v) for v in (value or [])]}
    if kind == "url_text_input":
        return {"type": kind, "value": value}
    raise ValueError(f"the client cannot fill a {kind} element")


def _option(element: Mapping[str, Any], value: str) -> JsonDict:
    options = list(element.get("options", []))
    for group in element.get("option_groups", []):
        options.extend(group["options"])
    for option in options:
        if option["value"] == value:
            return dict(option)
    # Slack only sends values it offered; a test that forges one gets exactly what it forged.
    return {"text": {"type": "plain_text", "text": value}, "value": value}
