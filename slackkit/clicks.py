"""The prologue every button listener shares, written once: ack, who clicked, the button's typed
value (a forged or stale one is answered "out of date" and goes no further), and the clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from slack_bolt.context.ack.async_ack import AsyncAck

from messages.payloads import Payload
from slackkit.context import Deps
from slackkit.surfaces import tell

P = TypeVar("P", bound=Payload)
OUT_OF_DATE = "That button is out of date: nothing was changed."
Listener = Callable[[AsyncAck, dict[str, Any], Deps], Awaitable[None]]


@dataclass(frozen=True)
class Click(Generic[P]):
    deps: Deps
    body: dict[str, Any]
    user_id: str
    value: P
    now: datetime
    action_id: str

    @property
    def trigger_id(self) -> str:
        return str(self.body.get("trigger_id", ""))

    async def tell(self, text: str) -> None:
        """Answer the person who clicked: ephemeral where Slack allows, else a DM."""
        await tell(self.deps, body=self.body, user_id=self.user_id, text=text)


def on_click(model: type[P]) -> Callable[[Callable[[Click[P]], Awaitable[None]]], Listener]:
    """Turn `handler(click)` into a Bolt action listener that acks first and hands it a `Click`."""

    def wrap(handler: Callable[[Click[P]], Awaitable[None]]) -> Listener:
        async def listener(ack: AsyncAck, body: dict[str, Any], deps: Deps) -> None:
            await ack()
            user_id = str(body["user"]["id"])
            action = body["actions"][0]
            raw = action.get("value") or (action.get("selected_option") or {}).get("value")  # a button, a menu
            value = model.load(raw)
            if value is None:
                await tell(deps, body=body, user_id=user_id, text=OUT_OF_DATE)
                return
            await handler(Click(deps, body, user_id, value, deps.clock(), str(action.get("action_id", ""))))
            if (body.get("view") or {}).get("type") == "home" and deps.home_refresh is not None:
                await deps.home_refresh(deps, user_id)  # what was acted on shows its new state there

        # Bolt passes arguments by the listener's own parameter names, so this is not functools.wraps
        # (whose __wrapped__ would show Bolt the handler's signature instead).
        listener.__name__, listener.__qualname__ = handler.__name__, handler.__qualname__
        listener.__doc__, listener.__module__ = handler.__doc__, handler.__module__
        return listener

    return wrap
