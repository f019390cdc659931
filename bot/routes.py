"""One Bolt listener per kind of interaction, routing by id in a dictionary.

Bolt tries its listeners one after another, and for each it builds every argument a listener could
ask for (`build_async_required_kwargs`: the action, the view, the event, … taken apart again each
time) only to compare an id. With 26 action and view listeners, an `app_home_opened` registered
last went through 27 such comparisons before its ack: measured with cProfile, three quarters of the
bot's time before an ack (bench/bursts.py, docs/deployment.md). Here every action is one Bolt
listener and every view submission another, each matching the ids registered (one regular
expression); the handler is found by its id. Commands and events stay Bolt listeners of their own.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.util.utils import get_arg_names_of_callable

Listener = Callable[..., Awaitable[Any]]


class Routes:
    """The listeners of one kind (actions by action_id, views by callback_id)."""

    def __init__(self, kind: str, id_of: Callable[[dict[str, Any]], str]) -> None:
        self.kind = kind
        self._id_of = id_of
        self._listeners: dict[str, tuple[Listener, list[str]]] = {}

    def add(self, key: str, listener: Listener) -> None:
        if key in self._listeners:
            raise ValueError(f"two {self.kind} listeners for {key!r}")
        self._listeners[key] = (listener, get_arg_names_of_callable(listener))

    def __bool__(self) -> bool:
        return bool(self._listeners)

    def pattern(self) -> re.Pattern[str]:
        """Exactly the ids registered: anything else stays unhandled, as Bolt answers it."""
        return re.compile("^(?:" + "|".join(re.escape(key) for key in sorted(self._listeners)) + ")$")

    async def route(
        self, ack: Any, body: dict[str, Any], context: Any, client: Any, logger: Any, action: Any, view: Any,
        respond: Any, payload: Any,
    ) -> Any:  # fmt: skip
        """Call the listener of this id with the arguments it names: these (what the route asks Bolt
        for), or what the app's middleware put into the context (such as `deps`)."""
        listener, names = self._listeners[self._id_of(body)]
        given = {"ack": ack, "body": body, "context": context, "client": client, "logger": logger,
                 "action": action, "view": view, "respond": respond, "payload": payload}  # fmt: skip
        return await listener(**{name: given[name] if name in given else context.get(name) for name in names})


def action_id(body: dict[str, Any]) -> str:
    return str(body["actions"][0]["action_id"])


def callback_id(body: dict[str, Any]) -> str:
    return str(body["view"]["callback_id"])
